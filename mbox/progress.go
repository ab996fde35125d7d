package mbox

import (
	"io"
	"os"
	"strconv"
	"strings"
)

// Sizer is implemented by readers that can tell, cheaply, how much they
// will read, for a progress display: Total is the number of items (0 when
// unknown) and Bytes the number of bytes (0 when unknown).
type Sizer interface {
	Size() (items, bytes int64)
}

// Size counts the commits left to read in every epoch (`git rev-list
// --count`), about one message each.
func (r *inboxReader) Size() (items, bytes int64) {
	for _, ep := range r.epochs {
		if ep.tip == "" {
			continue
		}
		rng := ep.tip
		if ep.from != "" {
			rng = ep.from + ".." + ep.tip
		}
		p, err := startGit(r.ctx, ep.dir, false, "rev-list", "--count", rng)
		if err != nil {
			return 0, 0
		}
		out, _ := io.ReadAll(io.LimitReader(p.stdout, 64))
		if p.finish() != nil {
			return 0, 0
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		items += n
	}
	return items, 0
}

// Size is the number of Maildir files not read before.
func (r *maildirReader) Size() (items, bytes int64) { return int64(len(r.files) - r.i), 0 }

// Size is the size of an uncompressed mbox file (what is left of it when
// resuming is not known, so the whole size); 0 for a compressed one,
// whose decompressed size is unknown.
func (r *mboxReader) Size() (items, bytes int64) {
	if !r.plain {
		return 0, 0
	}
	f, ok := r.file.(*os.File)
	if !ok {
		return 0, 0
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, 0
	}
	return 0, fi.Size()
}
