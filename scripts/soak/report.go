package main

import (
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	return s[int(math.Ceil(q*float64(len(s))))-1]
}

func (r *results) write(cfg config, path string) error {
	out := *r
	if math.IsNaN(out.MedianS) {
		out.MedianS, out.P95S = 0, 0
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func (r *results) summary() string {
	return fmt.Sprintf("soak: %d peers, %d files x %d copies, %s: %d kills, %d restarts, %d checks, %d/%d reads failed, min live %d, %d repairs median %.1f s p95 %.1f s, %d unrepaired at the end",
		r.Peers, r.Files, r.Factor, r.Duration, r.Kills, r.Restarts, r.Checks, r.FailedReads, r.Reads, r.MinLive, len(r.Repairs), r.MedianS, r.P95S, r.Unrepaired)
}

// plot draws each file's live copies over time, the factor as a dashed
// line, and the daemons up on a second scale.
func (r *results) plot(cfg config, path string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Live copies, %d files x %d, %d peers with random kills", r.Files, r.Factor, r.Peers)
	p.X.Label.Text = "seconds"
	p.Y.Label.Text = "live copies"
	p.Y.Min, p.Y.Max = 0, float64(r.Factor+3)
	p.Legend.Top = true
	for f := range r.Files {
		pts := make(plotter.XYs, len(r.Samples))
		for i, s := range r.Samples {
			pts[i] = plotter.XY{X: s.T, Y: float64(s.Live[f])}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = plotColor(f)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("file %d", f+1), l)
	}
	want, err := plotter.NewLine(plotter.XYs{{X: 0, Y: float64(r.Factor)}, {X: lastT(r), Y: float64(r.Factor)}})
	if err != nil {
		return err
	}
	want.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(want)
	p.Legend.Add("factor", want)
	return p.Save(12*vg.Inch, 4*vg.Inch, path)
}

func lastT(r *results) float64 {
	if len(r.Samples) == 0 {
		return 1
	}
	return r.Samples[len(r.Samples)-1].T
}

func plotColor(i int) color.Color {
	palette := []color.RGBA{{60, 110, 180, 255}, {200, 80, 60, 255}, {60, 160, 80, 255}, {150, 90, 170, 255}, {220, 160, 40, 255}, {40, 160, 170, 255}}
	return palette[i%len(palette)]
}
