package api

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// scriptTag finds live script in a page: mail text is escaped, so any
// literal '<' starts a real tag.
var scriptTag = regexp.MustCompile(`(?i)<script|<[^>]*\son[a-z]+\s*=|href="\s*javascript:`)

func TestPages(t *testing.T) {
	_, ts := newTestServer(t, nil)
	hostile := escapeMID(hostileMID)
	tests := []struct {
		path   string
		status int
		want   []string // substrings of the page
	}{
		{"/", http.StatusOK, []string{"io-uring", "/all/"}},
		{"/all/", http.StatusOK, []string{"Newest messages", "search syntax"}},
		{"/all/?q=s:tidy", http.StatusOK, []string{"matching messages", "tidy up send/recv", "download mbox.gz", `href="?q=s%3Atidy&amp;x=A"`}},
		{"/all/?q=s:io_uring&l=5", http.StatusOK, []string{`rel="next"`, "showing 1–5"}},
		{"/all/?q=s:io_uring&l=5&o=5", http.StatusOK, []string{`rel="prev"`, "showing 6–10"}},
		{"/all/?q=" + url.QueryEscape("s:(tidy"), http.StatusBadRequest, []string{"missing &#39;)&#39;", "  ^"}},
		{"/all/?q=s:zzzznothing", http.StatusOK, []string{"[No results found]"}},
		{"/all/" + coverMID + "/", http.StatusOK, []string{"tidy up send/recv flag handling", "t.mbox.gz", "series/"}},
		{"/all/" + patch2MID + "/", http.StatusOK, []string{`class="add"`, `class="hunk"`, `class="dh"`, "Patch "}},
		{"/all/" + coverMID + "/t/", http.StatusOK, []string{"margin-left:2em", "<details class=\"quote\">", "Same subject"}},
		{"/all/" + coverMID + "/T/", http.StatusOK, []string{"tidy up"}},
		{"/all/" + patch2MID + "/series/", http.StatusOK, []string{"Versions", "v1", "v2", "Reviewed-by"}},
		{"/all/_/text/help/", http.StatusOK, []string{"dfhh:"}},
		{"/all/" + hostile + "/", http.StatusOK, []string{"&lt;script&gt;alert(1)&lt;/script&gt; io_uring docs &amp; &#34;quotes&#34;"}},
		{"/all/" + hostile + "/t/", http.StatusOK, []string{"&lt;img src=x onerror=alert(2)&gt;"}},
		{"/all/?q=" + url.QueryEscape(`s:"<script>alert(1)</script>"`), http.StatusOK, []string{"&lt;script&gt;"}},
		{"/all/nothing@example.org/", http.StatusNotFound, []string{"404"}},
		{"/all/" + hostile + "/series/", http.StatusNotFound, []string{"not part of a patch series"}},
	}
	for _, tc := range tests {
		r := do(t, http.MethodGet, ts.URL+tc.path, "")
		body := string(r.Body)
		if r.Status != tc.status {
			t.Errorf("GET %s = %d, want %d\n%.500s", tc.path, r.Status, tc.status, body)
			continue
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q", tc.path, ct)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s: page lacks %q", tc.path, w)
			}
		}
		// No page has scripts or inline handlers of its own, so any is
		// mail text that escaped its escaping.
		if m := scriptTag.FindString(body); m != "" {
			t.Errorf("GET %s: page contains %q", tc.path, m)
		}
	}
}

func TestRenderBody(t *testing.T) {
	text := "Hi,\n> quoted 1\n> quoted 2\n> quoted 3\n> quoted 4\n> short\n\nsee https://lore.kernel.org/x. ok\n---\n fs/x.c | 2 +-\n\ndiff --git a/fs/x.c b/fs/x.c\nindex 1..2 100644\n--- a/fs/x.c\n+++ b/fs/x.c\n@@ -1,2 +1,2 @@ f()\n ctx\n-old\n+new\n-- \n2.43.0\n"
	blocks, cut := renderBody(text)
	if cut {
		t.Error("short body cut")
	}
	var kinds []string
	classes := map[string]int{}
	links := 0
	for _, b := range blocks {
		k := b.Kind
		if b.Fold {
			k += "(folded)"
		}
		kinds = append(kinds, k)
		for _, l := range b.Lines {
			classes[l.Class]++
			for _, p := range l.Parts {
				if p.URL != "" {
					links++
					if p.URL != "https://lore.kernel.org/x" {
						t.Errorf("link %q", p.URL)
					}
				}
			}
		}
	}
	want := "text quote(folded) text diff text"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("renderBody blocks = %s, want %s", got, want)
	}
	if classes["dh"] != 4 || classes["hunk"] != 1 || classes["add"] != 1 || classes["del"] != 1 || classes["ctx"] != 1 || links != 1 {
		t.Errorf("line classes = %v, links %d", classes, links)
	}
	lines := 0
	for _, b := range blocks {
		lines += len(b.Lines)
	}
	if want := strings.Count(strings.TrimRight(text, "\n"), "\n") + 1; lines != want {
		t.Errorf("renderBody kept %d lines, want all %d", lines, want)
	}
}
