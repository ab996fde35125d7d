package radar

import (
	"regexp"
	"slices"
	"strings"
)

// A term is one pattern of a lexicon with the words it is shown as.
type term struct {
	name    string // shown in signals: "KASAN", "use-after-free"
	anchors []int  // anchor ids (internAnchors)
	re      *regexp.Regexp
}

// terms builds a lexicon from (name, anchors, pattern) triples. Anchors
// are lowercase strings separated by "|", one of which occurs in every
// match: the pattern runs only on texts that hold one (regular
// expressions are the slow part of reading a whole archive).
func terms(triples ...string) []term {
	out := make([]term, 0, len(triples)/3)
	for i := 0; i+2 < len(triples); i += 3 {
		out = append(out, term{name: triples[i], anchors: internAnchors(strings.Split(triples[i+1], "|")), re: regexp.MustCompile(triples[i+2])})
	}
	return out
}

// text is a text with its lowercase form and where the anchors occur
// in it.
type text struct {
	s, lower string
	occ      *occurrences
}

func newText(s string) text {
	const max = 64 << 10 // longer texts are logs or pull requests; their start says enough
	if len(s) > max {
		s = s[:max]
	}
	lower := strings.ToLower(s)
	return text{s: s, lower: lower, occ: theAutomaton().scan(lower)}
}

// has reports whether one of the anchors occurs in t.
func (t text) has(anchors []int) bool {
	for _, a := range anchors {
		if len(t.occ.of(a)) > 0 {
			return true
		}
	}
	return false
}

// match reports whether re matches t. No lexicon pattern matches across
// a line end, and every match holds one of the anchors, so only the
// lines holding an anchor are searched (when lowercasing kept the byte
// offsets, as it does for ASCII; else the whole text).
func (t text) match(anchors []int, re *regexp.Regexp) bool {
	if len(t.lower) != len(t.s) {
		return t.has(anchors) && re.MatchString(t.s)
	}
	const most = 32 // occurrences of one anchor searched line by line
	for _, a := range anchors {
		from, n := 0, 0
		for _, p := range t.occ.of(a) {
			i := int(p)
			if i < from {
				continue
			}
			if n == most {
				return re.MatchString(t.s)
			}
			n++
			start, end := lineAt(t.s, i)
			if re.MatchString(t.s[start:end]) {
				return true
			}
			from = end
			if from >= len(t.s) {
				break
			}
		}
	}
	return false
}

// lineAt returns the bounds of the line of s holding offset i, its
// line end excluded.
func lineAt(s string, i int) (start, end int) {
	start = strings.LastIndexByte(s[:i], '\n') + 1
	if end = strings.IndexByte(s[i:], '\n'); end < 0 {
		return start, len(s)
	}
	return start, end + i
}

// find returns the names of the terms that occur in t, in lexicon order.
func find(lex []term, t text) []string {
	var out []string
	for _, x := range lex {
		if t.match(x.anchors, x.re) {
			out = append(out, x.name)
		}
	}
	return out
}

// The lexicons below name what kernel developers write about bugs in any
// subsystem: sanitizer and fuzzer output, vulnerability classes, the
// words reviewers use for security impact. None of them names a
// subsystem's own vocabulary.

// memorySanitizers are the reports of memory-safety sanitizers.
var memorySanitizers = terms(
	"KASAN", "kasan", `\bKASAN\b|BUG: KASAN`,
	"KMSAN", "kmsan|uninit-value", `\bKMSAN\b|uninit-value in`,
	"KFENCE", "kfence", `\bKFENCE\b`,
	"UBSAN", "ubsan|out-of-bounds in", `\bUBSAN\b|array-index-out-of-bounds in|shift-out-of-bounds in`,
)

// otherReports are kernel splats other than memory-safety reports.
var otherReports = terms(
	"KCSAN data race", "kcsan", `\bKCSAN\b|BUG: KCSAN`,
	"lockdep splat", "locking|lock state|rcu usage|lockdep|blocked for|deadlock", `possible circular locking dependency|possible recursive locking|inconsistent lock state|suspicious RCU usage|\blockdep\b|INFO: task .* blocked for more than|possible deadlock`,
	"BUG:", "bug", `\bBUG: |kernel BUG at`,
	"general protection fault", "general protection", `general protection fault`,
	"Oops", "oops|unable to handle|null pointer", `\bOops\b|Unable to handle kernel|unable to handle page fault|kernel NULL pointer dereference`,
	"WARNING", "warning:", `WARNING: CPU: \d|WARNING: .* at |WARNING: [a-z]`,
	"refcount warning", "refcount_t:", `refcount_t: (underflow|overflow|addition on 0|saturated)`,
	"call trace", "call trace", `Call Trace:|Call trace:`,
)

// fuzzers are the fuzzing tools and bots.
var fuzzers = terms(
	"syzbot", "syzbot|syzkaller", `(?i)\bsyzbot\b|syzkaller\.appspotmail|syzkaller\.appspot`,
	"syzkaller", "syz", `(?i)\bsyzkaller\b|\bsyz-executor|\bsyz_|\bsyzcaller`,
	"fuzzer", "fuzz|trinity|afl", `(?i)\bfuzz(er|ing|ed)?\b|\btrinity\b|\bAFL\b|\bhonggfuzz\b`,
)

// vulnClasses are the vulnerability classes named in subjects and
// changelogs.
var vulnClasses = terms(
	"use-after-free", "after|uaf|freed|dangling|stale", `(?i)use[- ]after[- ]free|\bUAF\b|uaf\b|freed memory|after (being )?freed|dangling|\bstale (\w+ )?(pointer|reference|entry|data|object|socket|skb|page)`,
	"out-of-bounds", "bound|oob|overrun|overread|over-read|beyond|past the end|out of range", `(?i)out[- ]of[- ]bounds?|\bOOB\b|buffer overrun|overread|over-read|beyond the end|past the end|out of range`,
	"overflow", "overflow|underflow|wrap|truncat", `(?i)\boverflow|\bunderflow|wrap[- ]?around|truncat(ed|ion) .*(size|length)`,
	"NULL dereference", "null", `(?i)null[- ]ptr[- ]deref|null[- ]pointer|NULL (pointer )?deref|deref\w* (of )?(a )?NULL|NULL (pointer )?access`,
	"double free", "double|twice", `(?i)double[- ]free|freed twice|double put`,
	"info leak", "leak|uninit|padding", `(?i)info(rmation)?[- ]?leak|kernel-infoleak|leak(s|ing)? (of )?(kernel|stack|uninit\w*|heap)|uninit(ialized|ialised)?[- ]value|uninit(ialized|ialised)? (memory|data|variable|field|stack|struct|bytes|padding)|\bpadding\b.*(user|leak)`,
	"memory leak", "leak", `(?i)memory leak|\bleak(s|ing|ed)?\b|\bkmemleak\b`,
	"race", "rac|toctou|concurrent", `(?i)\brac(e|y|es|ing)\b|data race|\bTOCTOU\b|concurrent(ly)? (access|modif)`,
	"deadlock", "lock|hang|stall", `(?i)dead[- ]?lock|\bhang(s|ing)?\b|soft lockup|hard lockup|livelock|stall`,
	"refcount", "ref|count|missing|extra", `(?i)ref(erence)?[- ]?count|refcnt|\bkref\b|reference (leak|imbalance)|extra (ref|reference|put)|missing (ref|put|get)`,
	"missing check", "missing|validat|saniti|verify|check|bound|invalid|malformed|bogus|sanity", `(?i)missing (\w+ )?(check|validation|bounds|length)|\bmalformed\b|\bbogus\b|\bsanity[- ]check|(validate|sanitize|sanitise|verify|check) (the )?(user|length|size|index|bounds|input|offset|count)|bounds? check|length check|\binvalid (length|size|index|offset|pointer|access)`,
	"crash", "crash|panic|oops|bug|splat|warn|corrupt|wild", `(?i)\bcrash(es|ed)?\b|\bpanic\b|\boops\b|\bBUG\b|\bsplat\b|\bWARN(_ON)?\b|corrupt(ion|s|ed)?|wild (memory|pointer)`,
	"security", "secur|exploit|privilege|attack|malicious|cve|denial|dos|spectre|speculat|side", `(?i)\bsecurity\b|\bexploit|\bprivilege|\battacker|\bmalicious|\bunprivileged\b|\bCVE\b|denial[- ]of[- ]service|\bDoS\b|\bspectre\b|speculative|\bside[- ]channel`,
)

// reviewerWords are what a reply says about a patch's security impact.
var reviewerWords = terms(
	"exploit", "exploit", `(?i)\bexploit(able|ed|ing|s)?\b`,
	"privilege", "privilege|escalat|cap_sys_admin|root|container", `(?i)privilege|\bescalat|\bunprivileged|\bCAP_SYS_ADMIN\b|\bnon-root\b|\broot user\b|\bcontainer escape`,
	"user-triggerable", "user|unprivileged|syscall|application|program|attacker|trigger", `(?i)(user|userspace|user space|user-space|unprivileged|any user|local user|application|syscall|a program)[a-z ,-]{0,30}(can|could|may|might|to) (trigger|cause|crash|hit|exploit|reach|abuse|corrupt|read|leak)|trigger(ed|able)? (from|by) (user|userspace|user space|an unprivileged)|user[- ]triggerable|user[- ]controlled|attacker[- ]controlled`,
	"leak to user space", "leak|cop|expos|infoleak", `(?i)leak\w* (\w+ ){0,4}(to|into) (user|userspace|user space|user-space)|(copy|copied|copies) (\w+ ){0,3}(uninit|garbage|stale|kernel (memory|data|pointer|stack))|kernel (memory|pointer|address)\w* (\w+ ){0,3}(exposed|leak)|kernel-infoleak`,
	"security", "secur|exploit|privilege|attack|malicious|cve|denial|dos|spectre|speculat|side|vulnerab", `(?i)\bsecurity (issue|bug|hole|problem|fix|impact|implication|vulnerab)|\bvulnerab|\bCVE\b|\battacker|\bmalicious|denial[- ]of[- ]service|\bDoS\b`,
	"memory corruption", "corrupt|arbitrary|what where|spray|heap|stack overflow", `(?i)memory corruption|corrupt(s|ing)? (kernel )?memory|arbitrary (read|write|memory|code)|write what where|heap (spray|overflow)|stack overflow`,
)

// appliedRE matches what a maintainer (or a patchwork bot) writes when a
// patch is taken: "Applied, thanks", "queued for 6.9", "merged into
// for-next", "This series was applied to netdev/net.git".
var appliedRE = regexp.MustCompile(`(?i)^\W*(thanks[,!. ]*)?(now |both |all |patch(es)? |series )?(applied|merged|queued|pushed|picked up|tentatively merged|taken)\b|\b(was|were|been|is|are|have|has|i've|i have|i) (now )?(applied|merged|queued|pushed|picked up|taken)\b|\bapplied,? thanks\b|\bthanks,? applied\b|\b(applied|merged|queued) (it |them |this |the patch(es)? )?(to|into|in|for)\b`)

// appliedAnchors are the words one of which every appliedRE match holds.
var appliedAnchors = []string{"appl", "merg", "queu", "push", "pick", "taken"}

// nakRE matches a reviewer rejecting a patch.
var nakRE = regexp.MustCompile(`(?i)\bnak(ed)?\b|\bnacked-by:|^\W*nack\b`)

var nakAnchors = []string{"nak", "nack"}

// lineMatch reports whether re matches one line of s holding an anchor
// (the patterns above anchor at a line start).
func lineMatch(s string, anchors []string, re *regexp.Regexp) bool {
	lower := strings.ToLower(s)
	if !containsAny(lower, anchors) {
		return false
	}
	for _, line := range strings.Split(s, "\n") {
		if containsAny(strings.ToLower(line), anchors) && re.MatchString(line) {
			return true
		}
	}
	return false
}

// fixTreeRE names the trees of fixes for the current release in a
// subject tag: "[PATCH net]", "[PATCH nf]", "[PATCH bpf]", "-fixes",
// "for-rc", "for-linus"; nextTreeRE the development trees: "net-next",
// "for-next", "-next". Both are conventions of many subsystems.
var (
	fixTreeRE  = regexp.MustCompile(`(?i)^(net|nf|bpf|ipsec|wireless|bluetooth|can|mptcp|fixes|for-rc|rc\d*|for-linus|urgent|hotfix|[a-z0-9]+-(fixes|rc|urgent|current))$`)
	nextTreeRE = regexp.MustCompile(`(?i)^(next|for-next|linux-next|[a-z0-9]+-next|-next)$`)
)

// fixWords in a subject say the patch repairs something.
var fixWordRE = regexp.MustCompile(`(?i)\b(fix(es|ed)?|prevent|avoid|handle|check|don'?t|do not|ensure|correct|validate|reject|restrict|guard|protect|limit|bound|clamp|sanitize|sanitise|disallow|forbid|revert|drop|reset|initiali[sz]e|zero|hold|take|grab|release|put|free)\b`)

// featureWordRE in a subject say the patch adds or changes a feature.
var featureWordRE = regexp.MustCompile(`(?i)^(\S+: )*(add|introduce|support|implement|enable|allow|expose|wire up|new)\b`)

// cleanupWordRE in a subject say the patch tidies up.
var cleanupWordRE = regexp.MustCompile(`(?i)^(\S+: )*(clean ?up|cleanups|rename|refactor|simplify|move|convert|document|tidy|reorder|consolidate|deduplicate|factor out|remove unused|drop unused|constify|kill)\b|\b(typo|comments?|doc|kernel-doc|spelling|unused|dead code|trivial|whitespace|selftests?|tests?|benchmark|tracepoints?|example)\b`)

// baselineWordRE counts the vulnerability words and sanitizer names of
// the keyword baseline.
var baselineWordRE = regexp.MustCompile(`use[- ]after[- ]free|\buaf\b|out[- ]of[- ]bounds?|\boob\b|overflow|underflow|null[- ]ptr[- ]deref|null pointer|double[- ]free|\bleak|uninit|\brace\b|data race|deadlock|refcount|\bcrash|\bpanic|corrupt|\bsecurity\b|exploit|privilege|\bcve\b|\bkasan\b|\bkmsan\b|\bubsan\b|\bkcsan\b|\bkfence\b|\bsyzbot\b|\bsyzkaller\b|\bbug:|general protection fault|\boops\b|lockdep`)

// BaselineWords counts the vulnerability words and sanitizer names in s
// (the keyword baseline of the evaluation).
func BaselineWords(s string) int {
	n := 0
	for _, line := range strings.Split(strings.ToLower(s), "\n") {
		// No match spans lines; a line without any of these holds none.
		if containsAny(line, baselineAnchors) {
			n += len(baselineWordRE.FindAllStringIndex(line, -1))
		}
	}
	return n
}

// baselineWords is BaselineWords of t.s, read from the lines of t where
// the automaton found a baseline anchor (t.s is the whole text: not cut
// by newText).
func baselineWords(t text) int {
	var at []int32
	for _, id := range baselineAnchorIDs {
		at = append(at, t.occ.of(id)...)
	}
	slices.Sort(at)
	n, done := 0, 0 // done: the end of the last line counted
	for _, p := range at {
		i := int(p)
		if i < done {
			continue
		}
		start, end := lineAt(t.lower, i)
		n += len(baselineWordRE.FindAllStringIndex(t.lower[start:end], -1))
		done = end + 1
	}
	return n
}

var baselineAnchorIDs = internAnchors(baselineAnchors)

var baselineAnchors = []string{"after", "uaf", "bound", "oob", "flow", "null", "double", "leak", "uninit", "race",
	"deadlock", "refcount", "crash", "panic", "corrupt", "security", "exploit", "privilege", "cve", "san",
	"kfence", "syz", "bug:", "general protection", "oops", "lockdep"}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// cveIDRE matches a CVE id, which a signal never reads: a reply naming
// the CVE assigned to the patch would leak the label.
var cveIDRE = regexp.MustCompile(`(?i)CVE-\d{4}-\d{3,}`)

// scrub removes CVE ids from text before lexicons read it.
func scrub(s string) string {
	if !strings.Contains(strings.ToUpper(s), "CVE-") {
		return s
	}
	return cveIDRE.ReplaceAllString(s, " ")
}
