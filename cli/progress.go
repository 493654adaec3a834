package cli

import (
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progress is a progress bar of bytes, rate and ETA on a terminal, drawn
// by mpb; when quiet, or when its output is not a terminal, every method
// does nothing, so that scripts and pipes see only the command's output.
// Its methods are safe for concurrent use.
type progress struct {
	p    *mpb.Progress
	bar  *mpb.Bar
	once sync.Once

	mu      sync.Mutex
	pending []pendingLine // lines printed while the bar runs
}

type pendingLine struct {
	w    io.Writer
	line string
}

// newProgress starts a bar labelled label on out, unless quiet or out is
// not a terminal. With sized, it shows done/total and an ETA once
// SetTotal is called; without, the bytes done and the rate alone.
func newProgress(out *os.File, quiet, sized bool, label string) *progress {
	if quiet || !isatty.IsTerminal(out.Fd()) {
		return &progress{}
	}
	p := mpb.New(mpb.WithOutput(out), mpb.WithWidth(32), mpb.WithRefreshRate(200*time.Millisecond))
	count := decor.Current(decor.SizeB1024(0), "% .1f")
	rate := []decor.Decorator{decor.AverageSpeed(decor.SizeB1024(0), " % .1f")}
	if sized {
		count = decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")
		rate = append(rate, decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO))
	}
	bar := p.New(0, mpb.BarStyle(),
		mpb.PrependDecorators(decor.Name(label+" ", decor.WC{C: decor.DindentRight}), count),
		mpb.AppendDecorators(rate...),
	)
	return &progress{p: p, bar: bar}
}

// SetTotal sets the number of bytes expected.
func (pr *progress) SetTotal(n int64) {
	if pr.bar != nil {
		pr.bar.SetTotal(n, false)
	}
}

// SetCurrent sets the number of bytes done so far.
func (pr *progress) SetCurrent(n int64) {
	if pr.bar != nil {
		pr.bar.SetCurrent(n)
	}
}

// Println writes line to w, after the bar is done if it is running, so
// that the command's output and the bar do not garble each other.
func (pr *progress) Println(w io.Writer, line string) error {
	if pr.bar != nil {
		pr.mu.Lock()
		defer pr.mu.Unlock()
		if pr.pending != nil || !pr.bar.AbortedOrCompleted() {
			pr.pending = append(pr.pending, pendingLine{w, line})
			return nil
		}
	}
	_, err := io.WriteString(w, line+"\n")
	return err
}

// Done completes the bar and prints the lines held back; Abort removes
// it. Either may be called several times; the first call wins.
func (pr *progress) Done() error { return pr.end(false) }

// Abort stops the bar where it is, as when the command failed.
func (pr *progress) Abort() error { return pr.end(true) }

func (pr *progress) end(abort bool) error {
	if pr.bar == nil {
		return nil
	}
	pr.once.Do(func() {
		if abort {
			pr.bar.Abort(false)
		} else {
			pr.bar.SetTotal(-1, true)
		}
		pr.p.Wait()
	})
	pr.mu.Lock()
	lines := pr.pending
	pr.pending = nil
	pr.mu.Unlock()
	var sb strings.Builder
	var w io.Writer
	for _, l := range lines {
		if w != nil && l.w != w {
			if _, err := io.WriteString(w, sb.String()); err != nil {
				return err
			}
			sb.Reset()
		}
		w = l.w
		sb.WriteString(l.line + "\n")
	}
	if w == nil {
		return nil
	}
	_, err := io.WriteString(w, sb.String())
	return err
}
