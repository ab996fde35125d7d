package api

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// getWithHost sends GET url with the Host header set to host.
func getWithHost(t *testing.T, url, host string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestSecurityHeaders checks every kind of answer carries the security
// headers, /raw included (it serves attacker-written text).
func TestSecurityHeaders(t *testing.T) {
	_, ts := newTestServer(t, nil)
	for _, path := range []string{"/", "/all/", "/all/" + coverMID + "/", "/all/" + coverMID + "/raw",
		"/api/v1/stats", "/api/v1/nothing", "/all/new.atom"} {
		r := do(t, "GET", ts.URL+path, "")
		for name, want := range map[string]string{
			"Content-Security-Policy": contentSecurityPolicy,
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
		} {
			if got := r.Header.Get(name); got != want {
				t.Errorf("GET %s (%d): %s = %q, want %q", path, r.Status, name, got, want)
			}
		}
	}
}

// TestHostHeaderNotReflected sends a forged Host header: redirects and
// feeds use the configured base URL, or the address the server is
// reached at, never the header.
func TestHostHeaderNotReflected(t *testing.T) {
	const evil = "evil.example"
	for _, base := range []string{"", "https://lore.example.org/"} {
		_, ts := newTestServer(t, &Options{BaseURL: base})
		want := strings.TrimSuffix(base, "/")
		if want == "" {
			want = ts.URL
		}
		for _, path := range []string{"/all", "/" + coverMID + "/", "/all/_/text/help"} {
			res := getWithHost(t, ts.URL+path, evil)
			res.Body.Close()
			if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, want+"/") {
				t.Errorf("base %q: GET %s with Host %s: Location %q, want it under %s", base, path, evil, loc, want)
			}
		}
		res := getWithHost(t, ts.URL+"/all/new.atom", evil)
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(body), evil) || !strings.Contains(string(body), want+"/all/") {
			t.Errorf("base %q: the Atom feed does not link under %s", base, want)
		}
	}
}

// TestAPIMethodNotAllowed: another method on an API endpoint is 405 with
// Allow; an unknown endpoint stays 404.
func TestAPIMethodNotAllowed(t *testing.T) {
	_, ts := newTestServer(t, nil)
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"POST", "/api/v1/search?q=a", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"DELETE", "/api/v1/message/" + coverMID, http.StatusMethodNotAllowed, "GET, HEAD"},
		{"PUT", "/api/v1/openapi.json", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"POST", "/api/v1/nothing", http.StatusNotFound, ""},
		{"GET", "/api/v1/nothing", http.StatusNotFound, ""},
	} {
		r := do(t, tc.method, ts.URL+tc.path, "")
		if r.Status != tc.status || !strings.Contains(r.Header.Get("Allow"), tc.allow) || tc.allow == "" && r.Header.Get("Allow") != "" {
			t.Errorf("%s %s = %d, Allow %q; want %d, Allow %q", tc.method, tc.path, r.Status, r.Header.Get("Allow"), tc.status, tc.allow)
		}
	}
}

// TestMalformedChunkedBody: a body whose chunked encoding is broken is
// the client's fault: 400, not 500.
func TestMalformedChunkedBody(t *testing.T) {
	_, ts := newTestServer(t, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "POST /all/?x=m&q=s:tidy HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
		"Transfer-Encoding: chunked\r\n\r\nzz\r\nnot hex\r\n0\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed chunked body: %d, want 400", res.StatusCode)
	}
}
