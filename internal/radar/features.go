package radar

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"patchtrail/internal/patch"
)

// Horizon is how long after a posting its discussion still counts: the
// replies, reports and stable backports of the first two weeks. CVEs
// come weeks to months after the fix is public; the radar must rank a
// patch before then.
const Horizon = 14 * 24 * time.Hour

// repostWindow is how long before a posting a posting of the same patch
// by someone else counts as the same patch passed on.
const repostWindow = 180 * 24 * time.Hour

// Group names the kind of evidence a feature reads (for ablations).
type Group string

const (
	GroupPatch   Group = "patch"   // subject, changelog, trailers
	GroupThread  Group = "thread"  // replies, reports answered, what happened next
	GroupDiff    Group = "diff"    // what the diff does
	GroupHistory Group = "history" // earlier CVEs of the same files, functions, reporters
	GroupWords   Group = "words"   // the learned words of subject and changelog (words.go)
)

// A feature is one named input of the model.
type feature struct {
	name  string
	group Group
	// words renders the signal; detail is the terms found, n the value.
	words func(detail string, v float64) string
}

// features lists the model's inputs, in the order of a feature vector:
// the signals, then their interactions.
var features, featureParts = withInteractions(signals)

// signals are the features read from the evidence.
var signals = []feature{
	{"fixes", GroupPatch, func(d string, v float64) string { return "Fixes: tag" + d }},
	{"fixes_age", GroupPatch, func(d string, v float64) string {
		return fmt.Sprintf("Fixes: a commit %s old%s", years(math.Expm1(v)), d)
	}},
	{"fixes_recent", GroupPatch, fixed("Fixes: a commit less than three months old (the bug may never have been released)")},
	{"cc_stable", GroupPatch, fixed("Cc: stable")},
	{"fix_tree", GroupPatch, listed("posted for a tree of fixes")},
	{"next_tree", GroupPatch, listed("posted for a development tree")},
	{"vuln_words", GroupPatch, counted("vulnerability words and sanitizer names in the subject and changelog")},
	{"subject_vuln", GroupPatch, listed("vulnerability class in the subject")},
	{"memory_safety", GroupPatch, listed("memory-safety bug named in the changelog")},
	{"null_deref", GroupPatch, fixed("NULL dereference named in the changelog")},
	{"info_leak", GroupPatch, fixed("information leak or uninitialised data named in the changelog")},
	{"memory_leak", GroupPatch, fixed("memory or reference leak named in the changelog")},
	{"race", GroupPatch, fixed("race named in the changelog")},
	{"deadlock", GroupPatch, fixed("deadlock or hang named in the changelog")},
	{"refcount_words", GroupPatch, fixed("reference counting named in the changelog")},
	{"missing_check", GroupPatch, fixed("missing check or validation named in the changelog")},
	{"crash", GroupPatch, fixed("crash, panic, BUG or corruption named in the changelog")},
	{"security_words", GroupPatch, listed("security impact stated in the changelog")},
	{"fix_subject", GroupPatch, fixed("subject says it fixes or prevents something")},
	{"feature_subject", GroupPatch, fixed("subject adds or introduces a feature")},
	{"cleanup_subject", GroupPatch, fixed("subject is a cleanup, rename, test or documentation change")},
	{"rfc", GroupPatch, fixed("posted as RFC")},
	{"kernel_code", GroupPatch, fixed("changes kernel code")},
	{"reported", GroupPatch, listed("Reported-by")},
	{"closes", GroupPatch, fixed("Closes: a report")},
	{"reviewed", GroupPatch, counted("review trailers in the patch")},
	{"versions", GroupPatch, counted("versions posted")},
	{"series", GroupPatch, counted("patches in its series")},
	{"sanitizer_patch", GroupPatch, listed("sanitizer report in the changelog")},
	{"splat_patch", GroupPatch, listed("kernel splat in the changelog")},
	{"fuzzer_patch", GroupPatch, listed("found by a fuzzer")},

	{"sanitizer_thread", GroupThread, listed("sanitizer report in the thread or the report it answers")},
	{"splat_thread", GroupThread, listed("kernel splat in the thread or the report it answers")},
	{"fuzzer_thread", GroupThread, listed("fuzzer report in the thread or the report it answers")},
	{"answers_report", GroupThread, fixed("answers a bug report on the list")},
	{"reviewer_security", GroupThread, listed("reviewers speak of")},
	{"replies", GroupThread, counted("replies in the first two weeks")},
	{"repliers", GroupThread, counted("people replying")},
	{"review_replies", GroupThread, counted("review trailers given in replies")},
	{"stable_backport", GroupThread, fixed("backported to stable within two weeks")},
	{"applied", GroupThread, fixed("a reply says it was applied or queued")},
	{"nak", GroupThread, fixed("a reviewer NAKs it")},
	{"reposted", GroupThread, fixed("posted again by someone else (a maintainer's series or pull request)")},
	{"picked_fix_tree", GroupThread, fixed("posted again by someone else for a tree of fixes")},
	{"renamed_later", GroupThread, fixed("a newer version under another subject followed within two weeks")},
	{"pulled", GroupThread, fixed("a pull request names it within two weeks")},
	{"reply_vuln", GroupThread, listed("a reply names the bug")},
	{"fix_bound", GroupThread, fixed("on its way to a release as a fix (posted, posted again or pulled for a tree of fixes)")},

	{"bounds_check", GroupDiff, fixed("adds a bounds or length check")},
	{"null_check", GroupDiff, fixed("adds a NULL or error-pointer check")},
	{"error_exit", GroupDiff, fixed("adds an error exit")},
	{"overflow_helper", GroupDiff, fixed("adds overflow-safe arithmetic (check_*_overflow, array_size, min_t, clamp)")},
	{"lock_added", GroupDiff, fixed("adds locking or memory ordering")},
	{"lock_moved", GroupDiff, fixed("moves locking")},
	{"free_reordered", GroupDiff, fixed("reorders a free or put")},
	{"free_added", GroupDiff, fixed("adds a free or put")},
	{"free_removed", GroupDiff, fixed("removes a free or put")},
	{"nospec", GroupDiff, fixed("adds array_index_nospec")},
	{"zero_init", GroupDiff, fixed("zeroes memory")},
	{"zero_copy_out", GroupDiff, fixed("zeroes memory before it is copied to user space")},
	{"refcount_change", GroupDiff, fixed("changes reference counting")},
	{"user_copy", GroupDiff, fixed("touches user-space copies")},
	{"input_check", GroupDiff, fixed("adds a bounds check where it reads input (a length from a buffer, a packet, a message or user space)")},
	{"small_diff", GroupDiff, fixed("small change (at most 30 lines)")},
	{"diff_lines", GroupDiff, counted("lines changed")},

	{"history_files", GroupHistory, func(d string, v float64) string {
		return fmt.Sprintf("%.0f %% of the earlier fixes of the same files got a CVE%s", v*100, d)
	}},
	{"history_functions", GroupHistory, counted("earlier fixes of the same functions with a CVE")},
	{"history_reporter", GroupHistory, counted("earlier fixes from the same reporter with a CVE")},
	{"history_prefix", GroupHistory, func(d string, v float64) string {
		return fmt.Sprintf("%.0f %% of the earlier fixes with the same subject prefix got a CVE%s", v*100, d)
	}},
	{"history_author", GroupHistory, func(d string, v float64) string {
		return fmt.Sprintf("%.0f %% of the sender's earlier fixes got a CVE%s", v*100, d)
	}},

	// The value is the posting's word score under the model's word
	// weights (Model.Words), set when the model scores the row.
	{"words", GroupWords, listed("words of the subject and changelog, as fixes with a CVE used them")},
}

// interacting names the features whose pairwise products are features
// too (interactions, "a*b"), with the words that render them: a signal
// often counts only beside another (vulnerability words in a patch
// that changes kernel code, a Fixes: tag on a small diff). Measured on
// lists left out of training, the products of these ten raise the
// average precision on most of them (doc/radar.md).
var interacting = []struct{ name, words string }{
	{"fixes", "a Fixes: tag"},
	{"cc_stable", "Cc: stable"},
	{"fix_bound", "on its way to a release as a fix"},
	{"vuln_words", "vulnerability words"},
	{"fix_subject", "a fix in the subject"},
	{"kernel_code", "kernel code changed"},
	{"splat_patch", "a splat in the changelog"},
	{"reported", "Reported-by"},
	{"small_diff", "a small diff"},
	{"history_author", "a sender whose fixes got CVEs"},
}

// withInteractions appends to fs the products of the interacting
// features; parts gives, for each feature, the two it multiplies (nil:
// none).
func withInteractions(fs []feature) ([]feature, [][]int) {
	out := append([]feature(nil), fs...)
	parts := make([][]int, len(fs))
	index := map[string]int{}
	for i, f := range fs {
		index[f.name] = i
	}
	for a := range interacting {
		for b := a + 1; b < len(interacting); b++ {
			x, y := index[interacting[a].name], index[interacting[b].name]
			group := GroupPatch
			for _, i := range []int{x, y} {
				if fs[i].group != GroupPatch {
					group = fs[i].group
				}
			}
			words := interacting[a].words + " with " + interacting[b].words
			out = append(out, feature{fs[x].name + "*" + fs[y].name, group, fixed(words)})
			parts = append(parts, []int{x, y})
		}
	}
	return out, parts
}

// inGroups reports whether feature i reads evidence of one of the groups
// (an interaction: either of its parts does).
func inGroups(i int, groups map[Group]bool) bool {
	if groups[features[i].group] {
		return true
	}
	for _, p := range featureParts[i] {
		if groups[features[p].group] {
			return true
		}
	}
	return false
}

// FeatureNames lists the model's inputs in vector order.
func FeatureNames() []string {
	out := make([]string, len(features))
	for i, f := range features {
		out[i] = f.name
	}
	return out
}

// FeatureGroup returns the group of a feature, "" when unknown.
func FeatureGroup(name string) Group {
	if i, ok := featureIndex[name]; ok {
		return features[i].group
	}
	return ""
}

var featureIndex = func() map[string]int {
	m := map[string]int{}
	for i, f := range features {
		m[f.name] = i
	}
	return m
}()

func fixed(s string) func(string, float64) string {
	return func(d string, _ float64) string { return s + d }
}

func listed(s string) func(string, float64) string {
	return func(d string, _ float64) string { return s + d }
}

func counted(s string) func(string, float64) string {
	return func(d string, v float64) string {
		return fmt.Sprintf("%s: %d%s", s, int(math.Round(math.Expm1(v))), d)
	}
}

func years(y float64) string {
	switch {
	case y < 1.0/12:
		return fmt.Sprintf("%d days", int(math.Round(y*365)))
	case y < 1:
		return fmt.Sprintf("%d months", int(math.Round(y*12)))
	case y < 1.5:
		return "1 year"
	}
	return fmt.Sprintf("%d years", int(math.Round(y)))
}

// evidence is where a feature's value comes from.
type evidence struct {
	mid   string
	terms []string
}

// Row is one patch as the model sees it: its versions folded, the
// feature vector and the evidence of each non-zero feature.
type Row struct {
	MessageID string   // the newest version folded in
	Versions  []string // every version folded in, oldest first
	Subject   string
	Key       string // TitleKey of the subject
	Date      time.Time
	X         []float64
	ev        []evidence
	mail      *mail
	// Words are the distinct words of the newest version's subject and
	// changelog (postingWords): the "words" feature reads them. A
	// scorer keeps only the words its model weighs; WordCount is then
	// the number of all of them (0: len(Words)).
	Words     []string
	WordCount int

	// Baselines of the evaluation, from the same mail.
	TagBaseline  float64 // Fixes: or Cc: stable (0/1)
	WordBaseline float64 // vulnerability words and sanitizer names plus the two tags
}

// Head reports whether the row is the newest version of its patch as
// far as the mail says within two weeks: no newer version was posted
// under another subject (the newer one folds this one in). Versions
// under the same subject are grouped by the callers.
func (r *Row) Head() bool { return r.X[featureIndex["renamed_later"]] == 0 }

// setf sets feature name to v with its evidence.
func (r *Row) setf(name string, v float64, mid string, terms ...string) {
	i := featureIndex[name]
	if v == 0 {
		return
	}
	r.X[i] = v
	r.ev[i] = evidence{mid: mid, terms: terms}
}

// Signal is one feature that moved a score, in words.
type Signal struct {
	Name     string  `json:"name"`
	Words    string  `json:"words"`
	Weight   float64 `json:"weight"` // its contribution to the log-odds
	Evidence string  `json:"evidence"`
}

// Units lists the rows the evaluation scores: every patch posting (a
// PATCH subject, not a reply, cover letter or stable backport) dated in
// [from, to) (zero bounds are open), each scored with what was known at
// its own posting: earlier versions folded in, the discussion of its
// first two weeks, CVEs published before it.
func (c *Corpus) Units(from, to time.Time, labels *Labels) []*Row {
	h := c.history(labels)
	var out []*Row
	for _, m := range c.mails {
		if m.kind != kindPatch || !m.patchTag {
			continue
		}
		if !from.IsZero() && m.date.Before(from) || !to.IsZero() && !m.date.Before(to) {
			continue
		}
		out = append(out, c.row(m, h))
	}
	return out
}

// Patches lists one row per patch, its versions folded into the newest
// posted in [from, to), scored with what was known at that version.
func (c *Corpus) Patches(from, to time.Time, labels *Labels) []*Row {
	h := c.history(labels)
	var out []*Row
	for _, m := range c.mails {
		if m.kind != kindPatch {
			continue
		}
		if c.newest(m) != m {
			continue // a newer version carries it
		}
		if !from.IsZero() && m.date.Before(from) || !to.IsZero() && !m.date.Before(to) {
			continue
		}
		if r := c.row(m, h); r.Head() {
			out = append(out, r)
		}
	}
	return out
}

// row computes the features of posting m with its earlier versions.
func (c *Corpus) row(m *mail, h *history) *Row { return c.rowOf(m, c.versionsOf(m), h) }

// rowOf is row with the versions of m (versionsOf) known.
func (c *Corpus) rowOf(m *mail, vs []*mail, h *history) *Row {
	r := &Row{MessageID: m.mid, Subject: m.subject, Key: m.key, Date: m.date, mail: m, Words: m.words, WordCount: m.nWords,
		X: make([]float64, len(features)), ev: make([]evidence, len(features))}
	for _, v := range vs {
		r.Versions = append(r.Versions, v.mid)
	}
	horizon := m.date.Add(Horizon)

	// Patch: the newest version's own text, trailers from any version.
	var fixes []fixRef
	var fixesMID string
	for _, v := range vs {
		if len(v.fixes) > 0 {
			fixes, fixesMID = v.fixes, v.mid
		}
		if v.ccStable {
			r.setf("cc_stable", 1, v.mid)
		}
		if len(v.reporters) > 0 {
			r.setf("reported", 1, v.mid, v.reporters...)
		}
		if v.closes {
			r.setf("closes", 1, v.mid)
		}
	}
	if len(fixes) > 0 {
		r.setf("fixes", 1, fixesMID)
		if age, ok := c.fixesAge(fixes, m.date); ok {
			r.setf("fixes_age", math.Log1p(age), fixesMID)
			if age < 0.25 {
				r.setf("fixes_recent", 1, fixesMID)
			}
		}
	}
	if n := len(m.subjVuln); n > 0 {
		r.setf("subject_vuln", float64(min(n, 3)), m.mid, m.subjVuln...)
	}
	classes := map[string]string{
		"use-after-free": "memory_safety", "out-of-bounds": "memory_safety", "overflow": "memory_safety", "double free": "memory_safety",
		"NULL dereference": "null_deref", "info leak": "info_leak", "memory leak": "memory_leak", "race": "race",
		"deadlock": "deadlock", "refcount": "refcount_words", "missing check": "missing_check", "crash": "crash",
	}
	var mem []string
	for _, v := range m.vuln {
		switch f := classes[v]; f {
		case "memory_safety":
			mem = append(mem, v)
		case "":
		default:
			r.setf(f, 1, m.mid, v)
		}
	}
	if len(mem) > 0 {
		r.setf("memory_safety", float64(len(mem)), m.mid, mem...)
	}
	if len(m.reviewer) > 0 {
		r.setf("security_words", float64(len(m.reviewer)), m.mid, m.reviewer...)
	}
	if m.fixWord {
		r.setf("fix_subject", 1, m.mid)
	}
	switch m.tree {
	case 1:
		r.setf("fix_tree", 1, m.mid)
	case -1:
		r.setf("next_tree", 1, m.mid)
	}
	if m.baseline > 0 {
		r.setf("vuln_words", math.Log1p(float64(m.baseline)), m.mid)
	}
	if m.feature {
		r.setf("feature_subject", 1, m.mid)
	}
	if m.cleanup {
		r.setf("cleanup_subject", 1, m.mid)
	}
	if m.isRFC {
		r.setf("rfc", 1, m.mid)
	}
	if m.shape.KernelCode {
		r.setf("kernel_code", 1, m.mid)
	}
	if m.reviewed > 0 {
		r.setf("reviewed", math.Log1p(float64(m.reviewed)), m.mid)
	}
	if len(vs) > 1 {
		r.setf("versions", math.Log1p(float64(len(vs))), m.mid)
	}
	// Fixes mostly come alone or in short series; a long series is
	// mostly new work (a maintainer's pull request of fixes, too, is
	// long: the tree tag and the reposting tell that apart).
	if sub := patch.ParseSubject(m.subject); sub.Total > 1 {
		r.setf("series", math.Log1p(float64(sub.Total)), m.mid)
	}
	san, splat, fuzz := splitReports(m.reports)
	for _, rep := range m.reporters {
		if strings.Contains(rep, "syzbot") || strings.Contains(rep, "syzkaller") {
			fuzz = union(fuzz, []string{"syzbot"})
		}
	}
	if len(san) > 0 {
		r.setf("sanitizer_patch", float64(len(san)), m.mid, san...)
	}
	if len(splat) > 0 {
		r.setf("splat_patch", float64(len(splat)), m.mid, splat...)
	}
	if len(fuzz) > 0 {
		r.setf("fuzzer_patch", 1, m.mid, fuzz...)
	}

	// Thread: the discussion of every version, the reports answered.
	c.threadFeatures(r, m, vs, horizon)

	// Diff: the newest version's.
	s := m.shape
	for _, b := range []struct {
		name string
		on   bool
	}{
		{"bounds_check", s.BoundsCheck}, {"null_check", s.NullCheck}, {"error_exit", s.ErrorExit},
		{"overflow_helper", s.OverflowHelp}, {"lock_added", s.LockAdded}, {"lock_moved", s.LockMoved},
		{"free_reordered", s.FreeReorder}, {"free_added", s.FreeAdded}, {"free_removed", s.FreeRemoved},
		{"nospec", s.Nospec}, {"zero_init", s.ZeroInit}, {"zero_copy_out", s.ZeroCopyOut},
		{"refcount_change", s.Refcount}, {"user_copy", s.UserCopy}, {"input_check", s.InputCheck},
	} {
		if b.on {
			r.setf(b.name, 1, m.mid)
		}
	}
	if s.Lines > 0 && s.Lines <= 30 {
		r.setf("small_diff", 1, m.mid)
	}
	r.setf("diff_lines", math.Log1p(float64(s.Lines)), m.mid)

	// History: CVEs published before this posting.
	h.features(r, m)

	// Interactions: the products of the features set above.
	for i, p := range featureParts {
		if p == nil {
			continue
		}
		a, b := p[0], p[1]
		if v := r.X[a] * r.X[b]; v != 0 {
			r.X[i] = v
			r.ev[i] = evidence{mid: r.ev[a].mid}
		}
	}

	// Baselines, from the newest version's mail alone.
	tags := 0.0
	if len(m.fixes) > 0 || m.ccStable {
		tags = 1
	}
	r.TagBaseline = tags
	r.WordBaseline = float64(m.baseline)
	if len(m.fixes) > 0 {
		r.WordBaseline++
	}
	if m.ccStable {
		r.WordBaseline++
	}
	return r
}

// versionsOf returns the versions of posting m up to it, oldest first:
// the postings of its patch (same subject key and sender) not newer than
// it, after the older versions posted under another subject (reworded,
// at most the horizon apart).
func (c *Corpus) versionsOf(m *mail) []*mail {
	vs := c.upTo(m)
	if len(vs) == 0 {
		vs = []*mail{m}
	}
	for o, hops := c.renamedEarlier(vs[0]), 0; o != nil && hops < 8; o, hops = c.renamedEarlier(o), hops+1 {
		vs = append(c.upTo(o), vs...)
	}
	return vs
}

// upTo returns the postings of m's patch (same subject key and sender:
// byKey's postings of its key from its sender) not newer than m, oldest
// first.
func (c *Corpus) upTo(m *mail) []*mail {
	var vs []*mail
	for _, v := range c.byKey[m.key] {
		if v.from == m.from && !m.date.Before(v.date) {
			vs = append(vs, v)
		}
	}
	return vs
}

// newest returns the newest posting of m's patch (same subject key and
// sender); nil when m is no patch posting of c.
func (c *Corpus) newest(m *mail) *mail {
	vs := c.byKey[m.key]
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].from == m.from {
			return vs[i]
		}
	}
	return nil
}

// fixesAge is the age in years, at date, of the oldest commit a Fixes:
// trailer names: its commit date in a registered repository, else the
// first posting of its subject in the archive.
func (c *Corpus) fixesAge(fixes []fixRef, date time.Time) (float64, bool) {
	var oldest time.Time
	for _, f := range fixes {
		var t time.Time
		if len(f.sha) >= 12 {
			t = c.commitDate[f.sha[:12]]
		}
		if t.IsZero() && f.title != "" {
			k := TitleKey(f.title)
			if ct, ok := c.commitDate[k]; ok {
				t = ct
			} else if ps := c.byKey[k]; len(ps) > 0 {
				t = ps[0].date // its first posting
			}
		}
		if !t.IsZero() && (oldest.IsZero() || t.Before(oldest)) {
			oldest = t
		}
	}
	if oldest.IsZero() || oldest.After(date) {
		return 0, false
	}
	return date.Sub(oldest).Hours() / 24 / 365.25, true
}

// bugClasses keeps the vulnerability classes that name a security bug
// (memory safety, a leak of kernel memory, security impact), not a
// plain crash, race or leak.
func bugClasses(vs []string) []string {
	var out []string
	for _, v := range vs {
		switch v {
		case "use-after-free", "out-of-bounds", "overflow", "double free", "NULL dereference", "info leak", "security":
			out = append(out, v)
		}
	}
	return out
}

// splitReports sorts report terms into memory sanitizers, other splats
// and fuzzers.
func splitReports(ts []string) (san, splat, fuzz []string) {
	for _, t := range ts {
		switch {
		case inLexicon(memorySanitizers, t):
			san = append(san, t)
		case inLexicon(fuzzers, t):
			fuzz = append(fuzz, t)
		default:
			splat = append(splat, t)
		}
	}
	return
}

func inLexicon(lex []term, name string) bool {
	for _, t := range lex {
		if t.name == name {
			return true
		}
	}
	return false
}

func union(a, b []string) []string {
	for _, x := range b {
		found := false
		for _, y := range a {
			if x == y {
				found = true
			}
		}
		if !found {
			a = append(a, x)
		}
	}
	return a
}

// threadFeatures reads the discussion of the versions vs (replies to
// them and to their cover letters, within the horizon) and the reports
// they answer (the messages they reply to, the thread's first message
// when it is no patch, the targets of Closes: and Link:).
func (c *Corpus) threadFeatures(r *Row, m *mail, vs []*mail, horizon time.Time) {
	var san, splat, fuzz, rev, replyVuln []string
	var sanMID, splatMID, fuzzMID, revMID, vulnMID, reportMID, appliedMID, nakMID string
	replies, trailers, backports := 0, 0, 0
	people := map[string]bool{}
	seen := map[*mail]bool{}
	note := func(x *mail, report bool) {
		if seen[x] || x.date.After(horizon) {
			return
		}
		seen[x] = true
		s, sp, f := splitReports(x.reports)
		if len(s) > 0 && sanMID == "" {
			sanMID = x.mid
		}
		if len(sp) > 0 && splatMID == "" {
			splatMID = x.mid
		}
		if len(f) > 0 && fuzzMID == "" {
			fuzzMID = x.mid
		}
		san, splat, fuzz = union(san, s), union(splat, sp), union(fuzz, f)
		if strings.Contains(x.from, "syzbot") || strings.Contains(x.from, "syzkaller") {
			fuzz = union(fuzz, []string{"syzbot"})
			if fuzzMID == "" {
				fuzzMID = x.mid
			}
		}
		if report {
			if reportMID == "" && (len(s)+len(sp)+len(f) > 0 || x.other()) {
				reportMID = x.mid
			}
			return
		}
		if x.from != m.from && x.applied && appliedMID == "" {
			appliedMID = x.mid
		}
		if x.from != m.from && x.nak && nakMID == "" {
			nakMID = x.mid
		}
		if x.from != m.from && len(x.reviewer) > 0 {
			if revMID == "" {
				revMID = x.mid
			}
			rev = union(rev, x.reviewer)
		}
		if x.from != m.from && x.kind == kindReply {
			if named := bugClasses(x.vuln); len(named) > 0 {
				if vulnMID == "" {
					vulnMID = x.mid
				}
				replyVuln = union(replyVuln, named)
			}
		}
	}
	var walk func(x *mail, depth int)
	walk = func(x *mail, depth int) {
		if depth > 50 {
			return
		}
		for _, ch := range c.children[x.mid] {
			if ch.kind == kindReply || ch.other() {
				if !seen[ch] && !ch.date.After(horizon) {
					replies++
					trailers += ch.trailers
					if ch.from != m.from {
						people[ch.from] = true
					}
				}
				note(ch, false)
				walk(ch, depth+1)
			}
		}
	}
	for _, v := range vs {
		walk(v, 0)
		// The cover letter's discussion covers every part; the messages
		// it replies to are the reports it answers.
		for p, depth := c.byMID[v.parent], 0; p != nil && depth < 20; p, depth = c.byMID[p.parent], depth+1 {
			switch p.kind {
			case kindCover:
				note(p, false)
				walk(p, 0)
			case kindOther, kindPull:
				note(p, true)
			case kindReply:
				note(p, true)
			}
		}
		if t := c.byThread[v.thread]; len(t) > 0 && t[0].other() && t[0] != v {
			note(t[0], true)
		}
		for _, l := range v.links {
			if x := c.byMID[l]; x != nil && x.kind != kindPatch && x.kind != kindStable {
				note(x, true)
				if t := c.byThread[x.thread]; len(t) > 0 && t[0].other() {
					note(t[0], true)
				}
			}
		}
	}
	for _, d := range c.stablePostings[m.key] {
		if !d.Before(m.date) && !d.After(horizon) {
			backports++
		}
	}
	if len(san) > 0 {
		r.setf("sanitizer_thread", float64(len(san)), sanMID, san...)
	}
	if len(splat) > 0 {
		r.setf("splat_thread", float64(len(splat)), splatMID, splat...)
	}
	if len(fuzz) > 0 {
		r.setf("fuzzer_thread", 1, fuzzMID, fuzz...)
	}
	if reportMID != "" {
		r.setf("answers_report", 1, reportMID)
	}
	if len(rev) > 0 {
		r.setf("reviewer_security", float64(len(rev)), revMID, rev...)
	}
	if len(replyVuln) > 0 {
		r.setf("reply_vuln", float64(len(replyVuln)), vulnMID, replyVuln...)
	}
	if replies > 0 {
		r.setf("replies", math.Log1p(float64(replies)), m.mid)
	}
	if len(people) > 0 {
		r.setf("repliers", math.Log1p(float64(len(people))), m.mid)
	}
	if trailers > 0 {
		r.setf("review_replies", math.Log1p(float64(trailers)), m.mid)
	}
	if backports > 0 {
		r.setf("stable_backport", 1, m.mid)
	}
	if appliedMID != "" {
		r.setf("applied", 1, appliedMID)
	}
	if nakMID != "" {
		r.setf("nak", 1, nakMID)
	}
	// The same patch posted by someone else, before or within the
	// horizon: a maintainer passing it on in a series or pull request.
	for _, o := range c.byKey[m.key] {
		if o.from != m.from && o.date.After(m.date.Add(-repostWindow)) && !o.date.After(horizon) {
			r.setf("reposted", 1, o.mid)
			break
		}
	}
	for _, o := range c.byKey[m.key] {
		if o.from != m.from && o.tree == 1 && o.date.After(m.date.Add(-repostWindow)) && !o.date.After(horizon) {
			r.setf("picked_fix_tree", 1, o.mid)
			break
		}
	}
	// A pull request naming the patch within the horizon: applied, and
	// on its way to a release (the current one, from a tree of fixes).
	pulledFix := ""
	for _, o := range c.pulled[m.key] {
		if o.date.Before(m.date) || o.date.After(horizon) {
			continue
		}
		if r.X[featureIndex["pulled"]] == 0 {
			r.setf("pulled", 1, o.mid)
		}
		if o.tree == 1 {
			pulledFix = o.mid
			break
		}
	}
	// Any of the three: on its way to a release as a fix, however the
	// list says it (a subject tag, a maintainer's series, a pull
	// request), so that what one list teaches carries to another. The
	// evidence is the posting's own tag, else the reposting, else the
	// pull request.
	bound := pulledFix
	for _, f := range []string{"picked_fix_tree", "fix_tree"} {
		if i := featureIndex[f]; r.X[i] != 0 {
			bound = r.ev[i].mid
		}
	}
	if bound != "" {
		r.setf("fix_bound", 1, bound)
	}
	// A newer version of the patch under a reworded subject: the
	// subject posted here is not the one that was applied.
	if o := c.renamedLater(m, horizon); o != nil {
		r.setf("renamed_later", 1, o.mid)
	}
}

// renamedLater returns a newer version of posting m under another
// subject (reworded), by the same sender within the horizon; nil when
// none.
func (c *Corpus) renamedLater(m *mail, horizon time.Time) *mail {
	ms := c.bySender[m.from]
	i := sort.Search(len(ms), func(i int) bool { return ms[i].date.After(m.date) })
	for _, o := range ms[i:] {
		if o.date.After(horizon) {
			break
		}
		if c.reworded(m, o) {
			return o
		}
	}
	return nil
}

// renamedEarlier returns the newest posting of which m is a newer
// version under another subject (reworded), by the same sender at most
// the horizon before m; nil when none.
func (c *Corpus) renamedEarlier(m *mail) *mail {
	ms := c.bySender[m.from]
	i := sort.Search(len(ms), func(i int) bool { return !ms[i].date.Before(m.date) })
	for j := i - 1; j >= 0; j-- {
		o := ms[j]
		if o.date.Add(Horizon).Before(m.date) {
			break
		}
		if c.reworded(o, m) {
			return o
		}
	}
	return nil
}

// reworded reports whether posting nw is a newer version of posting old
// under another subject, by the same sender: a higher version number,
// the same place in its series, and the same patch (the same git
// patch-id; or the same files under the same subsystem prefix; or the
// same subsystem prefix and at least half of the other words of the two
// subjects shared).
func (c *Corpus) reworded(old, nw *mail) bool {
	if old.from != nw.from || old.key == "" || nw.key == "" || old.key == nw.key || max(nw.version, 1) <= max(old.version, 1) {
		return false
	}
	// The same patch? (Cheap tests first; the series position parses
	// both subjects.)
	same := old.patchID != 0 && old.patchID == nw.patchID
	if !same {
		ow, nwords := c.wordsOf(old.key), c.wordsOf(nw.key)
		if ow.prefix != nwords.prefix {
			return false
		}
		same = len(old.paths) > 0 && slices.Equal(old.paths, nw.paths)
		if !same {
			shared := 0
			for _, w := range nwords.words {
				if ow.set[w] {
					shared++
				}
			}
			n := len(ow.words) + len(nwords.words) - shared
			same = shared >= 2 && 2*shared >= n
		}
	}
	return same && counter(old) == counter(nw) // not another patch of the series
}

// keyWords is a subject key split for renamedLater: the subsystem
// prefix, and the other words, each once.
type keyWords struct {
	prefix string
	words  []string
	set    map[string]bool
}

// wordsOf splits a subject key, once per key.
func (c *Corpus) wordsOf(key string) *keyWords {
	if kw, ok := c.keyWords[key]; ok {
		return kw
	}
	if c.keyWords == nil {
		c.keyWords = map[string]*keyWords{}
	}
	prefix, rest := splitPrefix(key)
	kw := &keyWords{prefix: prefix, set: map[string]bool{}}
	for _, w := range strings.Fields(rest) {
		if !kw.set[w] {
			kw.set[w] = true
			kw.words = append(kw.words, w)
		}
	}
	c.keyWords[key] = kw
	return kw
}

// counter is the position of a posting in its series (0: alone).
func counter(m *mail) int {
	if m.slimCounter > 0 {
		return int(m.slimCounter) - 1
	}
	return patch.ParseSubject(m.subject).Counter
}

// splitPrefix splits a subject key after its last "prefix: ".
func splitPrefix(key string) (string, string) {
	if i := strings.LastIndex(key, ": "); i >= 0 {
		return key[:i], key[i+2:]
	}
	return "", key
}

// history holds, per file, function and reporter, the fixes that got a
// CVE, with the date the CVE was published.
type history struct {
	files, funcs, reporters, authors, prefixes map[string][]histEvent
	// fixed lists, per file, the dates of the postings with a Fixes:
	// trailer that touch it, oldest first; fixedBy the same per sender,
	// fixedPrefix per subject prefix ("smb: client").
	fixed, fixedBy, fixedPrefix map[string][]time.Time
}

type histEvent struct {
	published time.Time
	key       string // subject key of the fix
	mid       string
}

// history indexes the patch postings with a CVE (labels nil: none).
func (c *Corpus) history(labels *Labels) *history {
	h := &history{files: map[string][]histEvent{}, funcs: map[string][]histEvent{}, reporters: map[string][]histEvent{},
		authors: map[string][]histEvent{}, prefixes: map[string][]histEvent{},
		fixed: map[string][]time.Time{}, fixedBy: map[string][]time.Time{}, fixedPrefix: map[string][]time.Time{}}
	for _, m := range c.mails {
		if m.kind == kindPatch && len(m.fixes) > 0 {
			for _, p := range kernelFiles(m) {
				h.fixed[p] = append(h.fixed[p], m.date)
			}
			h.fixedBy[m.from] = append(h.fixedBy[m.from], m.date)
			if p, _ := splitPrefix(m.key); p != "" {
				h.fixedPrefix[p] = append(h.fixedPrefix[p], m.date)
			}
		}
	}
	for _, idx := range []map[string][]time.Time{h.fixed, h.fixedBy, h.fixedPrefix} {
		for _, ds := range idx {
			sort.Slice(ds, func(i, j int) bool { return ds[i].Before(ds[j]) })
		}
	}
	if labels == nil {
		return h
	}
	done := map[string]bool{}
	for _, m := range c.mails {
		if m.kind != kindPatch || done[m.key] {
			continue
		}
		cv, ok := labels.First(m.key, time.Time{})
		if !ok {
			continue
		}
		done[m.key] = true
		e := histEvent{published: cv.Published, key: m.key, mid: m.mid}
		for _, p := range kernelFiles(m) {
			h.files[p] = append(h.files[p], e)
		}
		for _, f := range m.shape.Functions {
			h.funcs[f] = append(h.funcs[f], e)
		}
		for _, r := range m.reporters {
			h.reporters[r] = append(h.reporters[r], e)
		}
		if p, _ := splitPrefix(m.key); p != "" {
			h.prefixes[p] = append(h.prefixes[p], e)
		}
	}
	// A sender's fixes with a CVE: every sender who posted the patch
	// (its author, the maintainer passing it on).
	keys := make([]string, 0, len(c.byKey))
	for k := range c.byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		ms := c.byKey[key]
		cv, ok := labels.First(key, time.Time{})
		if !ok {
			continue
		}
		senders := map[string]bool{}
		for _, m := range ms {
			if !senders[m.from] {
				senders[m.from] = true
				h.authors[m.from] = append(h.authors[m.from], histEvent{published: cv.Published, key: key, mid: m.mid})
			}
		}
	}
	for _, idx := range []map[string][]histEvent{h.files, h.funcs, h.reporters, h.authors, h.prefixes} {
		for _, es := range idx {
			sort.Slice(es, func(i, j int) bool { return es[i].published.Before(es[j].published) })
		}
	}
	return h
}

// count returns how many distinct fixes other than key, under the given
// index keys, had a CVE published before t, and the newest of them.
func count(idx map[string][]histEvent, keys []string, t time.Time, key string) (int, string) {
	seen := map[string]bool{}
	var last histEvent
	for _, k := range keys {
		for _, e := range idx[k] {
			if !e.published.Before(t) {
				break
			}
			if e.key == key || seen[e.key] {
				continue
			}
			seen[e.key] = true
			if e.published.After(last.published) {
				last = e
			}
		}
	}
	return len(seen), last.mid
}

// features sets the history features of a row for posting m: only CVEs
// published before m's date count.
func (h *history) features(r *Row, m *mail) {
	paths := kernelFiles(m)
	// For files, the share of their earlier fixes (postings with a
	// Fixes: trailer) that got a CVE: how often a fix there mattered,
	// rather than how much was fixed there.
	if n, mid := count(h.files, paths, m.date, m.key); n > 0 {
		fixes := 0
		for _, p := range paths {
			ds := h.fixed[p]
			fixes += sort.Search(len(ds), func(i int) bool { return !ds[i].Before(m.date) })
		}
		r.setf("history_files", float64(n)/float64(max(fixes, n)+2), mid)
	}
	if n, mid := count(h.funcs, m.shape.Functions, m.date, m.key); n > 0 {
		r.setf("history_functions", math.Log1p(float64(n)), mid)
	}
	if n, mid := count(h.reporters, m.reporters, m.date, m.key); n > 0 {
		r.setf("history_reporter", math.Log1p(float64(n)), mid)
	}
	// For the subject prefix (the subsystem or driver the subject
	// names), the share of its earlier fixes that got a CVE.
	if p, _ := splitPrefix(m.key); p != "" {
		if n, mid := count(h.prefixes, []string{p}, m.date, m.key); n > 0 {
			ds := h.fixedPrefix[p]
			fixes := sort.Search(len(ds), func(i int) bool { return !ds[i].Before(m.date) })
			r.setf("history_prefix", float64(n)/float64(max(fixes, n)+2), mid)
		}
	}
	// For the sender, the share of their earlier fixes that got a CVE.
	if n, mid := count(h.authors, []string{m.from}, m.date, m.key); n > 0 {
		ds := h.fixedBy[m.from]
		fixes := sort.Search(len(ds), func(i int) bool { return !ds[i].Before(m.date) })
		r.setf("history_author", float64(n)/float64(max(fixes, n)+2), mid)
	}
}

// kernelFiles are the kernel source files a posting touches.
func kernelFiles(m *mail) []string {
	var out []string
	for _, p := range m.paths {
		if kernelSource(p) {
			out = append(out, p)
		}
	}
	return out
}
