package cve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoRecords is returned by Open when root holds none of the requested
// state directories.
var ErrNoRecords = errors.New("cve: no CVE record directories found")

// Options tune a Reader. The zero value reads cve/published.
type Options struct {
	// States are the subdirectories of cve/ to read, in order; nil means
	// {"published"}. Missing ones are skipped.
	States []string
	// OnError receives every malformed record, which is then skipped.
	// Nil logs them as warnings on Logger.
	OnError func(*RecordError)
	// Unchanged, when set, is asked before a record is parsed; returning
	// true skips the record (the caller already holds this fingerprint).
	Unchanged func(id, fingerprint string) bool
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if len(out.States) == 0 {
		out.States = []string{"published"}
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out
}

type stateDir struct{ state, dir string }

type yearDir struct {
	year int
	dir  string
}

type recordEntry struct {
	id     string
	number int
	exts   []string
}

// Reader streams the records of a vulns repository in (state, year,
// number) order, one year directory listed at a time. It is not safe
// for concurrent use.
type Reader struct {
	ctx  context.Context
	opts Options

	states []stateDir
	si     int
	years  []yearDir
	yi     int
	recs   []recordEntry
	ri     int

	err                error
	malformed, skipped int
}

// Open starts reading the vulns repository at root: a checkout of
// vulns.git (holding cve/), its cve/ directory, or a directory holding
// the state directories directly.
func Open(ctx context.Context, root string, opts *Options) (*Reader, error) {
	o := opts.withDefaults()
	r := &Reader{ctx: ctx, opts: o}
	for _, st := range o.States {
		if st == "" || strings.ContainsAny(st, `/\`) || st == "." || st == ".." {
			return nil, fmt.Errorf("cve: invalid state %q", st)
		}
		for _, dir := range []string{filepath.Join(root, "cve", st), filepath.Join(root, st)} {
			if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
				r.states = append(r.states, stateDir{st, dir})
				break
			}
		}
	}
	if len(r.states) == 0 {
		return nil, fmt.Errorf("%w: %v under %s", ErrNoRecords, o.States, root)
	}
	r.si = -1
	return r, nil
}

// Next returns the next well-formed, changed record, or io.EOF. Errors
// (unreadable directories, a cancelled ctx) are sticky; malformed
// records are not errors (see Options.OnError).
func (r *Reader) Next() (*Record, error) {
	for r.err == nil {
		if err := r.ctx.Err(); err != nil {
			r.err = fmt.Errorf("cve: %w", err)
			break
		}
		if r.ri < len(r.recs) {
			e := r.recs[r.ri]
			r.ri++
			if rec := r.load(e); rec != nil {
				return rec, nil
			}
			continue
		}
		if r.yi < len(r.years) {
			r.listYear()
			continue
		}
		r.nextState()
	}
	return nil, r.err
}

// Close ends the reader; it holds no open files between calls, so it
// only makes Next return an error. It is idempotent.
func (r *Reader) Close() error {
	if r.err == nil {
		r.err = errors.New("cve: reader closed")
	}
	return nil
}

// Malformed is the number of records reported as malformed so far.
func (r *Reader) Malformed() int { return r.malformed }

// Skipped is the number of records Options.Unchanged skipped so far.
func (r *Reader) Skipped() int { return r.skipped }

// nextState lists the years of the next state directory.
func (r *Reader) nextState() {
	r.si++
	if r.si >= len(r.states) {
		r.err = io.EOF
		return
	}
	sd := r.states[r.si]
	ents, err := os.ReadDir(sd.dir)
	if err != nil {
		r.err = fmt.Errorf("cve: %w", err)
		return
	}
	r.years = r.years[:0]
	r.yi = 0
	for _, e := range ents {
		y, err := strconv.Atoi(e.Name())
		if err != nil || len(e.Name()) != 4 || !e.IsDir() {
			continue
		}
		r.years = append(r.years, yearDir{y, filepath.Join(sd.dir, e.Name())})
	}
	sort.Slice(r.years, func(i, j int) bool { return r.years[i].year < r.years[j].year })
}

// listYear lists and sorts the records of the next year directory.
func (r *Reader) listYear() {
	yd := r.years[r.yi]
	r.yi++
	ents, err := os.ReadDir(yd.dir)
	if err != nil {
		r.err = fmt.Errorf("cve: %w", err)
		return
	}
	index := make(map[string]int)
	r.recs = r.recs[:0]
	r.ri = 0
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		id, ext, ok := strings.Cut(e.Name(), ".")
		if !ok || ext == "" {
			continue
		}
		_, n, ok := parseID(id)
		if !ok {
			continue
		}
		i, seen := index[id]
		if !seen {
			i = len(r.recs)
			index[id] = i
			r.recs = append(r.recs, recordEntry{id: id, number: n})
		}
		r.recs[i].exts = append(r.recs[i].exts, ext)
	}
	sort.Slice(r.recs, func(i, j int) bool {
		a, b := r.recs[i], r.recs[j]
		if a.number != b.number {
			return a.number < b.number
		}
		return a.id < b.id
	})
}

// load reads and parses one record; malformed and unchanged records
// return nil.
func (r *Reader) load(e recordEntry) *Record {
	yd := r.years[r.yi-1]
	base := filepath.Join(yd.dir, e.id)
	files, err := readRecordFiles(base, e.exts)
	if err != nil {
		re, ok := err.(*RecordError)
		if !ok {
			re = &RecordError{Path: base, Err: err}
		}
		r.report(re)
		return nil
	}
	if r.opts.Unchanged != nil && r.opts.Unchanged(e.id, files.fingerprint()) {
		r.skipped++
		return nil
	}
	rec, err := parseRecord(base, r.states[r.si].state, files)
	if err != nil {
		var re *RecordError
		if !errors.As(err, &re) {
			re = &RecordError{Path: base, Err: err}
		}
		r.report(re)
		return nil
	}
	return rec
}

func (r *Reader) report(re *RecordError) {
	r.malformed++
	if r.opts.OnError != nil {
		r.opts.OnError(re)
		return
	}
	r.opts.Logger.Warn("cve: skipping malformed record", "path", re.Path, "line", re.Line, "err", re.Err)
}
