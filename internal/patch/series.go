package patch

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Pure helpers for the series grouping step, which needs the store and
// lives elsewhere: what the messages of one posting of a series share,
// and how much two postings (versions) have in common.

// SeriesKey is what every message of one posting of a series shares:
// the sender's address (lowercased), the version and the patch count,
// e.g. "axboe@kernel.dk v3 /7". Replies have no series key (""); a
// single patch has total 0. Messages with equal keys belong to the same
// posting when they were also sent close together (see SameSeries).
func SeriesKey(fromAddr string, s Subject) string {
	if s.Reply || s.Forward || !s.IsPatch {
		return ""
	}
	var b strings.Builder
	b.WriteString(strings.ToLower(strings.TrimSpace(fromAddr)))
	b.WriteString(" v")
	b.WriteString(strconv.Itoa(s.Version))
	b.WriteString(" /")
	b.WriteString(strconv.Itoa(s.Total))
	return b.String()
}

// SeriesMessage is a message as SameSeries sees it.
type SeriesMessage struct {
	From    string // sender address
	Subject Subject
	Date    time.Time
}

// DefaultSeriesWindow is how far apart the mails of one posting may be
// sent: git send-email and b4 send a series within seconds, slow SMTP
// relays and manual sending stretch that to minutes.
const DefaultSeriesWindow = time.Hour

// SameSeries reports whether a and b look like parts of one posting:
// equal SeriesKey, different counters and dates within window (0 means
// DefaultSeriesWindow).
func SameSeries(a, b SeriesMessage, window time.Duration) bool {
	if window <= 0 {
		window = DefaultSeriesWindow
	}
	ka := SeriesKey(a.From, a.Subject)
	if ka == "" || ka != SeriesKey(b.From, b.Subject) || a.Subject.Total == 0 {
		return false
	}
	if a.Subject.Counter == b.Subject.Counter {
		return false
	}
	d := a.Date.Sub(b.Date)
	if d < 0 {
		d = -d
	}
	return d <= window
}

// Overlap says how much two sets of patches (two versions of a series,
// or a posting and a range of commits) have in common.
type Overlap struct {
	SameIDs        int     // patch ids found in both
	IDsA, IDsB     int     // distinct patch ids on each side
	SameFiles      int     // file paths touched by both
	FilesA, FilesB int     // distinct file paths on each side
	Files          float64 // Jaccard index of the file sets, 0..1
	IDs            float64 // Jaccard index of the patch-id sets, 0..1
}

// ComparePatches measures the overlap of two sets of patches by patch
// ids and by the paths they touch (new and old names).
func ComparePatches(a, b []Patch) Overlap {
	ida, idb := patchIDSet(a), patchIDSet(b)
	fa, fb := fileSet(a), fileSet(b)
	o := Overlap{IDsA: len(ida), IDsB: len(idb), FilesA: len(fa), FilesB: len(fb)}
	o.SameIDs = intersect(ida, idb)
	o.SameFiles = intersect(fa, fb)
	o.IDs = jaccard(o.SameIDs, len(ida), len(idb))
	o.Files = jaccard(o.SameFiles, len(fa), len(fb))
	return o
}

// FilePaths returns the sorted distinct paths the patches touch, old and
// new names alike.
func FilePaths(ps []Patch) []string {
	set := fileSet(ps)
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func patchIDSet(ps []Patch) map[string]bool {
	m := map[string]bool{}
	for _, p := range ps {
		if p.PatchID != "" {
			m[p.PatchID] = true
		}
	}
	return m
}

func fileSet(ps []Patch) map[string]bool {
	m := map[string]bool{}
	for _, p := range ps {
		for _, f := range p.Files {
			for _, n := range []string{f.OldPath, f.NewPath} {
				if n != "" && n != "/dev/null" {
					m[n] = true
				}
			}
		}
	}
	return m
}

func intersect(a, b map[string]bool) int {
	if len(b) < len(a) {
		a, b = b, a
	}
	n := 0
	for k := range a {
		if b[k] {
			n++
		}
	}
	return n
}

func jaccard(both, a, b int) float64 {
	union := a + b - both
	if union == 0 {
		return 0
	}
	return float64(both) / float64(union)
}
