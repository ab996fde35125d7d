package mbox

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// compression names a container format recognised by its magic bytes.
type compression int

const (
	compressNone compression = iota
	compressGzip
	compressXz
	compressZstd
	compressBzip2
)

func (c compression) String() string {
	return [...]string{"none", "gzip", "xz", "zstd", "bzip2"}[c]
}

var magics = []struct {
	magic []byte
	kind  compression
}{
	{[]byte{0x1f, 0x8b}, compressGzip},
	{[]byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, compressXz},
	{[]byte{0x28, 0xb5, 0x2f, 0xfd}, compressZstd},
	{[]byte("BZh"), compressBzip2},
}

// sniffCompression looks at the first bytes of br without consuming them.
func sniffCompression(br *bufio.Reader) compression {
	head, _ := br.Peek(6)
	for _, m := range magics {
		if bytes.HasPrefix(head, m.magic) {
			if m.kind == compressBzip2 && (len(head) < 4 || head[3] < '1' || head[3] > '9') {
				continue // "BZh" followed by no block size: plain text
			}
			return m.kind
		}
	}
	return compressNone
}

// decompressor returns a reader of the decompressed stream of br (all
// members of a multi-member gzip file) and a function releasing it.
func decompressor(ctx context.Context, br *bufio.Reader, kind compression) (io.Reader, func(), error) {
	nop := func() {}
	switch kind {
	case compressGzip:
		// The standard library's reader, not klauspost's: at the cut of
		// a truncated file it hands out every byte it decoded.
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nop, fmt.Errorf("gzip: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case compressXz:
		if xz, err := exec.LookPath("xz"); err == nil {
			return startXz(ctx, xz, br)
		}
		// DictCap is a minimum: a stream still gets the dictionary its
		// header asks for, but small files no longer cost 8 MiB.
		zr, err := xz.ReaderConfig{DictCap: 64 << 10}.NewReader(br)
		if err != nil {
			return nil, nop, fmt.Errorf("xz: %w", err)
		}
		return zr, nop, nil
	case compressZstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nop, fmt.Errorf("zstd: %w", err)
		}
		return zr, zr.Close, nil
	case compressBzip2:
		return bzip2.NewReader(br), nop, nil
	}
	return br, nop, nil
}

// startXz decompresses br with xz(1). Unlike the pure Go decoder, which
// keeps the last decoded chunk (up to its dictionary size) when the
// stream is cut short, liblzma hands out every byte it can decode; and it
// is faster. The pure Go decoder is used when xz is not installed.
func startXz(ctx context.Context, xz string, br *bufio.Reader) (io.Reader, func(), error) {
	cmd := exec.CommandContext(ctx, xz, "--decompress", "--stdout", "--quiet")
	cmd.Stdin = br
	cmd.WaitDelay = 5 * time.Second
	stderr := &tailBuffer{max: 4096}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, func() {}, fmt.Errorf("xz: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, func() {}, fmt.Errorf("xz: %w", err)
	}
	x := &xzProc{cmd: cmd, out: out, stderr: stderr}
	return x, x.release, nil
}

// xzProc is a running xz(1) whose output is the decompressed stream.
type xzProc struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr *tailBuffer
	done   bool // stdout was read to its end
	once   sync.Once
	err    error // how it exited: nil, or an error wrapping io.ErrUnexpectedEOF
}

// Read returns the decompressed bytes; at their end, an error wrapping
// io.ErrUnexpectedEOF when xz failed (a truncated or corrupt stream).
func (x *xzProc) Read(p []byte) (int, error) {
	if x.done {
		return 0, x.doneErr()
	}
	n, err := x.out.Read(p)
	if err == io.EOF {
		x.done = true
		return n, x.doneErr()
	}
	return n, err
}

func (x *xzProc) doneErr() error {
	if err := x.wait(); err != nil {
		return err
	}
	return io.EOF
}

func (x *xzProc) wait() error {
	x.once.Do(func() {
		if err := x.cmd.Wait(); err != nil {
			msg := strings.TrimSpace(x.stderr.String())
			x.err = fmt.Errorf("xz: %w: %v: %s", io.ErrUnexpectedEOF, err, msg)
		}
	})
	return x.err
}

func (x *xzProc) release() {
	_ = x.cmd.Process.Kill()
	_ = x.wait()
}
