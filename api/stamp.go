package api

import (
	"os"
	"path/filepath"
)

// storeStamp names a state of the store's files: the modification time
// and size of the database and of its write-ahead log. SQLite appends
// every committed transaction to the log and checkpoints it into the
// database, so a write by any process (an import, `link`, `cve import`,
// a radar run, `serve --sync`) changes the stamp; readers change neither
// file. Two stat calls cost far less than a query.
type storeStamp struct {
	dbTime, dbSize, walTime, walSize int64
}

// storeStamp returns the current stamp of the store; false when the
// database file cannot be read (nothing is cached then).
func (s *Server) storeStamp() (storeStamp, bool) {
	db := filepath.Join(s.st.Dir(), "store.db")
	fi, err := os.Stat(db)
	if err != nil {
		return storeStamp{}, false
	}
	st := storeStamp{dbTime: fi.ModTime().UnixNano(), dbSize: fi.Size()}
	// No log is a state too: the last connection checkpointed and
	// removed it.
	if fi, err := os.Stat(db + "-wal"); err == nil {
		st.walTime, st.walSize = fi.ModTime().UnixNano(), fi.Size()
	}
	return st, true
}
