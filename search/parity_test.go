package search_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
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
	inbox := filepath.Join(dir, "pi", "io-uring")
	facts := writeSlice(t, inbox, slice)
	t.Logf("slice %s: %d messages", slice, facts.n)

	// public-inbox: index the slice and serve it.
	env := append(os.Environ(), "PI_CONFIG="+filepath.Join(dir, "pi", "config"), "HOME="+dir)
	run(t, env, "public-inbox-init", "-V2", "io-uring", inbox, "http://127.0.0.1/io-uring", "io-uring@vger.kernel.org")
	start := time.Now()
	run(t, env, "public-inbox-index", "--no-fsync", inbox) // a test inbox needs no durability
	t.Logf("public-inbox-index (full, --no-fsync): %v", time.Since(start).Round(time.Millisecond))
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
	start = time.Now()
	if _, err := indexer.Import(ctx, st, inbox, &indexer.Options{Hooks: []indexer.Hook{indexer.NewSearchHook(st, ix, nil)}}); err != nil {
		t.Fatal(err)
	}
	t.Logf("patchtrail import + index: %v", time.Since(start).Round(time.Millisecond))

	srv := httptest.NewServer(api.New(st, ix, nil).Handler())
	defer srv.Close()
	ourBase := srv.URL + "/io-uring/"
	var piTimes, ourTimes []time.Duration
	slower := 0

	var worst float64 = 1
	for _, q := range parityQueries(facts) {
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
		j, onlyPI, onlyUs := jaccard(pi, ours)
		worst = min(worst, j)
		t.Logf("J=%.3f pi=%d ours=%d  pi %v ours %v  %s", j, len(pi), len(ours), pt.Round(100*time.Microsecond), ot.Round(100*time.Microsecond), q)
		if j < 0.95 {
			t.Errorf("%q: Jaccard %.3f (public-inbox %d, patchtrail %d); only public-inbox: %v; only patchtrail: %v",
				q, j, len(pi), len(ours), sample(onlyPI), sample(onlyUs))
		}
	}
	t.Logf("worst Jaccard %.3f", worst)
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
	if f.n == 0 {
		t.Fatalf("slice %q holds no message", slice)
	}
	return f
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

// parityQueries covers every prefix and operator of REFERENCE §4 and the
// shapes b4 and lei send.
func parityQueries(f sliceFacts) []string {
	day := f.now.AddDate(0, -3, 0)
	return []string{
		`io_uring`,
		`sqpoll`,
		`"use after free"`,
		`s:io_uring`,
		`s:"io_uring/net"`,
		`s:liburing`,
		`f:axboe@kernel.dk`,
		`f:asml.silence@gmail.com`,
		`t:io-uring@vger.kernel.org`,
		`c:linux-kernel@vger.kernel.org`,
		`tc:netdev@vger.kernel.org`,
		`a:axboe@kernel.dk`,
		`b:IORING_OP_SEND_ZC`,
		`nq:Reviewed-by`,
		`q:sqpoll`,
		`bs:multishot`,
		`n:config`,
		`l:io-uring`,
		`lid:io-uring.vger.kernel.org`,
		`m:` + f.mid,
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
		`patchid:` + f.patchID,
		`patchid:` + f.patchID + ` OR patchid:` + f.patchID2,
		`patchid:` + f.patchID + ` AND d:..` + f.now.Format("20060102"),
		`d:` + day.Format("20060102") + `..` + day.AddDate(0, 0, 14).Format("20060102"),
		`d:` + day.Format("2006-01-02") + `..` + day.AddDate(0, 1, 0).Format("2006-01-02"),
		`d:` + day.Format("20060102"),
		`dt:` + day.Format("20060102150405") + `..` + day.AddDate(0, 0, 7).Format("20060102150405"),
		`f:axboe@kernel.dk AND dt:` + day.Format("20060102150405") + `..`,
		`d:2.weeks.ago..`,
		`z:..2000`,
		`s:io_uring AND f:axboe`,
		`s:io_uring OR s:liburing`,
		`s:io_uring NOT f:axboe@kernel.dk`,
		`(s:net OR s:rsrc) AND f:asml.silence@gmail.com`,
		`s:multish*`,
		`s:"zero copy"`,
		`nq:"change-id"`,
		`(s:"` + f.subjectV2 + `" AND f:"axboe@kernel.dk") AND d:` + day.AddDate(-1, 0, 0).Format("20060102") + `..`,
	}
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
		t.Fatalf("public-inbox %q: %s\n%s", q, resp.Status, b)
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
		return 1, nil, nil
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
