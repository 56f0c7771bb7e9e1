// Package progress draws pb/v3 progress bars on stderr, and nothing at all
// when the user asked for quiet or stderr is not a terminal, so logs and
// CI output stay clean.
package progress

import (
	"io"
	"os"

	"github.com/cheggaaa/pb/v3"
)

// Bars makes progress bars, or silent stand-ins.
type Bars struct {
	on  bool
	out io.Writer
}

// New decides once whether bars are drawn: not when quiet, and not when
// stderr is not a terminal.
func New(quiet bool) *Bars {
	on := !quiet
	if fi, err := os.Stderr.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		on = false
	}
	return &Bars{on: on, out: os.Stderr}
}

// Bar is one progress bar; its methods do nothing when bars are off.
type Bar struct{ b *pb.ProgressBar }

// Start begins a bar of total units (bytes when isBytes) named prefix.
func (bs *Bars) Start(prefix string, total int64, isBytes bool) *Bar {
	if bs == nil || !bs.on {
		return &Bar{}
	}
	b := pb.New64(total)
	b.SetWriter(bs.out)
	if isBytes {
		b.Set(pb.Bytes, true)
	}
	b.Set("prefix", prefix+" ")
	b.Start()
	return &Bar{b: b}
}

// Add advances the bar by n.
func (b *Bar) Add(n int64) {
	if b != nil && b.b != nil {
		b.b.Add64(n)
	}
}

// Finish ends the bar.
func (b *Bar) Finish() {
	if b != nil && b.b != nil {
		b.b.Finish()
	}
}
