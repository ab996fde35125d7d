// Package store is patchtrail's durable state: one SQLite database (WAL
// mode, through the pure-Go modernc.org/sqlite driver) in the data
// directory holding raw messages (zstd-compressed), their parsed metadata,
// thread membership with ghosts, list and source memberships, per-source
// checkpoints and per-message problems.
//
// There is one writer at a time (an exclusive lock file in the data
// directory); readers may run alongside it. A write transaction (Tx)
// covers a batch of messages together with the checkpoints of the source
// positions they came from, so a crash at any moment leaves either the
// whole batch or none of it: re-running the import resumes from the last
// committed checkpoint and the result equals a clean import.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/klauspost/compress/zstd"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// SchemaVersion is the version of the database layout below. A database
// written by another version is refused with a clear error.
const SchemaVersion = 1

// ErrNotFound is returned when a message, thread or source is unknown.
var ErrNotFound = errors.New("store: not found")

// ErrLocked is returned when another process holds the write lock.
var ErrLocked = errors.New("store: data directory is locked by another patchtrail process")

// Options tunes Open. A nil *Options means defaults.
type Options struct {
	// ReadOnly opens the database for reading only, without the write lock.
	ReadOnly bool
	// ReadCacheBytes bounds SQLite's page cache over all the connections
	// of a read-only store (each gets its share); default
	// DefaultReadCacheBytes.
	ReadCacheBytes int64
	// ReadMmapBytes bounds the store file mapped over all the connections
	// of a read-only store (each maps up to its share of the file; pages
	// past it are read into the page cache); default DefaultReadMmapBytes,
	// negative for none.
	ReadMmapBytes int64
}

// The memory of a read-only store (`serve`, the read commands). A reader
// keeps several connections (readConns), and SQLite gives each its own
// page cache and its own mapping of the file, so per-connection settings
// multiply: with 64 MiB of cache and 1 GiB mapped per connection, a
// server on 2 cores could hold 4.3 GiB for the store alone as the
// archive grows (mapped pages are counted in the resident size once per
// mapping). These bound the total instead, whatever the archive's size;
// the kernel's own page cache, not counted against the process, still
// keeps the file's hot pages.
const (
	DefaultReadCacheBytes = 32 << 20
	DefaultReadMmapBytes  = 128 << 20
)

// writerCacheKiB is the page cache of the one writer connection, in KiB
// (SQLite's negative cache_size): the budget of an import counts it
// (indexer.GoMemoryLimit). An import appends; its lookups (Message-IDs,
// threads) touch few pages, and the kernel's page cache holds the rest.
// The radar's update after an import reads every posting's evidence, a
// scan that filled a 32 MiB cache at the import's peak for nothing:
// 8 MiB took 24 MB off that peak with no loss of speed, importing the
// io-uring epoch or linux-bluetooth into a 433k store (doc/scaling.md).
const writerCacheKiB = 8 << 10

// Store is an open data directory.
type Store struct {
	dir      string
	db       *sql.DB
	lock     *os.File
	readOnly bool

	encOnce sync.Once
	enc     *zstd.Encoder
	dec     *zstd.Decoder

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared read statements (candidates.go)

	closeOnce sync.Once
	closeErr  error
}

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lists (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	list_id TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS sources (
	id INTEGER PRIMARY KEY,
	path TEXT NOT NULL UNIQUE,
	list INTEGER NOT NULL REFERENCES lists(id),
	last_sync INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	messages INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS checkpoints (
	source INTEGER NOT NULL REFERENCES sources(id),
	key TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (source, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
	id INTEGER PRIMARY KEY,
	message_id TEXT NOT NULL UNIQUE,
	content_hash BLOB NOT NULL,
	thread INTEGER NOT NULL,
	subject TEXT NOT NULL,
	norm_subject TEXT NOT NULL,
	from_name TEXT NOT NULL,
	from_email TEXT NOT NULL,
	date INTEGER NOT NULL,
	received INTEGER NOT NULL,
	size INTEGER NOT NULL,
	deleted INTEGER NOT NULL DEFAULT 0,
	parent TEXT NOT NULL DEFAULT '',
	meta BLOB NOT NULL,
	raw BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_thread ON messages(thread, date);
CREATE INDEX IF NOT EXISTS messages_norm_subject ON messages(norm_subject);
CREATE INDEX IF NOT EXISTS messages_date ON messages(date);
-- The counts of Stats (the home page, /api/v1/stats, every serve start)
-- read these instead of scanning messages, whose rows hold the raw mail:
-- 1.3 s + 0.6 s + 0.6 s at 433,541 messages before, 30 + 50 + 0 ms with
-- them (doc/scaling.md).
CREATE INDEX IF NOT EXISTS messages_live ON messages(thread) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS messages_deleted ON messages(id) WHERE deleted = 1;
-- What the radar's update reads of every message with evidence
-- (RadarSlimHeaders), so that it does not visit the rows, which hold the
-- raw mail: at 480,928 messages the join took 1.7 s through the rows,
-- 0.4 s through this index (78 MB) in the sqlite3 shell.
CREATE INDEX IF NOT EXISTS messages_head ON messages(id, message_id, thread, from_email, date, subject) WHERE deleted = 0;
-- Every Message-ID ever seen: a real message's ids (message > 0) and
-- ghosts (message = 0), ids referenced by some message but never received.
CREATE TABLE IF NOT EXISTS mids (
	mid TEXT PRIMARY KEY,
	message INTEGER NOT NULL,
	thread INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mids_thread ON mids(thread);
CREATE INDEX IF NOT EXISTS mids_message ON mids(message);
CREATE TABLE IF NOT EXISTS refs (
	message INTEGER NOT NULL,
	pos INTEGER NOT NULL,
	mid TEXT NOT NULL,
	PRIMARY KEY (message, pos)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS refs_mid ON refs(mid);
CREATE TABLE IF NOT EXISTS memberships (
	message INTEGER NOT NULL,
	list INTEGER NOT NULL,
	source INTEGER NOT NULL,
	PRIMARY KEY (message, list)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memberships_list ON memberships(list, message);
-- Problems of a message (message > 0), of an item of a mailing-list
-- source (source > 0) or of a commit of a code repository (repo > 0).
CREATE TABLE IF NOT EXISTS problems (
	id INTEGER PRIMARY KEY,
	message INTEGER NOT NULL DEFAULT 0,
	source INTEGER NOT NULL DEFAULT 0,
	location TEXT NOT NULL,
	problem TEXT NOT NULL,
	repo INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS problems_message ON problems(message);
CREATE UNIQUE INDEX IF NOT EXISTS problems_item ON problems(source, repo, location, problem) WHERE message = 0;
`

// LockHolder is the pid the process holding the write lock of the data
// directory dir recorded, 0 when unknown or when that process has ended.
// Call it when the lock was found held: the file keeps the pid of the last
// holder after it ends.
func LockHolder(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "lock"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return 0 // ended
	}
	return pid
}

// Open opens (creating if needed) the store in the data directory dir.
func Open(ctx context.Context, dir string, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	s := &Store{dir: dir, readOnly: opts.ReadOnly}
	path := filepath.Join(dir, "store.db")
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("store: no store in %s (run `patchtrail import` first): %w", dir, err)
		}
	} else {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			lock.Close()
			if pid := LockHolder(dir); pid > 0 {
				return nil, fmt.Errorf("%w (%s, pid %d)", ErrLocked, dir, pid)
			}
			return nil, fmt.Errorf("%w (%s)", ErrLocked, dir)
		}
		// The holder's pid, for the messages of those who find it locked.
		if lock.Truncate(0) == nil {
			fmt.Fprintf(lock, "%d\n", os.Getpid())
		}
		s.lock = lock
	}
	dsn := "file:" + path + fmt.Sprintf("?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(0)&_pragma=cache_size(%d)&_txlock=immediate", -writerCacheKiB)
	if opts.ReadOnly {
		cache, mmap := readSettings(opts, readConns())
		dsn = "file:" + path + fmt.Sprintf("?mode=ro&_pragma=busy_timeout(10000)&_pragma=cache_size(%d)&_pragma=mmap_size(%d)", -(cache>>10), mmap)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.db = db
	if !opts.ReadOnly {
		// One connection writes; the writer serialises everything anyway.
		db.SetMaxOpenConns(1)
		if err := s.migrate(ctx); err != nil {
			s.Close()
			return nil, err
		}
	} else {
		// A reader keeps its connections: opening one reads the schema
		// and starts a cold page cache, which under load cost more than
		// the queries. SQLite here is CPU-bound Go code, so a few
		// connections per CPU is all that runs usefully at once.
		n := readConns()
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		if err := s.checkVersion(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// readSettings returns the page cache and the mapped bytes of each of
// the conns connections of a read-only store (see DefaultReadCacheBytes).
func readSettings(opts *Options, conns int) (cache, mmap int64) {
	cache, mmap = opts.ReadCacheBytes, opts.ReadMmapBytes
	if cache <= 0 {
		cache = DefaultReadCacheBytes
	}
	if mmap < 0 {
		mmap = 0
	} else if mmap == 0 {
		mmap = DefaultReadMmapBytes
	}
	// SQLite's smallest useful cache is a few pages; 1 MiB each at least.
	return max(cache/int64(conns), 1<<20), mmap / int64(conns)
}

func (s *Store) migrate(ctx context.Context) error {
	if err := s.checkVersion(ctx); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := s.addProblemRepo(ctx); err != nil {
		return err
	}
	var summary int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'cve_summary'`).Scan(&summary); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	var mentions int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'mentions'`).Scan(&mentions); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, schema+patchSchema+queueSchema+commitQueueSchema+linkSchema+radarSchema); err != nil {
		return fmt.Errorf("store: create schema: %w", err)
	}
	if summary == 0 {
		if err := fillCVESummary(ctx, s.db); err != nil {
			return err
		}
	}
	if mentions == 0 {
		if err := fillMentions(ctx, s); err != nil {
			return err
		}
	}
	_, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)`, fmt.Sprint(SchemaVersion))
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// addProblemRepo brings a problems table written before repository
// problems were recorded up to date: it gains the repo column, and its
// unique index on source items becomes one on source and repo items.
func (s *Store) addProblemRepo(ctx context.Context) error {
	var cols, has int
	err := s.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(name = 'repo'), 0) FROM pragma_table_info('problems')`).Scan(&cols, &has)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if cols == 0 || has > 0 {
		return nil
	}
	_, err = s.db.ExecContext(ctx, `ALTER TABLE problems ADD COLUMN repo INTEGER NOT NULL DEFAULT 0; DROP INDEX IF EXISTS problems_source`)
	if err != nil {
		return fmt.Errorf("store: add problems.repo: %w", err)
	}
	return nil
}

// checkVersion returns ErrNotFound for an empty database, an error for a
// database of another schema version, nil when it matches.
func (s *Store) checkVersion(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'meta'`).Scan(&n); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v)
	if err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if v != fmt.Sprint(SchemaVersion) {
		return fmt.Errorf("store: %s has schema version %s, this patchtrail needs %d: re-import into a new data directory", s.dir, v, SchemaVersion)
	}
	return nil
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

// DB exposes the database for packages that keep their own tables in the
// store (patches, links, CVEs).
func (s *Store) DB() *sql.DB { return s.db }

// meta returns the value of a meta key ("" when it has none).
func (s *Store) meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return v, nil
}

// setMetaSQL sets the value of a meta key.
const setMetaSQL = `INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)`

// setMeta sets the value of a meta key in the transaction.
func (t *Tx) setMeta(key, value string) error {
	_, err := t.exec(setMetaSQL, key, value)
	return err
}

// Close closes the database and releases the write lock. It is idempotent
// and safe while other goroutines still use the store: their calls then
// fail with database/sql's "database is closed" error (s.db is never
// reset, so nothing races on it), and the zstd codecs, which hold no
// operating-system resources, stay usable until the garbage collector
// takes them.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stmtMu.Lock()
		for q, st := range s.stmts {
			st.Close()
			delete(s.stmts, q)
		}
		s.stmtMu.Unlock()
		if s.db != nil {
			s.closeErr = s.db.Close()
		}
		if s.lock != nil {
			s.lock.Close()
		}
	})
	return s.closeErr
}

// encoderWindow is the zstd window of the stored messages (codecs).
const encoderWindow = 1 << 20

func (s *Store) codecs() {
	s.encOnce.Do(func() {
		// EncodeAll is called from every parse worker at once. Each
		// message is a frame of its own, so a window past the largest
		// common message buys nothing, and each of the encoders keeps a
		// history buffer of twice the window (16 MiB at the default 8 MiB
		// window, 2 MiB at 1 MiB) for as long as the store is open.
		s.enc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(runtime.NumCPU()), zstd.WithWindowSize(encoderWindow))
		s.dec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
	})
}

// Compress returns the stored form of raw message bytes. It is safe for
// concurrent use, so parse workers compress before the writer stores.
func (s *Store) Compress(raw []byte) []byte {
	s.codecs()
	return s.enc.EncodeAll(raw, make([]byte, 0, len(raw)/3+64))
}

func (s *Store) decompress(b []byte) ([]byte, error) {
	s.codecs()
	out, err := s.dec.DecodeAll(b, nil)
	if err != nil {
		return nil, fmt.Errorf("store: decompress: %w", err)
	}
	return out, nil
}
