package api

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHostileRequests sends requests meant to hurt: each must get a
// bounded, clear answer (never a 5xx) and the server must stay up.
func TestHostileRequests(t *testing.T) {
	_, ts := newTestServer(t, &Options{MaxBodyBytes: 1 << 20})
	q := func(s string) string { return url.QueryEscape(s) }
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"huge query", "GET", "/api/v1/search?q=" + q(strings.Repeat("io_uring ", 2000)), "", http.StatusBadRequest},
		{"many terms", "GET", "/api/v1/search?q=" + q(strings.Repeat("a OR ", 800)+"b"), "", http.StatusBadRequest},
		{"deep nesting", "GET", "/api/v1/search?q=" + q(strings.Repeat("(", 500)+"a"+strings.Repeat(")", 500)), "", http.StatusBadRequest},
		{"unbalanced", "GET", "/api/v1/search?q=" + q(strings.Repeat(")", 100)), "", http.StatusBadRequest},
		{"bare star", "GET", "/api/v1/search?q=*", "", http.StatusBadRequest},
		{"one-letter wildcard", "GET", "/api/v1/search?q=" + q("a*"), "", http.StatusBadRequest},
		{"wildcards everywhere", "GET", "/api/v1/search?q=" + q(strings.Repeat("io* ", 50)), "", http.StatusOK},
		{"huge limit", "GET", "/api/v1/search?q=s:io_uring&limit=100000000", "", http.StatusOK},
		{"huge offset", "GET", "/api/v1/search?q=s:io_uring&offset=100000000", "", http.StatusOK}, // past the last hit: an empty page with the total
		{"overflowing offset", "GET", "/api/v1/search?q=s:io_uring&offset=99999999999999999999999", "", http.StatusBadRequest},
		{"bare star mbox", "POST", "/all/?x=m&q=*", "", http.StatusBadRequest},
		{"empty mbox query", "POST", "/all/?x=m&q=", "", http.StatusBadRequest},
		{"traversal", "GET", "/../../../etc/passwd", "", http.StatusNotFound},
		{"traversal in list", "GET", "/all/../../etc/passwd", "", http.StatusNotFound},
		{"encoded traversal", "GET", "/all/..%2F..%2Fetc%2Fpasswd/raw", "", http.StatusNotFound},
		{"encoded traversal in api", "GET", "/api/v1/message/..%2F..%2Fetc%2Fpasswd", "", http.StatusNotFound},
		{"dot list", "GET", "/./x/", "", http.StatusNotFound},
		{"NUL in mid", "GET", "/all/a%00b/raw", "", http.StatusNotFound},
		{"long mid", "GET", "/all/" + strings.Repeat("x", 4000) + "@y/raw", "", http.StatusNotFound},
		{"unknown list", "GET", "/nolist/x@y/t.mbox.gz", "", http.StatusNotFound},
		{"PUT", "PUT", "/all/", "", http.StatusMethodNotAllowed},
		{"DELETE msgid", "DELETE", "/x@y/", "", http.StatusMethodNotAllowed},
		{"oversized body", "POST", "/all/?x=m&q=s:tidy", strings.Repeat("x", 2<<20), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		r := do(t, tc.method, ts.URL+tc.path, tc.body)
		if r.Status != tc.status {
			t.Errorf("%s: %s %.80s = %d %.200s, want %d", tc.name, tc.method, tc.path, r.Status, r.Body, tc.status)
		}
		if len(r.Body) == 0 && tc.method != "HEAD" {
			t.Errorf("%s: empty answer, want an explanation", tc.name)
		}
	}
	if r := do(t, "GET", ts.URL+"/api/v1/stats", ""); r.Status != http.StatusOK {
		t.Fatalf("server unwell after hostile requests: %d", r.Status)
	}
}

// TestOversizedChunkedBody streams a body without a length: reading past
// the limit must end in 413, not in reading forever.
func TestOversizedChunkedBody(t *testing.T) {
	_, ts := newTestServer(t, &Options{MaxBodyBytes: 1024})
	pr, pw := io.Pipe()
	go func() {
		chunk := []byte(strings.Repeat("x", 4096))
		for i := 0; i < 1000; i++ {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/all/?x=m&q=s:tidy", pr)
	res, err := http.DefaultClient.Do(req)
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversized body = %d, want 413", res.StatusCode)
	}
}

// TestSlowClient holds connections open with a header that never ends:
// the server keeps answering others and drops the slow ones after
// ReadHeaderTimeout.
func TestSlowClient(t *testing.T) {
	s, _ := newTestServer(t, &Options{HeaderTimeout: time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeListener(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeListener: %v", err)
		}
	}()
	var slow []net.Conn
	for i := 0; i < 20; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /api/v1/stats HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		slow = append(slow, c)
	}
	res, err := http.Get("http://" + ln.Addr().String() + "/api/v1/stats")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("server does not answer while slow clients wait: %v %v", res, err)
	}
	res.Body.Close()
	// The slow connections are closed once the header deadline passes.
	slow[0].SetReadDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	_, err = bufio.NewReader(slow[0]).ReadString('\n')
	if err == nil || time.Since(start) > 10*time.Second {
		t.Errorf("slow client kept for %v (err %v)", time.Since(start), err)
	}
	for _, c := range slow {
		c.Close()
	}
}

// FuzzPaths sends arbitrary paths, methods and bodies through the
// handler: no path may make it fail with a 5xx or panic.
func FuzzPaths(f *testing.F) {
	for _, s := range []string{"/", "/all/", "/all/" + coverMID + "/", "/all/x@y/raw", "/all/x/t.mbox.gz",
		"/api/v1/message/x", "/api/v1/search?q=(a", "/all/?x=m&q=s:a", "/x@y/", "/all/_/text/help/",
		"/all/" + coverMID + "/series/", "/all/" + coverMID + "/T/", "/all/new.atom", "/all/?q=a*&x=A", "/manifest.js.gz"} {
		f.Add("GET", s, "")
		f.Add("POST", s, "x=m")
	}
	st, ix := sampleData(f)
	h := New(st, ix, &Options{Logger: testLogger(f)}).Handler()
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n#") || !validMethod(method) {
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		req := httptest.NewRequest(method, "http://x"+u.RequestURI(), strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s = %d %s", method, target, rec.Code, rec.Body)
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS":
		return true
	}
	return false
}
