package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SourceState is what the store knows of one source (a path, a mirror
// directory, an IMAP URL): when it was last synced, how many messages it
// brought and what went wrong last time.
type SourceState struct {
	Path string `json:"path"`
	List string `json:"list"`
	// LastSync is the end of the last import of the source; zero if it
	// never completed one.
	LastSync time.Time `json:"last_sync"`
	// LastError is the error of the last attempt, "" when it succeeded.
	LastError string `json:"last_error,omitempty"`
	// Messages counts the messages the source added to the store.
	Messages int64 `json:"messages"`
	// Problems counts its unreadable items (missing blobs, rejected
	// messages).
	Problems int64 `json:"problems"`
}

// SourceStates returns the state of every source, ordered by list and
// path.
func (s *Store) SourceStates(ctx context.Context) ([]SourceState, error) {
	rows, err := s.query(ctx, `SELECT s.path, l.name, s.last_sync, s.last_error, s.messages,
		(SELECT count(*) FROM problems p WHERE p.source = s.id AND p.message = 0)
		FROM sources s JOIN lists l ON l.id = s.list ORDER BY l.name, s.path`)
	if err != nil {
		return nil, fmt.Errorf("store: source states: %w", err)
	}
	defer rows.Close()
	var out []SourceState
	for rows.Next() {
		var st SourceState
		var last int64
		if err := rows.Scan(&st.Path, &st.List, &last, &st.LastError, &st.Messages, &st.Problems); err != nil {
			return nil, fmt.Errorf("store: source states: %w", err)
		}
		if last > 0 {
			st.LastSync = time.Unix(last, 0)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: source states: %w", err)
	}
	return out, nil
}

// RecordSync notes the outcome of one sync of the source at path: on
// success (syncErr "") the time of the sync and no error, on failure the
// error, keeping the time of the last success. A source the store does
// not know yet is created under list; with list "" it is left alone.
func (s *Store) RecordSync(ctx context.Context, path, list string, when time.Time, syncErr string) error {
	tx, err := s.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var id int64
	row, err := tx.queryRow(`SELECT id FROM sources WHERE path = ?`, path)
	if err != nil {
		return err
	}
	switch err := row.Scan(&id); {
	case errors.Is(err, sql.ErrNoRows):
		if list == "" {
			return nil
		}
		lid, err := tx.EnsureList(list, "")
		if err != nil {
			return err
		}
		if id, err = tx.EnsureSource(path, lid); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("store: record sync of %s: %w", path, err)
	}
	if syncErr == "" {
		_, err = tx.exec(`UPDATE sources SET last_sync = ?, last_error = '' WHERE id = ?`, when.Unix(), id)
	} else {
		_, err = tx.exec(`UPDATE sources SET last_error = ? WHERE id = ?`, syncErr, id)
	}
	if err != nil {
		return fmt.Errorf("store: record sync of %s: %w", path, err)
	}
	return tx.Commit()
}
