package radar

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"patchtrail/internal/store"
)

// Query selects the radar's rows. Zero fields do not filter.
type Query struct {
	List     string    // only postings on this list
	From, To time.Time // posting date (of the newest version) in [From, To)
	MinScore float64   // only scores at or above
	NoCVE    bool      // only patches no CVE names yet
	Limit    int       // at most this many rows (0: all)
}

// Item is one patch on the radar: its versions folded into the newest,
// scored with what was known at that version.
type Item struct {
	MessageID string    `json:"message_id"` // the newest version
	Versions  []string  `json:"versions"`   // every version folded in, oldest first
	Score     float64   `json:"score"`
	Subject   string    `json:"subject"`
	Date      time.Time `json:"date"`
	CVE       string    `json:"cve"` // the earliest CVE whose title is the subject ("" = none yet)
	Signals   []Signal  `json:"signals"`
	// Commits of registered repositories linked to any version: the
	// score is theirs too.
	Commits []string `json:"commits,omitempty"`
}

// List answers from the scores stored in st: the patches matching q,
// highest score first.
func List(ctx context.Context, st *store.Store, q *Query) ([]Item, error) {
	if q == nil {
		q = &Query{}
	}
	if stamp, err := st.RadarStamp(ctx); err != nil {
		return nil, err
	} else if stamp == "" {
		return nil, store.ErrNoRadar
	}
	rows, err := st.RadarScores(ctx, &store.RadarQuery{List: q.List, From: q.From, To: q.To, MinScore: q.MinScore, NoCVE: q.NoCVE, Limit: q.Limit})
	if err != nil {
		return nil, err
	}
	return items(ctx, st, rows)
}

// Of returns the radar's item of one stored patch posting (row id), and
// false when it is not a scored patch posting.
func Of(ctx context.Context, st *store.Store, rowID int64) (*Item, bool, error) {
	rows, err := st.RadarScores(ctx, &store.RadarQuery{Message: rowID})
	if err != nil || len(rows) == 0 {
		return nil, false, err
	}
	its, err := items(ctx, st, rows)
	if err != nil {
		return nil, false, err
	}
	return &its[0], true, nil
}

// OfMessage is Of for a posting named by any of its Message-IDs.
func OfMessage(ctx context.Context, st *store.Store, mid string) (*Item, bool, error) {
	var row int64
	err := st.DB().QueryRowContext(ctx, `SELECT message FROM mids WHERE mid = ? AND message > 0`, mid).Scan(&row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("radar: %w", err)
	}
	return Of(ctx, st, row)
}

func items(ctx context.Context, st *store.Store, rows []store.RadarScore) ([]Item, error) {
	var commits map[string][]string
	out := make([]Item, 0, len(rows))
	for _, r := range rows {
		it := Item{MessageID: r.MessageID, Score: round3(r.Score), Subject: r.Subject, Date: r.Date, CVE: r.CVE}
		if err := json.Unmarshal([]byte(r.Versions), &it.Versions); err != nil {
			return nil, fmt.Errorf("radar: stored versions of <%s>: %w", r.MessageID, err)
		}
		if err := json.Unmarshal([]byte(r.Signals), &it.Signals); err != nil {
			return nil, fmt.Errorf("radar: stored signals of <%s>: %w", r.MessageID, err)
		}
		if it.Signals == nil {
			it.Signals = []Signal{}
		}
		out = append(out, it)
	}
	if len(out) > 0 {
		var err error
		if commits, err = st.RadarCommits(ctx); err != nil {
			return nil, err
		}
	}
	for i := range out {
		for _, v := range out[i].Versions {
			for _, c := range commits[v] {
				if !slices.Contains(out[i].Commits, c) {
					out[i].Commits = append(out[i].Commits, c)
				}
			}
		}
	}
	return out, nil
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
