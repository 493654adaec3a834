package main

import (
	"fmt"
	"image/color"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

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
	p.Title.Text = fmt.Sprintf("Cairn against issue 6's targets (%s, %d runs, medians)", human(r.Size), r.Runs)
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
	}
	height := vg.Points(float64(80 + 22*len(scores)))
	if err := p.Save(9*vg.Inch, height, path); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return nil
}
