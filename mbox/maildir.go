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
)

// maildirFile is one message file of a Maildir.
type maildirFile struct {
	sub  string // "cur" or "new"
	name string
	key  string // "maildir:" + unique part
}

// maildirReader yields the files of cur/ and new/ sorted by name; tmp/
// holds deliveries in progress and is ignored.
type maildirReader struct {
	ctx    context.Context
	log    *slog.Logger
	dir    string
	files  []maildirFile
	i      int
	err    error
	closed bool
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
			return nil, fmt.Errorf("mbox: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") || !e.Type().IsRegular() {
				continue
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
			r.files = append(r.files, maildirFile{sub: sub, name: name, key: key})
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
	if r.i >= len(r.files) {
		r.err = io.EOF
		return nil, io.EOF
	}
	f := r.files[r.i]
	r.i++
	path := filepath.Join(r.dir, f.sub, f.name)
	m := &Message{Key: f.key, Checkpoint: "1", Where: path}
	data, fi, err := readMaildirFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		// A mail client moved or flagged it since we listed the directory.
		if p, ok := r.find(f); ok {
			path = p
			m.Where = p
			data, fi, err = readMaildirFile(p)
		}
	}
	if err != nil {
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

func readMaildirFile(path string) ([]byte, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, err
	}
	return data, fi, nil
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
