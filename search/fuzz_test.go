package search

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzParse: Parse never panics, errors are *ParseError pointing inside the
// query, and every successful parse compiles and prints.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`foo bar OR baz`, `s:"a b" AND NOT f:x`, `(a (b OR c)) -d`, `d:20240101..`, `dt:20240101000000..`,
		`rt:3.days.ago..now`, `z:1k..2m`, `dfblob:1234567`, `mid:<a+b@c>`, `io_ur*`, `"unterminated`,
		`NOT x`, `a OR`, `((`, `))`, `s:(a b)`, `-(a)`, `d:"2 weeks ago.."`, "\xff(\x00", `lid:<x.y>`,
		`nq:"change-id: 20240101-topic-abcdef"`, `patchid:X OR patchid:Y`, `a+b`, `“a”`, `tcf:x`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		n, err := Parse(q, testNow)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T %v, want *ParseError", q, err, err)
			}
			limit := max(1, utf8.RuneCountInString(q))
			if pe.Pos < 1 || pe.Pos > limit {
				t.Fatalf("Parse(%q) error column %d outside 1..%d: %v", q, pe.Pos, limit, err)
			}
			return
		}
		_ = n.String()
		if _, err := Compile(n); err != nil {
			t.Fatalf("Compile(Parse(%q) = %s): %v", q, n, err)
		}
	})
}
