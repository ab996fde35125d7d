package api

import (
	"html"
	"image/png"

	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// chromiumScreenshot renders url in headless Chromium and returns the
// path of its PNG screenshot.
func chromiumScreenshot(t *testing.T, url string, w, h int) string {
	t.Helper()
	dir := t.TempDir()
	shot := filepath.Join(dir, "shot.png")
	out, err := run(t, os.Environ(), dir, "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--disable-background-networking", "--user-data-dir="+t.TempDir(), "--window-size="+itoa(w)+","+itoa(h), "--screenshot="+shot, url)
	if err != nil {
		t.Fatalf("chromium --screenshot %s: %v\n%.2000s", url, err, out)
	}
	return shot
}

func itoa(n int) string { return strconv.Itoa(n) }

// checkLinks checks that the page's links to CVE pages, traces and
// the API answer (the server has no search index: search links 503).
func checkLinks(t *testing.T, base, dom string) {
	t.Helper()
	if m := liveScript.FindString(dom); m != "" {
		t.Errorf("the rendered page has live script %q", m)
	}
	n := 0
	for _, h := range domHref.FindAllStringSubmatch(dom, -1) {
		u := html.UnescapeString(h[1])
		if !strings.HasPrefix(u, "/_/") && !strings.HasPrefix(u, "/api/") || n >= 30 {
			continue
		}
		n++
		if r := do(t, "GET", base+u, ""); r.Status >= 400 {
			t.Errorf("link %s = %d", u, r.Status)
		}
	}
	if n == 0 {
		t.Error("no links found")
	}
}

// TestChromiumCVEPages renders /_/cves/ and /_/gap/ in Chromium: the
// CVE table sorts and filters through its links and form, and the gap
// charts are parsed as SVG and paint their bars.
func TestChromiumCVEPages(t *testing.T) {
	needTool(t, "chromium")
	base := newServerFor(t, New(cveSample(t), nil, &Options{Logger: testLogger(t)}))
	rowIDs := regexp.MustCompile(`<td><a href="/_/trace/(CVE-[0-9-]+)">`)
	ids := func(dom string) string {
		var out []string
		for _, m := range rowIDs.FindAllStringSubmatch(dom, -1) {
			out = append(out, m[1])
		}
		return strings.Join(out, " ")
	}
	dom := chromiumDOM(t, base+"/_/cves/")
	if got, want := ids(dom), "CVE-2024-1000 CVE-2024-1001 CVE-2024-1002 CVE-2024-10003"; got != want {
		t.Errorf("/_/cves/ rows %q, want %q", got, want)
	}
	// Follow the CVSS header link twice, as a click would.
	link := regexp.MustCompile(`<a href="(/_/cves/\?sort=[^"]*)">CVSS</a>`)
	for _, want := range []string{"CVE-2024-10003 CVE-2024-1001 CVE-2024-1000 CVE-2024-1002", "CVE-2024-1002 CVE-2024-1000 CVE-2024-1001 CVE-2024-10003"} {
		m := link.FindStringSubmatch(dom)
		if m == nil {
			t.Fatalf("no CVSS sort link in\n%s", dom)
		}
		dom = chromiumDOM(t, base+strings.ReplaceAll(m[1], "&amp;", "&"))
		if got := ids(dom); got != want {
			t.Errorf("after clicking CVSS: rows %q, want %q", got, want)
		}
	}
	// The form's GET, as submitting it with "open in" 6.1.80 and
	// "not in the archive" sends it.
	dom = chromiumDOM(t, base+"/_/cves/?open_in=6.1.80&fixed_in=&file=&list=&published=&traced=no&sort=")
	if got, want := ids(dom), "CVE-2024-1001 CVE-2024-10003"; got != want {
		t.Errorf("filtered rows %q, want %q", got, want)
	}
	checkLinks(t, base, dom)

	// The gap page: Chromium's DOM holds both charts as SVG elements.
	dom = chromiumDOM(t, base+"/_/gap/")
	if n := strings.Count(dom, "<svg "); n != 2 {
		t.Errorf("/_/gap/ DOM has %d svg elements, want 2", n)
	}
	if n := strings.Count(dom, `class="bar"`); n != 10 {
		t.Errorf("/_/gap/ DOM has %d bars, want 10", n)
	}
	checkLinks(t, base, dom)
	// The screenshot shows the bar colour (#4c78a8) and a curve colour
	// (#1f77b4): the SVG painted.
	f, err := os.Open(chromiumScreenshot(t, base+"/_/gap/", 900, 1400))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	near := func(r, g, b uint32, want [3]uint32) bool {
		d := func(a, b uint32) uint32 {
			if a > b {
				return a - b
			}
			return b - a
		}
		return d(r>>8, want[0]) < 12 && d(g>>8, want[1]) < 12 && d(b>>8, want[2]) < 12
	}
	bar, curve := 0, 0
	bnd := img.Bounds()
	for y := bnd.Min.Y; y < bnd.Max.Y; y++ {
		for x := bnd.Min.X; x < bnd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if near(r, g, b, [3]uint32{0x4c, 0x78, 0xa8}) {
				bar++
			}
			if near(r, g, b, [3]uint32{0x1f, 0x77, 0xb4}) {
				curve++
			}
		}
	}
	if bar < 200 || curve < 50 {
		t.Errorf("screenshot of /_/gap/: %d bar pixels, %d curve pixels; the charts did not paint", bar, curve)
	}
}
