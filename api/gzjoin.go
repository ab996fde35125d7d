package api

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"

	"patchtrail/internal/lru"
)

// A gzip answer is assembled from pieces compressed one message at a
// time, as pigz does: each piece is a run of DEFLATE blocks ended by a
// sync flush (byte-aligned, not final), so pieces concatenate into one
// DEFLATE stream, closed by an empty final block; the gzip trailer's
// CRC-32 is combined from the pieces' CRCs (RFC 1951 §3.2.3, RFC 1952;
// zlib's crc32_combine). The result is one ordinary gzip member, and a
// message compressed once serves every thread and search download that
// includes it.

// pieceCache keeps compressed messages by row id; a stored message never
// changes.
type pieceCache = lru.Cache[int64, gzPiece]

func newPieceCache(maxBytes int64) *pieceCache {
	return lru.New(maxBytes, 0, func(_ int64, p gzPiece) int64 { return int64(len(p.data)) + 64 })
}

// gzPiece is one message's compressed mboxrd text.
type gzPiece struct {
	data []byte // DEFLATE blocks ending in a sync flush
	crc  uint32 // CRC-32 of the uncompressed text
	size int64  // length of the uncompressed text
}

var flaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// compressPiece compresses p at the fastest level (the CPU, not the
// network, bounds a busy server; gzip -d reads any level).
func compressPiece(p []byte) gzPiece {
	var b bytes.Buffer
	b.Grow(len(p)/3 + 64)
	fw := flaters.Get().(*flate.Writer)
	fw.Reset(&b)
	fw.Write(p) // a bytes.Buffer does not fail
	fw.Flush()
	flaters.Put(fw)
	return gzPiece{data: b.Bytes(), crc: crc32.ChecksumIEEE(p), size: int64(len(p))}
}

// gzHeader is a gzip member header: deflate, no name, no time, fastest
// compression (XFL 4), unknown OS.
var gzHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255}

// gzJoin writes a gzip member made of pieces.
type gzJoin struct {
	w      io.Writer
	crc    uint32
	size   int64
	header bool
}

func (g *gzJoin) add(p gzPiece) error {
	if !g.header {
		g.header = true
		if _, err := g.w.Write(gzHeader); err != nil {
			return err
		}
	}
	g.crc = crc32Combine(g.crc, p.crc, p.size)
	g.size += p.size
	_, err := g.w.Write(p.data)
	return err
}

// close writes the final empty block and the trailer.
func (g *gzJoin) close() error {
	if !g.header {
		if _, err := g.w.Write(gzHeader); err != nil {
			return err
		}
	}
	var t [10]byte
	t[0], t[1] = 0x03, 0x00 // BFINAL=1, fixed Huffman, end of block
	binary.LittleEndian.PutUint32(t[2:], g.crc)
	binary.LittleEndian.PutUint32(t[6:], uint32(g.size))
	_, err := g.w.Write(t[:])
	return err
}

// crc32Combine returns the CRC-32 (IEEE) of A followed by B from crcA,
// crcB and len(B), in O(log len(B)) (zlib 1.2.12's crc32_combine).
func crc32Combine(crcA, crcB uint32, lenB int64) uint32 {
	return multModP(x2nModP(lenB, 3), crcA) ^ crcB
}

const crcPoly = 0xedb88320 // reflected IEEE polynomial

// multModP returns a(x)·b(x) modulo p(x), bit-reflected as CRCs are.
func multModP(a, b uint32) uint32 {
	m := uint32(1) << 31
	var p uint32
	for {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				return p
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ crcPoly
		} else {
			b >>= 1
		}
	}
}

// x2nTable[k] is x^(2^k) modulo p(x).
var x2nTable = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	t[0] = p
	for n := 1; n < 32; n++ {
		p = multModP(p, p)
		t[n] = p
	}
	return t
}()

// x2nModP returns x^(n·2^k) modulo p(x).
func x2nModP(n int64, k uint) uint32 {
	p := uint32(1) << 31 // x^0
	for n != 0 {
		if n&1 != 0 {
			p = multModP(x2nTable[k&31], p)
		}
		n >>= 1
		k++
	}
	return p
}
