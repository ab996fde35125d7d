package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// FuzzQueries sends arbitrary search queries and search parameters,
// properly encoded, through every endpoint that searches: the JSON API,
// the lore search page, its mbox download and its Atom feed. A query may
// be refused (4xx) but never fail with a 5xx or panic.
func FuzzQueries(f *testing.F) {
	for _, q := range []string{"s:io_uring", `"fix the race" AND f:axboe`, "d:2024-01-01..2024-02-01", "a* OR b*", "(x",
		`nq:"Reviewed-by" -s:Re`, "dfn:io_uring/rw.c", "rt:1.week.ago..", `"` + strings.Repeat("the buffer ring ", 20) + `"`,
		"mid:" + coverMID, "b:\x00\xff", "s:tidy", "NOT", "((((a))))", "z:1..", "bs:x AND dfhh:io_", "l:io-uring.vger.kernel.org"} {
		f.Add(q, "relevance", 0, uint8(0))
		f.Add(q, "", 5, uint8(1))
		f.Add(q, "date", 0, uint8(2))
		f.Add(q, "x", 10001, uint8(3))
	}
	st, ix := sampleData(f)
	h := New(st, ix, &Options{Logger: testLogger(f)}).Handler()
	f.Fuzz(func(t *testing.T, q, sort string, offset int, where uint8) {
		v := url.Values{"q": {q}}
		method, target := http.MethodGet, ""
		switch where % 5 {
		case 0:
			v.Set("sort", sort)
			v.Set("offset", strconv.Itoa(offset))
			v.Set("threads", strconv.Itoa(int(where>>3)&1))
			target = "/api/v1/search?" + v.Encode()
		case 1:
			v.Set("o", strconv.Itoa(offset))
			if where&8 != 0 {
				v.Set("t", "1")
			}
			if where&16 != 0 {
				v.Set("r", "1")
			}
			target = "/all/?" + v.Encode()
		case 2:
			v.Set("x", "m")
			method, target = http.MethodPost, "/all/?"+v.Encode()
		case 3:
			v.Set("x", "A")
			target = "/all/?" + v.Encode()
		case 4:
			target = "/io-uring/?" + v.Encode()
		}
		req := httptest.NewRequest(method, "http://x"+target, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s = %d %s", method, target, rec.Code, rec.Body)
		}
	})
}
