package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// chartFormat is the charts' file format and extension: svg or png.
var chartFormat = "svg"

// chartNames are the charts' base names, in the order the report shows them.
var chartNames = []string{"throughput", "latency", "idle"}

// WriteCharts draws the charts the report has data for into dir and returns
// their file names: throughput (msgs/s of every echo scenario, per server,
// log scale), latency (p50/p99/p99.9 at a fixed rate) and idle (server memory
// per idle connection), each .svg or .png as chartFormat says.
func (rep *Report) WriteCharts(dir string) ([]string, error) {
	var written []string
	type chartFile struct {
		file string
		draw func() (chart, bool)
	}
	for _, c := range []chartFile{
		{"throughput." + chartFormat, rep.throughputChart},
		{"latency." + chartFormat, rep.latencyChart},
		{"idle." + chartFormat, rep.idleChart},
	} {
		ch, ok := c.draw()
		if !ok {
			continue
		}
		if err := ch.save(filepath.Join(dir, c.file)); err != nil {
			return written, fmt.Errorf("compare: draw %s: %v", c.file, err)
		}
		written = append(written, c.file)
	}
	return written, nil
}

// legendWidth is the margin at the right of a chart that holds its legend,
// so that the legend never hides a bar.
const legendWidth = 2.2 * vg.Inch

// chart is a plot ready to be saved.
type chart struct {
	p      *plot.Plot
	width  vg.Length // of the plot, without the legend's margin
	legend bool      // the plot has a legend, drawn in a margin at its right
}

// chartHeight is the height of every chart.
const chartHeight = 5 * vg.Inch

// save draws the chart into a file of chartFormat.
func (ch chart) save(path string) error {
	w := ch.width
	if ch.legend {
		w += legendWidth
	}
	c, err := draw.NewFormattedCanvas(w, chartHeight, chartFormat)
	if err != nil {
		return err
	}
	dc := draw.New(c)
	// A white ground under the legend's margin too, for dark page themes.
	dc.FillPolygon(color.White, []vg.Point{{X: 0, Y: 0}, {X: w, Y: 0}, {X: w, Y: chartHeight}, {X: 0, Y: chartHeight}})
	if ch.legend {
		legend := ch.p.Legend
		ch.p.Legend = plot.NewLegend()
		ch.p.Draw(draw.Crop(dc, 0, -legendWidth, 0, 0))
		legend.Top, legend.Left = true, true
		legend.Draw(draw.Crop(dc, ch.width+0.15*vg.Inch, 0, 0, -0.5*vg.Inch))
	} else {
		ch.p.Draw(dc)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// series is one bar series: a legend name and a value per category.
type series struct {
	name   string
	values []float64
}

// groupedBars draws categories along x with one bar per series in each; with
// logY the bars show log10 of the values, labelled as the values.
func groupedBars(title, ylabel string, categories []string, ss []series, logY bool) chart {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(10)
	p.Y.Label.Text = ylabel
	p.X.Tick.Label.Rotation = math.Pi / 8
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	width := vg.Length(3+1.1*float64(len(categories))) * vg.Inch
	if width < 8*vg.Inch {
		width = 8 * vg.Inch
	}
	group := (width - 1.3*vg.Inch) / vg.Length(len(categories))
	barWidth := group * 0.75 / vg.Length(len(ss))
	maxV := 0.0
	for i, s := range ss {
		vals := make(plotter.Values, len(s.values))
		for j, v := range s.values {
			if logY {
				v = logValue(v)
			}
			vals[j] = v
			maxV = math.Max(maxV, v)
		}
		bars, err := plotter.NewBarChart(vals, barWidth)
		if err != nil {
			continue // only for negative widths or NaN values
		}
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(i)
		bars.Offset = barWidth * (vg.Length(i) - vg.Length(len(ss)-1)/2)
		p.Add(bars)
		if len(ss) > 1 {
			p.Legend.Add(s.name, bars)
		}
	}
	p.NominalX(categories...)
	// One unit of x per category, so each group gets width/len(categories).
	p.X.Min, p.X.Max = -0.5, float64(len(categories))-0.5
	p.Add(plotter.NewGrid())
	headroom := 0.5
	if logY {
		p.Y.Min, p.Y.Max = 0, math.Ceil(maxV)+headroom
		p.Y.Tick.Marker = plot.ConstantTicks(logTicks(p.Y.Max))
	} else {
		p.Y.Min, p.Y.Max = 0, maxV*(1+headroom/3)
		p.Y.Tick.Marker = thousandsTicks{}
	}
	return chart{p: p, width: width, legend: len(ss) > 1}
}

// thousandsTicks are gonum's default ticks labelled like 25,000.
type thousandsTicks struct{}

func (thousandsTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = thousands(ticks[i].Value)
		}
	}
	return ticks
}

// logValue maps v >= 1 to log10(v); anything smaller (no result) to 0.
func logValue(v float64) float64 {
	if v < 1 {
		return 0
	}
	return math.Log10(v)
}

// logTicks labels powers of ten up to 10^max: 1, 10, 100, 1k, ... 1G.
func logTicks(max float64) []plot.Tick {
	var ticks []plot.Tick
	for e := 0; float64(e) <= max; e++ {
		ticks = append(ticks, plot.Tick{Value: float64(e), Label: siPow10(e)})
	}
	return ticks
}

// siPow10 is 10^e with an SI suffix: 1, 10, 100, 1k, 10k, 100k, 1M, ...
func siPow10(e int) string {
	suffix := []string{"", "k", "M", "G", "T"}
	if e/3 >= len(suffix) {
		return fmt.Sprintf("1e%d", e)
	}
	return fmt.Sprintf("%.0f%s", math.Pow10(e%3), suffix[e/3])
}

// serversIn lists the servers that have a result in one of the scenarios.
func (rep *Report) serversIn(scs []Scenario) []Server {
	var out []Server
	for _, srv := range rep.Servers {
		for _, sc := range scs {
			if o := rep.outcome(sc.Name, srv.Name); o != nil && o.Median != nil {
				out = append(out, srv)
				break
			}
		}
	}
	return out
}

// scenariosIn lists the report's scenarios of the given groups.
func (rep *Report) scenariosIn(groups ...string) []Scenario {
	var out []Scenario
	for _, sc := range rep.Scenarios {
		for _, g := range groups {
			if sc.Group == g {
				out = append(out, sc)
			}
		}
	}
	return out
}

// chartLabel shortens a scenario name for an axis: "100×64B×16".
func chartLabel(sc Scenario) string {
	return fmt.Sprintf("%s×%s×%d", thousands(float64(sc.Conns)), sizeName(sc.Size), sc.Inflight)
}

func (rep *Report) throughputChart() (chart, bool) {
	scs := rep.scenariosIn(GroupEcho, GroupBig)
	servers := rep.serversIn(scs)
	if len(scs) == 0 || len(servers) == 0 {
		return chart{}, false
	}
	var cats []string
	for _, sc := range scs {
		cats = append(cats, chartLabel(sc))
	}
	var ss []series
	for _, srv := range servers {
		s := series{name: srv.Label}
		for _, sc := range scs {
			v := 0.0
			if o := rep.outcome(sc.Name, srv.Name); o != nil && o.Median != nil {
				v = o.Median.MsgsPerSec
			}
			s.values = append(s.values, v)
		}
		ss = append(ss, s)
	}
	return groupedBars("Echo throughput, server on one core (conns × size × in flight)", "messages/s (log scale)", cats, ss, true), true
}

// perServer gathers, for the first scenario of group, each server's median
// and label; ok is false when there is none.
func (rep *Report) perServer(group string) (sc Scenario, labels []string, medians []Result, ok bool) {
	scs := rep.scenariosIn(group)
	if len(scs) == 0 {
		return sc, nil, nil, false
	}
	sc = scs[0]
	for _, srv := range rep.serversIn(scs[:1]) {
		labels = append(labels, srv.Label)
		medians = append(medians, *rep.outcome(sc.Name, srv.Name).Median)
	}
	return sc, labels, medians, len(labels) > 0
}

func (rep *Report) latencyChart() (chart, bool) {
	sc, labels, medians, ok := rep.perServer(GroupLatency)
	if !ok {
		return chart{}, false
	}
	pcts := []series{{name: "p50"}, {name: "p99"}, {name: "p99.9"}}
	for _, m := range medians {
		pcts[0].values = append(pcts[0].values, m.P50us)
		pcts[1].values = append(pcts[1].values, m.P99us)
		pcts[2].values = append(pcts[2].values, m.P999us)
	}
	return groupedBars("Latency: "+sc.Title, "microseconds (log scale)", labels, pcts, true), true
}

func (rep *Report) idleChart() (chart, bool) {
	sc, labels, medians, ok := rep.perServer(GroupIdle)
	if !ok {
		return chart{}, false
	}
	s := series{name: "bytes per connection"}
	for _, m := range medians {
		s.values = append(s.values, m.RSSPerConn)
	}
	return groupedBars("Server memory per idle connection: "+strings.ToLower(sc.Title[:1])+sc.Title[1:], "bytes of RSS per connection", labels, []series{s}, false), true
}
