package api

import (
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"
)

func TestCRC32Combine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 64, 1000, 65537} {
		a, b := make([]byte, r.IntN(5000)), make([]byte, n)
		for i := range a {
			a[i] = byte(r.Uint32())
		}
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		want := crc32.ChecksumIEEE(append(append([]byte{}, a...), b...))
		if got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b))); got != want {
			t.Errorf("len(b)=%d: combined %08x, want %08x", n, got, want)
		}
	}
}

// TestGzJoin: pieces compressed apart join into one gzip member that the
// standard library (and so any gzip reader) decompresses to their
// concatenation, as a single member.
func TestGzJoin(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, pieces := range [][]string{
		nil,
		{""},
		{"From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: a\n\nbody\n\n"},
		{"one\n", "", "two two two two two two\n", string(bytes.Repeat([]byte("x"), 200000))},
		randomTexts(r, 50),
	} {
		var out bytes.Buffer
		g := gzJoin{w: &out}
		var want bytes.Buffer
		for _, p := range pieces {
			if err := g.add(compressPiece([]byte(p))); err != nil {
				t.Fatal(err)
			}
			want.WriteString(p)
		}
		if err := g.close(); err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%d pieces: %v", len(pieces), err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%d pieces: got %d bytes, want %d", len(pieces), len(got), want.Len())
		}
		if rest, _ := io.ReadAll(zr); len(rest) != 0 {
			t.Errorf("%d pieces: data after the first member", len(pieces))
		}
	}
}

func randomTexts(r *rand.Rand, n int) []string {
	words := []string{"io_uring", "sqe", "cqe", "From ", ">From ", "\n", "\r\n", "Signed-off-by: ", "@@ -1,3 +1,4 @@\n"}
	out := make([]string, n)
	for i := range out {
		var b bytes.Buffer
		for range r.IntN(3000) {
			b.WriteString(words[r.IntN(len(words))])
		}
		out[i] = b.String()
	}
	return out
}
