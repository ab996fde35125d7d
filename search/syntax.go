package search

import (
	"fmt"
	"strings"
)

// prefixKind says how the value after a prefix is read and matched.
type prefixKind int

const (
	kindWords    prefixKind = iota // words, phrases, wildcards over fields
	kindMID                        // exact Message-ID
	kindRef                        // exact referenced Message-ID
	kindListID                     // exact List-Id
	kindBlob                       // git blob id prefix, 7+ hex digits
	kindPatchID                    // git patch-id --stable
	kindDate                       // d:
	kindDateTime                   // dt:
	kindReceived                   // rt:
	kindSize                       // z:
	kindCommit                     // commit: id or id prefix
	kindRepo                       // repo: repository name
	kindCVE                        // cve: CVE id
	kindIs                         // is: kind or link state
)

// prefixSpec is one row of the syntax table: the query prefix, what it
// searches and how, and its documentation. The parser, the compiler and
// both help texts read this one table.
type prefixSpec struct {
	name    string
	aliases []string
	kind    prefixKind
	fields  []string // index fields for kindWords
	addrs   []string // exact-address keyword fields also tried for words with '@'
	hex     bool     // a hex word also searches blob ids (and patch-ids)
	help    string
	example string
}

var bodyFields = []string{FieldNonQuoted, FieldDiffName, FieldDiffRemove, FieldDiffAdd, FieldDiffHunk, FieldDiffCtx}

func fieldList(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// defaultPrefix is what words without a prefix search: public-inbox's
// default set (Message-ID words, Subject, From, quoted and non-quoted body,
// attachment names, diff pieces, blob ids and patch-ids).
var defaultPrefix = &prefixSpec{
	kind:   kindWords,
	fields: fieldList([]string{FieldMIDWords, FieldSubject, FieldFrom, FieldQuoted, FieldAttachment}, bodyFields),
	addrs:  []string{FieldFromAddr},
	hex:    true,
}

var syntaxTable = []*prefixSpec{
	{name: "s", kind: kindWords, fields: []string{FieldSubject},
		help: "Subject", example: `s:"io_uring: fix" s:regression`},
	{name: "f", kind: kindWords, fields: []string{FieldFrom}, addrs: []string{FieldFromAddr},
		help: "From (names and addresses)", example: `f:axboe@kernel.dk f:"Jens Axboe"`},
	{name: "t", kind: kindWords, fields: []string{FieldTo}, addrs: []string{FieldToAddr},
		help: "To", example: `t:io-uring@vger.kernel.org`},
	{name: "c", kind: kindWords, fields: []string{FieldCc}, addrs: []string{FieldCcAddr},
		help: "Cc", example: `c:stable@vger.kernel.org`},
	{name: "tc", kind: kindWords, fields: []string{FieldTo, FieldCc}, addrs: []string{FieldToAddr, FieldCcAddr},
		help: "To or Cc", example: `tc:netdev`},
	{name: "a", aliases: []string{"tcf"}, kind: kindWords,
		fields: []string{FieldTo, FieldCc, FieldFrom}, addrs: []string{FieldToAddr, FieldCcAddr, FieldFromAddr},
		help: "To, Cc or From (tcf: is the same)", example: `a:asml.silence@gmail.com`},
	{name: "b", kind: kindWords, fields: fieldList(bodyFields, []string{FieldQuoted}), hex: true,
		help: "body, including quoted text and diffs", example: `b:"use after free"`},
	{name: "nq", kind: kindWords, fields: bodyFields, hex: true,
		help: "non-quoted body text, including diffs", example: `nq:"change-id: 20240101-topic"`},
	{name: "q", kind: kindWords, fields: []string{FieldQuoted},
		help: "quoted text (lines starting with '>')", example: `q:WARN_ON`},
	{name: "bs", kind: kindWords, fields: fieldList(bodyFields, []string{FieldQuoted, FieldSubject}), hex: true,
		help: "Subject and body", example: `bs:sqpoll`},
	{name: "n", kind: kindWords, fields: []string{FieldAttachment},
		help: "attachment file name", example: `n:config.gz n:config*`},
	{name: "l", kind: kindWords, fields: []string{FieldListWords},
		help: "words of the List-Id header", example: `l:io-uring`},
	{name: "lid", kind: kindListID,
		help: "exact List-Id (without <>)", example: `lid:io-uring.vger.kernel.org`},
	{name: "m", kind: kindWords, fields: []string{FieldMIDWords},
		help: "words of the Message-ID", example: `m:kernel.dk`},
	{name: "mid", kind: kindMID,
		help: "exact Message-ID (<> optional)", example: `mid:20240101120000.1234-1-axboe@kernel.dk`},
	{name: "references", kind: kindRef,
		help: "messages whose References/In-Reply-To name this exact Message-ID", example: `references:<abc@kernel.dk>`},
	{name: "dfn", kind: kindWords, fields: []string{FieldDiffName},
		help: "file name in a diff (a path component or the whole path)", example: `dfn:io_uring/rw.c dfn:Kconfig`},
	{name: "dfa", kind: kindWords, fields: []string{FieldDiffRemove},
		help: "removed (-) lines of a diff", example: `dfa:"spin_lock(&ctx->lock)"`},
	{name: "dfb", kind: kindWords, fields: []string{FieldDiffAdd},
		help: "added (+) lines of a diff", example: `dfb:io_req_task_work_add`},
	{name: "dfhh", kind: kindWords, fields: []string{FieldDiffHunk},
		help: "hunk header context, usually a function name", example: `dfhh:io_submit_sqes`},
	{name: "dfctx", kind: kindWords, fields: []string{FieldDiffCtx},
		help: "context lines of a diff", example: `dfctx:io_ring_ctx`},
	{name: "dfpre", kind: kindBlob, fields: []string{FieldDiffPre},
		help: "pre-image git blob id (7 or more hex digits)", example: `dfpre:8d5a1f0`},
	{name: "dfpost", kind: kindBlob, fields: []string{FieldDiffPost},
		help: "post-image git blob id (7 or more hex digits)", example: `dfpost:3c1e2b9a`},
	{name: "dfblob", kind: kindBlob, fields: []string{FieldDiffPre, FieldDiffPost},
		help: "pre- or post-image git blob id", example: `dfblob:3c1e2b9a`},
	{name: "patchid", kind: kindPatchID,
		help: "`git patch-id --stable` of the patch in the message", example: `patchid:0123456789abcdef0123456789abcdef01234567`},
	{name: "d", kind: kindDate,
		help: "Date: range by day: YYYYMMDD or YYYY-MM-DD, A..B, A.., ..B (a day means the whole day, " +
			"bounds are inclusive); anything else is a git approxidate and gives exact times",
		example: `d:20240101..20240131 d:2.weeks.ago.. d:..last.year d:2024-03-05`},
	{name: "dt", kind: kindDateTime,
		help:    "Date: range to the second: YYYYMMDDhhmmss or approxidate, A..B, A.., ..B; a single value is that moment plus one day",
		example: `dt:20240101120000.. dt:yesterday..now`},
	{name: "rt", kind: kindReceived,
		help:    "received (arrival) time: unix seconds or approxidate, ranges as for dt:",
		example: `rt:1700000000.. rt:3.days.ago..`},
	{name: "z", kind: kindSize,
		help:    "message size in bytes, counted with CRLF line ends as public-inbox and IMAP do, with k/m/g suffixes (x1024); N alone is exactly N",
		example: `z:..10k z:1m.. z:2k..8k`},
	{name: "is", kind: kindIs,
		help: "kind and link state: is:commit (commits of registered repositories; a query reaches commits only " +
			"when it says is:commit or is:offlist), is:message, is:applied (a patch that became a commit; a commit " +
			"with a posting), is:unapplied (a patch mail linked to no commit), is:offlist (a commit with no " +
			"posting at any grade), is:backport (a stable backport commit or posting)",
		example: `is:commit is:applied is:unapplied is:offlist is:backport`},
	{name: "commit", kind: kindCommit,
		help:    "commit id, full or its first 4+ hex digits: the commit, and the messages linked to it",
		example: `commit:5a1f0c3 commit:5a1f0c3d2e`},
	{name: "repo", kind: kindRepo,
		help:    "registered repository (its name in `patchtrail repo list`): its commits, and the messages applied there",
		example: `repo:liburing`},
	{name: "cve", kind: kindCVE,
		help:    "CVE id: the commits fixing it (fix commits and backports of the CVE record), and the messages they were applied from",
		example: `cve:CVE-2024-0582`},
}

var prefixByName = func() map[string]*prefixSpec {
	m := make(map[string]*prefixSpec)
	for _, p := range syntaxTable {
		m[p.name] = p
		for _, a := range p.aliases {
			m[a] = p
		}
	}
	return m
}()

// operatorHelp documents the operators, in help order.
var operatorHelp = [][2]string{
	{"word", "words without a prefix search the Subject, From, Message-ID, body (quoted and not), attachment names and diffs"},
	{"fixes", "a lower-case word also finds its other forms (fix, fixed, fixing): words are stemmed as on lore"},
	{`Fixes, "fixes"`, "a capitalised or quoted word finds that word only"},
	{"a b", "both (AND is the default)"},
	{"a AND b", "both"},
	{"a OR b", "either; OR binds loosest: a b OR c = (a b) OR c, a OR b c = a OR (b c)"},
	{"a NOT b, a -b", "a but not b; NOT takes all the words that follow it: a NOT b c = a NOT (b c), while a -b c = a c -b"},
	{"( ... )", "grouping; s:(a OR b) applies a prefix to a group"},
	{`"a b"`, "phrase: the words in this order"},
	{"word*", "words starting with word (at least 2 characters before the *)"},
	{"+", "same as a space (URL form)"},
	{"is:commit s:sqpoll", "commits too: s:, b:, f:, a:, d:, dfn:, dfa:, dfb:, dfhh:, patchid: search a commit's subject, message, author, author date, diff and patch-id"},
}

// HelpText returns the query syntax as plain text for `patchtrail help search`.
func HelpText() string {
	var b strings.Builder
	b.WriteString("Search queries use the lore / public-inbox syntax.\n\nOperators:\n")
	for _, o := range operatorHelp {
		fmt.Fprintf(&b, "  %-16s %s\n", o[0], o[1])
	}
	b.WriteString("\nPrefixes:\n")
	for _, p := range syntaxTable {
		fmt.Fprintf(&b, "  %-16s %s\n", prefixNames(p), p.help)
		fmt.Fprintf(&b, "  %-16s e.g. %s\n", "", p.example)
	}
	fmt.Fprintf(&b, "\nLimits: %d terms, %d levels of parentheses, %d characters.\n", maxTerms, maxDepth, maxQueryRunes)
	b.WriteString("Words are runs of letters, digits and '_' (don't and 5.15 are one word). A word starting with a lower-case\n" +
		"letter matches its stem (English Snowball, as lore's Xapian): s:fixed finds fixes;\n" +
		"capitalised and quoted words, phrases and word* match exactly. A term such as\n" +
		"fs/io_uring.c or axboe@kernel.dk matches as a phrase.\n")
	return b.String()
}

// HelpMarkdown returns the query syntax as Markdown (doc/query_syntax.md).
func HelpMarkdown() string {
	var b strings.Builder
	b.WriteString("# Query syntax\n\n<!-- Generated from search/syntax.go by HelpMarkdown; do not edit. -->\n\n")
	b.WriteString("patchtrail understands the lore / public-inbox query language.\n\n## Operators\n\n| syntax | meaning |\n|---|---|\n")
	for _, o := range operatorHelp {
		fmt.Fprintf(&b, "| `%s` | %s |\n", o[0], mdEscape(o[1]))
	}
	b.WriteString("\n## Prefixes\n\n| prefix | matches | examples |\n|---|---|---|\n")
	for _, p := range syntaxTable {
		fmt.Fprintf(&b, "| `%s` | %s | `%s` |\n", prefixNames(p), mdEscape(p.help), strings.Join(splitExamples(p.example), "` `"))
	}
	fmt.Fprintf(&b, "\n## Notes\n\n"+
		"- Words are runs of letters, digits and `_`, lowercased, as Xapian splits them: `io_uring_enter` and "+
		"`IORING_OP_READV` are single words, and so are `don't`, `AT&T`, `5.15` and `1,000` (an apostrophe or `&` "+
		"between letters, a `.`, `,` or `;` between digits); `fs/io_uring.c` and `axboe@kernel.dk` match as phrases.\n"+
		"- Stemming, as lore does it (public-inbox with Xapian's English Snowball stemmer and its "+
		"`STEM_SOME` strategy): a word typed starting with a lower-case letter matches every word with "+
		"the same stem, so `s:fixed` finds \"fix\", \"fixes\" and \"Fixing\", and `b:leaks` finds \"leak\" "+
		"and \"leaked\". A word is matched exactly when it starts with a capital letter, a digit or `_` "+
		"(`s:Fixed`, `IORING_OP_READV`, `5.15`), is quoted (`s:\"fixed\"`), is part of a phrase "+
		"(`zero-copy`, `fs/io_uring.c`), ends in `*`, or is followed by one of `( / \\ @ < > = * [ { \"`. "+
		"Stemming applies to every word prefix (`s:`, `f:`, `b:`, `m:`, `l:`, `dfn:`, …), never to "+
		"`mid:`, `lid:`, `dfpre:`, `dfpost:`, `dfblob:`, `patchid:` or ranges. As on lore, a stemmed "+
		"word does not search blob ids or patch-ids: `b:1eadbeef` finds the blob, `b:deadbeef` does not.\n"+
		"- Operators bind as in Xapian's query parser: juxtaposed words first (AND), then `AND` and "+
		"`NOT` alike from left to right, then `OR`. `NOT` excludes everything up to the next operator: "+
		"`s:net NOT f:pavel d:2023-01-01..2023-02-01` is `s:net AND NOT (f:pavel AND d:…)`. A `-word` "+
		"excludes only itself: `a -b c` is `a c` without `b`; `a AND -b c` is `a AND NOT (b c)`. "+
		"Side by side, terms of one exact prefix (`mid:`, `lid:`, `dfpre:`, `dfpost:`, `dfblob:`, `patchid:`) "+
		"or ranges of one prefix are alternatives, as in Xapian: `patchid:A patchid:B` finds either.\n"+
		"- Dates are UTC. git approxidates (`2.weeks.ago`, `last.week`, `yesterday`, `noon.yesterday`, `@1700000000`) "+
		"are relative to the time of the query.\n"+
		"- A value may be quoted: `s:\"two words\"`, `d:\"2 weeks ago..\"`. Message-IDs keep their `+` "+
		"(`mid:a+b@c`); elsewhere `+` is a space.\n"+
		"- Commits: the commits of registered repositories (`patchtrail repo add`, `patchtrail link`) are "+
		"in the index beside the messages. A query reaches them only when it says `is:commit` or `is:offlist` "+
		"(`is:commit s:sqpoll`, `(is:commit OR is:message) s:sqpoll`); every other query answers with "+
		"messages only, exactly as before, and the lore endpoints (`x=m` mbox, Atom) always do. On a commit, "+
		"`s:` is its subject, `b:`/`nq:` its message, `f:`/`a:` its author, `d:`/`dt:` its author date, "+
		"`dfn:`, `dfa:`, `dfb:`, `dfhh:` its diff, `patchid:` its `git patch-id --stable`; `rt:` and `z:` (arrival time, mail size) reach messages only. On a message, "+
		"`commit:`, `repo:` and `cve:` find the messages linked to those commits (`repo:` and `cve:` through "+
		"the commits they were applied as). `commit:`, `repo:` and `cve:` side by side are alternatives, as "+
		"`mid:` is; `is:` values are all required (`is:commit is:offlist`). `is:unapplied` leaves out earlier "+
		"versions of an applied patch (they are linked to its commit as `earlier`).\n"+
		"- Operators are upper case; `and`, `or`, `not` are words. A query of only negations "+
		"(`NOT a`, `-a`) is an error, as is `a OR NOT b`.\n"+
		"- Differences from lore: "+
		"`YYYY-MM-DD` in `dt:`/`rt:` is midnight UTC (git uses the current time of day); "+
		"dates git cannot read are errors instead of \"now\"; `dfpre:`/`dfpost:`/`dfblob:` with a full "+
		"blob id also find the abbreviated ids of `index` lines; `z:` takes k/m/g suffixes; `f:`, `t:`, `c:`, `tc:`, `a:` "+
		"with a whole address match that address exactly; each Chinese, Japanese or Korean character "+
		"is a word of its own, and `C++`, `C#` and dotted acronyms (`P.T.O.`) are not kept whole.\n"+
		"- Limits: %d terms, %d levels of parentheses, %d characters; a `word*` may expand to at most "+
		"%d words per field.\n", maxTerms, maxDepth, maxQueryRunes, defaultMaxWildcardTerms)
	return b.String()
}

func prefixNames(p *prefixSpec) string {
	names := []string{p.name + ":"}
	for _, a := range p.aliases {
		names = append(names, a+":")
	}
	return strings.Join(names, " ")
}

// splitExamples splits an example line at spaces outside quotes.
func splitExamples(s string) []string {
	var out []string
	var cur strings.Builder
	inQ := false
	for _, r := range s {
		switch {
		case r == '"':
			inQ = !inQ
			cur.WriteRune(r)
		case r == ' ' && !inQ:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
