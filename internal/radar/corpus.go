package radar

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/store"
)

// kind is what a message is to the radar.
type kind uint8

const (
	kindOther  kind = iota // a report, a question, a pull request
	kindReply              // a reply
	kindPatch              // a patch posting: the unit the radar scores
	kindCover              // a cover letter
	kindStable             // a stable backport posting
	kindPull               // a pull request: its shortlog names the patches it pulls
)

// other reports whether m is no patch posting, reply or cover letter: a
// report, a question, a discussion or a pull request.
func (m *mail) other() bool { return m.kind == kindOther || m.kind == kindPull }

// mail is what the radar keeps of one stored message: the evidence its
// text holds, never the text itself.
//
// An update holds a mail for every patch posting of the store, most of
// them only for the versions and history of other postings, so what
// those read is kept inline and the rest is behind two pointers that
// such a posting drops (slim, dropFacts): 176 bytes a posting instead
// of 320 when every field was inline.
type mail struct {
	id      int64
	thread  int64
	date    time.Time
	mid     string
	from    string   // lowercased address
	key     string   // TitleKey of the subject
	links   []string // Message-IDs named by Closes: and Link:
	paths   []string // the files its diffs touch (Shape.Paths; shape holds none)
	version int
	patchID uint64 // hash of the git patch-id of its first diff (patchHash; 0 when none)

	kind     kind
	isRFC    bool
	patchTag bool // the subject says PATCH (the evaluation's units)
	tree     int8 // subject tag names a fixes tree (+1) or a development tree (-1)
	ccStable bool // patch postings only
	closes   bool // patch postings only

	// slimCounter is counter(m)+1 while m is slim (0: it is not): an
	// update drops the parent and subject of the postings it holds only
	// for their versions and history, and reads them again for the
	// chunk that scores them (Scorer.Update). The Message-ID stays: the
	// rows of other postings name it as evidence.
	slimCounter int16

	// What the rows of the posting and of its newer versions, the
	// history and the thread lookups read; nil once an update holds the
	// posting only for other postings' versions (dropFacts).
	*facts

	// What only the message's own row and the notes of its thread read;
	// nil while an update holds the posting only for its versions and
	// history (Scorer.Update).
	*textEvidence
}

// facts are the header fields and patch facts of a message that an
// update's slim postings do without.
type facts struct {
	parent  string
	subject string

	// Patch postings only.
	fixes     []fixRef
	reporters []string // Reported-by addresses (lowercased), names when no address
	shape     Shape    // its Paths are mail.paths
	patchID   string   // the git patch-id of its first diff (mail.patchID is its hash)

	// Pull requests only (kept when other messages drop their facts).
	pulls []string // the subject keys of its shortlog
}

// pulled returns the subject keys a pull request names (none for other
// messages).
func (m *mail) pulled() []string {
	if m.kind != kindPull || m.facts == nil {
		return nil
	}
	return m.pulls
}

// patchHash is the 64-bit FNV-1a hash of a git patch-id (0 for none):
// what reworded compares, in a word instead of a 40-byte string.
func patchHash(id string) uint64 {
	if id == "" {
		return 0
	}
	h := uint64(14695981039346656037) // FNV-1a, without hash/fnv's allocations (every posting read)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * 1099511628211
	}
	return max(h, 1)
}

// textEvidence is the evidence of a message's own text.
type textEvidence struct {
	reports  []string // sanitizer, splat and fuzzer names in its own text
	reviewer []string // reviewer-language terms in its own (non-quoted) text
	trailers int      // review trailers given in a reply (Reviewed-by, Acked-by, Tested-by)
	applied  bool     // a reply says the patch was applied, merged or queued
	nak      bool     // a reply rejects the patch (NAK)

	// Patch postings only (vuln: in replies too).
	vuln     []string // vulnerability classes in subject and changelog (a reply: its own text)
	subjVuln []string // vulnerability classes in the subject alone
	baseline int      // keyword count of the baseline (subject and changelog)
	reviewed int      // Reviewed-by, Acked-by, Tested-by in the patch itself
	fixWord  bool
	feature  bool
	cleanup  bool
	words    []string // distinct words of subject and changelog (postingWords)
	nWords   int      // how many postingWords gave, when words keeps only some (keepWords); 0: len(words)
}

// slim drops what an update reads of a posting only in the chunk that
// scores it or its versions (Scorer.Update): its text evidence, parent,
// subject and patch-id text, keeping its position in its series
// (counter), which the versions of other postings read. The ids of its
// Fixes: targets stay: its terms name them (postingTerms).
func (m *mail) slim() {
	m.slimCounter = int16(min(counter(m), 1<<14)) + 1
	m.textEvidence = nil
	if f := m.facts; f != nil {
		f.parent, f.subject, f.patchID = "", "", ""
	}
}

// dropFacts drops what only the rows of a posting and of its newer
// versions read (its Fixes: targets, reporters, diff shape), after the
// history and the postings to score are known. What the versions of
// other postings (reworded) read stays: sender, subject key, version,
// patch-id, paths, links, series position (slim).
func (m *mail) dropFacts() { m.facts = nil }

// fill gives a slim m again what slim and dropFacts took, from its
// header and its decoded evidence r (all of its words: Scorer.keepWords).
func (m *mail) fill(h *store.RadarHeader, r *Record) {
	m.slimCounter = 0
	m.facts = r.facts(h.Parent, h.Subject)
	m.textEvidence = r.text()
}

// newMail returns an empty mail with its facts and text evidence.
func newMail() *mail { return &mail{facts: &facts{}, textEvidence: &textEvidence{}} }

type fixRef struct{ sha, title string }

// patchKey names the postings of one patch: its subject key and sender.
// Both strings are shared with the postings (interner), so a key costs
// no string of its own.
type patchKey struct{ key, from string }

func (m *mail) patchKey() patchKey { return patchKey{m.key, m.from} }

// Corpus is the radar's view of a store (or of one list in it): every
// message reduced to its evidence, in archive order, with the indexes
// the signals need.
type Corpus struct {
	mails    []*mail
	byMID    map[string]*mail
	children map[string][]*mail
	byThread map[int64][]*mail
	// commitDate maps abbreviated (12 hex) ids and subject keys of the
	// commits of registered repositories to their commit dates.
	commitDate map[string]time.Time
	// byKey lists the patch postings of each subject key, oldest first:
	// the first is the key's first posting (the age of a Fixes: target),
	// those from one sender are the versions of one patch (upTo, newest).
	byKey map[string][]*mail
	// stablePostings maps a subject key to the dates of stable backport
	// postings of it.
	stablePostings map[string][]time.Time
	// bySender lists the patch postings of each sender, oldest first.
	bySender map[string][]*mail
	// pulled lists the pull requests whose shortlog names a subject key,
	// oldest first.
	pulled map[string][]*mail
	// keyWords caches the split subject keys of reworded.
	keyWords map[string]*keyWords
}

// LoadOptions select what Load reads.
type LoadOptions struct {
	List    string // only messages of this list ("" = all)
	Workers int    // parse workers (default: one per CPU)
}

// Load reads every message of the store (or of one list) and reduces it
// to its evidence.
func Load(ctx context.Context, st *store.Store, opts *LoadOptions) (*Corpus, error) {
	var o LoadOptions
	if opts != nil {
		o = *opts
	}
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	q := `SELECT id, message_id, thread, subject, from_email, date, parent FROM messages WHERE deleted = 0 ORDER BY id`
	var args []any
	if o.List != "" {
		q = `SELECT m.id, m.message_id, m.thread, m.subject, m.from_email, m.date, m.parent FROM messages m
			JOIN memberships ms ON ms.message = m.id JOIN lists l ON l.id = ms.list
			WHERE m.deleted = 0 AND l.name = ? ORDER BY m.id`
		args = append(args, o.List)
	}
	rows, err := st.DB().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("radar: %w", err)
	}
	var mails []*mail
	for rows.Next() {
		m := newMail()
		var date int64
		if err := rows.Scan(&m.id, &m.mid, &m.thread, &m.subject, &m.from, &date, &m.parent); err != nil {
			rows.Close()
			return nil, fmt.Errorf("radar: %w", err)
		}
		m.from = strings.ToLower(m.from)
		m.date = time.Unix(date, 0).UTC()
		mails = append(mails, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("radar: %w", err)
	}
	if o.List != "" && len(mails) == 0 {
		return nil, fmt.Errorf("radar: no messages on list %q", o.List)
	}

	// Parse in workers; each worker fills the mails it is given.
	work := make(chan *mail)
	errs := make(chan error, o.Workers)
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				raw, err := st.Raw(ctx, m.id)
				if err != nil {
					errs <- fmt.Errorf("radar: message <%s>: %w", m.mid, err)
					for range work {
					}
					return
				}
				pm, err := message.Parse(raw, nil)
				if err != nil {
					continue // kept with no evidence
				}
				analyze(m, pm, patch.Analyze(pm))
			}
		}()
	}
feed:
	for _, m := range mails {
		select {
		case work <- m:
		case <-ctx.Done():
			break feed
		case err := <-errs:
			close(work)
			wg.Wait()
			return nil, err
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := index(mails)
	if err := c.loadCommits(ctx, st); err != nil {
		return nil, err
	}
	return c, nil
}

// index builds the corpus' lookups.
func index(mails []*mail) *Corpus {
	c := indexPostings(mails)
	c.indexThreads(mails)
	return c
}

// indexPostings builds the lookups of the patch and stable postings of
// mails (in row order); the thread lookups are left empty (indexThreads).
func indexPostings(mails []*mail) *Corpus {
	// Sized for the whole archive: growing the maps was a large part of
	// building them.
	n := len(mails)
	c := &Corpus{
		mails:          mails,
		commitDate:     map[string]time.Time{},
		byKey:          make(map[string][]*mail, n/4),
		stablePostings: map[string][]time.Time{},
		bySender:       make(map[string][]*mail, n/64),
		pulled:         map[string][]*mail{},
	}
	for _, m := range mails {
		switch m.kind {
		case kindPull:
			for _, k := range m.pulled() {
				c.pulled[k] = append(c.pulled[k], m)
			}
		case kindPatch:
			c.byKey[m.key] = append(c.byKey[m.key], m)
			c.bySender[m.from] = append(c.bySender[m.from], m)
		case kindStable:
			c.stablePostings[m.key] = append(c.stablePostings[m.key], m.date)
		}
	}
	for _, vs := range c.byKey {
		sort.SliceStable(vs, func(i, j int) bool { return older(vs[i], vs[j]) })
	}
	for _, vs := range c.bySender {
		sort.SliceStable(vs, func(i, j int) bool { return older(vs[i], vs[j]) })
	}
	for _, vs := range c.pulled {
		sort.SliceStable(vs, func(i, j int) bool { return older(vs[i], vs[j]) })
	}
	for _, ds := range c.stablePostings {
		sort.Slice(ds, func(i, j int) bool { return ds[i].Before(ds[j]) })
	}
	return c
}

// indexThreads builds the thread lookups (by Message-ID, by parent, by
// thread) of mails, in row order.
func (c *Corpus) indexThreads(mails []*mail) {
	n := len(mails)
	c.byMID = make(map[string]*mail, n)
	c.children = make(map[string][]*mail, n/2)
	c.byThread = make(map[int64][]*mail, n/4)
	for _, m := range mails {
		c.byMID[m.mid] = m
		if m.parent != "" {
			c.children[m.parent] = append(c.children[m.parent], m)
		}
		c.byThread[m.thread] = append(c.byThread[m.thread], m)
	}
}

// older orders mails by date, then row id.
func older(a, b *mail) bool {
	if !a.date.Equal(b.date) {
		return a.date.Before(b.date)
	}
	return a.id < b.id
}

// loadCommits reads the dates of the commits of registered repositories
// (none when no repository is registered).
func (c *Corpus) loadCommits(ctx context.Context, st *store.Store) error {
	rows, err := st.DB().QueryContext(ctx, `SELECT sha, norm_subject, commit_date FROM commits`)
	if err != nil {
		return nil // a store without the commits table has no repositories
	}
	defer rows.Close()
	for rows.Next() {
		var sha, norm string
		var date int64
		if err := rows.Scan(&sha, &norm, &date); err != nil {
			return fmt.Errorf("radar: %w", err)
		}
		t := time.Unix(date, 0).UTC()
		if len(sha) >= 12 {
			c.commitDate[sha[:12]] = t
		}
		if old, ok := c.commitDate[norm]; norm != "" && (!ok || t.Before(old)) {
			c.commitDate[norm] = t
		}
	}
	return rows.Err()
}

// loadCommitsOf reads what loadCommits does of the commits the Fixes:
// trailers of the given postings name (fixesAge): by their abbreviated
// ids and the subject keys of their titles, instead of every commit of
// the registered repositories (a million and more for the kernel's).
func (c *Corpus) loadCommitsOf(ctx context.Context, st *store.Store, versions [][]*mail) error {
	var ids, keys []string
	for _, vs := range versions {
		for _, v := range vs {
			for _, f := range v.fixes {
				if len(f.sha) >= 12 {
					ids = append(ids, f.sha[:12])
				}
				if f.title != "" {
					keys = append(keys, TitleKey(f.title))
				}
			}
		}
	}
	return st.RadarCommitDates(ctx, ids, keys, func(sha, norm string, t time.Time) {
		if len(sha) >= 12 {
			c.commitDate[sha[:12]] = t
		}
		if old, ok := c.commitDate[norm]; norm != "" && (!ok || t.Before(old)) {
			c.commitDate[norm] = t
		}
	})
}

// upstreamRE matches the line of a stable backport naming its mainline
// commit.
var upstreamRE = regexp.MustCompile(`(?im)^\s*(\[\s*)?(upstream commit [0-9a-f]{12,40}|commit [0-9a-f]{12,40} upstream)`)

// stableWordRE matches the subject tags of stable postings: a stable
// branch or release, a range of branches, "stable", "AUTOSEL" (the same
// rule as internal/link).
var stableWordRE = regexp.MustCompile(`(?i)^(v?\d+\.\d+(\.y|\.\d+)|v?\d+\.\d+(\.y)?-\d+\.\d+(\.y)?|stable(-\d+\.\d+(\.y)?)?|autosel)$`)

// versionWordRE matches a tag naming a kernel version.
var versionWordRE = regexp.MustCompile(`(?i)^v?\d+\.\d+`)

// stableTags reports whether the subject's tags mark a stable posting
// (sure), or name a kernel version (maybe: then the body decides).
func stableTags(s *patch.Subject) (sure, maybe bool) {
	for _, group := range [][]string{s.Subsystems, s.Prefixes, s.ListTags} {
		for _, g := range group {
			for _, w := range strings.Fields(g) {
				if stableWordRE.MatchString(w) {
					return true, true
				}
				if versionWordRE.MatchString(w) {
					maybe = true
				}
			}
		}
	}
	return false, maybe
}

// treeOf reads the tree a patch is posted for from its subject tags:
// +1 a tree of fixes for the current release, -1 a development tree,
// 0 none named.
func treeOf(s *patch.Subject) int8 {
	for _, group := range [][]string{s.Subsystems, s.ListTags} {
		for _, g := range group {
			for _, w := range strings.FieldsFunc(g, func(r rune) bool { return r == ' ' || r == ',' }) {
				switch {
				case nextTreeRE.MatchString(w):
					return -1
				case fixTreeRE.MatchString(w):
					return 1
				}
			}
		}
	}
	return 0
}

var reviewKeys = map[string]bool{"reviewed-by": true, "acked-by": true, "tested-by": true}

// analyze reduces a parsed message to its evidence; a is the message's
// patch analysis (patch.Analyze), whose subject, diffs and trailers it
// reads rather than parsing them again.
func analyze(m *mail, pm *message.Message, a *patch.Analysis) {
	sub := a.Subject
	m.key = TitleKey(pm.Subject)
	m.version = sub.Version
	for _, p := range sub.Prefixes {
		if p == "RFC" {
			m.isRFC = true
		}
	}
	hasPatchWord := false
	for _, p := range sub.Prefixes {
		if p == "PATCH" || p == "RFC" {
			hasPatchWord = true
		}
		if p == "PATCH" {
			m.patchTag = true
		}
	}
	switch {
	case sub.Reply || sub.Forward || len(pm.References) > 0 && !sub.IsPatch:
		m.kind = kindReply
		text := newText(scrub(pm.NonQuoted))
		m.reports = reportTerms(text)
		m.reviewer = find(reviewerWords, text)
		m.vuln = find(vulnClasses, text) // what the reviewer calls the bug
		m.applied = lineMatch(pm.NonQuoted, appliedAnchors, appliedRE)
		m.nak = lineMatch(pm.NonQuoted, nakAnchors, nakRE)
		rt := a.ReplyTrailers
		if sub.Forward || len(pm.References) == 0 {
			rt = patch.FindReplyTrailers(pm.NonQuoted) // not read by patch.Analyze
		}
		for _, t := range rt {
			if reviewKeys[t.KeyLower()] {
				m.trailers++
			}
		}
		return
	case sub.IsCover && sub.IsPatch:
		m.kind = kindCover
		text := newText(scrub(pm.NonQuoted))
		m.reports = reportTerms(text)
		m.reviewer = find(reviewerWords, text)
		return
	}
	ps := a.Patches
	if len(ps) == 0 || !hasPatchWord {
		// A report, a pull request, a discussion: its text is evidence
		// for the patches that answer it.
		m.kind = kindOther
		text := newText(scrub(pm.Text))
		m.reports = reportTerms(text)
		m.reviewer = find(reviewerWords, text)
		if keys := pulledKeys(pm.Text); len(keys) > 0 {
			m.kind, m.pulls, m.tree = kindPull, keys, pullTree(pm.Subject, pm.Text)
		}
		return
	}
	m.kind = kindPatch
	sure, maybe := stableTags(&sub)
	if sure || maybe && upstreamRE.MatchString(pm.Text) {
		m.kind = kindStable
		return
	}
	m.tree = treeOf(&sub)
	changelog := pm.Text
	if ps[0].Start > 0 && ps[0].Start <= len(changelog) {
		changelog = changelog[:ps[0].Start]
	}
	if i := strings.Index(changelog, "\n---\n"); i >= 0 {
		changelog = changelog[:i]
	}
	log := newText(scrub(changelog))
	subject := scrub(sub.Normalized)
	m.reports = reportTerms(log)
	m.reviewer = find(reviewerWords, log)
	m.subjVuln = find(vulnClasses, newText(subject))
	both := subject + "\n" + log.s
	bt := newText(both)
	m.vuln = find(vulnClasses, bt)
	if len(bt.s) == len(both) {
		m.baseline = baselineWords(bt)
	} else {
		m.baseline = BaselineWords(both)
	}
	m.words = postingWords(subject, log.s)
	m.fixWord = fixWordRE.MatchString(subject)
	m.feature = featureWordRE.MatchString(subject)
	m.cleanup = cleanupWordRE.MatchString(subject)
	for _, t := range a.Trailers {
		switch k := t.KeyLower(); {
		case k == "fixes":
			m.fixes = append(m.fixes, fixRef{sha: strings.ToLower(t.SHA), title: t.Title})
		case k == "cc" && strings.Contains(strings.ToLower(t.Value), "stable@"):
			m.ccStable = true
		case k == "reported-by" || k == "reported-and-tested-by":
			r := strings.ToLower(t.Email)
			if r == "" {
				r = strings.ToLower(t.Name)
			}
			if r != "" {
				m.reporters = append(m.reporters, r)
			}
		case k == "closes" || k == "link":
			if k == "closes" {
				m.closes = true
			}
			if t.MessageID != "" {
				m.links = append(m.links, t.MessageID)
			}
		case reviewKeys[k]:
			m.reviewed++
		}
	}
	for _, a := range pm.Cc {
		if strings.HasPrefix(strings.ToLower(a.Email), "stable@") {
			m.ccStable = true
		}
	}
	for _, a := range pm.To {
		if strings.HasPrefix(strings.ToLower(a.Email), "stable@") {
			m.ccStable = true
		}
	}
	m.shape = ShapeOf(ps)
	m.paths, m.shape.Paths = m.shape.Paths, nil
	m.patchID, m.facts.patchID = patchHash(ps[0].PatchID), ps[0].PatchID
}

// reportTerms are the sanitizer, splat and fuzzer names in a text.
func reportTerms(s text) []string {
	out := find(memorySanitizers, s)
	out = append(out, find(otherReports, s)...)
	return append(out, find(fuzzers, s)...)
}

// Span returns the dates of the first and last patch postings.
func (c *Corpus) Span() (first, last time.Time) {
	for _, m := range c.mails {
		if m.kind != kindPatch || m.date.Year() < 1991 {
			continue
		}
		if first.IsZero() || m.date.Before(first) {
			first = m.date
		}
		if m.date.After(last) {
			last = m.date
		}
	}
	return first, last
}

// keepWords keeps of m's words only those vocab weighs, and their
// number before: the word score of m under vocab is unchanged (wordScore
// divides by the number of all its words), and a scorer holding every
// stored message in memory keeps a few words of each instead of all.
func (m *textEvidence) keepWords(vocab map[string]float64) {
	if m.nWords == 0 {
		m.nWords = len(m.words)
	}
	var kept []string
	for _, w := range m.words {
		if _, ok := vocab[w]; ok {
			kept = append(kept, w)
		}
	}
	m.words = kept
}
