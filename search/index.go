package search

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"github.com/blevesearch/bleve/v2/mapping"
	zap "github.com/blevesearch/zapx/v17"

	"patchtrail/internal/admit"
)

func init() {
	// zap sizes the buffer of a new segment up front as the bytes per
	// document of the last segment it built (in any index of the
	// process: the estimate sits in a shared pool) times the documents
	// of this one. After a segment of a few large messages (a shard
	// chunk of one log dump, MaxBatchWords) that asks for gigabytes:
	// 2.4 GB, zeroed page by page for 20 s, for the next 1,000-message
	// batch of a linux-bluetooth import. Without the estimate the
	// buffer grows as the segment is written, a few copies of a few
	// megabytes.
	zap.NewSegmentBufferNumResultsFactor = 0
}

// MetaFile is the file in the index directory that records the schema
// version and the shard count.
const MetaFile = "patchtrail-search.json"

// Options configure Open. The zero value and nil mean the defaults.
type Options struct {
	// Shards is the number of shards of a new index; default
	// max(2, runtime.NumCPU()). An existing index keeps the count it was
	// created with (documents are routed by hash, so it cannot change
	// without a rebuild) and this field is then ignored.
	Shards int

	// ReadOnly opens an existing index for searching only; no directory
	// or index is created and batches fail.
	ReadOnly bool

	// NoSync makes a batch return once its documents are searchable,
	// before the segments are written to disk (scorch's "unsafe_batch").
	// A crash loses the last batches but never corrupts the index. Use it
	// for bulk (re)indexing where the caller can redo the tail; leave it
	// off when a checkpoint is recorded after each batch.
	NoSync bool

	// MaxWildcardTerms caps how many distinct words a `word*` may expand
	// to in one field of one shard; more is a *ParseError-like error
	// (ErrWildcardTooBroad). Default 1024.
	MaxWildcardTerms int

	// LockTimeout bounds the wait for another process (or Index) that
	// has the index open for writing; default 5s. Then Open fails with an
	// error wrapping ErrLocked.
	LockTimeout time.Duration

	// CacheEntries is how many recent search results are kept (emptied
	// by every write); 0 means 512, a negative number turns the cache off.
	CacheEntries int

	// HeavySlots is how many heavy searches (long phrases, guard.go) run
	// at once; default max(1, NumCPU/2), so light searches and other
	// work keep a core. HeavyQueue more wait for a slot (default
	// 2*HeavySlots); any further heavy search fails with ErrBusy.
	HeavySlots int
	HeavyQueue int

	// MaxSegmentDocs caps the documents of a segment that the
	// background merges of a shard build; 0 means scorch's default
	// (5 million: merged segments grow with the store). A merge maps
	// every page of the segments it reads and builds the new one's
	// dictionaries in memory, so the cap bounds what a merge holds at
	// the cost of more segments per shard for queries to visit
	// (doc/scaling.md). It applies to the merges this Index runs, not to
	// the index on disk.
	MaxSegmentDocs int

	// BatchShards is how many shards a Batch writes at once; 0 means all
	// of them. A shard's part of a batch is analysed and built into a
	// segment in memory (about 20 times the raw size of its mail), so
	// writing one shard at a time divides what a batch holds by the
	// shard count, for less parallelism in segment building (analysis
	// still uses every core).
	BatchShards int

	// MaxBatchWords bounds the words (Doc.Words) of the documents one
	// shard's part of a Batch builds into one segment; a part with more
	// is written in several segments, one after the other. What a
	// segment costs to build in memory (its documents' analysis, its
	// dictionaries and postings) follows its words, not its messages: a
	// batch of patches carrying generated tables or log dumps holds
	// several times the words per byte of mail of a discussion. 0 means
	// no bound.
	MaxBatchWords int

	// ReleasePages makes Open and every Batch.Execute hand the pages of
	// the index files the process has mapped back to the kernel
	// (Linux), so that its resident size does not grow with the index
	// (pages_linux.go).
	ReleasePages bool

	// MappedBytes bounds, for a read-only index, how much the pages of
	// its segment files that searches touch may add to the process's
	// resident size before they are taken out of it (mapped.go; the
	// kernel's page cache keeps them): 0 means DefaultMappedBytes,
	// negative no bound. Linux only.
	MappedBytes int64

	// ResidentBytes is the resident size of the process below which the
	// pages of a read-only index are not released, whatever MappedBytes
	// says (mapped.go): 0 means DefaultResidentBytes, negative none (the
	// pages are released once per MappedBytes).
	ResidentBytes int64

	// Span is the time span of a partition of a new index: SpanMonth,
	// SpanQuarter or SpanYear (default, partition.go). An existing index
	// keeps the span it was created with.
	Span string

	// Logger receives debug messages; default discards.
	Logger *slog.Logger
}

const defaultMaxWildcardTerms = 1024

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Shards <= 0 {
		r.Shards = max(2, runtime.NumCPU())
	}
	if r.MaxWildcardTerms <= 0 {
		r.MaxWildcardTerms = defaultMaxWildcardTerms
	}
	if r.LockTimeout <= 0 {
		r.LockTimeout = 5 * time.Second
	}
	if r.HeavySlots <= 0 {
		r.HeavySlots = max(1, runtime.NumCPU()/2)
	}
	if r.HeavyQueue <= 0 {
		r.HeavyQueue = 2 * r.HeavySlots
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.Span == "" {
		r.Span = defaultSpan
	}
	return r
}

// SchemaError reports an index written by another schema version (or not
// by patchtrail at all). The index must be rebuilt.
type SchemaError struct {
	Dir   string
	Found int // version on disk; 0 when unknown
	Want  int // SchemaVersion
	Why   string
}

func (e *SchemaError) Error() string {
	why := e.Why
	if why == "" {
		why = fmt.Sprintf("schema version %d, this patchtrail needs %d", e.Found, e.Want)
	}
	return fmt.Sprintf("search: index %s: %s; rebuild it with `patchtrail reindex`", e.Dir, why)
}

// ErrLocked is returned (wrapped) by Open when the index stays locked by
// another writer for Options.LockTimeout.
var ErrLocked = errors.New("search: index locked by another process")

// ErrClosed is returned by operations on a closed Index.
var ErrClosed = errors.New("search: index closed")

type meta struct {
	SchemaVersion int `json:"schema_version"`
	Shards        int `json:"shards"` // per partition
	// Layout is "time" for an index partitioned by time (partition.go):
	// partitions of Span, named in Partitions. "" is an index made before
	// partitions: Shards shards, one partition of all time.
	Layout     string   `json:"layout,omitempty"`
	Span       string   `json:"span,omitempty"`
	Partitions []string `json:"partitions,omitempty"`
}

// Index is a bleve index partitioned by time (partition.go), each
// partition hash-sharded. Searching is safe for concurrent use; batches
// may be built concurrently but each Batch by one goroutine.
type Index struct {
	dir  string
	opts Options
	span string // "" for an index made before partitions
	kw   analysis.Analyzer

	mu      sync.RWMutex
	closed  bool
	parts   []*partition     // newest first
	all     bleve.IndexAlias // every shard of every partition
	nshards int              // in all
	lock    *os.File         // flock: exclusive for a writer (lockDir)
	cache   *resultCache
	facts   facts                     // counts that let a query skip filters (facts.go)
	heavy   *admit.Pool               // slots of heavy searches (guard.go)
	pages   atomic.Pointer[pageBound] // nil: mapped pages not bounded (mapped.go)
}

func shardDir(dir string, i int) string { return filepath.Join(dir, fmt.Sprintf("shard-%02d", i)) }

// Open opens the index in dir, creating it (and dir) if dir is empty or
// absent. An index of another schema version is a *SchemaError.
//
// Each shard is a scorch index (bleve's segment-based engine, zap files +
// a bolt root); segments are merged in the background. Queries run on the
// shards of several partitions in parallel through a bleve IndexAlias and
// merge by sort key; a date-sorted page searches the newest partitions
// first (partition.go).
func Open(dir string, opts *Options) (*Index, error) {
	o := opts.withDefaults()
	// Shards open as their partitions are first written: check now what
	// scorch would only refuse then.
	if o.MaxSegmentDocs < 0 || o.MaxSegmentDocs > mergeplan.MaxSegmentSizeLimit {
		return nil, fmt.Errorf("search: open %s: merged segment cap %d is outside 0..%d", dir, o.MaxSegmentDocs, mergeplan.MaxSegmentSizeLimit)
	}
	m, err := readMeta(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if o.ReadOnly {
			return nil, fmt.Errorf("search: open %s: no index: %w", dir, fs.ErrNotExist)
		}
		if ents, _ := os.ReadDir(dir); len(ents) > 1 || len(ents) == 1 && ents[0].Name() != lockFile {
			return nil, &SchemaError{Dir: dir, Want: SchemaVersion, Why: "directory is not empty but has no " + MetaFile}
		}
		return create(dir, o)
	case err != nil:
		return nil, err
	case m.SchemaVersion != SchemaVersion:
		return nil, &SchemaError{Dir: dir, Found: m.SchemaVersion, Want: SchemaVersion}
	case m.Shards < 1:
		return nil, &SchemaError{Dir: dir, Found: m.SchemaVersion, Want: SchemaVersion, Why: "meta file has no shard count"}
	}
	o.Shards = m.Shards
	ix := newIndex(dir, o)
	if ix.lock, err = lockDir(dir, o); err != nil {
		return nil, err
	}
	keys := []string{""}
	switch m.Layout {
	case "":
	case layoutTime:
		if !validSpan(m.Span) {
			ix.unlock()
			return nil, &SchemaError{Dir: dir, Found: m.SchemaVersion, Want: SchemaVersion, Why: fmt.Sprintf("meta file has an unknown partition span %q", m.Span)}
		}
		ix.span, keys = m.Span, m.Partitions
	default:
		ix.unlock()
		return nil, &SchemaError{Dir: dir, Found: m.SchemaVersion, Want: SchemaVersion, Why: fmt.Sprintf("meta file has an unknown layout %q", m.Layout)}
	}
	var parts []*partition
	budget, mapped := mappedBudget(o), fileResident()
	for _, k := range keys {
		p, err := openPartition(dir, ix.span, k, o, false)
		if err != nil {
			for _, p := range parts {
				p.close()
			}
			ix.unlock()
			return nil, err
		}
		parts = append(parts, p)
		if budget > 0 && fileResident() > mapped+budget {
			ix.unmapPages() // opening many segments: within the bound all along
			mapped = fileResident()
		}
	}
	ix.setParts(parts)
	ix.bindPages(o)
	if o.ReleasePages {
		// Opening reads every segment's footer and dictionaries, and
		// the kernel maps large folios around each read: 130-170 MB of
		// a 3 GB index resident before an import's first batch releases
		// them (a linux-integrity import into 512k messages peaked there).
		ix.releaseMappedPages()
	}
	o.Logger.Debug("search index opened", "dir", dir, "shards", m.Shards, "span", ix.span, "partitions", len(parts))
	return ix, nil
}

// isLockTimeout recognises bbolt's ErrTimeout ("timeout") without
// importing bbolt, an indirect dependency.
func isLockTimeout(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == "timeout" {
			return true
		}
	}
	return false
}

func newIndex(dir string, o Options) *Index {
	im := NewMapping().(*mapping.IndexMappingImpl)
	return &Index{dir: dir, opts: o, kw: im.AnalyzerNamed(keyword.Name), cache: newResultCache(o.CacheEntries), heavy: admit.New("search: heavy searches", o.HeavySlots, o.HeavyQueue)}
}

// mergeFloorDocs is the size below which scorch's merge planner counts a
// segment as this many documents (its FloorSegmentSize; scorch's default
// is 2,000). The planner allows about (documents in small segments) /
// floor segments, so with the default every batch smaller than 2,000
// documents per shard (the import's batches are bounded by bytes and by
// 2 s, and a sync's are a few messages) was merged at once into the
// growing segment before it: that segment was rewritten after every
// batch or two, each document 2.5 to 20 times over at batches of 500 to
// 50 documents (TestMergePlanRewrites), and merges took half of an
// import's CPU (doc/scaling.md).
// With a floor of 100 small segments wait for ten of their size before
// they are merged, so a document is rewritten about twice at most, for
// a few more segments per shard.
const mergeFloorDocs = 100

// mergePlanOptions are the options of scorch's merge planner for o:
// scorch's defaults (mergeplan.DefaultMergePlanOptions) but for the
// floor (mergeFloorDocs) and the cap on merged segments
// (Options.MaxSegmentDocs).
func mergePlanOptions(o Options) mergeplan.MergePlanOptions {
	p := mergeplan.DefaultMergePlanOptions
	p.FloorSegmentSize = mergeFloorDocs
	if o.MaxSegmentDocs > 0 {
		p.MaxSegmentSize = int64(o.MaxSegmentDocs)
	}
	return p
}

func runtimeConfig(o Options) map[string]interface{} {
	p := mergePlanOptions(o)
	return map[string]interface{}{
		"read_only":    o.ReadOnly,
		"unsafe_batch": o.NoSync,
		"bolt_timeout": o.LockTimeout.String(),
		// scorch decodes this map into its defaults' copy, field by field.
		"scorchMergePlanOptions": map[string]interface{}{
			"MaxSegmentSize":   p.MaxSegmentSize,
			"FloorSegmentSize": p.FloorSegmentSize,
		},
	}
}

func create(dir string, o Options) (*Index, error) {
	if !validSpan(o.Span) {
		return nil, fmt.Errorf("search: unknown partition span %q (want %s, %s or %s)", o.Span, SpanMonth, SpanQuarter, SpanYear)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("search: create index: %w", err)
	}
	ix := newIndex(dir, o)
	ix.span = o.Span
	var err error
	if ix.lock, err = lockDir(dir, o); err != nil {
		return nil, err
	}
	// Partitions are created as documents arrive (partFor).
	if err := writeMeta(dir, meta{SchemaVersion: SchemaVersion, Shards: o.Shards, Layout: layoutTime, Span: o.Span, Partitions: []string{}}); err != nil {
		ix.unlock()
		return nil, err
	}
	ix.setParts(nil)
	o.Logger.Debug("search index created", "dir", dir, "shards", o.Shards, "span", o.Span)
	return ix, nil
}

func readMeta(dir string) (meta, error) {
	var m meta
	b, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return m, err
		}
		return m, fmt.Errorf("search: read index meta: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, &SchemaError{Dir: dir, Want: SchemaVersion, Why: "unreadable " + MetaFile + ": " + err.Error()}
	}
	return m, nil
}

// writeMeta writes the meta file atomically (temp file, fsync, rename).
func writeMeta(dir string, m meta) error {
	b, _ := json.MarshalIndent(m, "", "  ")
	f, err := os.CreateTemp(dir, ".meta-*")
	if err != nil {
		return fmt.Errorf("search: write index meta: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, MetaFile))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("search: write index meta: %w", err)
	}
	return nil
}

// Dir returns the index directory.
func (ix *Index) Dir() string { return ix.dir }

// Shards returns the number of shards of a partition.
func (ix *Index) Shards() int { return ix.opts.Shards }

// DocCount returns the number of documents in all shards.
func (ix *Index) DocCount() (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return 0, ErrClosed
	}
	if ix.nshards == 0 {
		return 0, nil
	}
	n, err := ix.all.DocCount()
	if err != nil {
		return 0, fmt.Errorf("search: count: %w", err)
	}
	return n, nil
}

// Close closes every shard. It is idempotent; it waits for running
// searches and batches.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return nil
	}
	ix.closed = true
	err := ix.closeShards()
	ix.unlock()
	return err
}

// unlock releases the directory lock (closing the file drops the flock).
func (ix *Index) unlock() {
	if ix.lock != nil {
		ix.lock.Close()
		ix.lock = nil
	}
}

func (ix *Index) closeShards() error {
	var errs []string
	for _, p := range ix.parts {
		if err := p.close(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("search: close %s: %s", ix.dir, strings.Join(errs, "; "))
	}
	return nil
}
