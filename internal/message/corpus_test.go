package message

import (
	"errors"
	"fmt"
	"patchtrail/internal/testcorpus"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestCorpus parses every message of the io-uring epoch: no message may fail
// and the invariants must hold. It logs the problem kinds, the messages
// without Message-ID and the DateSource distribution (go test -v).
func TestCorpus(t *testing.T) {
	step := 1
	if raceEnabled || testing.Short() {
		step = 10 // the race detector makes a full pass too slow
	}
	var (
		n, bytesParsed, noID, errs int
		html, withAtt, patchAtts   int
		problems                   = map[string]int{}
		msgsWithProblem            = map[string]int{}
		sources                    = map[string]int{}
		examples                   = map[string]string{}
		parseTime                  time.Duration
	)
	missing := testcorpus.Messages(t, func(i int, oid string, raw []byte) {
		if i%step != 0 {
			return
		}
		start := time.Now()
		m, err := Parse(raw, nil)
		parseTime += time.Since(start)
		n++
		bytesParsed += len(raw)
		if err != nil {
			errs++
			if errors.Is(err, ErrNotMail) {
				t.Logf("blob %s: not a mail: %v", oid, err)
			} else {
				t.Errorf("blob %s: %v", oid, err)
			}
			return
		}
		if msg := checkInvariants(m); msg != "" {
			t.Errorf("blob %s: %s", oid, msg)
		}
		if len(m.IDs) == 0 {
			noID++
		}
		if m.HTML {
			html++
		}
		if len(m.Attachments) > 0 {
			withAtt++
		}
		for _, a := range m.Attachments {
			if a.Data != nil {
				patchAtts++
			}
		}
		sources[m.DateSource]++
		seen := map[string]bool{}
		for _, p := range m.Problems {
			k := ProblemKind(p)
			problems[k]++
			if !seen[k] {
				msgsWithProblem[k]++
				seen[k] = true
			}
			if _, ok := examples[k]; !ok {
				examples[k] = oid + ": " + p
			}
		}
	})
	if n == 0 {
		t.Fatal("no message read from the corpus")
	}
	t.Logf("%d messages (every %d.), %d missing blobs, %d not mail, %.1f MB in %v (%.0f MB/s)",
		n, step, missing, errs, float64(bytesParsed)/1e6, parseTime.Round(time.Millisecond),
		float64(bytesParsed)/1e6/parseTime.Seconds())
	t.Logf("without Message-ID: %d; HTML only: %d; with attachments: %d; patch attachments: %d", noID, html, withAtt, patchAtts)
	t.Logf("DateSource: %v", sources)
	kinds := make([]string, 0, len(problems))
	for k := range problems {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return problems[kinds[i]] > problems[kinds[j]] })
	for _, k := range kinds {
		t.Logf("problem %6d× in %6d msgs  %-40s e.g. %s", problems[k], msgsWithProblem[k], k, examples[k])
	}
}

// checkInvariants returns a description of the first broken invariant of a
// parsed message, or "".
func checkInvariants(m *Message) string {
	for _, id := range m.IDs {
		if id == "" || strings.ContainsAny(id, "<> \t\r\n") {
			return fmt.Sprintf("bad id %q", id)
		}
		if len(id) > maxIDLen {
			return fmt.Sprintf("id of %d bytes", len(id))
		}
	}
	for _, r := range m.References {
		if r == "" || strings.ContainsAny(r, "<> \t\r\n") || !strings.Contains(r, "@") {
			return fmt.Sprintf("bad reference %q", r)
		}
		if contains(m.IDs, r) {
			return fmt.Sprintf("reference to itself %q", r)
		}
	}
	for name, s := range map[string]string{"Text": m.Text, "NonQuoted": m.NonQuoted, "Quoted": m.Quoted, "Subject": m.Subject} {
		if !utf8.ValidString(s) {
			return name + " is not valid UTF-8"
		}
		if strings.Contains(s, "\r\n") && name != "Subject" {
			return name + " has CRLF"
		}
	}
	for _, p := range m.Problems {
		if !utf8.ValidString(p) {
			return fmt.Sprintf("problem not UTF-8: %q", p)
		}
	}
	for _, a := range m.Attachments {
		if a.Data != nil && !utf8.Valid(a.Data) {
			return "attachment data not UTF-8"
		}
		if a.Size < 0 {
			return "negative attachment size"
		}
	}
	if len(m.NonQuoted)+len(m.Quoted) > len(m.Text)+1 {
		return "quoted split longer than text"
	}
	if !m.Date.IsZero() && m.Date.Location() != time.UTC {
		return "Date not in UTC"
	}
	switch m.DateSource {
	case DateFromHeader, DateFallback, DateReceived:
		if m.Date.IsZero() {
			return "zero Date from " + m.DateSource
		}
	case DateNone:
		if !m.Date.IsZero() {
			return "Date with DateSource none"
		}
	default:
		return "bad DateSource " + m.DateSource
	}
	return ""
}

// loadCorpus reads the whole epoch into memory for the benchmark.
func loadCorpus(b *testing.B) (msgs [][]byte, total int64) {
	testcorpus.Messages(b, func(_ int, _ string, raw []byte) {
		msgs = append(msgs, raw)
		total += int64(len(raw))
	})
	return msgs, total
}

// BenchmarkParseCorpus parses the whole io-uring epoch per iteration; the
// MB/s column is the parse throughput on one goroutine.
func BenchmarkParseCorpus(b *testing.B) {
	msgs, total := loadCorpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		for _, raw := range msgs {
			if _, err := Parse(raw, nil); err != nil && !errors.Is(err, ErrNotMail) {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(msgs)), "msgs/op")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		// Wall time suffers when other processes share the machine; CPU
		// time (all threads, GC included) does not.
		b.ReportMetric(float64(total*int64(b.N))/1e6/cpu.Seconds(), "cpu-MB/s")
	}
}
