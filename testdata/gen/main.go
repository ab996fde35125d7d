// Command gen writes patchtrail's own test fixtures: a small io_uring-like
// list archive (mboxrd, Maildir, gzip/xz/zstd copies), the source tree its
// patches apply to, and malformed mbox inputs (mboxo, mboxcl, mboxcl2,
// CRLF/NUL, truncated, bogus dates, invalid UTF-8, reference cycles).
//
// Run from the repository root (the go tool skips testdata for ./...,
// but an explicit path works):
//
//	go run ./testdata/gen            # regenerate testdata/
//	go run ./testdata/gen -verify    # also git am the series and run git patch-id
//
// Output is deterministic: fixed dates, a seeded PRNG, no map-order
// dependence. The generator checks its own output and exits non-zero if an
// mbox does not split back into the messages written.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

func main() {
	_, self, _, _ := runtime.Caller(0)
	out := flag.String("out", filepath.Dir(filepath.Dir(self)), "testdata directory to write")
	verify := flag.Bool("verify", false, "apply the series with git am and check git patch-id (needs git)")
	flag.Parse()
	if err := run(*out, *verify); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string, verify bool) error {
	msgs := buildSample()
	sample := filepath.Join(out, "sample")
	mbox := writeMbox(mboxrd, msgs)
	files := []fixture{{"sample.mbox", mbox, func(b []byte) error { return roundTrip(b, msgs) }}}
	for _, c := range []struct {
		ext string
		enc func([]byte) ([]byte, error)
		dec func([]byte) (io.Reader, error)
	}{
		{".gz", gzipBytes, func(b []byte) (io.Reader, error) { return gzip.NewReader(bytes.NewReader(b)) }},
		{".xz", xzBytes, func(b []byte) (io.Reader, error) { return xz.NewReader(bytes.NewReader(b)) }},
		{".zst", zstdBytes, func(b []byte) (io.Reader, error) { return zstd.NewReader(bytes.NewReader(b)) }},
	} {
		z, err := c.enc(mbox)
		if err != nil {
			return fmt.Errorf("sample.mbox%s: %w", c.ext, err)
		}
		files = append(files, fixture{"sample.mbox" + c.ext, z, func(b []byte) error {
			r, err := c.dec(b)
			if err != nil {
				return err
			}
			got, err := io.ReadAll(r)
			if err == nil && !bytes.Equal(got, mbox) {
				err = errors.New("decompresses to something else")
			}
			return err
		}})
	}
	if err := writeFixtures(sample, files); err != nil {
		return err
	}
	if err := writeTree(filepath.Join(sample, "base"), baseTree()); err != nil {
		return err
	}
	if err := writeMaildir(filepath.Join(sample, "maildir"), msgs); err != nil {
		return err
	}
	if err := writeFixtures(filepath.Join(out, "malformed"), malformedFixtures()); err != nil {
		return err
	}
	hostile, err := hostileFixtures()
	if err != nil {
		return err
	}
	if err := writeFixtures(filepath.Join(out, "hostile"), hostile); err != nil {
		return err
	}
	fmt.Printf("gen: wrote %d messages to %s\n", len(msgs), filepath.Join(sample, "sample.mbox"))
	if verify {
		return verifyGit(msgs)
	}
	return nil
}

// writeFixtures checks each fixture, then writes it into dir.
func writeFixtures(dir string, fs []fixture) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range fs {
		if f.check != nil {
			if err := f.check(f.data); err != nil {
				return fmt.Errorf("self-check %s: %w", f.name, err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// roundTrip checks that an mboxrd file splits back into exactly msgs.
func roundTrip(data []byte, msgs []*msg) error {
	if err := wantSeparators(len(msgs))(data); err != nil {
		return err
	}
	got := readMboxrd(data)
	for i, m := range msgs {
		if !bytes.Equal(got[i], m.render()) {
			return fmt.Errorf("message %d (%q) does not round-trip", i+1, m.subject)
		}
	}
	return nil
}

func wantSeparators(n int) func([]byte) error {
	return func(b []byte) error {
		if got := countSeparators(b); got != n {
			return fmt.Errorf(`%d "From " separator lines, wrote %d messages`, got, n)
		}
		return nil
	}
}

// wantCL checks a Content-Length mbox; trap says a body holds an
// unescaped "From " line, so naive separator counting must overcount.
func wantCL(n int, trap bool) func([]byte) error {
	return func(b []byte) error {
		got, err := countMboxcl(b)
		if err == nil && got != n {
			err = fmt.Errorf("%d messages by Content-Length, wrote %d", got, n)
		}
		if err == nil && trap && countSeparators(b) <= n {
			err = errors.New(`no unescaped "From " line in a body`)
		}
		return err
	}
}

func writeTree(dir string, t tree) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for p, content := range t {
		f := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeMaildir stores the v1 cover and patches (three read, one new) and
// the message without a Message-ID (new). tmp/ holds only .keep.
func writeMaildir(dir string, msgs []*msg) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "tmp", ".keep"), nil, 0o644); err != nil {
		return err
	}
	pick := map[int]string{0: "S", 1: "RS", 2: "FS", 3: ""}
	for i, m := range msgs {
		if m.id == "" {
			pick[i] = ""
		}
	}
	n := 0
	for i, m := range msgs {
		flags, ok := pick[i]
		if !ok {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, maildirName(m, n, flags)), m.render(), 0o644); err != nil {
			return err
		}
		n++
	}
	if n != 5 {
		return fmt.Errorf("maildir: wrote %d messages, want 5", n)
	}
	return nil
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	w.Name = "sample.mbox"
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	err = w.Close()
	return buf.Bytes(), err
}

func xzBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	err = w.Close()
	return buf.Bytes(), err
}

func zstdBytes(b []byte) ([]byte, error) {
	w, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return nil, err
	}
	defer w.Close()
	return w.EncodeAll(b, nil), nil
}
