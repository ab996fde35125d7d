package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The index queue lists messages whose search document must be written
// (new messages, messages whose thread or lists changed). Rows are added
// in the same transaction as the change and removed only once the search
// index holds the document durably, so a crash between the two is
// repaired by indexing what is still queued.
const queueSchema = `
CREATE TABLE IF NOT EXISTS index_queue (message INTEGER PRIMARY KEY);
`

// Enqueue queues messages for (re)indexing.
func (t *Tx) Enqueue(ids ...int64) error {
	for _, id := range ids {
		if _, err := t.exec(`INSERT OR IGNORE INTO index_queue(message) VALUES (?)`, id); err != nil {
			return err
		}
	}
	return nil
}

// EnqueueThread queues every message of thread tid.
func (t *Tx) EnqueueThread(tid int64) error {
	_, err := t.exec(`INSERT OR IGNORE INTO index_queue(message) SELECT id FROM messages WHERE thread = ?`, tid)
	return err
}

// EnqueueAll queues every stored message (a full reindex).
func (s *Store) EnqueueAll(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO index_queue(message) SELECT id FROM messages`)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// Queued returns up to limit queued message ids after the id after.
func (s *Store) Queued(ctx context.Context, after int64, limit int) ([]int64, error) {
	rows, err := s.query(ctx, `SELECT message FROM index_queue WHERE message > ? ORDER BY message LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return collectIDs(rows)
}

// QueueLen counts queued messages.
func (s *Store) QueueLen(ctx context.Context) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, `SELECT count(*) FROM index_queue`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return n, nil
}

// Dequeue removes messages from the queue once they are indexed.
func (s *Store) Dequeue(ctx context.Context, ids []int64) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		q := `DELETE FROM index_queue WHERE message IN (?` + strings.Repeat(",?", n-1) + `)`
		if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}

// ThreadMembers returns the row ids of the messages of thread tid.
func (t *Tx) ThreadMembers(tid int64) ([]int64, error) {
	st, err := t.stmt(`SELECT id FROM messages WHERE thread = ?`)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(t.ctx, tid)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return collectIDs(rows)
}

// collectIDs reads a column of row ids and closes rows.
func collectIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}
