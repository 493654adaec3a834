package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// row is one line of the table: a figure per column and the issue-6
// targets it is judged by.
type row struct {
	Label   string              `json:"label"`
	Unit    string              `json:"unit"`
	Columns map[string]*summary `json:"columns"`
	Checks  []check             `json:"checks"`
}

// check is one target: the ratio of medians it is about, and its goal.
// Goal 0 means a ratio shown for information, with no target.
type check struct {
	Label  string   `json:"label"`
	Ratio  *float64 `json:"ratio"` // nil when a side was not measured
	Goal   float64  `json:"goal"`
	AtMost bool     `json:"at_most"` // the ratio must be ≤ Goal rather than ≥
}

// met says whether the check passes; false for an unmeasured ratio.
func (c check) met() bool {
	if c.Ratio == nil || c.Goal == 0 {
		return false
	}
	if c.AtMost {
		return *c.Ratio <= c.Goal
	}
	return *c.Ratio >= c.Goal
}

// score is the ratio over the goal, turned so that ≥ 1 always means met:
// the bar length of the chart.
func (c check) score() float64 {
	if c.Ratio == nil || c.Goal == 0 || *c.Ratio == 0 {
		return 0
	}
	if c.AtMost {
		return c.Goal / *c.Ratio
	}
	return *c.Ratio / c.Goal
}

// report is the whole result, as results.json holds it.
type report struct {
	When  time.Time `json:"when"`
	Size  int64     `json:"size_bytes"`
	Runs  int       `json:"runs"`
	Smoke bool      `json:"smoke"`
	Kubo  string    `json:"kubo"`
	// Libtorrent is its version, or why it was skipped.
	Libtorrent string `json:"libtorrent"`
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model"`
	// SHAExtensions is whether the CPU has the SHA instructions (sha_ni),
	// which make SHA-256 several times faster and so move every ratio
	// to the SHA-256 limit.
	SHAExtensions bool     `json:"sha_extensions"`
	Go            string   `json:"go"`
	LoadBefore    []string `json:"loadavg_before_each_run"`
	Load          string   `json:"loadavg_at_end"`
	Rows          []row    `json:"rows"`
}

// report turns the samples into rows in the table's order.
func (e *env) report() report {
	kubo := e.kubo
	if kubo == "" {
		kubo = "skipped (--no-kubo)"
	}
	load, _ := os.ReadFile("/proc/loadavg")
	model, sha := cpuInfo()
	r := report{When: time.Now().UTC(), Size: e.cfg.Size, Runs: e.cfg.Runs, Smoke: e.cfg.Smoke, Kubo: kubo,
		Libtorrent: e.libtorrentVersion(), CPUs: runtime.NumCPU(), CPUModel: model, SHAExtensions: sha,
		Go: runtime.Version(), LoadBefore: e.loads, Load: strings.TrimSpace(string(load))}
	mk := func(label, unit, name string, checks func(col func(string) *summary) []check) row {
		cols := map[string]*summary{}
		for _, c := range columns {
			if s := e.samples.summarize(key(name, c)); s != nil {
				cols[c] = s
			}
		}
		return row{Label: label, Unit: unit, Columns: cols, Checks: checks(func(c string) *summary { return cols[c] })}
	}
	size := human(e.cfg.Size)
	r.Rows = append(r.Rows, mk("add "+size, "MB/s", rowAdd, func(c func(string) *summary) []check {
		return []check{ratio("× Kubo add", c(colCairn), c(colKubo), 3, false), ratio("of SHA-256", c(colCairn), c(colLimit), 0.5, false)}
	}))
	for _, s := range e.cfg.fetchSizes() {
		r.Rows = append(r.Rows, mk("fetch "+human(s), "MB/s", fetchRow(s), func(c func(string) *summary) []check {
			return []check{
				ratio("of wire limit", c(colCairn), c(colLimit), 0.7, false),
				ratio("× Kubo cat", c(colCairn), c(colKubo), 6, false),
				ratio("× Kubo best", c(colCairn), c(colKuboBest), 3, false),
			}
		}))
	}
	r.Rows = append(r.Rows,
		mk("time to first byte, 1 KiB, first read after connecting", "ms", rowTTFB, func(c func(string) *summary) []check {
			return []check{ratio("Kubo ÷ Cairn", c(colKubo), c(colCairn), 8, false)}
		}),
		mk("time to first byte, 1 KiB, later reads", "ms", rowTTFBLater, func(c func(string) *summary) []check {
			return []check{ratio("Kubo ÷ Cairn", c(colKubo), c(colCairn), 0, false)}
		}),
		mk("idle RSS of the fetcher", "MiB", rowIdleRSS, func(c func(string) *summary) []check {
			return []check{ratio("of Kubo", c(colCairn), c(colKubo), 0.5, true)}
		}),
		mk("peak RSS, fetch "+size, "MiB", rowPeakRSS, func(c func(string) *summary) []check {
			return []check{absolute("MiB", c(colCairn), 256)}
		}),
		mk("CPU per GiB fetched: serving side", "CPU-s", rowCPUServing, noChecks),
		mk("CPU per GiB fetched: fetching side", "CPU-s", rowCPUFetching, noChecks),
		mk("CPU per GiB fetched: client", "CPU-s", rowCPUClient, noChecks),
		mk("CPU per GiB fetched: all", "CPU-s", rowCPUAll, func(c func(string) *summary) []check {
			return []check{ratio("× the wire limit's", c(colCairn), c(colLimit), 0, false)}
		}),
		mk("gateway file "+size, "MB/s", rowServeFile, func(c func(string) *summary) []check {
			return []check{ratio("× Kubo gateway", c(colCairn), c(colKubo), 0, false)}
		}),
		mk("gateway CAR "+size, "MB/s", rowServeCAR, func(c func(string) *summary) []check {
			return []check{ratio("× Kubo gateway", c(colCairn), c(colKubo), 2, false)}
		}),
		mk("file to file "+size+" (cairn get -o; libtorrent)", "MB/s", rowFile, func(c func(string) *summary) []check {
			return []check{
				ratio("× libtorrent", c(colCairn), c(colLibtorrent), 1, false),
				ratio("× libtorrent tuned", c(colCairn), c(colLibtorrentTuned), 1.3, false),
			}
		}),
		mk("CPU per GiB file to file: serving side", "CPU-s", rowFileCPUServing, noChecks),
		mk("CPU per GiB file to file: fetching side", "CPU-s", rowFileCPUFetching, noChecks),
		mk("CPU per GiB file to file: client", "CPU-s", rowFileCPUClient, noChecks),
		mk("CPU per GiB file to file: all", "CPU-s", rowFileCPUAll, func(c func(string) *summary) []check {
			return []check{ratio("of libtorrent's", c(colCairn), c(colLibtorrent), 1, true)}
		}),
	)
	return r
}

// libtorrentVersion is the version the libtorrent columns ran, or why
// they are empty.
func (e *env) libtorrentVersion() string {
	if e.torrent == "" {
		return "skipped (--no-libtorrent)"
	}
	out, err := exec.Command(debianPython, "-c", "import libtorrent; print(libtorrent.__version__)").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// cpuInfo is the CPU's model name and whether it has the SHA extensions.
func cpuInfo() (model string, sha bool) {
	raw, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name":
			if model == "" {
				model = strings.TrimSpace(v)
			}
		case "flags":
			sha = sha || slices.Contains(strings.Fields(v), "sha_ni")
		}
	}
	return model, sha
}

// noChecks is a row shown for what it explains, with no target.
func noChecks(func(string) *summary) []check { return nil }

// ratio is a check on num's median over den's.
func ratio(label string, num, den *summary, goal float64, atMost bool) check {
	c := check{Label: label, Goal: goal, AtMost: atMost}
	if num != nil && den != nil && den.Median != 0 {
		v := num.Median / den.Median
		c.Ratio = &v
	}
	return c
}

// absolute is a check on a median itself (peak RSS ≤ 256 MiB).
func absolute(label string, s *summary, limit float64) check {
	c := check{Label: label, Goal: limit, AtMost: true}
	if s != nil {
		v := s.Median
		c.Ratio = &v
	}
	return c
}

// markdown renders the table with a header saying what ran.
func (r report) markdown() string {
	var b strings.Builder
	sha := "no SHA extensions"
	if r.SHAExtensions {
		sha = "SHA extensions"
	}
	fmt.Fprintf(&b, "\n%s, %d run(s), median (min–max); %d CPUs (%s, %s), %s; load before each run %s, at the end %s\n",
		human(r.Size), r.Runs, r.CPUs, r.CPUModel, sha, r.Go, strings.Join(r.LoadBefore, "; "), r.Load)
	if r.Kubo == "skipped (--no-kubo)" {
		b.WriteString("Kubo columns skipped (--no-kubo).\n")
	}
	if r.Libtorrent == "skipped (--no-libtorrent)" {
		b.WriteString("libtorrent columns skipped (--no-libtorrent).\n")
	}
	b.WriteString("\n| measurement | Cairn | limit (SHA-256 / bare stream) | Kubo | Kubo best | libtorrent | libtorrent tuned | against the targets |\n|---|---|---|---|---|---|---|---|\n")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "| %s (%s) |", row.Label, row.Unit)
		for _, c := range columns {
			fmt.Fprintf(&b, " %s |", cell(row.Columns[c]))
		}
		var checks []string
		for _, c := range row.Checks {
			checks = append(checks, c.String())
		}
		fmt.Fprintf(&b, " %s |\n", strings.Join(checks, "; "))
	}
	return b.String()
}

func cell(s *summary) string {
	if s == nil {
		return "–"
	}
	if len(s.Samples) == 1 {
		return num(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", num(s.Median), num(s.Min), num(s.Max))
}

// num prints three significant figures or so: 1234, 56.7, 0.89.
func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func (c check) String() string {
	if c.Ratio == nil {
		return c.Label + ": n/a"
	}
	v := num(*c.Ratio)
	if c.Goal == 0 {
		return v + " " + c.Label
	}
	op, mark := "≥", "✗"
	if c.AtMost {
		op = "≤"
	}
	if c.met() {
		mark = "✓"
	}
	return fmt.Sprintf("%s %s (%s %s) %s", v, c.Label, op, num(c.Goal), mark)
}

// write puts results.json, results.md, chart.png and throughput.png in
// dir.
func (r report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), raw, 0o644); err != nil {
		return fmt.Errorf("results.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(r.markdown()), 0o644); err != nil {
		return fmt.Errorf("results.md: %w", err)
	}
	return r.charts(dir)
}
