package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMetrics(t *testing.T) {
	_, ts := newTestServer(t, nil)
	do(t, "GET", ts.URL+"/api/v1/search?q=s:io_uring", "")
	do(t, "GET", ts.URL+"/api/v1/message/nope@x", "")
	do(t, "GET", ts.URL+"/all/"+coverMID+"/raw", "")
	do(t, "GET", ts.URL+"/all/"+coverMID+"/t.mbox.gz", "")
	do(t, "GET", ts.URL+"/all/"+coverMID+"/t.mbox.gz", "")
	r := do(t, "GET", ts.URL+"/metrics", "")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("/metrics = %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	body := string(r.Body)
	for _, want := range []string{
		`patchtrail_http_requests_total{method="GET",route="/api/v1/search",status="200"} 1`,
		`patchtrail_http_requests_total{method="GET",route="/api/v1/message/{mid}",status="404"} 1`,
		`patchtrail_http_requests_total{method="GET",route="/LIST/MSGID/raw",status="200"} 1`,
		`patchtrail_http_request_duration_seconds_bucket{route="/api/v1/search",le="+Inf"} 1`,
		`patchtrail_http_request_duration_seconds_count{route="/LIST/MSGID/raw"} 1`,
		"patchtrail_http_requests_in_flight 1", // the /metrics request itself
		`patchtrail_cache_hits_total{cache="answers"} 1`,
		`patchtrail_cache_misses_total{cache="answers"} 3`,
		`patchtrail_cache_max_bytes{cache="bodies"} 50331648`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// Every sample line is NAME{LABELS} VALUE or NAME VALUE.
	sample := regexp.MustCompile(`^[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)+\})? [0-9.e+-]+$`)
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if !strings.HasPrefix(l, "# ") && !sample.MatchString(l) {
			t.Errorf("/metrics: malformed line %q", l)
		}
	}
	if got := quoteLabel("a\"b\\c\nd"); got != `"a\"b\\c\nd"` {
		t.Errorf("quoteLabel = %s", got)
	}
}

// TestGracefulShutdown cancels Serve's context while a request runs:
// the request completes and Serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	s, _ := newTestServer(t, &Options{ShutdownTimeout: 5 * time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeListener(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	res, err := http.Get(base + "/all/" + coverMID + "/t.mbox.gz")
	if err != nil {
		t.Fatal(err)
	}
	cancel() // while the response body is unread
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || len(b) == 0 {
		t.Errorf("request during shutdown: %d, %d bytes, %v", res.StatusCode, len(b), err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil after a graceful shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if _, err := http.Get(base + "/"); err == nil {
		t.Error("server still accepts connections after shutdown")
	}
}

// TestOpenAPI checks the document against the routes and the answers:
// every endpoint is documented, and a real answer of each validates
// against its schema (no undocumented fields, required fields present,
// types right).
func TestOpenAPI(t *testing.T) {
	_, ts := newTestServer(t, nil)
	var doc map[string]any
	getJSON(t, ts.URL+"/api/v1/openapi.json", &doc)
	if doc["openapi"] != "3.0.3" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var documented []string
	for p := range paths {
		documented = append(documented, p)
	}
	var routed []string
	for _, ep := range endpoints {
		routed = append(routed, ep.Path)
	}
	routed = append(routed, "/openapi.json")
	sort.Strings(documented)
	sort.Strings(routed)
	if diff := cmp.Diff(routed, documented); diff != "" {
		t.Errorf("documented paths differ from the endpoint table (-routes +doc):\n%s", diff)
	}
	samples := map[string]string{
		"/search":        "/api/v1/search?q=s:io_uring&limit=3",
		"/message/{mid}": "/api/v1/message/" + escapeMID(patch2MID),
		"/thread/{mid}":  "/api/v1/thread/" + escapeMID(coverMID),
		"/series/{mid}":  "/api/v1/series/" + escapeMID(patch2MID),
		"/lists":         "/api/v1/lists",
		"/stats":         "/api/v1/stats",
		"/radar":         "/api/v1/radar?limit=5&from=2000-01-01",
		"/repos":         "/api/v1/repos",
		"/trace/{id}":    "/api/v1/trace/" + escapeMID(patch2MID),
		// Validated against linked data in TestOpenAPILinked.
		"/commit/{sha}": "",
		"/cve/{id}":     "",
		"/cves":         "",
	}
	for _, ep := range endpoints {
		path, ok := samples[ep.Path]
		if !ok {
			t.Errorf("no sample request for %s: add one here", ep.Path)
			continue
		}
		if path == "" {
			continue
		}
		op := paths[ep.Path].(map[string]any)[strings.ToLower(ep.Method)].(map[string]any)
		schema := op["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"]
		var v any
		getJSON(t, ts.URL+path, &v)
		for _, e := range validate(schema, v, schemas, ep.Path) {
			t.Error(e)
		}
	}
	// Errors follow ErrorBody.
	var e any
	r := do(t, "GET", ts.URL+"/api/v1/search?q=(", "")
	json.Unmarshal(r.Body, &e)
	for _, msg := range validate(map[string]any{"$ref": "#/components/schemas/ErrorBody"}, e, schemas, "error") {
		t.Error(msg)
	}
}

// TestOpenAPILinked validates the answers that need linked commits and
// CVEs: the sample archive, a repository made by git am of its patches,
// and one CVE record.
func TestOpenAPILinked(t *testing.T) {
	st, commits := linkedSample(t)
	ts := httptest.NewServer(New(st, nil, &Options{Logger: testLogger(t)}).Handler())
	defer ts.Close()
	var doc map[string]any
	getJSON(t, ts.URL+"/api/v1/openapi.json", &doc)
	paths := doc["paths"].(map[string]any)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	sha := commits[traceV2p2]
	for path, req := range map[string]string{
		"/commit/{sha}": "/api/v1/commit/" + sha[:12],
		"/trace/{id}":   "/api/v1/trace/" + sha,
		"/cve/{id}":     "/api/v1/cve/CVE-2024-1000",
		"/cves":         "/api/v1/cves?postings=1",
		"/repos":        "/api/v1/repos",
	} {
		op := paths[path].(map[string]any)["get"].(map[string]any)
		schema := op["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"]
		var v any
		getJSON(t, ts.URL+req, &v)
		for _, e := range validate(schema, v, schemas, path) {
			t.Error(e)
		}
	}
	if r := do(t, "GET", ts.URL+"/api/v1/commit/ffffffffffff", ""); r.Status != http.StatusNotFound {
		t.Errorf("unknown commit: status %d, want 404", r.Status)
	}
}

// validate checks value v against an OpenAPI schema (the subset
// openapi.go writes) and returns the mismatches.
func validate(schema, v any, comps map[string]any, at string) []string {
	s := schema.(map[string]any)
	if ref, ok := s["$ref"].(string); ok {
		return validate(comps[strings.TrimPrefix(ref, "#/components/schemas/")], v, comps, at)
	}
	if all, ok := s["allOf"].([]any); ok {
		if v == nil && s["nullable"] == true {
			return nil
		}
		return validate(all[0], v, comps, at)
	}
	if v == nil {
		if s["nullable"] == true || s["type"] == nil {
			return nil
		}
		return []string{fmt.Sprintf("%s: null, schema %v", at, s["type"])}
	}
	var errs []string
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want object", at, v)}
		}
		props, _ := s["properties"].(map[string]any)
		if props == nil {
			return nil
		}
		for k, x := range m {
			ps, ok := props[k]
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: field %q not in the schema", at, k))
				continue
			}
			errs = append(errs, validate(ps, x, comps, at+"."+k)...)
		}
		req, _ := s["required"].([]any)
		for _, k := range req {
			if _, ok := m[k.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: required field %q missing", at, k))
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want array", at, v)}
		}
		for i, x := range a {
			errs = append(errs, validate(s["items"], x, comps, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		if _, ok := v.(string); !ok {
			errs = append(errs, fmt.Sprintf("%s: %T, want string", at, v))
		}
	case "integer", "number":
		f, ok := v.(float64)
		if !ok || (s["type"] == "integer" && f != float64(int64(f))) {
			errs = append(errs, fmt.Sprintf("%s: %v, want %s", at, v, s["type"]))
		}
	case "boolean":
		if reflect.TypeOf(v).Kind() != reflect.Bool {
			errs = append(errs, fmt.Sprintf("%s: %T, want boolean", at, v))
		}
	}
	return errs
}

func TestValidateCatchesDrift(t *testing.T) {
	var doc map[string]any
	json.Unmarshal(OpenAPI(), &doc)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	ref := map[string]any{"$ref": "#/components/schemas/ErrorBody"}
	bad := []any{
		map[string]any{"error": map[string]any{"status": 1, "message": "m"}, "extra": true},
		map[string]any{"error": map[string]any{"status": "400", "message": "m"}},
		map[string]any{"error": map[string]any{"message": "m"}},
	}
	for _, v := range bad {
		b, _ := json.Marshal(v)
		var x any
		json.Unmarshal(b, &x)
		if len(validate(ref, x, schemas, "e")) == 0 {
			t.Errorf("validate(%s) found nothing wrong", b)
		}
	}
}
