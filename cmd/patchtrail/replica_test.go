package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"patchtrail/internal/testserver"
)

// replica is one `patchtrail serve --sync` following the upstream
// archive, as a read replica behind a load balancer runs (doc/scaling.md).
type replica struct {
	name   string
	data   string
	addr   string
	cmd    *exec.Cmd
	stderr *strings.Builder
	exited chan error
}

// startReplica makes a data directory whose configuration follows the
// inbox at inboxURL and serves it with a sync every second.
func startReplica(t *testing.T, name, inboxURL string) *replica {
	t.Helper()
	data := t.TempDir()
	conf := fmt.Sprintf("[[list]]\nname = \"live\"\nsource = [{ mirror = %q }]\n", inboxURL)
	if err := os.WriteFile(filepath.Join(data, "patchtrail.toml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := &replica{name: name, data: data, addr: addr, stderr: &strings.Builder{}, exited: make(chan error, 1)}
	r.cmd = exec.Command(bin, "--data", data, "-q", "serve", "--addr", addr, "--sync", "1s", "--no-result-cache")
	r.cmd.Stderr = r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.exited <- r.cmd.Wait() }()
	t.Cleanup(func() {
		r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-r.exited:
			if err != nil {
				t.Errorf("replica %s after SIGTERM: %v\n%s", name, err, r.stderr.String())
			}
		case <-time.After(30 * time.Second):
			r.cmd.Process.Kill()
			<-r.exited
			t.Errorf("replica %s did not stop within 30s of SIGTERM", name)
		}
	})
	return r
}

// get answers the body of path on the replica, or an error for a status
// other than 200.
func (r *replica) get(path string) ([]byte, error) {
	resp, err := http.Get("http://" + r.addr + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return b, nil
}

// has says whether the replica finds the message mid.
func (r *replica) has(mid string) bool {
	b, err := r.get("/api/v1/search?q=" + url.QueryEscape("mid:"+mid))
	if err != nil {
		return false
	}
	var page struct {
		Total int `json:"total"`
	}
	return json.Unmarshal(b, &page) == nil && page.Total == 1
}

// waitFor waits until every replica finds mid.
func waitFor(t *testing.T, mid string, rs ...*replica) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for _, r := range rs {
		for !r.has(mid) {
			if time.Now().After(deadline) {
				t.Fatalf("replica %s does not find %s after 120s\n%s", r.name, mid, r.stderr.String())
			}
			select {
			case err := <-r.exited:
				t.Fatalf("replica %s exited: %v\n%s", r.name, err, r.stderr.String())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// replicaQueries are searched on every replica; their answers must be the
// same. They cover words, phrases, addresses, subjects, dates, negation
// and the whole archive, sorted newest first and by relevance.
var replicaQueries = []string{
	"d:1970-01-01..",
	"s:PATCH",
	"s:Re",
	"b:Reviewed-by",
	"b:\"Signed-off-by\"",
	"io_uring",
	"s:net NOT s:Re",
	"f:example.org OR f:kernel.dk",
	"t:io-uring",
	"dfn:io_uring/net.c",
	"d:2024-01-01..2024-03-01",
	"b:synthetic",
}

var (
	tookJSON = regexp.MustCompile(`"took":\s*[0-9.eE+-]+`)
	tookHTML = regexp.MustCompile(`[0-9.]+ ?(ms|µs|s)\b`)
	scoreRE  = regexp.MustCompile(`"score":\s*([0-9.eE+-]+)`)
)

// roundScores writes relevance scores with 9 significant digits: a score
// sums per-segment statistics, and two indexes that hold the same
// documents in other segments (one replica imported in more rounds than
// the other) may add them in another order, differing in the last bit.
func roundScores(s string) string {
	return scoreRE.ReplaceAllStringFunc(s, func(m string) string {
		v, err := strconv.ParseFloat(scoreRE.FindStringSubmatch(m)[1], 64)
		if err != nil {
			return m
		}
		return fmt.Sprintf(`"score":%.9g`, v)
	})
}

// answers is everything one replica says about the archive, keyed by
// what was asked: for each query the JSON search page (newest first, by
// relevance, one hit per thread) and the HTML search page of /all/; for
// every message found, its thread as JSON and as the HTML thread page.
// The replica's own address and the time an answer took are blanked.
func (r *replica) answers(t *testing.T) (map[string]string, []string) {
	t.Helper()
	out := map[string]string{}
	mids := map[string]bool{}
	norm := func(b []byte) string {
		s := strings.ReplaceAll(string(b), r.addr, "HOST")
		s = tookJSON.ReplaceAllString(s, `"took":0`)
		return roundScores(s)
	}
	ask := func(key, path string) []byte {
		b, err := r.get(path)
		if err != nil {
			out[key] = "error: " + err.Error()
			return nil
		}
		out[key] = norm(b)
		return b
	}
	for _, q := range replicaQueries {
		for _, v := range []string{"", "&sort=relevance", "&threads=1"} {
			b := ask("search "+q+v, "/api/v1/search?limit=200&q="+url.QueryEscape(q)+v)
			if v == "&sort=relevance" && b != nil {
				out["search "+q+v] = tiesInOrder(t, out["search "+q+v])
			}
			var page struct {
				Hits []struct {
					MessageID string `json:"message_id"`
				} `json:"hits"`
			}
			if err := json.Unmarshal(b, &page); b != nil && err != nil {
				t.Fatalf("replica %s, search %q: %v", r.name, q, err)
			}
			for _, h := range page.Hits {
				if h.MessageID != "" {
					mids[h.MessageID] = true
				}
			}
		}
		if b := ask("page "+q, "/all/?q="+url.QueryEscape(q)); b != nil {
			out["page "+q] = tookHTML.ReplaceAllString(out["page "+q], "T")
		}
	}
	var list []string
	for m := range mids {
		list = append(list, m)
	}
	sort.Strings(list)
	for _, m := range list {
		e := url.PathEscape(m)
		ask("thread "+m, "/api/v1/thread/"+e)
		ask("thread page "+m, "/live/"+e+"/T/")
	}
	ask("lists", "/api/v1/lists")
	return out, list
}

// sameAnswers waits (up to a minute) until the replicas give the same
// answers, and fails naming the first difference when they do not.
func sameAnswers(t *testing.T, a, b *replica) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		aa, mids := a.answers(t)
		ba, _ := b.answers(t)
		diff := ""
		keys := make([]string, 0, len(aa)+len(ba))
		for k := range aa {
			keys = append(keys, k)
		}
		for k := range ba {
			if _, ok := aa[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if aa[k] != ba[k] {
				diff = fmt.Sprintf("%s:\n%s: %s\n%s: %s", k, a.name, around(aa[k], ba[k]), b.name, around(ba[k], aa[k]))
				break
			}
		}
		if diff == "" {
			return len(mids)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replicas answer differently after 60s; first difference, %s", diff)
		}
		time.Sleep(time.Second)
	}
}

// around is s from shortly before where it first differs from o, cut
// short.
func around(s, o string) string {
	i := 0
	for i < len(s) && i < len(o) && s[i] == o[i] {
		i++
	}
	from := max(0, i-300)
	to := min(len(s), i+300)
	return fmt.Sprintf("…%s… (byte %d of %d)", s[from:to], i, len(s))
}

// tiesInOrder puts the hits of a relevance-sorted page that have the
// same (rounded) score in Message-ID order. The order of equal scores is
// the index's internal document order, which depends on the rounds a
// replica imported in (doc/scaling.md): the test checks that the replicas
// find the same hits with the same scores, and that the order differs
// only among ties.
func tiesInOrder(t *testing.T, page string) string {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal([]byte(page), &p); err != nil {
		t.Fatalf("search page: %v", err)
	}
	hits, _ := p["hits"].([]any)
	key := func(i int) (float64, string) {
		h, _ := hits[i].(map[string]any)
		score, _ := h["score"].(float64)
		id, _ := h["message_id"].(string)
		if id == "" {
			id, _ = h["sha"].(string)
		}
		return score, id
	}
	sort.SliceStable(hits, func(i, j int) bool {
		si, ii := key(i)
		sj, ij := key(j)
		if si != sj {
			return si > sj
		}
		return ii < ij
	})
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func messageID(t *testing.T, m []byte) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Trim(msg.Header.Get("Message-Id"), "<> ")
}

// TestReplicasAnswerTheSame runs two read replicas (`serve --sync`) on
// this machine from one upstream public-inbox v2 archive served over
// git's smart HTTP with a grokmirror manifest, as lore's mirrors follow
// lore. One replica follows from the start, the other joins after the
// upstream has grown, so they import the same messages in different
// rounds (threads joined by late replies, out-of-order arrival); after
// each sync both must answer every search (JSON and HTML), thread (JSON
// and HTML) and list the same way.
func TestReplicasAnswerTheSame(t *testing.T) {
	sample := testserver.Sample(t)
	var first, second, third [][]byte
	first, second, third = sample[:30], sample[30:55], sample[55:]
	if corpus, ok := testserver.Corpus(t, 300); ok {
		first = append(append([][]byte{}, corpus[:200]...), first...)
		second = append(append([][]byte{}, second...), corpus[200:]...)
	}
	third = append(append([][]byte{}, third...), testserver.Synthetic("replica", 0, 5, 2)...)

	root := t.TempDir()
	up := testserver.StartGitHTTP(t, root)
	epoch := filepath.Join(root, "live", "git", "0.git")
	when := testserver.FastImport(t, epoch, first, 1700000000)
	up.WriteManifest(t, "/live/manifest.js.gz", "live")
	inbox := up.URL + "/live"

	a := startReplica(t, "a", inbox)
	waitFor(t, messageID(t, first[len(first)-1]), a)

	// The upstream grows; a second replica joins and imports it all at
	// once while the first fetches what is new.
	when = testserver.FastImport(t, epoch, second, when)
	up.WriteManifest(t, "/live/manifest.js.gz", "live")
	b := startReplica(t, "b", inbox)
	waitFor(t, messageID(t, second[len(second)-1]), a, b)
	n := sameAnswers(t, a, b)
	t.Logf("after the first growth: the same answers for %d queries and %d threads", len(replicaQueries), n)

	testserver.FastImport(t, epoch, third, when)
	up.WriteManifest(t, "/live/manifest.js.gz", "live")
	waitFor(t, messageID(t, third[len(third)-1]), a, b)
	n2 := sameAnswers(t, a, b)
	if n2 <= n {
		t.Errorf("the replicas found %d messages after the second growth, %d before", n2, n)
	}
	t.Logf("after the second growth: the same answers for %d queries and %d threads", len(replicaQueries), n2)
}
