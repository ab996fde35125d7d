package search

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWords(t *testing.T) {
	long := strings.Repeat("x", maxWordBytes+1)
	tests := []struct {
		in   string
		want []string
	}{
		{"io_uring_enter IORING_OP_READV", []string{"io_uring_enter", "ioring_op_readv"}},
		{"fs/io_uring.c", []string{"fs", "io_uring", "c"}},
		{"Jens Axboe <axboe@kernel.dk>", []string{"jens", "axboe", "axboe", "kernel", "dk"}},
		{"v5.10-rc1 0x1F", []string{"v5.10", "rc1", "0x1f"}},
		// Xapian's infixes: apostrophes and '&' between word characters,
		// '.', ',' and ';' between digits; zero-width characters dropped.
		{"Don't it’s AT&T fred's' 'quoted'", []string{"don't", "it's", "at&t", "fred's", "quoted"}},
		{"1,000.5 192.168.1.1 a.b 1.a 3;4", []string{"1,000.5", "192.168.1.1", "a", "b", "1", "a", "3;4"}},
		{"zero\u200bwidth a&&b x'", []string{"zerowidth", "a", "b", "x"}},
		{"x² ½", []string{"x²", "½"}},
		{"Signed-off-by: Ünïcödé Nàme", []string{"signed", "off", "by", "ünïcödé", "nàme"}},
		{"日本語テスト", []string{"日", "本", "語", "テ", "ス", "ト"}},
		{"change-id: 20240101-topic-abcdef", []string{"change", "id", "20240101", "topic", "abcdef"}},
		{"a " + long + " b", []string{"a", "b"}},
		{"\xff\xfeabc", []string{"abc"}},
		{"--- +++ @@ !!", []string{}},
	}
	for _, tt := range tests {
		if got := Words(tt.in); !cmp.Equal(got, tt.want) {
			t.Errorf("Words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAnalyzerPositions(t *testing.T) {
	// A dropped over-long word still takes a position, so a phrase never
	// bridges it; offsets point into the input.
	in := "foo " + strings.Repeat("y", 100) + " Bar"
	toks := (wordAnalyzer{}).Analyze([]byte(in))
	if len(toks) != 2 {
		t.Fatalf("got %d tokens, want 2", len(toks))
	}
	if toks[0].Position != 1 || toks[1].Position != 3 {
		t.Errorf("positions %d, %d; want 1, 3", toks[0].Position, toks[1].Position)
	}
	if got := in[toks[1].Start:toks[1].End]; got != "Bar" || string(toks[1].Term) != "bar" {
		t.Errorf("token 2 = %q at %q, want bar at Bar", toks[1].Term, got)
	}
	if got := phraseTerms(in); !cmp.Equal(got, []string{"foo", "", "bar"}) {
		t.Errorf("phraseTerms = %q", got)
	}
}

// BenchmarkAnalyze measures the analyzer on mail-like text, without and
// with the stem terms of indexed text.
func BenchmarkAnalyze(b *testing.B) {
	text := []byte(strings.Repeat("On Tue, Jan 10, 2024 Jens Axboe wrote:\n> This series fixes two races in the SQPOLL thread.\n"+
		"Looks good, but what about the fallback path? It doesn't handle cancellations.\n"+
		"+\tio_ring_submit_unlock(ctx, issue_flags); /* v5.10 */\n", 20))
	for _, stems := range []bool{false, true} {
		b.Run(fmt.Sprintf("stems=%v", stems), func(b *testing.B) {
			a := wordAnalyzer{stems: stems}
			b.SetBytes(int64(len(text)))
			for i := 0; i < b.N; i++ {
				a.Analyze(text)
			}
		})
	}
}
