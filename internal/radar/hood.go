package radar

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"patchtrail/internal/store"
)

// An update of a few messages (a sync round, a small import) reads only
// the postings they can reach, found through the store's radar terms,
// instead of every patch posting of the store: what it reads then grows
// with what the messages touch (their threads, subjects, senders, files,
// subsystems), not with the store. It gives the scores of an update that
// reads them all (TestScoredOneAtATime, TestIncrementalEqualsFullOnEpoch).

// termsVersion names what postingTerms writes: another version makes
// the next update that reads every posting write them all again.
const termsVersion = "4"

// localQueue is the most queued messages an update reads only the
// postings of (neighbourhood); a bigger queue, a removed message, or a
// store whose postings have no terms yet make it read every posting.
// Reading a posting through its terms costs about what reading it with
// every other does, so the neighbourhood is the cheaper while it is
// smaller than the store: 1,500 messages of linux-wireless into a store
// of 481k messages read 1,151 postings in 0.6 s against 179k in 5.8 s
// (doc/radar.md, "An update reads what its messages reach").
var localQueue = 10000

// localMails is the most postings such an update reads before it gives
// up and reads them all, at once (a few messages that reach most of the
// store: the fixes of an old archive imported a few at a time).
var localMails = 50000

// postingTerms are the terms of a posting (patch and stable postings;
// a pull request is under the subject keys it pulls; none for other
// messages): its subject key, and for a patch posting its
// sender, the Message-IDs it links to, the subject keys and abbreviated
// ids of its Fixes: targets (X: a commit of a registered repository
// finds the postings whose age of the target it dates) and what it
// shares with others (sharedTerms): every lookup an
// update's affected postings, versions and rows make (Corpus.affected,
// versionsOf, rowOf). For the history (history.features) a fix is also
// under its files, prefix and sender as a fix (F: the dates of fixes the
// history counts), and a posting whose subject has a CVE in labels is
// labelled.
func postingTerms(m *mail, labels *Labels) []string {
	switch m.kind {
	case kindStable:
		return []string{"k:" + m.key}
	case kindPull:
		ts := make([]string, len(m.pulled()))
		for i, k := range m.pulled() {
			ts[i] = "k:" + k
		}
		return ts
	case kindPatch:
	default:
		return nil
	}
	ts := []string{"k:" + m.key, "s:" + m.from}
	for _, l := range m.links {
		ts = append(ts, "l:"+l)
	}
	for _, f := range m.fixes {
		if f.title != "" {
			ts = append(ts, "x:"+TitleKey(f.title))
		}
		if len(f.sha) >= 12 {
			ts = append(ts, "X:"+f.sha[:12])
		}
	}
	ts = append(ts, sharedTerms(m)...)
	if len(m.fixes) > 0 {
		ts = append(ts, "Fs:"+m.from)
		for _, p := range kernelFiles(m) {
			ts = append(ts, "Fp:"+p)
		}
		if p, _ := splitPrefix(m.key); p != "" {
			ts = append(ts, "FP:"+p)
		}
	}
	if _, ok := labels.First(m.key, time.Time{}); ok {
		ts = append(ts, labelled)
	}
	slices.Sort(ts)
	return slices.Compact(ts)
}

// labelled is the term of the postings whose subject has a CVE.
const labelled = "L"

// sharedTerms are the terms of posting m under which other postings
// share a kernel file, function, reporter or subject prefix with it
// (Corpus.affected, history.features).
func sharedTerms(m *mail) []string {
	var ts []string
	for _, p := range kernelFiles(m) {
		ts = append(ts, "p:"+p)
	}
	for _, f := range m.shape.Functions {
		ts = append(ts, "f:"+f)
	}
	for _, r := range m.reporters {
		ts = append(ts, "r:"+r)
	}
	if p, _ := splitPrefix(m.key); p != "" {
		ts = append(ts, "P:"+p)
	}
	return ts
}

// writeTerms writes the terms of ms (all: of every posting of ms, after
// deleting every stored term; else of the queued messages, none for
// those no longer stored), in batches.
func (s *Scorer) writeTerms(ctx context.Context, ms []*mail, queued []int64, labels *Labels, all bool, version string) error {
	const batch = 5000
	var ts []store.RadarTerms
	flush := func(reset bool, version string) error {
		err := s.st.PutRadarTerms(ctx, ts, reset, version)
		ts = ts[:0]
		return err
	}
	if all {
		if err := flush(true, ""); err != nil {
			return err
		}
		for _, m := range ms {
			if t := postingTerms(m, labels); len(t) > 0 {
				ts = append(ts, store.RadarTerms{ID: m.id, Date: m.date, Terms: t})
			}
			if len(ts) == batch {
				if err := flush(false, ""); err != nil {
					return err
				}
			}
		}
		return flush(false, version)
	}
	for _, id := range queued {
		t := store.RadarTerms{ID: id}
		if m := byID(ms, id); m != nil {
			t.Date, t.Terms = m.date, postingTerms(m, labels)
		}
		ts = append(ts, t)
		if len(ts) == batch {
			if err := flush(false, ""); err != nil {
				return err
			}
		}
	}
	return flush(false, "")
}

// queueLabelChanges queues the postings the CVEs named cves change
// against those the scores were computed with (store.RadarLabels): for
// each subject key whose earliest CVE was added, withdrawn or dated
// otherwise, its postings (their labelled term) and the postings sharing
// a sender, file, function, reporter or subject prefix with them dated
// from the change on (the history counts a CVE for postings after its
// publication). It records the new labels in the same transaction.
func (s *Scorer) queueLabelChanges(ctx context.Context, labels *Labels, cves string) error {
	old, err := s.st.RadarLabels(ctx)
	if err != nil {
		return err
	}
	cur := labels.Firsts()
	since := map[string]int64{}
	for k, p := range cur {
		if o, ok := old[k]; !ok {
			since[k] = p
		} else if o != p {
			since[k] = min(o, p)
		}
	}
	for k, o := range old {
		if _, ok := cur[k]; !ok {
			since[k] = o
		}
	}
	var queue []int64
	if len(since) > 0 {
		h := s.newHood(ctx, nil)
		defer h.warn()
		terms := make([]string, 0, len(since))
		for k := range since {
			terms = append(terms, "k:"+k)
		}
		slices.Sort(terms)
		if err := h.terms(terms, everyPosting); err != nil {
			return err
		}
		for _, m := range h.sorted() {
			if m.kind != kindPatch {
				continue
			}
			queue = append(queue, m.id)
			q := &store.RadarTermQuery{Terms: append(sharedTerms(m), "s:"+m.from), Since: time.Unix(since[m.key], 0)}
			ids, err := s.st.RadarTermMessages(ctx, q)
			if err != nil {
				return err
			}
			queue = append(queue, ids...)
		}
		slices.Sort(queue)
		queue = slices.Compact(queue)
	}
	s.logger.Debug("radar: new CVEs", "keys", len(since), "queued", len(queue))
	return s.st.PutRadarLabels(ctx, cves, cur, queue)
}

// queueCommitChanges queues the postings whose Fixes: name a commit of
// the registered repositories stored since the scores were computed
// (by its abbreviated id or its subject: fixesAge), and records how far
// the commits were read, in one transaction.
func (s *Scorer) queueCommitChanges(ctx context.Context, mark int64) error {
	var terms []string
	last, err := s.st.RadarNewCommits(ctx, mark, func(sha, norm string) {
		if len(sha) >= 12 {
			terms = append(terms, "X:"+sha[:12])
		}
		if norm != "" {
			terms = append(terms, "x:"+norm)
		}
	})
	if err != nil {
		return err
	}
	slices.Sort(terms)
	terms = slices.Compact(terms)
	queue, err := s.st.RadarTermMessages(ctx, &store.RadarTermQuery{Terms: terms})
	if err != nil {
		return err
	}
	s.logger.Debug("radar: new commits", "read", len(terms), "queued", len(queue))
	return s.st.PutRadarCommitsMark(ctx, last, queue)
}

// queuedTerms writes the terms of the queued messages, localQueue at a
// time.
func (s *Scorer) queuedTerms(ctx context.Context, queued []int64, labels *Labels) error {
	for start := 0; start < len(queued); start += localQueue {
		part := queued[start:min(start+localQueue, len(queued))]
		h := s.newHood(ctx, part)
		err := h.ids(part)
		h.warn()
		if err != nil {
			return err
		}
		if err := s.writeTerms(ctx, h.sorted(), part, labels, false, ""); err != nil {
			return err
		}
	}
	return nil
}

// errNotLocal is why neighbourhood gives up: the update reads every
// posting instead.
var errNotLocal = errors.New("radar: the update reads every posting")

// hood is the postings an update of a few queued messages reads
// (neighbourhood), as the update that reads all of them holds them: slim,
// the queued messages that are not postings without their facts.
type hood struct {
	s         *Scorer
	ctx       context.Context
	want      map[int64]bool
	mails     map[int64]*mail
	asked     map[string]bool
	in        interner
	decodeErr error
}

// newHood returns a hood holding nothing yet, whose queued messages
// (read whatever their kind) are want.
func (s *Scorer) newHood(ctx context.Context, want []int64) *hood {
	h := &hood{s: s, ctx: ctx, want: make(map[int64]bool, len(want)), mails: map[int64]*mail{}, asked: map[string]bool{}, in: interner{}}
	for _, id := range want {
		h.want[id] = true
	}
	return h
}

// warn logs the first evidence the hood could not decode.
func (h *hood) warn() {
	if h.decodeErr != nil {
		h.s.logger.Warn("radar: unreadable evidence scored as none", "err", h.decodeErr)
	}
}

func (h *hood) add(hd *store.RadarHeader) error {
	if _, ok := h.mails[hd.ID]; ok {
		return nil
	}
	if k := storedKind(hd.Data); k != kindPatch && k != kindStable && k != kindPull && !h.want[hd.ID] {
		return nil
	}
	m := fromStored(hd, decodeWith(decodeSlimEvidence, hd, &h.decodeErr))
	h.in.mail(m)
	m.slim()
	if m.kind != kindPatch && m.kind != kindStable && m.kind != kindPull {
		m.dropFacts()
	}
	h.mails[hd.ID] = m
	return nil
}

// ids reads the postings (and queued messages) of the given rows.
func (h *hood) ids(ids []int64) error {
	var todo []int64
	for _, id := range ids {
		if _, ok := h.mails[id]; !ok {
			todo = append(todo, id)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	return h.s.st.RadarSlimHeadersOf(h.ctx, todo, h.add)
}

// way is which postings under a term hood.terms reads: all, those dated
// in [since, until] (a zero bound: none), or those labelled.
type way struct {
	since, until time.Time
	labelled     bool
}

var everyPosting = way{}

func (w way) String() string {
	if w.labelled {
		return labelled
	}
	return strconv.FormatInt(unixOrZero(w.since), 10) + "-" + strconv.FormatInt(unixOrZero(w.until), 10)
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// terms reads the postings with any of the given terms that w selects,
// each term once for each way (none once all of them were read).
func (h *hood) terms(terms []string, w way) error {
	all := "\x00" + everyPosting.String()
	key := "\x00" + w.String()
	var todo []string
	for _, t := range terms {
		if h.asked[t+all] || h.asked[t+key] {
			continue
		}
		h.asked[t+key] = true
		todo = append(todo, t)
	}
	if len(todo) == 0 {
		return nil
	}
	q := &store.RadarTermQuery{Terms: todo, Since: w.since, Until: w.until}
	if w.labelled {
		q.Also = labelled
	}
	ids, err := h.s.st.RadarTermMessages(h.ctx, q)
	if err != nil {
		return err
	}
	return h.ids(ids)
}

// sorted returns the mails read so far in row order.
func (h *hood) sorted() []*mail {
	out := make([]*mail, 0, len(h.mails))
	for _, m := range h.mails {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *mail) int { return cmp.Compare(a.id, b.id) })
	return out
}

// neighbourhood reads the queued messages and every posting the features
// of the postings they change read, so that the postings to score
// (Corpus.affected), their versions, rows and history are those of the
// whole store: each lookup by a key (a subject key, a sender and a time
// span, a Message-ID linked to) finds in it every posting the whole store
// has under that key.
//
//  1. The queued messages, the postings of their threads and subject
//     keys (of a pull request, of the subjects it names), those linking
//     to them or fixing their subjects, those of
//     their senders from two weeks before them on; for a fix, the later
//     postings sharing its files or subject prefix; for a posting with a
//     CVE, the postings after the CVE's publication sharing its sender,
//     files, functions, reporters or subject prefix (Corpus.affected); then the postings of the
//     senders of the postings of their threads and of those linking to
//     them, from those postings on.
//  2. For the postings to score: the postings of their subject keys
//     (whole version groups; reposts; stable backports; the pull
//     requests naming them) and of those of
//     their versions under another subject, of their senders in the two
//     weeks before each of those versions (versionsOf) and after the
//     posting (renamedLater), the postings
//     with a CVE sharing their sender, files, functions, reporters or
//     prefix (the history's fixes with a CVE), every posting of a subject
//     key with a CVE among those read (the history counts a key by its
//     first posting), and the subject keys of the Fixes: targets of
//     their versions (the target's first posting dates it); repeated
//     until it reads nothing new.
//
// What the history counts of every fix, the dates of the fixes sharing
// a file, prefix or sender, it reads from the terms (fixDates).
//
// It returns errNotLocal when a queued message was removed from its
// lists (which changes every posting from two weeks before it on), or
// when it reads more than localMails postings.
func (s *Scorer) neighbourhood(ctx context.Context, queued []int64, labels *Labels) ([]*mail, error) {
	h := s.newHood(ctx, queued)
	defer h.warn()
	if err := h.ids(queued); err != nil {
		return nil, err
	}
	for _, id := range queued {
		if _, ok := h.mails[id]; ok {
			continue
		}
		hd, err := s.st.RadarHeaderOf(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, err
		case hd.Deleted:
			return nil, errNotLocal
		}
	}
	sender := func(m *mail, w way) error { return h.terms([]string{"s:" + m.from}, w) }

	// 1. What decides the postings to score.
	var seeds []*mail
	threads := map[int64]bool{}
	var terms []string
	for _, id := range queued {
		m := h.mails[id]
		if m == nil {
			continue
		}
		seeds = append(seeds, m)
		threads[m.thread] = true
		terms = append(terms, "k:"+m.key, "l:"+m.mid)
		for _, k := range m.pulled() {
			terms = append(terms, "k:"+k)
		}
		if m.kind != kindPatch {
			continue
		}
		terms = append(terms, "x:"+m.key)
		if err := sender(m, way{since: m.date.Add(-Horizon)}); err != nil {
			return nil, err
		}
		if cv, ok := labels.First(m.key, time.Time{}); ok {
			if err := h.terms(append(sharedTerms(m), "s:"+m.from), way{since: cv.Published}); err != nil {
				return nil, err
			}
		}
		if len(m.fixes) > 0 {
			if err := h.terms(sharedTerms(m), way{since: m.date}); err != nil {
				return nil, err
			}
		}
	}
	tids := make([]int64, 0, len(threads))
	for t := range threads {
		tids = append(tids, t)
	}
	ids, err := s.st.RadarThreadMessages(ctx, tids)
	if err != nil {
		return nil, err
	}
	if err := h.ids(ids); err != nil {
		return nil, err
	}
	if err := h.terms(terms, everyPosting); err != nil {
		return nil, err
	}
	linked := map[string]bool{}
	for _, m := range seeds {
		linked[m.mid] = true
	}
	for _, o := range h.sorted() {
		if o.kind != kindPatch {
			continue
		}
		reach := threads[o.thread]
		for _, l := range o.links {
			reach = reach || linked[l]
		}
		if reach {
			if err := sender(o, way{since: o.date}); err != nil {
				return nil, err
			}
		}
	}

	// 2. What the postings to score read.
	if err := h.close(func(c *Corpus) []*mail { return c.affected(queued, nil, false, labels) }, labels); err != nil {
		return nil, err
	}
	return h.sorted(), nil
}

// close reads what the rows of the postings targets gives (from the
// postings read so far) read, until it reads no more: what it reads can
// add postings to score (their version groups) and versions (their
// senders' postings). errNotLocal: more than localMails postings.
func (h *hood) close(targets func(*Corpus) []*mail, labels *Labels) error {
	// The spans of each sender's postings to read, merged where they
	// overlap: a part of a rescoring holds many postings of one sender.
	spans := map[string][]way{}
	sender := func(m *mail, w way) error {
		spans[m.from] = append(spans[m.from], w)
		return nil
	}
	readSpans := func() error {
		froms := make([]string, 0, len(spans))
		for f := range spans {
			froms = append(froms, f)
		}
		slices.Sort(froms)
		for _, f := range froms {
			ws := spans[f]
			slices.SortFunc(ws, func(a, b way) int { return a.since.Compare(b.since) })
			cur := ws[0]
			for _, w := range ws[1:] {
				if !w.since.After(cur.until) {
					if w.until.After(cur.until) {
						cur.until = w.until
					}
					continue
				}
				if err := h.terms([]string{"s:" + f}, cur); err != nil {
					return err
				}
				cur = w
			}
			if err := h.terms([]string{"s:" + f}, cur); err != nil {
				return err
			}
		}
		clear(spans)
		return nil
	}
	var terms []string
	for {
		if len(h.mails) > localMails {
			return errNotLocal
		}
		asked := len(h.asked)
		c := indexPostings(h.sorted())
		terms = terms[:0]
		var shared []string
		for _, m := range targets(c) {
			terms = append(terms, "k:"+m.key)
			shared = append(shared, "s:"+m.from)
			shared = append(shared, sharedTerms(m)...)
			// The spans versionsOf and renamedLater look at.
			if err := sender(m, way{since: m.date, until: m.date.Add(Horizon)}); err != nil {
				return err
			}
			vs := c.upTo(m)
			if len(vs) == 0 {
				vs = []*mail{m}
			}
			for o, hops := vs[0], 0; o != nil && hops <= 8; o, hops = c.renamedEarlier(o), hops+1 {
				terms = append(terms, "k:"+o.key) // upTo(o)
				if err := sender(o, way{since: o.date.Add(-Horizon), until: o.date}); err != nil {
					return err
				}
			}
			for _, v := range c.versionsOf(m) {
				for _, f := range v.fixes {
					if f.title != "" {
						terms = append(terms, "k:"+TitleKey(f.title))
					}
				}
			}
		}
		for _, m := range c.mails {
			if _, ok := labels.First(m.key, time.Time{}); ok && m.kind == kindPatch {
				terms = append(terms, "k:"+m.key)
			}
		}
		if err := readSpans(); err != nil {
			return err
		}
		if err := h.terms(terms, everyPosting); err != nil {
			return err
		}
		if err := h.terms(shared, way{labelled: true}); err != nil {
			return err
		}
		if len(h.asked) == asked {
			break
		}
	}
	return nil
}

// postingsNeighbourhood reads the patch postings with the given row ids
// and what their rows read (hood.close), as neighbourhood does for the
// postings a queue changes: a rescoring of every posting in parts
// (Scorer.scoreAll).
func (s *Scorer) postingsNeighbourhood(ctx context.Context, ids []int64, labels *Labels) ([]*mail, error) {
	h := s.newHood(ctx, ids)
	defer h.warn()
	if err := h.ids(ids); err != nil {
		return nil, err
	}
	err := h.close(func(c *Corpus) []*mail {
		var out []*mail
		for _, m := range c.mails {
			if h.want[m.id] && m.kind == kindPatch {
				out = append(out, m)
			}
		}
		return out
	}, labels)
	if err != nil {
		return nil, err
	}
	return h.sorted(), nil
}

// fixDates gives the history h the dates of the fixes sharing a file,
// the subject prefix or the sender of each of the postings
// (history.fixed, fixedPrefix, fixedBy), which an update that read only
// their neighbourhood does not hold; cache (nil: none) keeps the dates
// read for the next call.
func (s *Scorer) fixDates(ctx context.Context, h *history, postings []*mail, cache map[string][]time.Time) error {
	done := map[string]bool{}
	get := func(idx map[string][]time.Time, k, term string) error {
		if done[term] {
			return nil
		}
		done[term] = true
		ds, ok := cache[term]
		if !ok {
			var err error
			if ds, err = s.st.RadarTermDates(ctx, term); err != nil {
				return err
			}
			if cache != nil {
				cache[term] = ds
			}
		}
		if len(ds) == 0 {
			delete(idx, k)
		} else {
			idx[k] = ds
		}
		return nil
	}
	for _, m := range postings {
		for _, p := range kernelFiles(m) {
			if err := get(h.fixed, p, "Fp:"+p); err != nil {
				return err
			}
		}
		if p, _ := splitPrefix(m.key); p != "" {
			if err := get(h.fixedPrefix, p, "FP:"+p); err != nil {
				return err
			}
		}
		if err := get(h.fixedBy, m.from, "Fs:"+m.from); err != nil {
			return err
		}
	}
	return nil
}
