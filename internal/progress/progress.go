// Package progress draws pb/v3 progress bars on stderr, and nothing at all
// when the user asked for quiet, stderr is not a terminal or the terminal
// has no size (a 0×0 pseudo-terminal), so logs and CI output stay clean.
//
// pb draws the bar itself; the numbers beside it are ours, in human units
// ("12.3 MB/s", "1,234 rows/s", "1.1 s/step", never pb's "? p/s"), and one
// renderer per bar or group writes a frame only when it differs from the
// last, so a finished bar (or one at 100% waiting for its step to end) is
// not redrawn every tick.
package progress

import (
	"io"
	"os"

	"github.com/cheggaaa/pb/v3"
	"golang.org/x/term"
)

// Bars makes progress bars, or silent stand-ins.
type Bars struct {
	on  bool
	out io.Writer
	// size reports the terminal's rows and columns (0, 0 when unknown).
	size func() (rows, cols int)
}

// New decides once whether bars are drawn: not when quiet, not when stderr
// is not a terminal, and not when the terminal reports no size.
func New(quiet bool) *Bars {
	fd := int(os.Stderr.Fd())
	size := func() (int, int) {
		cols, rows, err := term.GetSize(fd)
		if err != nil {
			return 0, 0
		}
		return rows, cols
	}
	rows, cols := size()
	return &Bars{on: drawable(quiet, term.IsTerminal(fd), rows, cols), out: os.Stderr, size: size}
}

// drawable is New's decision: bars need a terminal of some size, and a
// user who did not ask for quiet.
func drawable(quiet, terminal bool, rows, cols int) bool {
	return !quiet && terminal && rows > 0 && cols > 0
}

// Bar is one progress bar; its methods do nothing when bars are off.
type Bar struct {
	b *pb.ProgressBar
	// r is the renderer a bar started alone owns and stops on Finish.
	r *renderer
}

// Start begins a bar of total units named prefix: bytes when isBytes,
// else rows (Unit changes the name).
func (bs *Bars) Start(prefix string, total int64, isBytes bool) *Bar {
	if bs == nil || !bs.on {
		return &Bar{}
	}
	r := newRenderer(bs.out, bs.size)
	b := r.add(prefix, total, isBytes)
	r.start()
	return &Bar{b: b, r: r}
}

// Unit names what a count bar counts ("steps", "questions"); it is "rows"
// unless set, and bytes bars ignore it.
func (b *Bar) Unit(name string) *Bar {
	if b != nil && b.b != nil {
		b.b.Set(unitKey, name)
	}
	return b
}

// Add advances the bar by n. A finished bar does not move.
func (b *Bar) Add(n int64) {
	if b != nil && b.b != nil && !b.b.IsFinished() {
		b.b.Add64(n)
	}
}

// Finish ends the bar: its rate and time freeze, it is drawn a last time
// and never again. Calling it twice is harmless.
func (b *Bar) Finish() {
	if b == nil || b.b == nil {
		return
	}
	finish(b.b)
	if b.r != nil {
		b.r.stop()
	}
}
