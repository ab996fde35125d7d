package api

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"patchtrail/internal/gap"
)

// svgStats parses an SVG document with encoding/xml and counts its
// elements by name and class.
func svgStats(t *testing.T, doc string) map[string]int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	n := map[string]int{}
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v\n%s", err, doc)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if depth == 0 && (e.Name.Local != "svg" || e.Name.Space != "http://www.w3.org/2000/svg") {
				t.Fatalf("root element %v, want svg in the SVG namespace", e.Name)
			}
			depth++
			n[e.Name.Local]++
			for _, a := range e.Attr {
				if a.Name.Local == "class" {
					n["."+a.Value]++
				}
			}
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 || n["svg"] != 1 {
		t.Fatalf("SVG: %d svg elements, depth %d at end", n["svg"], depth)
	}
	return n
}

func TestGapCharts(t *testing.T) {
	bins := []gap.Bin{{From: 0, To: 7, Count: 3}, {From: 7, To: 30, Count: 12}, {From: 30, Count: 0}}
	n := svgStats(t, string(histogramSVG(bins)))
	if n[".bar"] != 3 {
		t.Errorf("histogram has %d bars, want 3", n[".bar"])
	}
	curves := []gap.Curve{
		{Group: "2023", Points: []gap.Point{{Days: -2, Share: .5}, {Days: 400, Share: 1}}},
		{Group: "2024 <&>", Points: []gap.Point{{Days: 10, Share: 1}}},
	}
	svg := string(cumulativeSVG(curves))
	n = svgStats(t, svg)
	if n[".curve"] != 2 {
		t.Errorf("cumulative chart has %d curves, want 2", n[".curve"])
	}
	if !strings.Contains(svg, "2024 &lt;&amp;&gt;") {
		t.Error("curve label not escaped")
	}
	// Every coordinate is inside the chart.
	for _, m := range regexp.MustCompile(`-?\d+\.\d,-?\d+\.\d`).FindAllString(svg, -1) {
		var x, y float64
		if _, err := fmt.Sscanf(m, "%g,%g", &x, &y); err != nil || x < 0 || x > chartW || y < 0 || y > chartH {
			t.Errorf("point %s outside the %dx%d chart", m, chartW, chartH)
		}
	}
	// An empty report still draws well-formed charts.
	svgStats(t, string(histogramSVG(nil)))
	svgStats(t, string(cumulativeSVG(nil)))
}

func TestGapPage(t *testing.T) {
	base := newServerFor(t, New(cveSample(t), nil, &Options{Logger: testLogger(t)}))
	r := do(t, http.MethodGet, base+"/_/gap/", "")
	if r.Status != http.StatusOK {
		t.Fatalf("/_/gap/: status %d\n%.500s", r.Status, r.Body)
	}
	body := string(r.Body)
	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(body, -1)
	if len(svgs) != 2 {
		t.Fatalf("/_/gap/ has %d SVG charts, want 2", len(svgs))
	}
	if n := svgStats(t, svgs[0]); n[".bar"] != len(gap.HistogramBins) {
		t.Errorf("histogram has %d bars, want %d", n[".bar"], len(gap.HistogramBins))
	}
	if n := svgStats(t, svgs[1]); n[".curve"] != 1 {
		t.Errorf("cumulative chart has %d curves, want 1 (2024)", n[".curve"])
	}
	for _, w := range []string{`href="/_/trace/CVE-2024-1000"`, "1 CVEs with a publication date", "By publication year", "io-uring"} {
		if !strings.Contains(body, w) {
			t.Errorf("/_/gap/ lacks %q", w)
		}
	}
	if r := do(t, http.MethodGet, base+"/_/gap/?list=nothing", ""); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "No traced CVE") {
		t.Errorf("/_/gap/?list=nothing: status %d, want an empty report", r.Status)
	}
	if r := do(t, http.MethodGet, base+"/_/gap/?published=x", ""); r.Status != http.StatusBadRequest {
		t.Errorf("/_/gap/?published=x: status %d, want 400", r.Status)
	}
}
