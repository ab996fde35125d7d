package link

import (
	"hash/fnv"
	"slices"
	"strings"
	"unicode"

	"patchtrail/internal/patch"
)

// SketchSize is the number of hashes a Sketch keeps: the smallest ones
// (bottom-k), so that two sketches estimate the Jaccard index of the full
// sets of changed lines.
const SketchSize = 512

// Sketch summarises the changed lines of a diff: each '+' or '-' line,
// with all white space removed and its sign kept, is hashed (64-bit
// FNV-1a, then mixed); lines that are empty without white space are skipped. The
// result is sorted, without duplicates, and holds at most SketchSize of
// the smallest hashes.
type Sketch []uint64

// sketchBuilder collects line hashes.
type sketchBuilder struct {
	set map[uint64]bool
	buf []byte
}

func (b *sketchBuilder) add(sign byte, line string) {
	b.buf = append(b.buf[:0], sign)
	for _, r := range line {
		if !unicode.IsSpace(r) {
			b.buf = append(b.buf, string(r)...)
		}
	}
	if len(b.buf) == 1 {
		return
	}
	h := fnv.New64a()
	h.Write(b.buf)
	if b.set == nil {
		b.set = map[uint64]bool{}
	}
	b.set[mix(h.Sum64())] = true
}

// mix is MurmurHash3's 64-bit finaliser: FNV-1a alone leaves the high
// bits of similar lines correlated, which biases a bottom-k sample.
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func (b *sketchBuilder) sketch() Sketch {
	out := make(Sketch, 0, len(b.set))
	for h := range b.set {
		out = append(out, h)
	}
	slices.Sort(out)
	if len(out) > SketchSize {
		out = out[:SketchSize]
	}
	return out
}

// DiffSketch sketches a compact diff as gitrepo.Commit.Diff holds it:
// the + and - lines of every hunk, one per line.
func DiffSketch(diff string) Sketch {
	var b sketchBuilder
	for len(diff) > 0 {
		line, rest, _ := strings.Cut(diff, "\n")
		diff = rest
		if line != "" && (line[0] == '+' || line[0] == '-') {
			b.add(line[0], line[1:])
		}
	}
	return b.sketch()
}

// PatchSketch sketches the changed lines of parsed patches.
func PatchSketch(ps []patch.Patch) Sketch {
	var b sketchBuilder
	for _, p := range ps {
		for _, f := range p.Files {
			for _, h := range f.Hunks {
				for _, l := range h.Added {
					b.add('+', l)
				}
				for _, l := range h.Removed {
					b.add('-', l)
				}
			}
		}
	}
	return b.sketch()
}

// Similarity estimates the Jaccard index of the line sets two sketches
// were made from: among the SketchSize smallest hashes of their union,
// the share found in both (the bottom-k estimator; a hash among the k
// smallest of the union is among the k smallest of its own set, so both
// sketches hold it). It is exact when the union has at most SketchSize
// lines, and 0 when either sketch is empty.
func Similarity(a, b Sketch) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	var i, j, union, both int
	for union < SketchSize && (i < len(a) || j < len(b)) {
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			i++
		case i == len(a) || b[j] < a[i]:
			j++
		default:
			i++
			j++
			both++
		}
		union++
	}
	return float64(both) / float64(union)
}
