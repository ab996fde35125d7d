package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"patchtrail/internal/store"
)

// queueLen reads how many messages wait to be indexed.
func queueLen(t *testing.T, data string) int64 {
	t.Helper()
	st, err := store.Open(context.Background(), data, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.QueueLen(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestKilledReindexIsVisibleAndServeFinishesIt kills a reindex midway:
// stats and searches say the index is incomplete, and serve indexes the
// rest in the background, then lets go of the index.
func TestKilledReindexIsVisibleAndServeFinishesIt(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "synth.mbox")
	writeMboxrd(t, src, synthMessages(4000))
	data := filepath.Join(dir, "data")
	pt(t, data, "-q", "import", "--list", "synth", src)
	var clean struct {
		Total int64 `json:"total"`
	}
	if err := json.Unmarshal([]byte(pt(t, data, "search", "--json", "--limit", "1", "s:change")), &clean); err != nil || clean.Total < 4000 {
		t.Fatalf("clean import: search total %d, %v", clean.Total, err)
	}

	// Kill the reindex once part of the index is rebuilt.
	killed := false
	for attempt := 0; attempt < 3 && !killed; attempt++ {
		cmd := exec.Command(bin, "--data", data, "-q", "reindex")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
	poll:
		for {
			select {
			case <-exited:
				break poll
			case <-time.After(5 * time.Millisecond):
			}
			if n := queueLen(t, data); n > 0 && n < clean.Total {
				cmd.Process.Signal(syscall.SIGKILL)
				<-exited
				killed = true
				break
			}
		}
	}
	if !killed {
		t.Fatal("reindex always finished before it could be killed midway")
	}
	missing := queueLen(t, data)
	t.Logf("reindex killed with %d of %d messages not indexed", missing, clean.Total)

	// stats says so, in text and JSON; a search warns on stderr.
	if out := pt(t, data, "stats"); !strings.Contains(out, "not indexed "+itoa(missing)+" (the search index is incomplete") {
		t.Errorf("stats after a killed reindex does not say the index is incomplete:\n%s", out)
	}
	var st struct {
		NotIndexed int64 `json:"not_indexed"`
	}
	if err := json.Unmarshal([]byte(pt(t, data, "stats", "--json")), &st); err != nil || st.NotIndexed != missing {
		t.Errorf("stats --json not_indexed = %d (%v), want %d", st.NotIndexed, err, missing)
	}
	out, stderr, err := ptErr(data, "search", "--json", "--limit", "1", "s:change")
	var partial struct {
		Total int64 `json:"total"`
	}
	if err != nil || json.Unmarshal([]byte(out), &partial) != nil || partial.Total >= clean.Total {
		t.Errorf("search after a killed reindex: total %d (want fewer than %d), err %v", partial.Total, clean.Total, err)
	}
	if !strings.Contains(stderr, itoa(missing)+" messages are not indexed yet") {
		t.Errorf("search after a killed reindex: stderr %q does not warn that the index is incomplete", stderr)
	}

	// serve finishes the index in the background.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--data", data, "-q", "serve", "--addr", addr)
	var serr strings.Builder
	cmd.Stderr = &serr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-exited
	}()
	var page struct {
		Total      int64 `json:"total"`
		NotIndexed int64 `json:"not_indexed"`
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not finish the index within 60s: last answer %+v\n%s", page, serr.String())
		}
		select {
		case err := <-exited:
			t.Fatalf("serve exited: %v\n%s", err, serr.String())
		case <-time.After(100 * time.Millisecond):
		}
		page.Total, page.NotIndexed = 0, 0 // absent when 0
		resp, err := http.Get("http://" + addr + "/api/v1/search?limit=1&q=s:change")
		if err != nil {
			continue
		}
		json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if page.NotIndexed == 0 && page.Total == clean.Total {
			break
		}
	}
	if n := queueLen(t, data); n != 0 {
		t.Errorf("after serve's background indexing %d messages are still queued", n)
	}
	// serve let go of its write lock on the index: the CLI can search.
	var cli struct {
		Total int64 `json:"total"`
	}
	var out2 string
	for i := 0; i < 50; i++ { // the read-only reopen follows the last batch
		if out2, stderr, err = ptErr(data, "search", "--json", "--limit", "1", "s:change"); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || json.Unmarshal([]byte(out2), &cli) != nil || cli.Total != clean.Total {
		t.Errorf("CLI search while serve runs: total %d, %v %s", cli.Total, err, stderr)
	}
	if strings.Contains(stderr, "not indexed") {
		t.Errorf("CLI search still warns once the index is complete: %s", stderr)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
