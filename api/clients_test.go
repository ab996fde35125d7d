package api

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
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

	"github.com/google/go-cmp/cmp"

	"patchtrail/internal/store"
	"patchtrail/internal/testcorpus"
	"patchtrail/mbox"
)

// Real clients against the server on 127.0.0.1: b4 (Debian b4), lei
// (Debian lei) and headless Chromium (Debian chromium). Each test skips
// when its tool is not installed, so `go test ./...` passes without them.

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (Debian package %s): %v", name, name, err)
	}
	return p
}

// run runs a client with a deadline and returns its combined output.
func run(t *testing.T, env []string, dir string, name string, args ...string) (string, error) {
	t.Helper()
	out, errOut, err := runSplit(t, env, dir, name, args...)
	return out + errOut, err
}

// runSplit runs a client with a deadline and returns stdout and stderr.
func runSplit(t *testing.T, env []string, dir string, name string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = env, dir
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// b4Env is an environment where b4 0.12 works offline against base
// (REFERENCE §5): git config with b4.midmask, b4.searchmask,
// attestation off and an identity for `git mailinfo`.
func b4Env(t *testing.T, midmask, searchmask string) []string {
	home := t.TempDir()
	cfg := fmt.Sprintf("[user]\n\tname = Test\n\temail = test@example.org\n[b4]\n\tmidmask = %s\n\tsearchmask = %s\n\tattestation-policy = off\n", midmask, searchmask)
	if err := os.WriteFile(filepath.Join(home, "gitconfig"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "HOME="+home, "GIT_CONFIG_GLOBAL="+filepath.Join(home, "gitconfig"),
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_DATA_HOME="+filepath.Join(home, "data"))
}

var mbxSubject = regexp.MustCompile(`(?m)^Subject: (\[PATCH[^\]]*\].*)$`)

// checkB4 runs `b4 mbox` and `b4 am` on the series of coverMID and
// checks them against the store: the thread arrives whole (b4 keeps the
// strict thread) and am collects every patch with the trailers given in
// replies.
func checkB4(t *testing.T, st *store.Store, env []string, coverMID string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	for _, d := range []string{"mbox", "am"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	out, err := run(t, env, dir, "b4", "mbox", "-C", "-o", "mbox", coverMID)
	if err != nil {
		t.Fatalf("b4 mbox: %v\n%s", err, out)
	}
	mbx, err := os.ReadFile(filepath.Join(dir, "mbox", coverMID+".mbx"))
	if err != nil {
		t.Fatalf("b4 mbox wrote nothing: %v\n%s", err, out)
	}
	cover := resolve(t, st, coverMID)
	strict, err := st.ThreadMessages(ctx, cover.Thread)
	if err != nil {
		t.Fatal(err)
	}
	// b4 keeps one message per Message-ID header.
	var want []string
	seen := map[string]bool{}
	for _, m := range strict {
		raw, err := st.Raw(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		hdr := mbox.HeaderBlock(raw)
		if mid := midHeader.FindSubmatch(hdr); mid != nil && !seen[string(mid[1])] {
			seen[string(mid[1])] = true
			want = append(want, string(mid[1]))
		}
	}
	got := midHeader.FindAllSubmatch(mbx, -1)
	var gotIDs []string
	for _, g := range got {
		gotIDs = append(gotIDs, string(g[1]))
	}
	sort.Strings(want)
	sort.Strings(gotIDs)
	if diff := cmp.Diff(want, gotIDs); diff != "" {
		t.Errorf("b4 mbox %s: Message-IDs (-thread in the store +b4):\n%s\n%s", coverMID, diff, out)
	}
	out, err = run(t, env, dir, "b4", "am", "-C", "-o", "am", coverMID)
	if err != nil {
		t.Fatalf("b4 am: %v\n%s", err, out)
	}
	ams, _ := filepath.Glob(filepath.Join(dir, "am", "*.mbx"))
	if len(ams) != 1 {
		t.Fatalf("b4 am wrote %v\n%s", ams, out)
	}
	am, _ := os.ReadFile(ams[0])
	series, err := LoadSeries(ctx, st, coverMID)
	if err != nil {
		t.Fatal(err)
	}
	var wantSubj []string
	for _, p := range series.Parts {
		if p.Cover {
			continue
		}
		wantSubj = append(wantSubj, p.Subject)
		for _, tr := range p.Trailers {
			if tr.Kind == "reply" && !strings.Contains(string(am), tr.Key+": "+tr.Value) {
				t.Errorf("b4 am %s: patch %d lacks the reply trailer %s: %s", coverMID, p.Counter, tr.Key, tr.Value)
			}
		}
	}
	var gotSubj []string
	for _, m := range mbxSubject.FindAllSubmatch(am, -1) {
		gotSubj = append(gotSubj, string(m[1]))
	}
	if len(gotSubj) != len(wantSubj) || len(wantSubj) == 0 {
		t.Errorf("b4 am %s: patches %q, want %d: %q\n%s", coverMID, gotSubj, len(wantSubj), wantSubj, out)
	}
}

func TestB4(t *testing.T) {
	needTool(t, "b4")
	needTool(t, "git")
	_, ts := newTestServer(t, nil)
	st, _ := sampleData(t)
	t.Run("all", func(t *testing.T) {
		checkB4(t, st, b4Env(t, ts.URL+"/all/%s", ts.URL+"/all/?x=m&t=1&q=%s"), coverMID)
	})
	// With a list midmask b4 0.12 HEADs the message and takes the list
	// from the redirect's Location.
	t.Run("list", func(t *testing.T) {
		checkB4(t, st, b4Env(t, ts.URL+"/io-uring/%s", ts.URL+"/io-uring/?x=m&t=1&q=%s"), "20240201083000.310187-0-alice@example.org")
	})
}

// TestB4Corpus runs b4 on a real io-uring series served from the whole
// io-uring epoch: imported here (about half a minute), or taken from
// PATCHTRAIL_SERVE_DATA (a data dir with the corpus imported, e.g. the one
// `make loadtest` builds).
func TestB4Corpus(t *testing.T) {
	inbox := testcorpus.Inbox(t)
	needTool(t, "b4")
	ctx := context.Background()
	dir := os.Getenv("PATCHTRAIL_SERVE_DATA")
	if dir == "" {
		dir = t.TempDir()
		if err := importData(ctx, dir, inbox); err != nil {
			t.Fatalf("importing %s: %v", inbox, err)
		}
	}
	st, ix, err := openData(ctx, dir)
	if err != nil {
		t.Fatalf("PATCHTRAIL_SERVE_DATA=%s: %v", dir, err)
	}
	defer st.Close()
	defer ix.Close()
	base := newServerFor(t, New(st, ix, &Options{Logger: testLogger(t)}))
	// [PATCH v4 0/3] io_uring: Pass the whole sqe to commands (with
	// Reviewed-by trailers given in replies).
	const real = "20230504121856.904491-1-leitao@debian.org"
	if _, err := st.Resolve(ctx, real); err != nil {
		t.Fatalf("series %s not in %s: %v", real, dir, err)
	}
	checkB4(t, st, b4Env(t, base+"/all/%s", base+"/all/?x=m&t=1&q=%s"), real)
}

// TestLei checks that `lei q -I http://127.0.0.1:PORT/all/` finds the
// same messages as /api/v1/search.
func TestLei(t *testing.T) {
	needTool(t, "lei")
	needTool(t, "curl")
	_, ts := newTestServer(t, nil)
	home := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home+"/c", "XDG_DATA_HOME="+home+"/d",
		"XDG_CACHE_HOME="+home+"/k", "XDG_STATE_HOME="+home+"/s", "XDG_RUNTIME_DIR="+home+"/r")
	os.MkdirAll(home+"/r", 0o700)
	defer run(t, env, home, "lei", "daemon-kill")
	for _, q := range [][]string{
		{"s:tidy"},
		{"f:bob@example.net"},
		{"s:io_uring", "AND", "NOT", "s:patch"},
		{"dfn:io_uring/net.c"},
		{"nq:READ_ONCE", "OR", "s:liburing"},
		{"d:20240201..20240301"},
	} {
		out, errOut, err := runSplit(t, env, home, "lei", append([]string{"q", "--no-local", "-I", ts.URL + "/all/", "-f", "json"}, q...)...)
		if err != nil {
			t.Fatalf("lei q %s: %v\n%s%s", q, err, out, errOut)
		}
		var got []string
		var rows []map[string]any
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("lei q %s: %v\n%s", q, err, out)
		}
		for _, r := range rows {
			if m, ok := r["m"].(string); ok {
				got = append(got, m)
			}
		}
		want := apiSearchMIDs(t, ts.URL, strings.Join(q, " "))
		if len(want) == 0 {
			t.Fatalf("query %s should match something", q)
		}
		sort.Strings(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("lei q %s (-api +lei):\n%s", q, diff)
		}
	}
}

// apiSearchMIDs returns the distinct Message-ID headers (what lei
// reports; lei keeps one message per Message-ID) of every hit of q in
// /api/v1/search, sorted.
func apiSearchMIDs(t *testing.T, base, q string) []string {
	var p SearchPage
	getJSON(t, base+"/api/v1/search?limit=1000&q="+url.QueryEscape(q), &p)
	var out []string
	for _, h := range p.Hits {
		r := do(t, http.MethodGet, base+h.URL+"raw", "")
		hdr := mbox.HeaderBlock(r.Body)
		if m := midHeader.FindSubmatch(hdr); m != nil && !contains(out, string(m[1])) {
			out = append(out, string(m[1]))
		}
	}
	sort.Strings(out)
	return out
}

// chromiumDOM renders url in headless Chromium and returns the DOM after
// scripts ran.
func chromiumDOM(t *testing.T, url string) string {
	t.Helper()
	out, err := run(t, os.Environ(), t.TempDir(), "chromium", "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--user-data-dir="+t.TempDir(), "--dump-dom", url)
	if err != nil {
		t.Fatalf("chromium %s: %v\n%.2000s", url, err, out)
	}
	if i := strings.Index(out, "<html"); i >= 0 {
		out = out[i:] // drop chromium's log lines
	}
	return out
}

var (
	domTitle = regexp.MustCompile(`(?s)<title>(.*?)</title>`)
	domHref  = regexp.MustCompile(`href="([^"]*)"`)
	// liveScript finds what mail text must never become: script
	// elements, event handler attributes, javascript: links.
	liveScript = regexp.MustCompile(`(?i)<script|<[^>]*\son[a-z]+=|href="javascript:`)
)

func TestChromium(t *testing.T) {
	needTool(t, "chromium")
	_, ts := newTestServer(t, nil)
	// The harness sees script effects: a page whose script sets the
	// title shows the new title in the dump.
	control := httptestPage(t, `<html><head><title>before</title></head><body><script>document.title="ran"</script></body></html>`)
	if got := domTitle.FindStringSubmatch(chromiumDOM(t, control)); got == nil || got[1] != "ran" {
		t.Fatalf("chromium did not run the control page's script (title %q): the checks below would prove nothing", got)
	}
	st, _ := sampleData(t)
	hostile := resolve(t, st, hostileMID)
	pages := []struct {
		path, title string
	}{
		{"/all/" + escapeMID(hostileMID) + "/", hostile.Subject + " - patchtrail"},
		{"/all/" + escapeMID(hostileMID) + "/t/", hostile.Subject + " - patchtrail"},
		{"/all/" + escapeMID(coverMID) + "/t/", resolve(t, st, coverMID).Subject + " - patchtrail"},
		{"/all/" + escapeMID(patch2MID) + "/series/", "[PATCH 0/3] io_uring/net: tidy up send/recv flag handling - patchtrail"},
		{"/all/?q=" + url.QueryEscape("s:script"), "s:script - search results - patchtrail"},
	}
	for _, p := range pages {
		p := p
		t.Run(p.path, func(t *testing.T) {
			t.Parallel()
			checkPage(t, ts.URL, p.path, p.title)
		})
	}
}

// checkPage renders a page in Chromium and checks its title, that no
// mail text became live script, and that its links to the server work.
func checkPage(t *testing.T, server, path, wantTitle string) {
	dom := chromiumDOM(t, server+path)
	title := domTitle.FindStringSubmatch(dom)
	if title == nil || html.UnescapeString(title[1]) != wantTitle {
		t.Errorf("title %q, want %q", title, wantTitle)
	}
	if m := liveScript.FindString(dom); m != "" {
		t.Errorf("the rendered page has live script %q", m)
	}
	base, _ := url.Parse(server + path)
	checked := 0
	for _, h := range domHref.FindAllStringSubmatch(dom, -1) {
		u, err := base.Parse(html.UnescapeString(h[1]))
		if err != nil || u.Host != base.Host || checked >= 40 {
			continue
		}
		u.Fragment = ""
		if r := do(t, http.MethodGet, u.String(), ""); r.Status >= 400 {
			t.Errorf("link %s = %d", u, r.Status)
		}
		checked++
	}
	if checked == 0 {
		t.Error("no links found")
	}
}

func httptestPage(t *testing.T, body string) string {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/"
}
