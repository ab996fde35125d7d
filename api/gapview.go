package api

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"github.com/labstack/echo/v4"

	"patchtrail/internal/gap"
)

// The /_/gap/ page: internal/gap's report as two server-rendered SVG
// charts (the histogram of days from first posting to CVE publication,
// and the cumulative share of CVEs published within d days, one curve
// per publication year) and the aggregate tables. The charts are built
// here from the report's bins and points; every label is escaped.

// gapData is the /_/gap/ page.
type gapData struct {
	pageBase
	F          cveForm
	R          *gap.Report
	Histogram  template.HTML
	Cumulative template.HTML
	Tables     []gapTable
}

type gapTable struct {
	Name string
	Rows []gap.Stats
}

func (s *Server) pageGap(c echo.Context) error {
	setRoute(c, "/_/gap/", kindHTML)
	q, err := parseCVEQuery(c)
	if err != nil {
		return err
	}
	rep, err := gap.Measure(c.Request().Context(), s.st, &q.Filter)
	if err != nil {
		return cveFilterError(err)
	}
	d := gapData{pageBase: s.base("all", "Patch gap"), R: rep,
		Histogram: histogramSVG(rep.Histogram), Cumulative: cumulativeSVG(rep.Cumulative)}
	d.F = cveForm{Files: strings.Join(q.Filter.Files, " "), List: q.Filter.List, Published: strings.TrimSpace(c.QueryParam("published"))}
	d.Tables = []gapTable{{"Overall", []gap.Stats{rep.Overall}}, {"By era (kernel CNA from 2024-02-13)", rep.ByEra},
		{"By publication year", rep.ByYear}, {"By list", rep.ByList}, {"By subsystem", rep.BySubsystem}, {"By severity", rep.BySeverity}}
	return s.render(c, 200, "gap", d)
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH            = 640, 260
	padLeft, padRight, padTop = 48, 16, 12
	padBottom                 = 40
	plotW                     = chartW - padLeft - padRight
	plotH                     = chartH - padTop - padBottom
	svgOpen                   = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" class="chart" id="%s">`
	axisStyle                 = `stroke="#555" stroke-width="1"`
	gridStyle                 = `stroke="#ddd" stroke-width="1"`
	textStyle                 = `font-family="sans-serif" font-size="11" fill="#333"`
)

// curveColors tell the years apart.
var curveColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"}

func binLabel(b gap.Bin) string {
	if b.To == 0 {
		return fmt.Sprintf("%g+", b.From)
	}
	return fmt.Sprintf("%g–%g", b.From, b.To)
}

// histogramSVG draws one bar per bin, labelled with its range of days
// and its count.
func histogramSVG(bins []gap.Bin) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, svgOpen, chartW, chartH, chartW, chartH, "histogram of days from first posting to CVE publication", "histogram")
	top := 0
	for _, x := range bins {
		top = max(top, x.Count)
	}
	top = niceCeil(top)
	y := func(n int) float64 { return padTop + plotH - float64(n)/float64(top)*plotH }
	for _, t := range ticks(top) {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" %s/>`, padLeft, y(t), chartW-padRight, y(t), gridStyle)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" %s>%d</text>`, padLeft-4, y(t)+4, textStyle, t)
	}
	if n := len(bins); n > 0 {
		w := float64(plotW) / float64(n)
		for i, x := range bins {
			x0 := padLeft + float64(i)*w
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#4c78a8"><title>%s days: %d CVEs</title></rect>`,
				x0+2, y(x.Count), w-4, y(0)-y(x.Count), esc(binLabel(x)), x.Count)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" %s>%s</text>`, x0+w/2, padTop+plotH+14, textStyle, esc(binLabel(x)))
		}
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" %s/>`, padLeft, padTop+plotH, chartW-padRight, padTop+plotH, axisStyle)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" %s/>`, padLeft, padTop, padLeft, padTop+plotH, axisStyle)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" %s>days from first posting to CVE publication</text>`, padLeft+plotW/2, chartH-6, textStyle)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// cumulativeSVG draws, per curve, the share of CVEs (0–100 %) with a gap
// of at most d days as a step line, with a legend.
func cumulativeSVG(curves []gap.Curve) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, svgOpen, chartW, chartH, chartW, chartH, "cumulative share of CVEs published within d days of the first posting, per year", "cumulative")
	lo, hi := 0.0, 1.0
	for _, c := range curves {
		for _, p := range c.Points {
			lo, hi = math.Min(lo, p.Days), math.Max(hi, p.Days)
		}
	}
	hi = float64(niceCeil(int(math.Ceil(hi))))
	x := func(d float64) float64 { return padLeft + (d-lo)/(hi-lo)*plotW }
	y := func(s float64) float64 { return padTop + plotH - s*plotH }
	for _, s := range []float64{0, .25, .5, .75, 1} {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" %s/>`, padLeft, y(s), chartW-padRight, y(s), gridStyle)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" %s>%d%%</text>`, padLeft-4, y(s)+4, textStyle, int(s*100))
	}
	for _, t := range ticks(int(hi)) {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" %s>%d</text>`, x(float64(t)), padTop+plotH+14, textStyle, t)
	}
	for i, c := range curves {
		color := curveColors[i%len(curveColors)]
		var pts []string
		prev := 0.0
		for _, p := range c.Points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(p.Days), y(prev), x(p.Days), y(p.Share)))
			prev = p.Share
		}
		if len(pts) > 0 {
			pts = append([]string{fmt.Sprintf("%.1f,%.1f", x(lo), y(0))}, pts...)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(hi), y(prev)))
		}
		fmt.Fprintf(&b, `<polyline class="curve" points="%s" fill="none" stroke="%s" stroke-width="2"><title>%s</title></polyline>`,
			strings.Join(pts, " "), color, esc(c.Group))
		ly := padTop + 8 + i*14
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" %s>%s</text>`,
			chartW-padRight-70, ly, color, chartW-padRight-56, ly+9, textStyle, esc(yearLabel(c.Group)))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" %s/>`, padLeft, padTop+plotH, chartW-padRight, padTop+plotH, axisStyle)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" %s/>`, padLeft, padTop, padLeft, padTop+plotH, axisStyle)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" %s>days from first posting to CVE publication</text>`, padLeft+plotW/2, chartH-6, textStyle)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func yearLabel(g string) string {
	if g == "0" {
		return "undated"
	}
	return g
}

// esc escapes text for an SVG text node or attribute.
func esc(s string) string { return html.EscapeString(s) }

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(n int) int {
	if n <= 1 {
		return 1
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

// ticks are 0 and up to five even steps to top (a niceCeil value).
func ticks(top int) []int {
	step := max(1, niceCeil(top/5))
	var out []int
	for t := 0; t <= top; t += step {
		out = append(out, t)
	}
	return out
}
