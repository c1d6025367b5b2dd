package server

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/risk"
	"github.com/vigil-zt/vigil/internal/store"
)

// The console's charts are SVG drawn here, on the server: no script, no
// canvas, readable by screen readers (a title and a description) and
// each with its numbers in a table beside it.

// Severity colours: each at least 3:1 against the white background (WCAG
// 1.4.11), and never the only cue (legends, tables and labels carry the
// same information).
var sevColour = map[event.Severity]string{
	event.SeverityCritical: "#a4161a",
	event.SeverityHigh:     "#c2410c",
	event.SeverityMedium:   "#8a6500",
	event.SeverityLow:      "#52667a",
}

var sevOrder = []event.Severity{event.SeverityCritical, event.SeverityHigh, event.SeverityMedium, event.SeverityLow}

// chartRow is one bucket of the risk-over-time chart, for its table.
type chartRow struct {
	From, To time.Time
	Counts   map[event.Severity]int
	Total    int
	MaxRisk  float64
}

const (
	chartW, chartH           = 760, 240
	padL, padR, padT, padB   = 44, 44, 16, 36
	plotW, plotH             = chartW - padL - padR, chartH - padT - padB
	chartFont                = `font-family="system-ui, sans-serif" font-size="11"`
	axisColour, gridColour   = "#3d4852", "#d5dbe1"
	riskLineColour           = "#1d3f8f"
	chartTimeLayout          = "Jan 02 15:04"
	chartTimeLayoutDayBucket = "Jan 02"
)

// riskOverTime draws alerts per bucket by severity (stacked bars, left
// axis) and the highest identity risk reached in each bucket (line, right
// axis 0–100) over n buckets from from to to, from the store's counts.
func riskOverTime(buckets []store.AlertBucket, from, to time.Time, n int) (template.HTML, []chartRow) {
	if !to.After(from) || n <= 0 {
		return "", nil
	}
	w := to.Sub(from) / time.Duration(n)
	rows := make([]chartRow, n)
	for i := range rows {
		rows[i] = chartRow{From: from.Add(time.Duration(i) * w), To: from.Add(time.Duration(i+1) * w), Counts: map[event.Severity]int{}}
	}
	for _, b := range buckets {
		if b.Bucket < 0 || b.Bucket >= n {
			continue
		}
		r := &rows[b.Bucket]
		r.Counts[b.Severity] += b.Count
		r.Total += b.Count
		r.MaxRisk = max(r.MaxRisk, b.MaxRisk)
	}
	top := 0
	for _, r := range rows {
		top = max(top, r.Total)
	}
	yMax := niceCeil(max(top, 4))
	var b strings.Builder
	total, peak := 0, 0.0
	for _, r := range rows {
		total += r.Total
		peak = max(peak, r.MaxRisk)
	}
	desc := fmt.Sprintf("%d alerts from %s to %s; highest identity risk %.0f of 100.", total, from.UTC().Format(chartTimeLayout), to.UTC().Format(chartTimeLayout), peak)
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="rot-title rot-desc" xmlns="http://www.w3.org/2000/svg" %s>`, chartW, chartH, chartFont)
	fmt.Fprintf(&b, `<title id="rot-title">Risk over time</title><desc id="rot-desc">%s</desc>`, html.EscapeString(desc))
	// Grid and left axis (alert counts).
	for _, v := range []int{0, yMax / 2, yMax} {
		y := padT + plotH - float64(v)/float64(yMax)*plotH
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>`, padL, padL+plotW, y, y, gridColour)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="%s">%d</text>`, padL-6, y+4, axisColour, v)
	}
	// Right axis (risk).
	for _, v := range []int{0, 50, 100} {
		y := padT + plotH - float64(v)/100*plotH
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" fill="%s">%d</text>`, padL+plotW+6, y+4, riskLineColour, v)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">alerts</text>`, 4, padT-4, axisColour)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="%s">risk</text>`, chartW-4, padT-4, riskLineColour)
	bw := float64(plotW) / float64(n)
	for i, r := range rows {
		x := padL + float64(i)*bw
		y := float64(padT + plotH)
		for _, sev := range sevOrder {
			c := r.Counts[sev]
			if c == 0 {
				continue
			}
			h := float64(c) / float64(yMax) * plotH
			y -= h
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d %s</title></rect>`,
				x+1, y, max(bw-2, 1), h, sevColour[sev], html.EscapeString(r.From.UTC().Format(chartTimeLayout)), c, sev)
		}
	}
	// The risk line, through the buckets that had alerts; a bucket
	// without any breaks it (nothing is known in between).
	var pts []string
	line := func() {
		if len(pts) > 1 {
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(pts, " "), riskLineColour)
		}
		pts = pts[:0]
	}
	for i, r := range rows {
		if r.Total == 0 {
			line()
			continue
		}
		x := padL + (float64(i)+0.5)*bw
		y := padT + plotH - r.MaxRisk/100*plotH
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>highest risk %.0f</title></circle>`, x, y, riskLineColour, r.MaxRisk)
	}
	line()
	timeAxis(&b, from, to)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()), rows
}

// riskHistory draws an identity's risk after each of its alerts (oldest
// first) and its risk now, on a 0–100 axis with the level thresholds.
func riskHistory(alerts []event.Alert, current float64, now time.Time, halfLife time.Duration) template.HTML {
	if len(alerts) == 0 {
		return ""
	}
	from := alerts[0].Time.Add(-6 * time.Hour)
	to := now
	if !to.After(alerts[len(alerts)-1].Time) {
		to = alerts[len(alerts)-1].Time.Add(time.Hour)
	}
	x := func(t time.Time) float64 { return padL + float64(t.Sub(from))/float64(to.Sub(from))*plotW }
	y := func(r float64) float64 { return padT + plotH - r/100*plotH }
	var b strings.Builder
	desc := fmt.Sprintf("%d alerts; risk now %.0f of 100 (%s).", len(alerts), current, risk.Level(current))
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="rh-title rh-desc" xmlns="http://www.w3.org/2000/svg" %s>`, chartW, chartH, chartFont)
	fmt.Fprintf(&b, `<title id="rh-title">Risk history</title><desc id="rh-desc">%s</desc>`, html.EscapeString(desc))
	for _, th := range []struct {
		v    float64
		name event.Severity
	}{{25, event.SeverityMedium}, {50, event.SeverityHigh}, {75, event.SeverityCritical}} {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="4 3"/>`, padL, padL+plotW, y(th.v), y(th.v), sevColour[th.name])
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="%s">%s</text>`, padL+plotW-2, y(th.v)-3, sevColour[th.name], th.name)
	}
	for _, v := range []float64{0, 50, 100} {
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="%s">%.0f</text>`, padL-6, y(v)+4, axisColour, v)
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>`, padL, padL+plotW, y(0), y(0), axisColour)
	// Between alerts risk decays (halving every halfLife), then jumps at
	// the next alert: the line follows that curve.
	var pts []string
	for i, a := range alerts {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(a.Time), y(a.Risk)))
		next, end := to, current
		if i+1 < len(alerts) {
			next, end = alerts[i+1].Time, -1
		}
		if halfLife > 0 && next.After(a.Time) {
			const steps = 24
			for k := 1; k <= steps; k++ {
				t := a.Time.Add(next.Sub(a.Time) * time.Duration(k) / steps)
				r := a.Risk * math.Exp2(-float64(t.Sub(a.Time))/float64(halfLife))
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(t), y(r)))
			}
		} else if end >= 0 {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(next), y(end)))
		}
	}
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(pts, " "), riskLineColour)
	for _, a := range alerts {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s %s: risk %.0f</title></circle>`,
			x(a.Time), y(a.Risk), sevColour[a.Severity], html.EscapeString(a.Time.UTC().Format(chartTimeLayout)), html.EscapeString(a.Rule), a.Risk)
	}
	fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="#fff" stroke="%s" stroke-width="2"><title>now: risk %.0f</title></circle>`, x(to), y(current), riskLineColour, current)
	timeAxis(&b, from, to)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// timeAxis writes five time labels under the plot.
func timeAxis(b *strings.Builder, from, to time.Time) {
	layout := chartTimeLayout
	if to.Sub(from) > 4*24*time.Hour {
		layout = chartTimeLayoutDayBucket
	}
	for i := 0; i <= 4; i++ {
		t := from.Add(time.Duration(float64(to.Sub(from)) * float64(i) / 4))
		x := padL + float64(i)/4*plotW
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case 4:
			anchor = "end"
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="%s" fill="%s">%s</text>`, x, chartH-padB+18, anchor, axisColour, t.UTC().Format(layout))
	}
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, and even.
func niceCeil(n int) int {
	p := math.Pow(10, math.Floor(math.Log10(float64(n))))
	for _, m := range []float64{1, 2, 5, 10} {
		if v := int(m * p); v >= n && v%2 == 0 {
			return v
		}
	}
	return n + n%2
}

var consoleFuncs = template.FuncMap{
	// tm is a time for people, in a <time> element that keeps it on one
	// line and gives machines the exact instant.
	"tm": func(t time.Time) template.HTML {
		if t.IsZero() {
			return "—"
		}
		u := t.UTC()
		return template.HTML(`<time datetime="` + u.Format(time.RFC3339Nano) + `">` + u.Format("2006-01-02 15:04:05Z") + `</time>`)
	},
	"risk": func(r float64) string { return fmt.Sprintf("%.0f", r) },
	"ms": func(v float64) string {
		switch {
		case v == 0:
			return "—"
		case v < 10:
			return fmt.Sprintf("%.1f ms", v)
		case v < 10_000:
			return fmt.Sprintf("%.0f ms", v)
		}
		return fmt.Sprintf("%.1f s", v/1000)
	},
	"rate":   func(v float64) string { return fmt.Sprintf("%.0f", v) },
	"join":   strings.Join,
	"pathid": url.PathEscape,
	"sevs":   func() []event.Severity { return sevOrder },
	"count": func(m map[event.Severity]int, s event.Severity) int {
		return m[s]
	},
	"countOf": func(m map[string]int, s event.Severity) int { return m[string(s)] },
}
