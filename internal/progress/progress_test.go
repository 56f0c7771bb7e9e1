package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDrawable(t *testing.T) {
	tests := []struct {
		quiet, terminal bool
		rows, cols      int
		want            bool
	}{
		{false, true, 40, 120, true},
		{true, true, 40, 120, false},   // -q
		{false, false, 40, 120, false}, // piped, CI
		{false, true, 0, 0, false},     // a 0×0 pseudo-terminal
		{false, true, 40, 0, false},
		{false, true, 0, 120, false},
	}
	for _, tc := range tests {
		if got := drawable(tc.quiet, tc.terminal, tc.rows, tc.cols); got != tc.want {
			t.Errorf("drawable(quiet %v, terminal %v, %d×%d) = %v, want %v", tc.quiet, tc.terminal, tc.rows, tc.cols, got, tc.want)
		}
	}
}

func TestFormatRate(t *testing.T) {
	tests := []struct {
		n       int64
		secs    float64
		isBytes bool
		unit    string
		want    string
	}{
		{12_300_000, 1, true, "", "12 MB/s"},
		{1_050_000, 1, true, "", "1.1 MB/s"},
		{123_400, 100, false, "rows", "1,234 rows/s"},
		{25, 10, false, "steps", "2.5 steps/s"},
		{10, 11, false, "steps", "1.1 s/step"},
		{0, 10, false, "rows", ""},    // nothing done: no "? p/s"
		{100, 0.1, false, "rows", ""}, // too early to say
	}
	for _, tc := range tests {
		if got := formatRate(tc.n, tc.secs, tc.isBytes, tc.unit); got != tc.want {
			t.Errorf("formatRate(%d, %v, %v, %q) = %q, want %q", tc.n, tc.secs, tc.isBytes, tc.unit, got, tc.want)
		}
	}
}

// lockedBuffer is a bytes.Buffer the renderer's goroutine and the test
// can share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestBarLine(t *testing.T) {
	var out lockedBuffer
	bs := &Bars{on: true, out: &out, size: func() (int, int) { return 24, 100 }}
	b := bs.Start("ingest src", 40_000_000, true)
	b.Add(10_000_000)
	time.Sleep(700 * time.Millisecond)
	b.Add(30_000_000)
	b.Finish()
	s := out.String()
	for _, bad := range []string{"p/s", "?", "MiB"} {
		if strings.Contains(s, bad) {
			t.Errorf("bar output has %q:\n%q", bad, s)
		}
	}
	last := s[strings.LastIndex(strings.TrimSuffix(s, "\n"), "\r")+1:]
	if !strings.Contains(last, "40 MB / 40 MB") || !strings.Contains(last, "MB/s") || !strings.Contains(last, "in ") {
		t.Errorf("final line %q lacks counts, rate or time", last)
	}

	out = lockedBuffer{}
	c := bs.Start("train dcpt", 200, false).Unit("steps")
	c.Add(150)
	time.Sleep(600 * time.Millisecond)
	c.Finish()
	if s := out.String(); !strings.Contains(s, "150 / 200 steps") || !strings.Contains(s, "steps/s") {
		t.Errorf("count bar output %q", s)
	}
}

// TestNoRedrawOnceDone: a bar at its total, or finished, writes no more
// frames; a renderer on a terminal without a size writes nothing at all.
func TestNoRedrawOnceDone(t *testing.T) {
	var out lockedBuffer
	bs := &Bars{on: true, out: &out, size: func() (int, int) { return 24, 100 }}
	g := bs.Group()
	a := g.Start("a", 10, false)
	b := g.Start("b", 5, false)
	a.Add(10)
	b.Add(5) // both at their totals: the numbers freeze
	time.Sleep(3 * refreshRate)
	n := len(out.String())
	time.Sleep(5 * refreshRate)
	if m := len(out.String()); m != n {
		t.Errorf("bars at their totals were redrawn: %d more bytes:\n%q", m-n, out.String()[n:])
	}
	a.Finish()
	b.Finish()
	b.Add(3) // ignored: a finished bar does not move
	g.Stop()
	if s := out.String(); strings.Count(s, "\ra ") == 0 || strings.Contains(s, "8 / 5") {
		t.Errorf("group output %q", s)
	}

	var none lockedBuffer
	zero := &Bars{on: true, out: &none, size: func() (int, int) { return 0, 0 }}
	z := zero.Start("clean text", 100, false)
	z.Add(50)
	time.Sleep(2 * refreshRate)
	z.Finish()
	if none.String() != "" {
		t.Errorf("a 0×0 terminal got output %q", none.String())
	}
}

// TestOffBars: bars that are off are safe to use and draw nothing.
func TestOffBars(t *testing.T) {
	bs := New(true)
	b := bs.Start("x", 10, false).Unit("steps")
	b.Add(3)
	b.Finish()
	g := bs.Group()
	g.Start("y", 1, true).Add(1)
	g.Stop()
	var nilBars *Bars
	nilBars.Start("z", 1, false).Finish()
}
