package radar

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"patchtrail/internal/message"
	"patchtrail/internal/store"
)

// ModelFile is the name of a trained model in a data directory; without
// one the committed default model scores.
const ModelFile = "radar-model.json"

// StoreModel returns the model of a data directory: its trained model
// (ModelFile) when there is one, else the default model.
func StoreModel(dataDir string) (*Model, error) {
	path := filepath.Join(dataDir, ModelFile)
	if _, err := os.Stat(path); err != nil {
		return Default(), nil
	}
	return LoadModel(path)
}

// Scorer keeps the scores of a store current: it reads the evidence of
// messages stored without it, and scores the patch postings whose
// features the queued messages can change (store.Tx.PutRadarEvidence
// queues them with the message). Each update reads the stored evidence
// of every message again and keeps none of it after: an update costs a
// read of the store's evidence, but between updates (an import's
// batches, a server's sync rounds) the scorer holds nothing that grows
// with the store (doc/radar.md, "Into a store that already holds a
// list").
type Scorer struct {
	st     *store.Store
	model  *Model
	logger *slog.Logger

	// vocab are the words the model weighs: of a message's words the
	// scorer keeps only these (mail.keepWords); nil keeps all (training).
	vocab map[string]float64

	mu      sync.Mutex
	labels  *Labels
	labelFP string

	// What the last update read: how many postings it held, and whether
	// only those its queue reaches (neighbourhood).
	lastRead  int
	lastLocal bool
}

// NewScorer returns a scorer of st with model (nil: the default model).
func NewScorer(st *store.Store, model *Model, logger *slog.Logger) *Scorer {
	if model == nil {
		model = Default()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Scorer{st: st, model: model, logger: logger, vocab: model.Words}
}

// Model is the model the scorer scores with.
func (s *Scorer) Model() *Model { return s.model }

// Backfill reads the evidence of the stored messages that have none (or
// evidence read with other rules) from their raw text, and queues them.
// It returns how many it read.
func (s *Scorer) Backfill(ctx context.Context, progress func(n int)) (int, error) {
	ids, mark, err := s.st.RadarMissing(ctx, rulesVersion)
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, s.st.MarkRadarEvidence(ctx, rulesVersion, mark)
	}
	const chunk = 1000
	workers := runtime.NumCPU()
	done := 0
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		ev := make([]store.RadarEvidence, len(part))
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		next := make(chan int)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					ev[i].ID = part[i]
					raw, err := s.st.Raw(ctx, part[i])
					if err != nil {
						mu.Lock()
						firstErr = cmpErr(firstErr, fmt.Errorf("radar: message row %d: %w", part[i], err))
						mu.Unlock()
						continue
					}
					pm, err := message.Parse(raw, nil)
					if err != nil {
						ev[i].Data = []byte("{}") // kept with no evidence, as an import keeps it
						continue
					}
					ev[i].Data = Evidence(pm, nil)
				}
			}()
		}
		for i := range part {
			if ctx.Err() != nil {
				break
			}
			next <- i
		}
		close(next)
		wg.Wait()
		if firstErr != nil {
			return done, firstErr
		}
		if err := ctx.Err(); err != nil {
			return done, err
		}
		if err := s.st.PutRadarEvidenceBatch(ctx, rulesVersion, ev); err != nil {
			return done, err
		}
		done += len(part)
		if progress != nil {
			progress(len(part))
		}
	}
	return done, s.st.MarkRadarEvidence(ctx, rulesVersion, mark)
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// stamp names what every score depends on besides the messages: the
// evidence rules and the model. The CVEs (history signals) and the
// commits of registered repositories (the age of a Fixes: target) change
// some scores only: an update queues those (queueLabelChanges,
// queueCommitChanges).
func (s *Scorer) stamp(ctx context.Context) (string, error) {
	h := sha256.Sum256(s.model.Marshal())
	return fmt.Sprintf("%s model:%s", rulesVersion, hex.EncodeToString(h[:])[:16]), nil
}

// cveStamp names the CVEs known (store.Store.PutRadarLabels): a hash of
// every CVE's id, title and publication.
func (s *Scorer) cveStamp(ctx context.Context) (string, error) {
	h := sha256.New()
	n := 0
	err := s.st.RadarCVEDates(ctx, func(id, title string, published time.Time) {
		fmt.Fprintf(h, "%s\x00%s\x00%d\n", id, title, published.Unix())
		n++
	})
	if err != nil {
		return "", fmt.Errorf("radar: %w", err)
	}
	return fmt.Sprintf("cves:%d:%s", n, hex.EncodeToString(h.Sum(nil))[:16]), nil
}

// storeLabels reads the store's CVEs as labels (for the history signals
// and for training); they are kept until the CVEs change.
func (s *Scorer) storeLabels(ctx context.Context, fp string) (*Labels, error) {
	if s.labels != nil && s.labelFP == fp {
		return s.labels, nil
	}
	l, err := LabelsFromStore(ctx, s.st)
	if err != nil {
		return nil, err
	}
	s.labels, s.labelFP = l, fp
	return l, nil
}

// LabelsFromStore reads the CVEs stored in st (`patchtrail cve import`)
// as labels, dated by their publication.
func LabelsFromStore(ctx context.Context, st *store.Store) (*Labels, error) {
	l := NewLabels()
	err := st.RadarCVEDates(ctx, func(id, title string, published time.Time) {
		if title != "" {
			l.Add(title, CVE{ID: id, Published: published})
		}
	})
	return l, err
}

// load reads the stored messages with evidence that keep accepts, by row
// id and kind (nil: all), in row order, and the queued messages no
// longer on any list (gone: they change what their presence changed).
// Each message read is given to then (when not nil) before the next is
// read. With slim, then slims every message (mail.slim): their parents
// and text evidence, which slim drops, are not read, and neither are the
// rows of messages (store.Store.RadarSlimHeaders).
func (s *Scorer) load(ctx context.Context, queued []int64, slim bool, keep func(id int64, k kind) bool, then func(*mail)) (mails, gone []*mail, err error) {
	var decodeErr error
	defer func() {
		if decodeErr != nil {
			s.logger.Warn("radar: unreadable evidence scored as none", "err", decodeErr)
		}
	}()
	have := make(map[int64]bool, len(queued)) // the queued messages still on a list
	for _, id := range queued {
		have[id] = false
	}
	in := interner{}
	headers, dec := s.st.RadarHeaders, decodeEvidence
	if slim {
		headers, dec = s.st.RadarSlimHeaders, decodeSlimEvidence
	}
	err = headers(ctx, func(h *store.RadarHeader) error {
		if _, ok := have[h.ID]; ok {
			have[h.ID] = true
		}
		if keep != nil && !keep(h.ID, storedKind(h.Data)) {
			return nil // not decoded: most messages are replies
		}
		m := fromStored(h, decodeWith(dec, h, &decodeErr))
		in.mail(m)
		if then != nil {
			then(m)
		}
		s.keepWords(m) // after then, which may have dropped the words
		mails = append(mails, m)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for _, id := range queued {
		if have[id] {
			continue
		}
		h, err := s.st.RadarHeaderOf(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, nil, err
		case h.Deleted:
			gone = append(gone, s.read(h, &decodeErr))
		}
	}
	return mails, gone, nil
}

// read decodes a stored message's evidence (none when it does not decode:
// the first such error is kept in decodeErr).
func (s *Scorer) read(h *store.RadarHeader, decodeErr *error) *mail {
	m := fromStored(h, decode(h, decodeErr))
	s.keepWords(m)
	return m
}

// keepWords keeps of m's words those the model weighs (all when it
// weighs none: training); a slim m has none.
func (s *Scorer) keepWords(m *mail) {
	if s.vocab != nil && m.textEvidence != nil {
		m.keepWords(s.vocab)
	}
}

// interner shares the strings that many messages repeat (senders,
// subject keys, paths, functions, the titles of Fixes: targets,
// reporters): a corpus of every patch posting holds each once.
type interner map[string]string

func (in interner) str(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

func (in interner) strs(ss []string) {
	for i, s := range ss {
		ss[i] = in.str(s)
	}
}

func (in interner) mail(m *mail) {
	m.from, m.key = in.str(m.from), in.str(m.key)
	in.strs(m.paths)
	in.strs(m.shape.Functions)
	in.strs(m.reporters)
	for i := range m.fixes {
		m.fixes[i].title = in.str(m.fixes[i].title)
	}
}

func decode(h *store.RadarHeader, decodeErr *error) *Record {
	return decodeWith(decodeEvidence, h, decodeErr)
}

// decodeWith is decode with the given decoder.
func decodeWith(dec func(int64, []byte) (*Record, error), h *store.RadarHeader, decodeErr *error) *Record {
	r, err := dec(h.ID, h.Data)
	if err != nil {
		*decodeErr = cmpErr(*decodeErr, err)
		r = &Record{}
	}
	return r
}

// corpus reads the corpus of every message with evidence, and the
// queued messages no longer on any list.
func (s *Scorer) corpus(ctx context.Context, queued []int64) (*Corpus, []*mail, error) {
	mails, gone, err := s.load(ctx, queued, false, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	c := index(mails)
	if err := c.loadCommits(ctx, s.st); err != nil {
		return nil, nil, err
	}
	return c, gone, nil
}

// chunkThreads bounds the threads whose discussion an update holds at
// once (Update).
var chunkThreads = 2000

// Update scores what the queue says changed (every patch posting when
// the model, the rules, the CVEs or the commits changed since the last
// scoring) and clears the queue. It returns the number of postings
// scored.
//
// New CVEs and new commits queue the postings they change first. An
// update reads only the postings the queued messages reach
// (neighbourhood, through the terms every update writes for what it
// dequeues), localQueue messages at a time: its cost follows what the
// messages touch, not the store. A removed message, a new model or new
// rules, or a store whose postings have no terms yet make it read every
// patch and stable posting and the queued messages.
//
// What it holds is bounded by the store's patch postings, not by its
// messages nor by the queue: it reads the postings (all of them or the
// neighbourhood) and the queued messages (what decides which postings
// to score, their versions and the history signals), keeping of each
// only its facts
// (slim) and, once the postings to score and the history are known, of
// the postings only what finds versions (dropFacts) and of the other
// queued messages nothing; then it scores the postings in chunks,
// reading for each the discussion of at most chunkThreads threads
// (those of the postings' versions and of the reports they link to)
// and writing its scores. The last step clears the queue and
// sets the stamp, so an update cut short is done again whole by the
// next.
func (s *Scorer) Update(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	queued, err := s.st.RadarQueued(ctx)
	if err != nil {
		return 0, err
	}
	stamp, err := s.stamp(ctx)
	if err != nil {
		return 0, err
	}
	old, err := s.st.RadarStamp(ctx)
	if err != nil {
		return 0, err
	}
	all := stamp != old
	cves, err := s.cveStamp(ctx)
	if err != nil {
		return 0, err
	}
	lstamp, err := s.st.RadarLabelsStamp(ctx)
	if err != nil {
		return 0, err
	}
	lastCommit, err := s.st.RadarLastCommit(ctx)
	if err != nil {
		return 0, err
	}
	commitMark, marked, err := s.st.RadarCommitsMark(ctx)
	if err != nil {
		return 0, err
	}
	all = all || !marked
	if len(queued) == 0 && !all && lstamp == cves && commitMark == lastCommit {
		return 0, nil
	}
	labels, err := s.storeLabels(ctx, cves)
	if err != nil {
		return 0, err
	}
	if !all && lstamp != cves {
		// New (or changed, or withdrawn) CVEs: the postings they change
		// are queued with the new labels, and scored as any queue.
		if err := s.queueLabelChanges(ctx, labels, cves); err != nil {
			return 0, err
		}
	}
	if !all && commitMark != lastCommit {
		// New commits of the registered repositories: the postings
		// whose Fixes: they date are queued.
		if err := s.queueCommitChanges(ctx, commitMark); err != nil {
			return 0, err
		}
	}
	if !all && (lstamp != cves || commitMark != lastCommit) {
		if queued, err = s.st.RadarQueued(ctx); err != nil {
			return 0, err
		}
	}
	version, err := s.st.RadarTermsVersion(ctx)
	if err != nil {
		return 0, err
	}
	termsWant := termsVersion
	if all {
		n, err := 0, errNotLocal
		if version == termsWant && localMails > 0 && localQueue > 0 {
			n, err = s.scoreAll(ctx, queued, stamp, labels)
		}
		if errors.Is(err, errNotLocal) {
			n, err = s.score(ctx, queued, stamp, all, labels, version, termsWant)
		}
		if err != nil {
			return n, err
		}
		if err := s.st.PutRadarLabels(ctx, cves, labels.Firsts(), nil); err != nil {
			return n, err
		}
		return n, s.st.PutRadarCommitsMark(ctx, lastCommit, nil)
	}
	if localQueue <= 0 || version != termsWant || len(queued) <= localQueue {
		return s.score(ctx, queued, stamp, false, labels, version, termsWant)
	}
	// A bigger queue is scored in parts of localQueue messages, each
	// reading only its neighbourhood: what it holds is bounded by the
	// part, not by the store. The terms of every queued message are
	// written first, so that each part finds the postings of the others.
	if err := s.queuedTerms(ctx, queued, labels); err != nil {
		return 0, err
	}
	n := 0
	for start := 0; start < len(queued); start += localQueue {
		k, err := s.score(ctx, queued[start:min(start+localQueue, len(queued))], stamp, false, labels, version, termsWant)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// score scores what the queued messages change (every patch posting with
// all) and dequeues them (Update); version is the stored terms' version,
// termsWant the one they are written with now.
func (s *Scorer) score(ctx context.Context, queued []int64, stamp string, all bool, labels *Labels, version, termsWant string) (int, error) {
	began := time.Now()
	want := make(map[int64]bool, len(queued))
	for _, id := range queued {
		want[id] = true
	}
	var err error
	var base, gone []*mail
	local := !all && version == termsWant && len(queued) <= localQueue
	if local {
		base, err = s.neighbourhood(ctx, queued, labels)
		if errors.Is(err, errNotLocal) {
			local = false
		} else if err != nil {
			return 0, err
		}
	}
	if !local {
		// What decides the postings to score and the history is a
		// posting's facts and the thread, subject key and Message-ID of
		// a queued message: every message is slimmed as it is read (the
		// queued ones that are not postings lose their facts too), the
		// postings give up their facts once the postings to score and
		// the history are known, and the chunk that scores them or their
		// newer versions reads them whole again (withThreads).
		base, gone, err = s.load(ctx, queued, true, func(id int64, k kind) bool {
			return k == kindPatch || k == kindStable || k == kindPull || want[id]
		}, func(m *mail) {
			m.slim()
			if m.kind != kindPatch && m.kind != kindStable && m.kind != kindPull {
				m.dropFacts()
			}
		})
		if err != nil {
			return 0, err
		}
	}
	if err := s.writeTerms(ctx, base, queued, labels, !local && version != termsWant, termsWant); err != nil {
		return 0, err
	}
	c := indexPostings(base)
	if !local { // else each chunk reads the commits its rows name
		if err := c.loadCommits(ctx, s.st); err != nil {
			return 0, err
		}
	}
	c.keyWords = map[string]*keyWords{} // shared by the chunks
	targets := c.affected(queued, gone, all, labels)
	h := c.history(labels)
	if local {
		if err := s.fixDates(ctx, h, targets, nil); err != nil {
			return 0, err
		}
	}
	last := &store.RadarWrite{All: all, Stamp: stamp, Dequeue: queued}
	for _, id := range queued {
		if byID(base, id) == nil {
			last.Delete = append(last.Delete, id) // no longer on any list
		}
	}
	if err := s.scoreTargets(ctx, c, base, targets, h, local, all, last); err != nil {
		return 0, err
	}
	if err := s.st.WriteRadarScores(ctx, last); err != nil {
		return 0, err
	}
	s.lastRead, s.lastLocal = len(base), local
	s.logger.Debug("radar: scored", "queued", len(queued), "read", len(base), "local", local, "postings", len(targets), "all", all, "elapsed", time.Since(began).Round(time.Millisecond))
	return len(targets), nil
}

// scoreTargets scores targets, the postings of c to score, in chunks
// of at most chunkThreads threads, and writes each chunk's scores (with
// all, their rows are added to last.Keep). base is what c was built from
// (row order); local: c holds only the neighbourhood of targets, and
// each chunk reads the commits its rows name.
func (s *Scorer) scoreTargets(ctx context.Context, c *Corpus, base, targets []*mail, h *history, local, all bool, last *store.RadarWrite) error {
	// The postings to score and the history are known: from here on a
	// posting is held only for the versions of others (slim, without its
	// facts), the queued ones too, and the chunk that scores it or its
	// newer versions reads it whole again; the queued messages that are
	// not postings are read there with their threads.
	held := base[:0]
	for _, m := range base {
		if m.kind == kindPatch || m.kind == kindStable {
			m.slim()
			m.dropFacts()
			held = append(held, m)
		}
	}
	clear(base[len(held):])
	base, c.mails = held, held
	for i := 0; i < len(targets); {
		threads := map[int64]bool{}
		var links []string
		j := i
		var versions [][]*mail // of targets[i:j]
		for ; j < len(targets) && len(threads) < chunkThreads; j++ {
			vs := c.versionsOf(targets[j])
			versions = append(versions, vs)
			for _, v := range vs {
				threads[v.thread] = true
				links = append(links, v.links...)
			}
		}
		lt, err := s.st.RadarThreadsOf(ctx, links)
		if err != nil {
			return err
		}
		for _, t := range lt {
			threads[t] = true
		}
		cc, filled, err := s.withThreads(ctx, c, threads, base)
		if err != nil {
			return err
		}
		if local {
			if err := c.loadCommitsOf(ctx, s.st, versions); err != nil {
				return err
			}
		}
		w := &store.RadarWrite{}
		for k, m := range targets[i:j] {
			if err := ctx.Err(); err != nil {
				return err
			}
			r := cc.rowOf(m, versions[k], h)
			sig, _ := json.Marshal(s.model.Signals(r))
			ver, _ := json.Marshal(r.Versions)
			w.Scores = append(w.Scores, store.RadarScore{Message: m.id, Head: cc.newest(m) == m && r.Head(),
				Score: s.model.Score(r), Date: m.date, Key: m.key, MessageID: m.mid, Subject: m.subject, Versions: string(ver), Signals: string(sig)})
			if all {
				last.Keep = append(last.Keep, m.id)
			}
		}
		if err := s.st.WriteRadarScores(ctx, w); err != nil {
			return err
		}
		for _, m := range filled {
			m.slim()
			m.dropFacts()
		}
		i = j
	}
	return nil
}

// scoreAll rescores every patch posting (a new model or new rules) in
// parts of localQueue/4 postings, each reading only what the rows of its
// postings read (postingsNeighbourhood): what it holds is bounded by the
// part, not by the store. The terms of the queued messages are written
// first. errNotLocal: a part read more than localMails postings.
func (s *Scorer) scoreAll(ctx context.Context, queued []int64, stamp string, labels *Labels) (int, error) {
	began := time.Now()
	if err := s.queuedTerms(ctx, queued, labels); err != nil {
		return 0, err
	}
	ids, err := s.st.RadarTermMessages(ctx, &store.RadarTermQuery{Prefix: "s:"})
	if err != nil {
		return 0, err
	}
	last := &store.RadarWrite{All: true, Stamp: stamp, Dequeue: queued}
	size, n, read := max(localQueue/4, 1), 0, 0
	dates := map[string][]time.Time{} // fixDates' reads, for every part
	for start := 0; start < len(ids); start += size {
		part := ids[start:min(start+size, len(ids))]
		base, err := s.postingsNeighbourhood(ctx, part, labels)
		if err != nil {
			return n, err
		}
		in := make(map[int64]bool, len(part))
		for _, id := range part {
			in[id] = true
		}
		c := indexPostings(base)
		c.keyWords = map[string]*keyWords{}
		var targets []*mail
		for _, m := range base {
			if in[m.id] && m.kind == kindPatch {
				targets = append(targets, m)
			}
		}
		h := c.history(labels)
		if err := s.fixDates(ctx, h, targets, dates); err != nil {
			return n, err
		}
		if err := s.scoreTargets(ctx, c, base, targets, h, true, true, last); err != nil {
			return n, err
		}
		n += len(targets)
		read = max(read, len(base))
	}
	if err := s.st.WriteRadarScores(ctx, last); err != nil {
		return n, err
	}
	s.lastRead, s.lastLocal = read, true
	s.logger.Debug("radar: scored", "queued", len(queued), "read", read, "local", true, "postings", n, "all", true, "elapsed", time.Since(began).Round(time.Millisecond))
	return n, nil
}

// withThreads returns c with the thread lookups of the given threads:
// their messages, those of base (in row order) and the rest, read from
// the store. The messages of base there that were slimmed get their
// text evidence, parent and subject again (filled: to slim again after
// the chunk).
func (s *Scorer) withThreads(ctx context.Context, c *Corpus, threads map[int64]bool, base []*mail) (cc *Corpus, filled []*mail, err error) {
	ids := make([]int64, 0, len(threads))
	for t := range threads {
		ids = append(ids, t)
	}
	var ms []*mail
	var decodeErr error
	err = s.st.RadarThreadHeaders(ctx, ids, func(h *store.RadarHeader) error {
		switch m := byID(base, h.ID); {
		case m == nil:
			ms = append(ms, s.read(h, &decodeErr))
		case m.textEvidence == nil:
			m.fill(h, decode(h, &decodeErr))
			s.keepWords(m)
			filled = append(filled, m)
			ms = append(ms, m)
		default:
			ms = append(ms, m)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if decodeErr != nil {
		s.logger.Warn("radar: unreadable evidence scored as none", "err", decodeErr)
	}
	slices.SortFunc(ms, func(a, b *mail) int { return cmp.Compare(a.id, b.id) })
	cp := *c
	cp.indexThreads(ms)
	return &cp, filled, nil
}

// byID returns the mail of ms (in row order) with row id id; nil when
// none.
func byID(ms []*mail, id int64) *mail {
	i, ok := slices.BinarySearchFunc(ms, id, func(m *mail, id int64) int { return cmp.Compare(m.id, id) })
	if !ok {
		return nil
	}
	return ms[i]
}

// affected returns the patch postings whose features the queued messages
// (and gone, the messages removed since, which change the same postings)
// can change. A message M changes:
//
//   - the postings of its thread and of its subject (versions, stable
//     backports, repostings), and of the subjects it pulls (a pull
//     request);
//   - if M is a patch posting, its sender's postings from two weeks
//     (Horizon) before it on (versions under a reworded subject), and
//     the postings whose Fixes: names its subject (the age of the
//     target);
//   - for a patch posting in a thread M joins, its sender's later
//     postings (their versions' discussion is that thread);
//   - the postings that link to M (Closes:, Link:) and their sender's
//     later postings;
//   - if M is a fix (Fixes:), the later postings sharing a kernel file,
//     the sender or the subject prefix (the history's share of fixes
//     with a CVE); if M's subject has a CVE (labels), the postings
//     sharing a file, function, reporter, prefix or sender dated after
//     the CVE's publication (the history counts it for those only).
//
// A removed message also changes every posting from two weeks before it
// on. Dates before the kernel's are wrong: such a message reaches only
// its thread, subject and links. Whole version groups are taken, so the
// newest-version marks stay right. all: every patch posting.
func (c *Corpus) affected(queued []int64, gone []*mail, all bool, labels *Labels) []*mail {
	var out []*mail
	if all {
		for _, m := range c.mails {
			if m.kind == kindPatch {
				out = append(out, m)
			}
		}
		return out
	}
	want := map[int64]bool{}
	for _, id := range queued {
		want[id] = true
	}
	changed := append([]*mail(nil), gone...)
	for _, m := range c.mails {
		if want[m.id] {
			changed = append(changed, m)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	ix := c.postingIndex()
	marked := map[*mail]bool{}
	group := func(o *mail) { marked[o] = true }
	// The postings of a sender (bySender), or under a key of an index,
	// dated from (or after) the earliest date asked for each; any: from
	// the first.
	type since struct {
		t     time.Time
		after bool // strictly after t
		any   bool
	}
	ask := func(at map[string]since, k string, t time.Time, after bool) {
		if old, ok := at[k]; ok && (old.any || !old.t.After(t)) {
			return
		}
		at[k] = since{t: t, after: after}
	}
	askAny := func(at map[string]since, k string) { at[k] = since{any: true} }
	senders := map[string]since{}
	shared := map[*map[string][]*mail]map[string]since{}
	sharing := func(idx *map[string][]*mail, keys []string, t time.Time, any bool) {
		at := shared[idx]
		if at == nil {
			at = map[string]since{}
			shared[idx] = at
		}
		for _, k := range keys {
			if any {
				askAny(at, k)
			} else {
				ask(at, k, t, true)
			}
		}
	}
	threads := map[int64]bool{}
	keys := map[string]bool{}
	for _, m := range changed {
		threads[m.thread] = true
		if m.key != "" {
			keys[m.key] = true
		}
		for _, k := range m.pulled() {
			keys[k] = true
		}
		group(m) // its own version group
		for _, o := range ix.linking[m.mid] {
			group(o)
			if o.date.Year() >= 1991 {
				ask(senders, o.from, o.date, false)
			}
		}
		if m.kind != kindPatch {
			continue
		}
		for _, o := range ix.fixing[m.key] {
			group(o)
		}
		if m.date.Year() < 1991 {
			continue
		}
		ask(senders, m.from, m.date.Add(-Horizon), false)
		prefix, _ := splitPrefix(m.key)
		if len(m.fixes) > 0 {
			sharing(&ix.paths, kernelFiles(m), m.date, false)
			sharing(&c.bySender, []string{m.from}, m.date, false)
			sharing(&ix.prefixes, []string{prefix}, m.date, false)
		}
		if cv, ok := labels.First(m.key, time.Time{}); ok {
			// The history counts a CVE for the postings after its
			// publication only.
			sharing(&ix.paths, kernelFiles(m), cv.Published, false)
			sharing(&ix.funcs, m.shape.Functions, cv.Published, false)
			sharing(&ix.reporters, m.reporters, cv.Published, false)
			sharing(&ix.prefixes, []string{prefix}, cv.Published, false)
			sharing(&c.bySender, []string{m.from}, cv.Published, false)
		}
	}
	// A removed message may have been what a thread started with, which
	// a link into that thread reads: every posting from two weeks before
	// it on (removals are rare).
	var from time.Time
	for _, m := range gone {
		if m.date.Year() >= 1991 && (from.IsZero() || m.date.Before(from)) {
			from = m.date.Add(-Horizon)
		}
	}
	for _, o := range c.mails {
		if o.kind != kindPatch {
			continue
		}
		if !from.IsZero() && !o.date.Before(from) {
			group(o)
		}
		if threads[o.thread] {
			group(o)
			if o.date.Year() >= 1991 {
				ask(senders, o.from, o.date, false)
			}
		}
		if keys[o.key] {
			group(o)
		}
	}
	mark := func(ms []*mail, w since) {
		for _, o := range ms {
			if w.any || o.date.After(w.t) || !w.after && o.date.Equal(w.t) {
				group(o)
			}
		}
	}
	for from, w := range senders {
		ms := c.bySender[from]
		if !w.any { // sorted by date: start at the first one not before t
			ms = ms[sort.Search(len(ms), func(i int) bool { return !ms[i].date.Before(w.t) }):]
		}
		mark(ms, w)
	}
	for idx, at := range shared {
		for k, w := range at {
			mark((*idx)[k], w)
		}
	}
	groups := make(map[patchKey]bool, len(marked))
	for o := range marked {
		groups[o.patchKey()] = true
	}
	for _, o := range c.mails {
		if o.kind == kindPatch && groups[o.patchKey()] {
			out = append(out, o)
		}
	}
	return out
}

// postingIndex indexes the patch postings of c by what a changed
// message reaches them through (affected).
type postingIndex struct {
	linking   map[string][]*mail // by a Message-ID they link to
	fixing    map[string][]*mail // by the subject key of a Fixes: target
	paths     map[string][]*mail // by a kernel source file they touch
	funcs     map[string][]*mail // by a function their hunks are in
	reporters map[string][]*mail // by a reporter
	prefixes  map[string][]*mail // by their subject prefix
}

func (c *Corpus) postingIndex() *postingIndex {
	ix := &postingIndex{linking: map[string][]*mail{}, fixing: map[string][]*mail{}, paths: map[string][]*mail{},
		funcs: map[string][]*mail{}, reporters: map[string][]*mail{}, prefixes: map[string][]*mail{}}
	for _, o := range c.mails {
		if o.kind != kindPatch {
			continue
		}
		for _, l := range o.links {
			ix.linking[l] = append(ix.linking[l], o)
		}
		for _, f := range o.fixes {
			if f.title != "" {
				k := TitleKey(f.title)
				ix.fixing[k] = append(ix.fixing[k], o)
			}
		}
		for _, p := range kernelFiles(o) {
			ix.paths[p] = append(ix.paths[p], o)
		}
		for _, f := range o.shape.Functions {
			ix.funcs[f] = append(ix.funcs[f], o)
		}
		for _, r := range o.reporters {
			ix.reporters[r] = append(ix.reporters[r], o)
		}
		if p, _ := splitPrefix(o.key); p != "" {
			ix.prefixes[p] = append(ix.prefixes[p], o)
		}
	}
	return ix
}
