package radar

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"patchtrail/internal/cve"
	"patchtrail/internal/patch"
)

// Publications tells when a CVE became public. The kernel CVE records
// carry no publication date of their own (see package cve); the date is
// when the record was first added to the vulns repository. A file of
// those dates (DatesTSV) is one implementation; a store that keeps them
// is another.
type Publications interface {
	// Published returns the publication date of the CVE id, false when
	// unknown.
	Published(id string) (time.Time, bool)
}

// DateTable is an in-memory Publications.
type DateTable map[string]time.Time

// Published implements Publications.
func (d DateTable) Published(id string) (time.Time, bool) {
	t, ok := d[id]
	return t, ok
}

// ReadDatesTSV reads "CVE-id<TAB>RFC 3339 date" lines (lines starting
// with '#' are comments), as in cve-published-dates.tsv.
func ReadDatesTSV(r io.Reader, name string) (DateTable, error) {
	out := DateTable{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		id, date, ok := strings.Cut(s, "\t")
		if !ok {
			return nil, fmt.Errorf("radar: %s:%d: want \"CVE-id<TAB>date\", got %q", name, line, s)
		}
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(date))
		if err != nil {
			return nil, fmt.Errorf("radar: %s:%d: %w", name, line, err)
		}
		out[strings.TrimSpace(id)] = t.UTC()
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("radar: %s: %w", name, err)
	}
	return out, nil
}

// LoadDatesTSV reads a dates file (see ReadDatesTSV).
func LoadDatesTSV(path string) (DateTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("radar: %w", err)
	}
	defer f.Close()
	return ReadDatesTSV(f, path)
}

// CVE is a label: a CVE whose title is a fix commit's subject.
type CVE struct {
	ID        string
	Published time.Time
}

// Labels maps the subject key of a fix (patch.Subject.NormalizedKey of
// the CVE title) to the CVEs carrying that title, earliest publication
// first. Labels are used for training, for evaluation and for the
// history signals (only CVEs published before the scoring date count);
// a score never looks up the scored patch's own CVE.
type Labels struct {
	byKey map[string][]CVE
}

// NewLabels builds labels from (title, CVE) pairs.
func NewLabels() *Labels { return &Labels{byKey: map[string][]CVE{}} }

// Add records a CVE with its title.
func (l *Labels) Add(title string, c CVE) {
	k := TitleKey(title)
	if k == "" {
		return
	}
	l.byKey[k] = append(l.byKey[k], c)
	sort.SliceStable(l.byKey[k], func(i, j int) bool {
		a, b := l.byKey[k][i], l.byKey[k][j]
		if !a.Published.Equal(b.Published) {
			return a.Published.Before(b.Published)
		}
		return a.ID < b.ID
	})
}

// Firsts returns, for each subject key, when its earliest CVE was
// published (Unix seconds): what the history signals read of the labels.
func (l *Labels) Firsts() map[string]int64 {
	out := make(map[string]int64, len(l.byKey))
	for k, cs := range l.byKey {
		if len(cs) > 0 {
			out[k] = cs[0].Published.Unix()
		}
	}
	return out
}

// Len is the number of distinct titles.
func (l *Labels) Len() int { return len(l.byKey) }

// TitleKey is the key CVE titles and patch subjects are compared on: tags
// and reply prefixes stripped, spaces collapsed, lowercased.
func TitleKey(s string) string {
	sub := patch.ParseSubject(s)
	return strings.TrimRight(sub.NormalizedKey(), " ")
}

// First returns the earliest CVE with the subject key published before
// until (any date when until is zero).
func (l *Labels) First(key string, until time.Time) (CVE, bool) {
	if l == nil {
		return CVE{}, false
	}
	for _, c := range l.byKey[key] {
		if until.IsZero() || c.Published.Before(until) {
			return c, true
		}
	}
	return CVE{}, false
}

// LoadLabels reads every published record under root (a vulns
// repository or an unpacked vulns-full.tar.xz) and dates them with pub.
// Records without a known publication date are left out (they cannot be
// placed before or after any date).
func LoadLabels(ctx context.Context, root string, pub Publications) (*Labels, error) {
	r, err := cve.Open(ctx, root, nil)
	if err != nil {
		return nil, fmt.Errorf("radar: %w", err)
	}
	defer r.Close()
	l := NewLabels()
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("radar: %w", err)
		}
		t, ok := pub.Published(rec.ID)
		if !ok || rec.Title == "" {
			continue
		}
		l.Add(rec.Title, CVE{ID: rec.ID, Published: t})
	}
	return l, nil
}
