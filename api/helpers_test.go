package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"patchtrail/indexer"
	"patchtrail/internal/store"
	"patchtrail/mbox"
	"patchtrail/search"
)

// The sample archive is imported once per test binary into a temporary
// data directory and opened read-only, as `patchtrail serve` does.
var fixture struct {
	once sync.Once
	dir  string
	st   *store.Store
	ix   *search.Index
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.st != nil {
		fixture.st.Close()
	}
	if fixture.ix != nil {
		fixture.ix.Close()
	}
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

const samplePath = "../testdata/sample/sample.mbox"

// importData imports src into a new data directory dir (store + index).
func importData(ctx context.Context, dir, src string) error {
	st, err := store.Open(ctx, dir, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	ix, err := search.Open(filepath.Join(dir, "index"), nil)
	if err != nil {
		return err
	}
	defer ix.Close()
	rh, err := indexer.OpenRadarHook(ctx, st, dir, nil)
	if err != nil {
		return err
	}
	_, err = indexer.Import(ctx, st, src, &indexer.Options{Hooks: []indexer.Hook{indexer.NewSearchHook(st, ix, nil), rh}})
	return err
}

// openData opens a data directory read-only.
func openData(ctx context.Context, dir string) (*store.Store, *search.Index, error) {
	st, err := store.Open(ctx, dir, &store.Options{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	ix, err := search.Open(filepath.Join(dir, "index"), &search.Options{ReadOnly: true})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, ix, nil
}

func sampleData(t testing.TB) (*store.Store, *search.Index) {
	t.Helper()
	fixture.once.Do(func() {
		ctx := context.Background()
		fixture.dir, fixture.err = os.MkdirTemp("", "patchtrail-api-test-")
		if fixture.err != nil {
			return
		}
		if fixture.err = importData(ctx, fixture.dir, samplePath); fixture.err != nil {
			return
		}
		fixture.st, fixture.ix, fixture.err = openData(ctx, fixture.dir)
	})
	if fixture.err != nil {
		t.Fatalf("sample data: %v", fixture.err)
	}
	return fixture.st, fixture.ix
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newTestServer serves the sample archive on 127.0.0.1.
func newTestServer(t testing.TB, opts *Options) (*Server, *httptest.Server) {
	t.Helper()
	st, ix := sampleData(t)
	if opts == nil {
		opts = &Options{}
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	s := New(st, ix, opts)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// newServerFor serves s on 127.0.0.1 and returns its base URL.
func newServerFor(t testing.TB, s *Server) string {
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

// response is a finished request.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func do(t testing.TB, method, url, body string) *response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func getJSON(t testing.TB, url string, v any) *response {
	t.Helper()
	r := do(t, http.MethodGet, url, "")
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s = %d %s", url, r.Status, r.Body)
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return r
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gunzip: %v (body %.100q)", err, b)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}

var midHeader = regexp.MustCompile(`(?mi)^Message-ID:[ \t]*<([^>]*)>`)

// mboxMIDs lists the Message-ID of each message of an mboxrd stream.
func mboxMIDs(stream []byte) []string {
	var out []string
	for _, m := range splitMbox(stream) {
		hdr := mbox.HeaderBlock(m)
		if mm := midHeader.FindSubmatch(hdr); mm != nil {
			out = append(out, string(mm[1]))
		} else {
			out = append(out, "")
		}
	}
	return out
}

// splitMbox cuts an mboxrd stream at its From_ lines (without them).
func splitMbox(stream []byte) [][]byte {
	var out [][]byte
	for _, part := range bytes.Split(stream, []byte("From mboxrd@z Thu Jan  1 00:00:00 1970")) {
		if len(part) == 0 {
			continue
		}
		part = bytes.TrimPrefix(part, []byte("\r"))
		part = bytes.TrimPrefix(part, []byte("\n"))
		out = append(out, part)
	}
	return out
}

// mboxOf is what the server must send for these row ids: public-inbox's
// mboxrd of each stored raw message.
func mboxOf(t testing.TB, st *store.Store, ids []int64) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, id := range ids {
		raw, err := st.Raw(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		mbox.WriteMboxrd(&b, raw)
	}
	return b.Bytes()
}

func resolve(t testing.TB, st *store.Store, mid string) *store.Message {
	t.Helper()
	m, err := st.MessageByID(context.Background(), mid)
	if err != nil {
		t.Fatalf("MessageByID(%q): %v", mid, err)
	}
	return m
}
