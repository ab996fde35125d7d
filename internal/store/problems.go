package store

import (
	"context"
	"fmt"
	"time"
)

// Problem is one recorded problem: of a stored message (Message > 0:
// kept with the problem, e.g. a bad header or a Message-ID already used),
// of an unreadable item of a source (Message 0, Location set) or of a
// commit of a registered repository that could not be read (Repo set).
type Problem struct {
	ID        int64     `json:"id"`
	Source    string    `json:"source"`             // the source's path or URL, "" when unknown
	Repo      string    `json:"repo,omitempty"`     // the registered repository's name
	Location  string    `json:"location,omitempty"` // the item in the source (blob, file, offset)
	Message   int64     `json:"message,omitempty"`  // row id of the message
	MessageID string    `json:"message_id,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	Date      time.Time `json:"date,omitzero"`
	Problem   string    `json:"problem"`
}

// Problems lists every recorded problem in the order recorded.
func (s *Store) Problems(ctx context.Context) ([]Problem, error) {
	rows, err := s.query(ctx, `SELECT p.id, coalesce(s.path, ''), coalesce(r.name, ''), p.location, p.message, coalesce(m.message_id, ''), coalesce(m.subject, ''), coalesce(m.date, 0), p.problem
		FROM problems p LEFT JOIN sources s ON s.id = p.source LEFT JOIN repos r ON r.id = p.repo AND p.repo != 0
		LEFT JOIN messages m ON m.id = p.message AND p.message != 0 ORDER BY p.id`)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := []Problem{}
	for rows.Next() {
		var p Problem
		var d int64
		if err := rows.Scan(&p.ID, &p.Source, &p.Repo, &p.Location, &p.Message, &p.MessageID, &p.Subject, &d, &p.Problem); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		p.Date = fromUnix(d)
		out = append(out, p)
	}
	return out, rows.Err()
}
