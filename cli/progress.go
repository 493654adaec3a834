package cli

import (
	"io"
	"os"
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

// Println writes line to w at once. While the bar runs and w is a
// terminal too, the line goes through mpb, which prints it above the bar,
// so that the two never garble each other; redirected output is written
// directly.
func (pr *progress) Println(w io.Writer, line string) error {
	if pr.bar != nil && isTerminal(w) {
		if _, err := pr.p.Write([]byte(line + "\n")); err == nil {
			return nil
		}
		// The bar is done: nothing left to print above.
	}
	_, err := io.WriteString(w, line+"\n")
	return err
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// Done completes the bar; Abort removes it. Either may be called several
// times; the first call wins.
func (pr *progress) Done() { pr.end(false) }

// Abort stops the bar where it is, as when the command failed.
func (pr *progress) Abort() { pr.end(true) }

func (pr *progress) end(abort bool) {
	if pr.bar == nil {
		return
	}
	pr.once.Do(func() {
		if abort {
			pr.bar.Abort(false)
		} else {
			pr.bar.SetTotal(-1, true)
		}
		pr.p.Wait()
	})
}
