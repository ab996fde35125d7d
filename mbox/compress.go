package mbox

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
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
func decompressor(br *bufio.Reader, kind compression) (io.Reader, func(), error) {
	nop := func() {}
	switch kind {
	case compressGzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nop, fmt.Errorf("gzip: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case compressXz:
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
