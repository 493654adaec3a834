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

// charts writes chart.png (the targets) and throughput.png (the MB/s rows
// column by column) into dir.
func (r report) charts(dir string) error {
	if err := r.chart(filepath.Join(dir, "chart.png")); err != nil {
		return err
	}
	return r.throughputChart(filepath.Join(dir, "throughput.png"))
}

// throughputChart draws the table's MB/s rows as grouped bars, one colour
// per column; a column not measured (Kubo with --no-kubo) is left out.
func (r report) throughputChart(path string) error {
	var rows []row
	for _, row := range r.Rows {
		if row.Unit == "MB/s" {
			rows = append(rows, row)
		}
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Throughput, MB/s (%s, %d runs, medians)", human(r.Size), r.Runs)
	p.Y.Label.Text = "MB/s"
	p.Legend.Top = true
	cols := []struct {
		key, name string
		c         color.RGBA
	}{
		{colCairn, "Cairn", color.RGBA{R: 60, G: 110, B: 180, A: 255}},
		{colLimit, "SHA-256 / bare stream", color.RGBA{R: 150, G: 150, B: 150, A: 255}},
		{colKubo, "Kubo", color.RGBA{R: 230, G: 140, B: 40, A: 255}},
		{colKuboBest, "Kubo best", color.RGBA{R: 240, G: 200, B: 90, A: 255}},
		{colLibtorrent, "libtorrent", color.RGBA{R: 90, G: 170, B: 90, A: 255}},
		{colLibtorrentTuned, "libtorrent tuned", color.RGBA{R: 160, G: 210, B: 140, A: 255}},
	}
	width := vg.Points(12)
	for i, c := range cols {
		vals := make(plotter.Values, len(rows))
		measured := false
		for j, row := range rows {
			if s := row.Columns[c.key]; s != nil {
				vals[j], measured = s.Median, true
			}
		}
		if !measured {
			continue
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return fmt.Errorf("throughput chart: %w", err)
		}
		bars.Color = c.c
		bars.Offset = width * vg.Length(float64(i)-float64(len(cols)-1)/2)
		p.Add(bars)
		p.Legend.Add(c.name, bars)
	}
	labels := make([]string, len(rows))
	for i, row := range rows {
		labels[i] = row.Label
	}
	p.NominalX(labels...)
	if err := p.Save(9*vg.Inch, 4*vg.Inch, path); err != nil {
		return fmt.Errorf("throughput chart: %w", err)
	}
	return nil
}

// chart draws each target as a horizontal bar of ratio ÷ goal, turned so
// that longer is better and 1 (the dashed line) is the target: one picture
// of every row against issue 6, whatever its unit.
func (r report) chart(path string) error {
	var labels []string
	var scores plotter.Values
	for _, row := range r.Rows {
		for _, c := range row.Checks {
			if c.Goal == 0 || c.Ratio == nil {
				continue
			}
			labels = append(labels, fmt.Sprintf("%s: %s", row.Label, c.Label))
			scores = append(scores, c.score())
		}
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Cairn against its targets (%s, %d runs, medians)", human(r.Size), r.Runs)
	p.X.Label.Text = "achieved ÷ target (≥ 1 meets it)"
	if len(scores) == 0 {
		p.Title.Text += ": no targets measured (--no-kubo)"
	} else {
		// Top to bottom in table order: the y axis grows upwards.
		slices.Reverse(labels)
		slices.Reverse(scores)
		bars, err := plotter.NewBarChart(scores, vg.Points(12))
		if err != nil {
			return fmt.Errorf("chart: %w", err)
		}
		bars.Horizontal = true
		bars.Color = color.RGBA{R: 60, G: 110, B: 180, A: 255}
		p.Add(bars)
		p.NominalY(labels...)
		target, err := plotter.NewLine(plotter.XYs{{X: 1, Y: -0.5}, {X: 1, Y: float64(len(scores)) - 0.5}})
		if err != nil {
			return fmt.Errorf("chart: %w", err)
		}
		target.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		target.Color = color.RGBA{R: 200, A: 255}
		p.Add(target)
		p.X.Min = 0
		p.X.Max = max(1.2, slices.Max(scores)*1.05)
	}
	height := vg.Points(float64(80 + 22*len(scores)))
	if err := p.Save(9*vg.Inch, height, path); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return nil
}
