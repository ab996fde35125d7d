package search_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"patchtrail/api"
	"patchtrail/indexer"
	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/store"
	"patchtrail/internal/testcorpus"
	"patchtrail/search"
)

// TestParity answers the same queries through public-inbox (the Debian
// package: public-inbox-index at its full level, queried through
// public-inbox-httpd with POST ?x=m, as lei does) and through patchtrail,
// over the same slice of the io-uring corpus, and compares the sets of
// Message-IDs. PATCHTRAIL_PARITY_SLICE picks the slice: a year (default
// 2023, what CI runs) or "all" (make parity).
func TestParity(t *testing.T) {
	testcorpus.Inbox(t)
	for _, tool := range []string{"public-inbox-init", "public-inbox-index", "public-inbox-httpd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s absent (Debian package public-inbox): %v", tool, err)
		}
	}
	slice := os.Getenv("PATCHTRAIL_PARITY_SLICE")
	if slice == "" {
		slice = "2023"
	}
	dir := t.TempDir()
	// PATCHTRAIL_PARITY_CACHE (set by make parity) keeps the indexed
	// public-inbox inbox of a slice between runs: public-inbox-index takes
	// most of the time and does not depend on patchtrail.
	pidir := filepath.Join(dir, "pi")
	if c := os.Getenv("PATCHTRAIL_PARITY_CACHE"); c != "" {
		pidir = filepath.Join(c, slice)
	}
	inbox := filepath.Join(pidir, "io-uring")
	env := append(os.Environ(), "PI_CONFIG="+filepath.Join(pidir, "config"), "HOME="+pidir)
	// The slice and its facts are saved before public-inbox-index runs
	// and a marker after it: an interrupted run (a timeout, Ctrl-C)
	// resumes the index, which public-inbox-index does incrementally,
	// instead of writing the slice again.
	factsFile, indexedMark := filepath.Join(pidir, "facts.json"), filepath.Join(pidir, "indexed")
	facts, ok := loadFacts(factsFile)
	switch {
	case ok:
		t.Logf("slice %s: %d messages, public-inbox inbox reused from %s", slice, facts.n, pidir)
	case fileExists(filepath.Join(pidir, "config")) && fileExists(filepath.Join(inbox, "msgmap.sqlite3")):
		// Written and initialised by a run that stopped inside the index.
		facts = scanSlice(t, slice, nil)
		saveFacts(t, factsFile, facts)
		t.Logf("slice %s: %d messages, resuming the public-inbox index in %s", slice, facts.n, pidir)
	default:
		if err := os.RemoveAll(pidir); err != nil {
			t.Fatal(err)
		}
		facts = writeSlice(t, inbox, slice)
		t.Logf("slice %s: %d messages", slice, facts.n)
		run(t, env, "public-inbox-init", "-V2", "io-uring", inbox, "http://127.0.0.1/io-uring", "io-uring@vger.kernel.org")
		saveFacts(t, factsFile, facts)
	}
	if !fileExists(indexedMark) {
		start := time.Now()
		run(t, env, "public-inbox-index", "--no-fsync", inbox) // a test inbox needs no durability
		t.Logf("public-inbox-index (full, --no-fsync): %v", time.Since(start).Round(time.Millisecond))
		if err := os.WriteFile(indexedMark, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := serveInbox(t, env)

	// patchtrail: import and index the same slice.
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "pt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// No result cache: the latency comparison measures the search itself.
	ix, err := search.Open(filepath.Join(dir, "pt", "index"), &search.Options{CacheEntries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	start := time.Now()
	if _, err := indexer.Import(ctx, st, inbox, &indexer.Options{Hooks: []indexer.Hook{indexer.NewSearchHook(st, ix, nil)}}); err != nil {
		t.Fatal(err)
	}
	t.Logf("patchtrail import + index: %v", time.Since(start).Round(time.Millisecond))

	srv := httptest.NewServer(api.New(st, ix, nil).Handler())
	defer srv.Close()
	ourBase := srv.URL + "/io-uring/"
	var piTimes, ourTimes []time.Duration
	slower := 0

	queries := append(parityQueries(facts), extraQueries(t)...)
	var worst float64 = 1
	var sum float64
	matched, empty := 0, 0
	for _, q := range queries {
		// Latency, warm, one client: the first page of the HTML search
		// results of each server, best of 5 after a warm-up request.
		pt, ot := pageLatency(t, base, q), pageLatency(t, ourBase, q)
		piTimes, ourTimes = append(piTimes, pt), append(ourTimes, ot)
		if ot > pt {
			slower++
		}
		pi := piSearch(t, base, q)
		ours := map[string]bool{}
		err := ix.Iterate(ctx, q, nil, func(h search.Hit) error {
			// Messages kept under a generated id (a reused Message-ID with
			// other content) are not in public-inbox's index at all.
			if !strings.HasSuffix(h.MessageID, "@generated.patchtrail.invalid") {
				ours[h.MessageID] = true
			}
			return nil
		})
		if err != nil {
			t.Errorf("patchtrail %q: %v", q, err)
			continue
		}
		if len(pi) == 0 && len(ours) == 0 {
			// Two empty sets agree on nothing: counted apart.
			empty++
			t.Logf("EMPTY pi=0 ours=0  %s", q)
			continue
		}
		matched++
		j, onlyPI, onlyUs := jaccard(pi, ours)
		worst = min(worst, j)
		sum += j
		t.Logf("J=%.3f pi=%d ours=%d  pi %v ours %v  %s", j, len(pi), len(ours), pt.Round(100*time.Microsecond), ot.Round(100*time.Microsecond), q)
		if j < 0.95 {
			t.Errorf("%q: Jaccard %.3f (public-inbox %d, patchtrail %d); only public-inbox: %v; only patchtrail: %v",
				q, j, len(pi), len(ours), sample(onlyPI), sample(onlyUs))
		}
	}
	mean := 0.0
	if matched > 0 {
		mean = sum / float64(matched)
	}
	t.Logf("%d queries: %d match something (mean Jaccard %.4f, worst %.3f), %d match nothing on either side",
		len(queries), matched, mean, worst, empty)
	if matched*10 < len(queries)*9 {
		t.Errorf("only %d of %d queries match anything; at least 90%% must, or the comparison proves little", matched, len(queries))
	}
	if mean < 0.99 {
		t.Errorf("mean Jaccard %.4f over %d queries, want >= 0.99", mean, matched)
	}
	t.Logf("search page latency over %d queries (warm, one client): public-inbox-httpd p50 %v p99 %v max %v; patchtrail p50 %v p99 %v max %v; patchtrail slower on %d",
		len(piTimes), pct(piTimes, 50), pct(piTimes, 99), pct(piTimes, 100), pct(ourTimes, 50), pct(ourTimes, 99), pct(ourTimes, 100), slower)
}

// pageLatency is the best of 5 timed requests for the search page of q,
// after one untimed request.
func pageLatency(t *testing.T, base, q string) time.Duration {
	t.Helper()
	best := time.Duration(1 << 62)
	for i := 0; i < 6; i++ {
		start := time.Now()
		resp, err := http.Get(base + "?q=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if d := time.Since(start); i > 0 && d < best {
			best = d
		}
	}
	return best
}

// pct is the p-th percentile of ds (nearest rank).
func pct(ds []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s), i)-1)].Round(100 * time.Microsecond)
}

// sliceFacts are values taken from the slice for queries that need real
// ids: a patch mail's Message-ID, patch-id and blob ids.
type sliceFacts struct {
	n                   int
	now                 time.Time
	mid, patchID        string
	preBlob, postBlob   string
	ref                 string
	patchID2, subjectV2 string
}

// saveFacts and loadFacts keep the facts of a cached slice beside it.
func saveFacts(t *testing.T, name string, f sliceFacts) {
	b, err := json.Marshal(map[string]string{
		"n": fmt.Sprint(f.n), "now": f.now.Format(time.RFC3339), "mid": f.mid, "patchID": f.patchID,
		"preBlob": f.preBlob, "postBlob": f.postBlob, "ref": f.ref, "patchID2": f.patchID2, "subjectV2": f.subjectV2,
	})
	if err == nil {
		err = os.WriteFile(name, b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func loadFacts(name string) (sliceFacts, bool) {
	var m map[string]string
	b, err := os.ReadFile(name)
	if err != nil || json.Unmarshal(b, &m) != nil {
		return sliceFacts{}, false
	}
	f := sliceFacts{mid: m["mid"], patchID: m["patchID"], preBlob: m["preBlob"], postBlob: m["postBlob"],
		ref: m["ref"], patchID2: m["patchID2"], subjectV2: m["subjectV2"]}
	f.now, err = time.Parse(time.RFC3339, m["now"])
	if _, err2 := fmt.Sscan(m["n"], &f.n); err != nil || err2 != nil || f.n == 0 {
		return sliceFacts{}, false
	}
	return f, true
}

// writeSlice writes the corpus messages dated in slice (a year, or "all")
// as a public-inbox v2 epoch, one commit per message as public-inbox
// writes them.
func writeSlice(t *testing.T, inbox, slice string) sliceFacts {
	t.Helper()
	git := filepath.Join(inbox, "git", "0.git")
	if err := os.MkdirAll(git, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, nil, "git", "init", "-q", "--bare", git)
	cmd := exec.Command("git", "--git-dir", git, "fast-import", "--quiet")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(stdin, 1<<20)
	f := scanSlice(t, slice, func(m *message.Message, raw []byte) {
		ts := m.Date.Unix()
		fmt.Fprintf(w, "commit refs/heads/master\nauthor A <a@example.org> %d +0000\ncommitter C <c@example.org> %d +0000\ndata 0\nM 100644 inline m\ndata %d\n", ts, ts, len(raw))
		w.Write(raw)
		w.WriteString("\n")
	})
	w.Flush()
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("git fast-import: %v\n%s", err, stderr.String())
	}
	return f
}

// scanSlice reads the corpus messages dated in slice, hands each to fn
// (if not nil) and returns the facts the queries need.
func scanSlice(t *testing.T, slice string, fn func(m *message.Message, raw []byte)) sliceFacts {
	t.Helper()
	var f sliceFacts
	testcorpus.Messages(t, func(_ int, _ string, raw []byte) {
		m, err := message.Parse(raw, nil)
		if err != nil || len(m.IDs) == 0 {
			return
		}
		if slice != "all" && fmt.Sprint(m.Date.Year()) != slice {
			return
		}
		f.n++
		if m.Date.After(f.now) {
			f.now = m.Date
		}
		f.collect(m)
		if fn != nil {
			fn(m, raw)
		}
	})
	if f.n == 0 {
		t.Fatalf("slice %q holds no message", slice)
	}
	return f
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// collect remembers the first patch mail's ids for the queries.
func (f *sliceFacts) collect(m *message.Message) {
	if f.mid == "" && len(m.References) > 0 {
		f.ref = m.References[len(m.References)-1]
	}
	s := patch.ParseSubject(m.Subject)
	if s.Reply || !s.IsPatch {
		return
	}
	ps, _ := patch.ParsePatches(m.Text)
	if len(ps) == 0 || len(ps[0].Files) == 0 || ps[0].Files[0].OldOID == "" || ps[0].PatchID == "" {
		return
	}
	if f.mid == "" {
		f.mid, f.patchID = m.IDs[0], ps[0].PatchID
		f.preBlob, f.postBlob = ps[0].Files[0].OldOID, ps[0].Files[0].NewOID
	} else if f.patchID2 == "" && s.Version > 1 {
		f.patchID2, f.subjectV2 = ps[0].PatchID, s.Normalized
	}
}

// parityQueries are queries as people type them at lore: word forms that
// only stemming finds, capitalised and quoted words that it must leave
// alone, unparenthesised mixes of AND, OR, NOT, -, + and juxtaposition,
// result sets spanning most of the archive, every prefix, and date, time
// and size ranges. Values that must exist in the slice (ids, dates) come
// from f.
func parityQueries(f sliceFacts) []string {
	day := f.now.AddDate(0, -3, 0)
	ymd := func(t time.Time) string { return t.Format("20060102") }
	iso := func(t time.Time) string { return t.Format("2006-01-02") }
	month := iso(day) + `..` + iso(day.AddDate(0, 1, 0))
	year := ymd(f.now.AddDate(-1, 0, 0)) + `..` + ymd(f.now)
	return []string{
		// Plain words and phrases over the default fields.
		`io_uring`,
		`sqpoll`,
		`completion`,
		`polling`,
		`"use after free"`,
		`"memory leak"`,
		`"null pointer dereference"`,
		`use-after-free`,
		`zero-copy`,
		`fs/io_uring.c`,
		`doesn't`,

		// Word forms: stemming (Xapian's English Snowball stemmer).
		`s:fixes`,
		`s:fixed`,
		`s:fixing`,
		`s:buffers`,
		`s:buffer`,
		`s:requests`,
		`s:cancellation`,
		`s:cancelled`,
		`s:cleanups`,
		`s:supports`,
		`s:registered`,
		`s:completions`,
		`s:handling`,
		`s:patches`,
		`s:added`,
		`b:leaks`,
		`b:leaked`,
		`b:regressions`,
		`nq:tested`,
		`nq:reviewed`,
		`q:deadlocks`,
		`bs:allocations`,
		`f:pavel`,
		`f:jens`,
		`t:stable`,
		`dfb:refcount`,
		`dfa:locking`,
		`dfctx:queued`,
		`dfhh:io_submit_sqes`,
		// ... and what stemming leaves alone: capitalised and quoted words,
		// wildcards, words starting with a digit.
		`s:Fixed`,
		`s:Fix`,
		`s:"fixes"`,
		`"fixed"`,
		`nq:Reported`,
		`b:Tested`,
		`s:regist*`,
		`s:multish*`,
		`f:pav*`,
		`s:5.15`,
		`s:v2`,
		`s:io_uring/net`,
		`s:"io_uring: fix"`,
		`s:zero-copy`,

		// Operators and their precedence, as Xapian binds them.
		`s:net NOT f:pavel d:` + month,
		`s:fix NOT f:axboe f:pavel`,
		`s:fix NOT f:axboe s:net`,
		`s:io_uring OR s:liburing f:axboe`,
		`s:fix f:axboe OR s:cleanup f:pavel`,
		`s:poll OR s:timeout AND f:axboe`,
		`s:poll AND s:timeout OR s:cancel`,
		`s:fix NOT s:net NOT s:rsrc`,
		`s:fix NOT s:net OR s:rsrc`,
		`s:fix -s:net -f:axboe`,
		`-s:net s:fix`,
		`s:fix AND NOT f:axboe`,
		`s:fix AND -f:axboe`,
		`s:fix +f:axboe`,
		`s:fix -f:axboe OR s:poll`,
		`s:fix OR s:poll -f:axboe`,
		`s:poll AND s:fix NOT f:axboe d:` + year,
		`sqpoll NOT s:sqpoll b:thread`,
		`(s:fix OR s:fixes) AND f:asml.silence@gmail.com`,
		`(s:net OR s:rsrc) AND f:asml.silence@gmail.com`,
		`s:io_uring AND f:axboe`,
		`s:io_uring NOT f:axboe@kernel.dk`,
		`s:(poll OR timeout) f:axboe`,
		`s:v2 s:io_uring NOT s:liburing OR s:test`,

		// Large result sets.
		`l:io-uring`,
		`lid:io-uring.vger.kernel.org`,
		`t:io-uring@vger.kernel.org`,
		`c:linux-block@vger.kernel.org`,
		`c:linux-kernel@vger.kernel.org`,
		`tc:netdev@vger.kernel.org`,
		`s:re`,
		`nq:signed`,
		`b:the`,
		`d:` + ymd(f.now.AddDate(-2, 0, 0)) + `..`,

		// Every prefix.
		`f:axboe@kernel.dk`,
		`f:asml.silence@gmail.com`,
		`f:"Jens Axboe"`,
		`a:axboe@kernel.dk`,
		`tcf:asml.silence@gmail.com`,
		`b:IORING_OP_SEND_ZC`,
		`nq:Reviewed-by`,
		`nq:"change-id"`,
		`q:sqpoll`,
		`bs:multishot`,
		`n:config`,
		`m:` + f.mid,
		`m:kernel.dk`,
		`mid:` + f.mid,
		`dfn:io_uring/net.c`,
		`dfn:rsrc.c`,
		`dfa:io_req_task_work_add`,
		`dfb:io_req_task_work_add`,
		`dfhh:io_issue_sqe`,
		`dfctx:io_kiocb`,
		`dfpre:` + f.preBlob,
		`dfpost:` + f.postBlob,
		`dfblob:` + f.postBlob,
		`b:` + f.postBlob,
		`patchid:` + f.patchID,
		`patchid:` + f.patchID + ` OR patchid:` + f.patchID2,
		`patchid:` + f.patchID + ` AND d:..` + ymd(f.now),

		// Date, time and size ranges.
		`d:` + ymd(day) + `..` + ymd(day.AddDate(0, 0, 14)),
		`d:` + month,
		`d:` + ymd(day),
		`d:` + iso(day),
		`d:..` + ymd(f.now.AddDate(-3, 0, 0)),
		`dt:` + day.Format("20060102150405") + `..` + day.AddDate(0, 0, 7).Format("20060102150405"),
		`f:axboe@kernel.dk AND dt:` + day.Format("20060102150405") + `..`,
		`s:fix d:` + month,
		`d:2.weeks.ago..`,
		`z:..2000`,
		`z:100000..`,
		`z:5000..6000`,
		`s:io_uring z:..3000`,
		`(s:"` + f.subjectV2 + `" AND f:"axboe@kernel.dk") AND d:` + ymd(day.AddDate(-1, 0, 0)) + `..`,
	}
}

// extraQueries reads PATCHTRAIL_PARITY_QUERIES, a file of further queries,
// one a line (blank lines and lines starting with # are skipped), so that
// queries written by someone else run through the same comparison.
func extraQueries(t *testing.T) []string {
	name := os.Getenv("PATCHTRAIL_PARITY_QUERIES")
	if name == "" {
		return nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var qs []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			qs = append(qs, l)
		}
	}
	return qs
}

func run(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// serveInbox starts public-inbox-httpd on a free loopback port and
// returns the inbox's base URL.
func serveInbox(t *testing.T, env []string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command("public-inbox-httpd", "-l", "http://"+addr)
	cmd.Env = env
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://" + addr + "/io-uring/"
	for i := 0; ; i++ {
		resp, err := http.Get(base + "_/text/help/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i > 100 {
			t.Fatalf("public-inbox-httpd did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return base
}

var midHeader = regexp.MustCompile(`(?im)^Message-ID:\s*<([^>]+)>`)

// piSearch runs q through public-inbox-httpd as lei does (POST ?x=m) and
// returns the Message-IDs of all results.
func piSearch(t *testing.T, base, q string) map[string]bool {
	t.Helper()
	resp, err := http.Post(base+"?x=m&q="+url.QueryEscape(q), "application/x-www-form-urlencoded", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]bool{}
	if resp.StatusCode == http.StatusNotFound {
		return out
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Errorf("public-inbox %q: %s\n%.300s", q, resp.Status, b)
		return out
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range strings.Split(string(body), "\nFrom mboxrd@z ") {
		hdr, _, _ := strings.Cut(msg, "\n\n")
		if m := midHeader.FindStringSubmatch(hdr); m != nil {
			out[strings.TrimSpace(m[1])] = true
		}
	}
	return out
}

func jaccard(a, b map[string]bool) (j float64, onlyA, onlyB []string) {
	both := 0
	for k := range a {
		if b[k] {
			both++
		} else {
			onlyA = append(onlyA, k)
		}
	}
	for k := range b {
		if !a[k] {
			onlyB = append(onlyB, k)
		}
	}
	union := len(a) + len(b) - both
	if union == 0 {
		// Callers count empty pairs apart; 0 keeps them from ever
		// passing for agreement.
		return 0, nil, nil
	}
	return float64(both) / float64(union), onlyA, onlyB
}

func sample(ids []string) []string {
	sort.Strings(ids)
	if len(ids) > 5 {
		return append(ids[:5:5], fmt.Sprintf("… %d more", len(ids)-5))
	}
	return ids
}
