package main

import (
	"fmt"
	"image/color"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

var (
	blue   = color.RGBA{R: 60, G: 110, B: 180, A: 255}
	orange = color.RGBA{R: 230, G: 140, B: 40, A: 255}
	grey   = color.RGBA{R: 150, G: 150, B: 150, A: 255}
	green  = color.RGBA{R: 60, G: 160, B: 90, A: 255}
)

// plots writes hops.png, lookup_cdf.png, churn.png and rtfill.png.
func plots(dir string, sum summary, ls []*lookup, samples []sample) error {
	title := fmt.Sprintf("N=%d, churn %.0f %%", sum.Peers, sum.Churn*100)
	for name, draw := range map[string]func() (*plot.Plot, error){
		"hops.png":       func() (*plot.Plot, error) { return hopsPlot(title, ls) },
		"lookup_cdf.png": func() (*plot.Plot, error) { return cdfPlot(title, ls) },
		"churn.png":      func() (*plot.Plot, error) { return churnPlot(title, ls, samples) },
		"rtfill.png":     func() (*plot.Plot, error) { return rtPlot(title, samples) },
	} {
		p, err := draw()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := p.Save(7*vg.Inch, 4*vg.Inch, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// hopsPlot is the histogram of hops over the lookups that found a record.
func hopsPlot(title string, ls []*lookup) (*plot.Plot, error) {
	counts := plotter.Values{0}
	for _, l := range ls {
		if l.Found {
			for len(counts) <= l.Hops {
				counts = append(counts, 0)
			}
			counts[l.Hops]++
		}
	}
	p := plot.New()
	p.Title.Text = "Hops to the first provider record (" + title + ")"
	p.X.Label.Text = "hops"
	p.Y.Label.Text = "lookups"
	bars, err := plotter.NewBarChart(counts, vg.Points(20))
	if err != nil {
		return nil, err
	}
	bars.Color = blue
	p.Add(bars)
	labels := make([]string, len(counts))
	for i := range labels {
		labels[i] = fmt.Sprint(i)
	}
	p.NominalX(labels...)
	return p, nil
}

// cdfPlot is the CDF of lookup times (to the first provider) and of the
// fetches after them.
func cdfPlot(title string, ls []*lookup) (*plot.Plot, error) {
	var look, fetch []float64
	for _, l := range ls {
		if l.Found {
			look = append(look, l.LookupMS)
		}
		if l.Fetched {
			fetch = append(fetch, l.FetchMS)
		}
	}
	p := plot.New()
	p.Title.Text = "Lookup and fetch time, CDF (" + title + ")"
	p.X.Label.Text = "ms (wall clock, mocknet latencies)"
	p.Y.Label.Text = "fraction of lookups"
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = false, false
	for _, c := range []struct {
		name string
		xs   []float64
		col  color.Color
	}{{"find providers", look, blue}, {"fetch after it", fetch, orange}} {
		if len(c.xs) == 0 {
			continue
		}
		l, err := plotter.NewLine(cdf(c.xs))
		if err != nil {
			return nil, err
		}
		l.Color = c.col
		p.Add(l)
		p.Legend.Add(c.name, l)
	}
	return p, nil
}

func cdf(xs []float64) plotter.XYs {
	s := slices.Clone(xs)
	slices.Sort(s)
	pts := make(plotter.XYs, len(s))
	for i, x := range s {
		pts[i] = plotter.XY{X: x, Y: float64(i+1) / float64(len(s))}
	}
	return pts
}

// churnPlot shows lookup success per time window and the fraction of
// peers online, over the run.
func churnPlot(title string, ls []*lookup, samples []sample) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Success and peers online over time (" + title + ")"
	p.X.Label.Text = "s since the run began"
	p.Y.Label.Text = "fraction"
	p.Y.Min, p.Y.Max = 0, 1.05
	p.Legend.Top, p.Legend.Left = false, true
	peak := 0
	for _, s := range samples {
		peak = max(peak, s.Online)
	}
	var online plotter.XYs
	for _, s := range samples {
		online = append(online, plotter.XY{X: s.AtMS / 1000, Y: ratio(s.Online, max(peak, 1))})
	}
	for _, c := range []struct {
		name string
		pts  plotter.XYs
		col  color.Color
	}{
		{"peers online (of the most)", online, grey},
		{"lookups finding a record", windows(ls, func(l *lookup) bool { return l.Found }), blue},
		{"fetches", windows(ls, func(l *lookup) bool { return l.Fetched }), orange},
	} {
		if len(c.pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(c.pts)
		if err != nil {
			return nil, err
		}
		l.Color = c.col
		p.Add(l)
		p.Legend.Add(c.name, l)
	}
	return p, nil
}

// windows is the fraction of lookups with ok, in 20 windows of start time.
func windows(ls []*lookup, ok func(*lookup) bool) plotter.XYs {
	if len(ls) == 0 {
		return nil
	}
	lo, hi := ls[0].AtMS, ls[0].AtMS
	for _, l := range ls {
		lo, hi = min(lo, l.AtMS), max(hi, l.AtMS)
	}
	const n = 20
	width := max((hi-lo)/n, 1)
	var good, all [n]int
	for _, l := range ls {
		i := min(int((l.AtMS-lo)/width), n-1)
		all[i]++
		if ok(l) {
			good[i]++
		}
	}
	var pts plotter.XYs
	for i := range n {
		if all[i] > 0 {
			pts = append(pts, plotter.XY{X: (lo + (float64(i)+0.5)*width) / 1000, Y: ratio(good[i], all[i])})
		}
	}
	return pts
}

// rtPlot shows routing-table sizes (WAN DHT) over the online peers.
func rtPlot(title string, samples []sample) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Routing-table fill (" + title + ")"
	p.X.Label.Text = "s since the run began"
	p.Y.Label.Text = "peers in the routing table"
	p.Legend.Top, p.Legend.Left = false, false
	for _, c := range []struct {
		name string
		get  func(sample) int
		col  color.Color
	}{
		{"p90", func(s sample) int { return s.RTP90 }, grey},
		{"median", func(s sample) int { return s.RTMedian }, blue},
		{"p10", func(s sample) int { return s.RTP10 }, green},
	} {
		pts := make(plotter.XYs, len(samples))
		for i, s := range samples {
			pts[i] = plotter.XY{X: s.AtMS / 1000, Y: float64(c.get(s))}
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.Color = c.col
		p.Add(l)
		p.Legend.Add(c.name, l)
	}
	return p, nil
}
