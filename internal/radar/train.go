package radar

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"patchtrail/internal/store"
)

// TrainStore learns the weights from the labels the store holds: a
// patch posting is positive when a stored CVE published before until
// (any, when zero) has its subject as title. Rows are the patch postings
// dated before until, each with what was known at it. Training starts
// from the default model and is pulled towards it as far as the store's
// own last year of labels says (TrainOwn), so a list with few labels
// keeps the default's ranking. The model is written to the data directory
// (ModelFile); the caller rescores (Scorer.Update with the new model).
// The same store and until give the same file, byte for byte.
func TrainStore(ctx context.Context, st *store.Store, dataDir string, until time.Time) (*Model, error) {
	sc := NewScorer(st, nil, nil)
	sc.vocab = nil // the words of every posting: training weighs them anew
	if _, err := sc.Backfill(ctx, nil); err != nil {
		return nil, err
	}
	c, _, err := sc.corpus(ctx, nil)
	if err != nil {
		return nil, err
	}
	labels, err := LabelsFromStore(ctx, st)
	if err != nil {
		return nil, err
	}
	m, err := TrainOwn(c.Units(time.Time{}, until, labels), labels, until, Default())
	if errors.Is(err, ErrNoLabels) {
		return nil, fmt.Errorf("radar: train: no patch posting before %s has a stored CVE's title (import CVEs with `patchtrail cve import`); the default model stays: %w",
			dayOr(until, "now"), ErrNoLabels)
	}
	if err != nil {
		return nil, err
	}
	first, last := c.Span()
	if !until.IsZero() && until.Before(last) {
		last = until
	}
	names, err := listNames(ctx, st)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		m.Trained.Lists = append(m.Trained.Lists, fmt.Sprintf("%s %s..%s", n, dayOr(first, "?"), dayOr(last, "?")))
	}
	if !until.IsZero() {
		m.Trained.Until = until.UTC().Format(time.DateOnly)
	}
	if err := writeFile(filepath.Join(dataDir, ModelFile), m.Marshal()); err != nil {
		return nil, err
	}
	return m, nil
}

func dayOr(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format(time.DateOnly)
}

func listNames(ctx context.Context, st *store.Store) ([]string, error) {
	rows, err := st.DB().QueryContext(ctx, `SELECT name FROM lists ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("radar: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("radar: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// writeFile replaces path with b: written beside it, synced, renamed.
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("radar: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("radar: write model: %w", err)
	}
	return nil
}
