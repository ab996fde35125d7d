package search

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// testNow is a Friday, 10:00 UTC.
var testNow = time.Date(2024, 3, 15, 10, 0, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	tests := []struct {
		q, want string
	}{
		// words and operators
		{`foo`, `foo`},
		{`foo bar`, `(AND foo bar)`},
		{`foo AND bar`, `(AND foo bar)`},
		{`foo OR bar`, `(OR foo bar)`},
		{`foo bar OR baz`, `(OR (AND foo bar) baz)`},
		{`foo OR bar baz`, `(OR foo (AND bar baz))`},
		{`foo (bar OR baz)`, `(AND foo (OR bar baz))`},
		{`(a b) (c d)`, `(AND a b c d)`},
		{`a OR (b OR c)`, `(OR a b c)`},
		{`foo NOT bar`, `(AND foo (NOT bar))`},
		{`foo AND NOT bar`, `(AND foo (NOT bar))`},
		{`foo -bar`, `(AND foo (NOT bar))`},
		{`-bar foo`, `(AND (NOT bar) foo)`},
		{`foo NOT (bar OR baz)`, `(AND foo (NOT (OR bar baz)))`},
		{`foo -s:bar`, `(AND foo (NOT s:bar))`},
		{`a NOT b OR c`, `(OR (AND a (NOT b)) c)`},
		// Xapian's precedence: OR < AND = NOT (left to right) < juxtaposition.
		{`a NOT b c`, `(AND a (NOT (AND b c)))`},
		{`a b NOT c d`, `(AND a b (NOT (AND c d)))`},
		{`a NOT b NOT c`, `(AND a (NOT b) (NOT c))`},
		{`a NOT b AND c`, `(AND a (NOT b) c)`},
		{`a AND b NOT c d`, `(AND a b (NOT (AND c d)))`},
		{`a AND NOT b c`, `(AND a (NOT (AND b c)))`},
		{`a AND -b c`, `(AND a (NOT (AND b c)))`},
		{`a -b c`, `(AND a (NOT b) c)`},
		{`a AND -b -c`, `(AND a (NOT (AND b (NOT c))))`},
		{`a NOT b -c`, `(AND a (NOT (AND b (NOT c))))`},
		{`a -b NOT c`, `(AND a (NOT b) (NOT c))`},
		{`a OR b NOT c`, `(OR a (AND b (NOT c)))`},
		{`a OR b -c`, `(OR a (AND b (NOT c)))`},
		{`a -b OR c`, `(OR (AND a (NOT b)) c)`},
		{`a AND b OR c`, `(OR (AND a b) c)`},
		{`a OR b AND c`, `(OR a (AND b c))`},
		{`a NOT b c OR d e`, `(OR (AND a (NOT (AND b c))) (AND d e))`},
		{`s:net NOT f:pavel d:20230101..20230201`, `(AND s:net (NOT (AND f:pavel d:[2023-01-01T00:00:00Z..2023-02-01T23:59:59Z])))`},
		{`a NOT (b c) d`, `(AND a (NOT (AND b c d)))`},
		{`(a NOT b) c`, `(AND a (NOT b) c)`},
		// Xapian ORs juxtaposed boolean filters and ranges of one prefix.
		{`mid:a@b mid:c@d`, `(OR mid:a@b mid:c@d)`},
		{`x patchid:ab patchid:cd mid:e@f patchid:01`, `(AND x (OR patchid:ab patchid:cd patchid:01) mid:e@f)`},
		{`d:20240101 d:20240301`, `(OR d:[2024-01-01T00:00:00Z..2024-01-02T23:59:59Z] d:[2024-03-01T00:00:00Z..2024-03-02T23:59:59Z])`},
		{`(mid:a@b) mid:c@d`, `(AND mid:a@b mid:c@d)`},
		{`mid:a@b AND mid:c@d`, `(AND mid:a@b mid:c@d)`},
		{`dfpre:abcdef1 dfblob:abcdef2`, `(AND dfpre:abcdef1 dfblob:abcdef2)`},
		{`and or not`, `(AND and or not)`}, // operators are upper case only
		{`foo+bar`, `(AND foo bar)`},       // URL form
		{`s:foo+bar`, `(AND s:foo bar)`},
		{`"foo bar"`, `"foo bar"`},
		{`“foo bar”`, `"foo bar"`},
		{`"unterminated phrase`, `"unterminated phrase"`},
		{`io_uring*`, `io_uring*`},
		{`fs/io_ur*`, `fs/io_ur*`},
		{`io_uring_enter()`, `io_uring_enter()`},
		{`(a io_uring_enter())`, `(AND a io_uring_enter())`},
		{`fs/io_uring.c`, `fs/io_uring.c`},
		{`foo -- bar !!!`, `(AND foo bar)`}, // no words: dropped
		{`foo:bar`, `foo:bar`},              // unknown prefix: plain text
		{`Fixes: abc`, `(AND Fixes: abc)`},
		{`XOR`, `XOR`},
		{`  foo   `, `foo`},
		// every prefix
		{`s:"a quick fox"`, `s:"a quick fox"`},
		{`f:axboe@kernel.dk`, `f:axboe@kernel.dk`},
		{`t:io-uring@vger.kernel.org`, `t:io-uring@vger.kernel.org`},
		{`c:stable`, `c:stable`},
		{`tc:netdev`, `tc:netdev`},
		{`a:axboe`, `a:axboe`},
		{`tcf:axboe`, `a:axboe`},
		{`b:"use after free"`, `b:"use after free"`},
		{`nq:foo`, `nq:foo`},
		{`q:foo`, `q:foo`},
		{`bs:sqpoll`, `bs:sqpoll`},
		{`n:config.gz`, `n:config.gz`},
		{`l:io-uring`, `l:io-uring`},
		{`lid:IO-uring.vger.kernel.org`, `lid:io-uring.vger.kernel.org`},
		{`lid:<io-uring.vger.kernel.org>`, `lid:io-uring.vger.kernel.org`},
		{`m:kernel.dk`, `m:kernel.dk`},
		{`mid:<abc+def@kernel.dk>`, `mid:abc+def@kernel.dk`},
		{`references:abc@x`, `references:abc@x`},
		{`dfn:io_uring/rw.c`, `dfn:io_uring/rw.c`},
		{`dfa:old_line`, `dfa:old_line`},
		{`dfb:new_line`, `dfb:new_line`},
		{`dfhh:io_submit_sqes`, `dfhh:io_submit_sqes`},
		{`dfctx:io_ring_ctx`, `dfctx:io_ring_ctx`},
		{`dfpre:ABCDEF1`, `dfpre:abcdef1`},
		{`dfpost:abcdef12`, `dfpost:abcdef12`},
		{`dfblob:abcdef123*`, `dfblob:abcdef123`},
		{`patchid:ABC123`, `patchid:abc123`},
		{`s:(foo OR bar) baz`, `(AND (OR s:foo s:bar) baz)`},
		{`s:(foo f:bar)`, `(AND s:foo f:bar)`},
		{`foo -(bar baz)`, `(AND foo (NOT (AND bar baz)))`},
		// dates and sizes
		{`d:20240101`, `d:[2024-01-01T00:00:00Z..2024-01-02T23:59:59Z]`},
		{`d:2024-01-01`, `d:[2024-01-01T00:00:00Z..2024-01-02T23:59:59Z]`},
		{`d:20240101..20240131`, `d:[2024-01-01T00:00:00Z..2024-01-31T23:59:59Z]`},
		{`d:20240101..`, `d:[2024-01-01T00:00:00Z..]`},
		{`d:..20240101`, `d:[..2024-01-01T23:59:59Z]`},
		{`d:2.weeks.ago..`, `d:[2024-03-01T10:00:00Z..]`},
		{`d:last.week..yesterday`, `d:[2024-03-08T10:00:00Z..2024-03-14T10:00:00Z]`},
		{`d:yesterday`, `d:[2024-03-14T10:00:00Z..2024-03-15T10:00:00Z]`},
		{`d:"2 weeks ago.."`, `d:[2024-03-01T10:00:00Z..]`},
		{`dt:20240101123000..`, `dt:[2024-01-01T12:30:00Z..]`},
		{`dt:20240101123000..20240102000000`, `dt:[2024-01-01T12:30:00Z..2024-01-02T00:00:00Z]`},
		{`dt:20240101123000`, `dt:[2024-01-01T12:30:00Z..2024-01-02T12:30:00Z]`},
		{`rt:1700000000..`, `rt:[2023-11-14T22:13:20Z..]`},
		{`rt:3.days.ago..`, `rt:[2024-03-12T10:00:00Z..]`},
		{`rt:@1700000000..1700086400`, `rt:[2023-11-14T22:13:20Z..2023-11-15T22:13:20Z]`},
		{`z:5000`, `z:[5000..5000]`},
		{`z:..10k`, `z:[..10240]`},
		{`z:1m..`, `z:[1048576..]`},
		{`z:2K..8k`, `z:[2048..8192]`},
		{`(d:20240101..)`, `d:[2024-01-01T00:00:00Z..]`},
		// what b4 and lei send
		{`patchid:0123456789abcdef0123456789abcdef01234567 OR patchid:89abcdef0123456789abcdef0123456789abcdef`,
			`(OR patchid:0123456789abcdef0123456789abcdef01234567 patchid:89abcdef0123456789abcdef0123456789abcdef)`},
		{`nq:"change-id: 20240101-topic-abcdef"`, `nq:"change-id: 20240101-topic-abcdef"`},
		{`(s:"io_uring: fix a leak" AND f:"axboe@kernel.dk") AND d:20240101..`,
			`(AND s:"io_uring: fix a leak" f:"axboe@kernel.dk" d:[2024-01-01T00:00:00Z..])`},
		{`patchid:0123456789abcdef0123456789abcdef01234567 AND d:..20240301`,
			`(AND patchid:0123456789abcdef0123456789abcdef01234567 d:[..2024-03-01T23:59:59Z])`},
		{`s:io_uring f:axboe AND dt:20240101000000..`, `(AND s:io_uring f:axboe dt:[2024-01-01T00:00:00Z..])`},
	}
	for _, tt := range tests {
		n, err := Parse(tt.q, testNow)
		if err != nil {
			t.Errorf("Parse(%q) error: %v", tt.q, err)
			continue
		}
		if got := n.String(); got != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.q, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		q       string
		pos     int
		msgPart string
	}{
		{``, 1, "no words"},
		{`   `, 1, "no words"},
		{`!!! ---`, 1, "no words"},
		{`NOT foo`, 1, "NOT needs a term before"},
		{`AND foo`, 1, "AND needs a term before"},
		{`OR foo`, 1, "OR needs a term before"},
		{`-foo`, 1, "nothing to exclude"},
		{`-foo -bar`, 1, "nothing to exclude"},
		{`foo OR -bar`, 8, "nothing to exclude"},
		{`foo OR NOT bar`, 8, "NOT needs a term before"},
		{`foo OR`, 5, "OR needs a term after"},
		{`foo AND`, 5, "AND needs a term after"},
		{`foo NOT`, 5, "NOT needs a term after"},
		{`foo AND NOT`, 9, "NOT needs a term after"},
		{`foo AND OR bar`, 5, "AND needs a term after"},
		{`foo NOT -bar`, 5, "NOT needs a term after"},
		{`foo NOT -bar baz`, 5, "NOT needs a term after"},
		{`foo -bar OR -baz`, 13, "nothing to exclude"},
		{`(foo`, 1, "missing ')'"},
		{`a (b (c)`, 3, "missing ')'"},
		{`foo)`, 0, ""}, // ')' glued to a word at top level is part of the word
		{`foo )`, 5, "unexpected ')'"},
		{`(a))`, 4, "unexpected ')'"},
		{`()`, 1, "empty parentheses"},
		{`a ( )`, 3, "empty parentheses"},
		{`s: foo`, 1, "missing value after s:"},
		{`foo s:`, 5, "missing value after s:"},
		{`a*`, 1, "wildcard needs at least 2"},
		{`foo *`, 5, "wildcard needs at least 2"},
		{`s:x*`, 3, "wildcard needs at least 2"},
		{`dfpre:abc`, 7, "7 to 64 hex digits"},
		{`dfblob:xyz12345`, 8, "7 to 64 hex digits"},
		{`d:garbage`, 3, "cannot read date"},
		{`foo d:20240101..nonsense`, 17, "cannot read date"},
		{`d:..`, 3, "empty range"},
		{`z:5x`, 3, "size in bytes"},
		{`z:1k..lots`, 3 + 4, "size in bytes"},
		{`mid:<>`, 5, "empty Message-ID"},
		{strings.Repeat("(", maxDepth+1) + "a" + strings.Repeat(")", maxDepth+1), maxDepth + 1, "too deeply nested"},
		{strings.Repeat("a ", maxTerms+1), 2*maxTerms + 1, "too many terms"},
		{strings.Repeat("a", maxQueryRunes+1), maxQueryRunes + 1, "query too long"},
		{`äöü NOT`, 5, "NOT needs a term after"}, // columns count characters, not bytes
	}
	for _, tt := range tests {
		_, err := Parse(tt.q, testNow)
		if tt.pos == 0 {
			if err != nil {
				t.Errorf("Parse(%q) error %v, want none", tt.q, err)
			}
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%.40q) error = %v, want *ParseError", tt.q, err)
			continue
		}
		if pe.Pos != tt.pos || !strings.Contains(pe.Msg, tt.msgPart) {
			t.Errorf("Parse(%.40q) = column %d %q, want column %d containing %q", tt.q, pe.Pos, pe.Msg, tt.pos, tt.msgPart)
		}
	}
}

func TestParseLimitsAccepted(t *testing.T) {
	deep := strings.Repeat("(", maxDepth) + "a" + strings.Repeat(")", maxDepth)
	many := strings.TrimSpace(strings.Repeat("a ", maxTerms))
	for _, q := range []string{deep, many} {
		if _, err := Parse(q, testNow); err != nil {
			t.Errorf("Parse(%.30q...) at the limit: %v", q, err)
		}
	}
}

// TestHelpExamplesParse keeps the documentation honest: every example of
// the syntax table parses, and every prefix is documented in both forms.
func TestHelpExamplesParse(t *testing.T) {
	text, md := HelpText(), HelpMarkdown()
	for _, p := range syntaxTable {
		for _, ex := range splitExamples(p.example) {
			if _, err := Parse(ex, testNow); err != nil {
				t.Errorf("example %q of %s: %v", ex, p.name, err)
			}
			if !strings.Contains(ex, p.name+":") {
				t.Errorf("example %q does not use %s:", ex, p.name)
			}
		}
		for _, name := range append([]string{p.name}, p.aliases...) {
			if !strings.Contains(text, name+":") || !strings.Contains(md, name+":") {
				t.Errorf("prefix %s: missing from the help", name)
			}
		}
	}
	if got, want := strings.Count(md, "\n| `"), len(syntaxTable)+len(operatorHelp); got != want {
		t.Errorf("HelpMarkdown has %d table rows, want %d", got, want)
	}
}
