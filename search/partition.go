package search

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// Partitions by time.
//
// The index is split by the date of a document (a message's Date, a
// commit's author date: both fixed, so a document never moves) into
// partitions of one span each: a month, a quarter or a year (Options.Span,
// recorded in the meta file with the list of partitions). Each partition
// is Shards hash shards, like the whole index before: documents are
// routed to a shard by a hash of their id, so a batch still builds
// segments on every core.
//
// Why: the default order is newest first, and a date-sorted search over
// one bleve index visits every hit (bleve has no index sorted by date to
// stop early). Partitions are disjoint in time, so a page of the newest
// hits is found by searching the newest partitions first and stopping as
// soon as the page is full: the cost is that of the hits in the partitions
// searched, not of all hits (searchDated). The relevance order and counts
// search every partition at once, as before.
//
// An index created before partitions (no "layout" in the meta file) opens
// as one partition covering all time, with its shards where they are: it
// answers the same, without the early stop, until it is rebuilt.

// Spans of a partition.
const (
	SpanMonth   = "month"
	SpanQuarter = "quarter"
	SpanYear    = "year"
)

const (
	layoutTime  = "time"    // partitions by time, meta.Span and meta.Partitions
	defaultSpan = SpanYear  // see doc/scaling.md for the measurements behind it
	maxSec      = 1<<33 - 1 // the clamp of orderKey
)

// partition is the documents of one time range: [lo, hi) in unix seconds
// (clamped as in orderKey: dates before 1970 are in 1970's partition).
type partition struct {
	key    string // "2023", "2023q1", "2023-01"; "" for a pre-partition index
	lo, hi int64
	shards []bleve.Index
	alias  bleve.IndexAlias
}

// clampSec is the second a date is partitioned and ordered by.
func clampSec(t time.Time) int64 { return min(max(unix(t), 0), maxSec) }

// spanKey names the partition of span holding second sec.
func spanKey(span string, sec int64) string {
	t := time.Unix(sec, 0).UTC()
	switch span {
	case SpanMonth:
		return fmt.Sprintf("%04d-%02d", t.Year(), int(t.Month()))
	case SpanQuarter:
		return fmt.Sprintf("%04dq%d", t.Year(), (int(t.Month())-1)/3+1)
	}
	return fmt.Sprintf("%04d", t.Year())
}

// keyRange is the range of seconds of the partition named key.
func keyRange(span, key string) (lo, hi int64, err error) {
	bad := fmt.Errorf("search: partition %q is not a %s", key, span)
	if len(key) < 4 {
		return 0, 0, bad
	}
	y, err := strconv.Atoi(key[:4])
	if err != nil {
		return 0, 0, bad
	}
	m, n := 1, 12
	switch rest := key[4:]; span {
	case SpanYear:
		if rest != "" {
			return 0, 0, bad
		}
	case SpanQuarter:
		q, err := strconv.Atoi(strings.TrimPrefix(rest, "q"))
		if err != nil || !strings.HasPrefix(rest, "q") || q < 1 || q > 4 {
			return 0, 0, bad
		}
		m, n = 3*(q-1)+1, 3
	case SpanMonth:
		mm, err := strconv.Atoi(strings.TrimPrefix(rest, "-"))
		if err != nil || !strings.HasPrefix(rest, "-") || mm < 1 || mm > 12 {
			return 0, 0, bad
		}
		m, n = mm, 1
	default:
		return 0, 0, fmt.Errorf("search: unknown partition span %q (want %s, %s or %s)", span, SpanMonth, SpanQuarter, SpanYear)
	}
	start := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
	lo, hi = max(start.Unix(), 0), start.AddDate(0, n, 0).Unix()
	if spanKey(span, lo) != key {
		return 0, 0, bad
	}
	return lo, hi, nil
}

func validSpan(s string) bool { return s == SpanMonth || s == SpanQuarter || s == SpanYear }

// partDir is the directory of a partition's shards.
func partDir(dir, key string) string {
	if key == "" {
		return dir
	}
	return filepath.Join(dir, "p-"+key)
}

// openPartition opens (or, when create, creates) the shards of a partition.
func openPartition(dir, span, key string, o Options, create bool) (*partition, error) {
	p := &partition{key: key, lo: 0, hi: math.MaxInt64}
	if key != "" {
		var err error
		if p.lo, p.hi, err = keyRange(span, key); err != nil {
			return nil, err
		}
	}
	pd := partDir(dir, key)
	for i := 0; i < o.Shards; i++ {
		var s bleve.Index
		var err error
		if create {
			s, err = bleve.NewUsing(shardDir(pd, i), NewMapping(), scorch.Name, scorch.Name, runtimeConfig(o))
		} else {
			s, err = bleve.OpenUsing(shardDir(pd, i), runtimeConfig(o))
		}
		if err != nil {
			p.close()
			name := "partition " + key + " "
			if key == "" {
				name = ""
			}
			if isLockTimeout(err) {
				return nil, fmt.Errorf("%w: %s (waited %v)", ErrLocked, dir, o.LockTimeout)
			}
			return nil, fmt.Errorf("search: open %sshard %d of %s: %w", name, i, dir, err)
		}
		p.shards = append(p.shards, s)
	}
	p.alias = bleve.NewIndexAlias(p.shards...)
	return p, nil
}

func (p *partition) close() error {
	var errs []string
	for i, s := range p.shards {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Sprintf("partition %s shard %d: %v", p.key, i, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// overlaps reports whether the partition may hold documents dated in
// [lo, hi] (raw unix seconds, inclusive).
func (p *partition) overlaps(lo, hi int64) bool {
	return min(max(lo, 0), maxSec) < p.hi && min(max(hi, 0), maxSec) >= p.lo
}

// setParts installs parts (sorted here newest first) and the alias over
// all their shards. ix.mu is held for writing (or ix is not shared yet).
func (ix *Index) setParts(parts []*partition) {
	slices.SortFunc(parts, func(a, b *partition) int {
		switch {
		case a.lo > b.lo:
			return -1
		case a.lo < b.lo:
			return 1
		}
		return 0
	})
	ix.parts = parts
	var all []bleve.Index
	for _, p := range parts {
		all = append(all, p.shards...)
	}
	ix.all = bleve.NewIndexAlias(all...)
	ix.nshards = len(all)
}

// partFor returns the partition holding second sec, creating it (and
// recording it in the meta file) when it does not exist yet.
func (ix *Index) partFor(sec int64) (*partition, error) {
	ix.mu.RLock()
	p, err := ix.findPart(sec)
	ix.mu.RUnlock()
	if p != nil || err != nil {
		return p, err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if p, err := ix.findPart(sec); p != nil || err != nil {
		return p, err
	}
	if ix.opts.ReadOnly {
		return nil, fmt.Errorf("search: new partition on a read-only index")
	}
	key := spanKey(ix.span, sec)
	// A directory left by a creation that crashed before the meta file
	// named it holds no document anyone was told about.
	if err := os.RemoveAll(partDir(ix.dir, key)); err != nil {
		return nil, fmt.Errorf("search: create partition %s: %w", key, err)
	}
	p, err = openPartition(ix.dir, ix.span, key, ix.opts, true)
	if err != nil {
		return nil, err
	}
	keys := []string{key}
	for _, q := range ix.parts {
		keys = append(keys, q.key)
	}
	slices.Sort(keys)
	if err := writeMeta(ix.dir, meta{SchemaVersion: SchemaVersion, Shards: ix.opts.Shards, Layout: layoutTime, Span: ix.span, Partitions: keys}); err != nil {
		p.close()
		os.RemoveAll(partDir(ix.dir, key))
		return nil, err
	}
	ix.setParts(append(slices.Clone(ix.parts), p))
	ix.opts.Logger.Debug("search partition created", "dir", ix.dir, "partition", key)
	return p, nil
}

// findPart is the existing partition holding sec, or nil. ix.mu is held.
func (ix *Index) findPart(sec int64) (*partition, error) {
	if ix.closed {
		return nil, ErrClosed
	}
	for _, p := range ix.parts {
		if p.lo <= sec && sec < p.hi {
			return p, nil
		}
	}
	return nil, nil
}

// partByKey is the current partition named key. ix.mu is held.
func (ix *Index) partByKey(key string) *partition {
	for _, p := range ix.parts {
		if p.key == key {
			return p
		}
	}
	return nil
}

// Partitions returns the keys of the partitions, newest first ("" for an
// index created before partitions), and their span.
func (ix *Index) Partitions() (keys []string, span string) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, p := range ix.parts {
		keys = append(keys, p.key)
	}
	return keys, ix.span
}

// dateBounds is the range of dates (unix seconds, inclusive) a document
// must have to match n: the d:/dt: ranges every match must satisfy.
func dateBounds(n Node) (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	switch n := n.(type) {
	case *Range:
		if n.Field == "d" || n.Field == "dt" {
			if n.HasMin {
				lo = n.Min
			}
			if n.HasMax {
				hi = n.Max
			}
		}
	case *And:
		for _, c := range n.Nodes {
			if _, neg := c.(*Not); neg {
				continue
			}
			l, h := dateBounds(c)
			lo, hi = max(lo, l), min(hi, h)
		}
	case *Or:
		lo, hi = math.MaxInt64, math.MinInt64
		for _, c := range n.Nodes {
			l, h := dateBounds(c)
			lo, hi = min(lo, l), max(hi, h)
		}
	}
	return lo, hi
}

// lockFile is the file an Index holds a flock on while open: exclusive
// for a writer, shared for readers. The shards' bolt files are locked
// too, but an index with no partition yet has none, and a reader that
// opened the meta file before a writer added a partition would not see it.
const lockFile = "lock"

// lockDir takes the lock of the index in dir, waiting up to o.LockTimeout.
func lockDir(dir string, o Options) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil && o.ReadOnly {
		// A read-only directory: readers cannot take a lock there,
		// and no writer can write it either.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("search: lock %s: %w", dir, err)
	}
	how := syscall.LOCK_EX
	if o.ReadOnly {
		how = syscall.LOCK_SH
	}
	if err := flockWait(f, how, o.LockTimeout); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s (waited %v)", ErrLocked, dir, o.LockTimeout)
	}
	return f, nil
}

func flockWait(f *os.File, how int, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil || !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
