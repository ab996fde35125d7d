package mbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"patchtrail/internal/regfile"
)

// maildirFile is one message file of a Maildir.
type maildirFile struct {
	sub  string // "cur" or "new"
	name string
	key  string // "maildir:" + unique part
	bad  error  // set for an entry that is no message file: yielded as a problem
}

// maildirReader yields the files of cur/ and new/ sorted by name; tmp/
// holds deliveries in progress and is ignored.
type maildirReader struct {
	ctx      context.Context
	log      *slog.Logger
	dir      string
	problems []*Message // unreadable subdirectories, yielded first
	files    []maildirFile
	i        int
	err      error
	closed   bool
}

// maildirKeyPrefix starts the checkpoint key of a Maildir message.
const maildirKeyPrefix = "maildir:"

// uniquePart strips the info suffix (":2,FLAGS", or the "!2," and ";2,"
// some systems use where ':' is not allowed in file names).
func uniquePart(name string) string {
	for _, sep := range []string{":2,", "!2,", ";2,", ":1,"} {
		if i := strings.LastIndex(name, sep); i > 0 {
			return name[:i]
		}
	}
	return name
}

func openMaildir(ctx context.Context, dir string, o *Options) (Reader, error) {
	r := &maildirReader{ctx: ctx, log: o.Logger, dir: dir}
	seen := map[string]bool{}
	skipped := 0
	for _, sub := range []string{"cur", "new"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			// A looping or unreadable new/ or cur/ is a problem of
			// that directory; what could be listed is still read.
			r.problems = append(r.problems, &Message{Where: filepath.Join(dir, sub),
				Err: fmt.Errorf("mbox: Maildir directory unreadable: %w", err)})
			o.Logger.Warn("mbox: unreadable Maildir directory", "path", filepath.Join(dir, sub), "err", err)
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") || e.IsDir() {
				continue
			}
			var bad error
			switch t := e.Type(); {
			case t.IsRegular(), t&fs.ModeSymlink != 0:
				// A symlink is followed when read (mairix and
				// notmuch search folders are Maildirs of links).
			default:
				bad = fmt.Errorf("mbox: %s: not a regular file: it is %s", filepath.Join(dir, sub, name), regfile.Kind(t))
			}
			key := maildirKeyPrefix + uniquePart(name)
			if seen[key] {
				continue // moved from new/ to cur/ while we listed
			}
			seen[key] = true
			if ck, ok := o.Checkpoint(key); ok && ck != "" {
				skipped++
				continue
			}
			r.files = append(r.files, maildirFile{sub: sub, name: name, key: key, bad: bad})
		}
	}
	sort.Slice(r.files, func(i, j int) bool { return r.files[i].name < r.files[j].name })
	o.Logger.Debug("mbox: opened Maildir", "path", dir, "messages", len(r.files), "done_before", skipped)
	return r, nil
}

func (r *maildirReader) Name() string { return "" }

func (r *maildirReader) Next() (*Message, error) {
	if r.err != nil {
		return nil, r.err
	}
	if err := r.ctx.Err(); err != nil {
		r.err = fmt.Errorf("mbox: %s: %w", r.dir, err)
		return nil, r.err
	}
	if len(r.problems) > 0 {
		m := r.problems[0]
		r.problems = r.problems[1:]
		return m, nil
	}
	if r.i >= len(r.files) {
		r.err = io.EOF
		return nil, io.EOF
	}
	f := r.files[r.i]
	r.i++
	path := filepath.Join(r.dir, f.sub, f.name)
	m := &Message{Key: f.key, Checkpoint: "1", Where: path}
	if f.bad != nil {
		m.Err = f.bad
		r.log.Warn("mbox: skipping Maildir entry", "path", path, "err", f.bad)
		return m, nil
	}
	data, fi, err := readMaildirFile(r.ctx, path, maxMessage)
	if errors.Is(err, fs.ErrNotExist) {
		// A mail client moved or flagged it since we listed the directory.
		if p, ok := r.find(f); ok {
			path = p
			m.Where = p
			data, fi, err = readMaildirFile(r.ctx, p, maxMessage)
		}
	}
	if err != nil {
		if cerr := r.ctx.Err(); cerr != nil {
			r.err = fmt.Errorf("mbox: %s: %w", r.dir, cerr)
			return nil, r.err
		}
		m.Err = fmt.Errorf("mbox: %w", err)
		r.log.Warn("mbox: unreadable Maildir message", "path", path, "err", err)
		return m, nil
	}
	m.Data = data
	m.Received = fi.ModTime().UTC()
	if len(data) == 0 {
		m.Data = nil
		m.Err = fmt.Errorf("mbox: %s: empty message", path)
	}
	return m, nil
}

// find looks in cur/ and new/ for the current name of a message whose
// file went away.
func (r *maildirReader) find(f maildirFile) (string, bool) {
	unique := uniquePart(f.name)
	for _, sub := range []string{"cur", "new"} {
		entries, err := os.ReadDir(filepath.Join(r.dir, sub))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.Name() != f.name && uniquePart(e.Name()) == unique {
				return filepath.Join(r.dir, sub, e.Name()), true
			}
		}
	}
	return "", false
}

// readMaildirFile reads the message file at path, following a symlink.
// Only regular files are read (a FIFO would block, a device never end),
// and none larger than limit bytes; the file is read in pieces, checking
// ctx between them, and never past limit even if it grows meanwhile.
func readMaildirFile(ctx context.Context, path string, limit int64) ([]byte, os.FileInfo, error) {
	// A FIFO put there since the listing must not block the open.
	f, fi, err := regfile.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	link := ""
	if lfi, err := os.Lstat(path); err == nil && lfi.Mode()&fs.ModeSymlink != 0 {
		link = "a symlink to "
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: not a regular file: it is %s%s", path, link, regfile.Kind(fi.Mode()))
	}
	if fi.Size() > limit {
		return nil, nil, fmt.Errorf("%s: message of %d bytes is larger than %d bytes", path, fi.Size(), limit)
	}
	data := make([]byte, 0, fi.Size()+1)
	const piece = 1 << 20
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		end := min(cap(data), len(data)+piece)
		n, err := f.Read(data[len(data):end])
		data = data[:len(data)+n]
		if int64(len(data)) > limit {
			return nil, nil, fmt.Errorf("%s: message grew beyond %d bytes while read", path, limit)
		}
		if err == io.EOF {
			return data, fi, nil
		}
		if err != nil {
			return nil, nil, err
		}
	}
}

func (r *maildirReader) Close() error {
	if !r.closed {
		r.closed = true
		if r.err == nil {
			r.err = errors.New("mbox: reader is closed")
		}
	}
	return nil
}
