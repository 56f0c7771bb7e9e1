package progress

import (
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/cheggaaa/pb/v3"
	"github.com/dustin/go-humanize"
)

// Keys of the values chimed keeps on a pb bar.
const (
	unitKey  = "chimed_unit"  // what a count bar counts
	bytesKey = "chimed_bytes" // the bar counts bytes
	doneKey  = "chimed_done"  // when the bar finished or reached its total
)

// template is every bar's line: pb's bar and percent between our counts,
// rate and time.
const template = `{{with string . "prefix"}}{{.}} {{end}}{{chimed_counts . }} {{bar . }} {{percent . }}` +
	`{{with chimed_rate . }} {{.}}{{end}}{{with chimed_time . }} {{.}}{{end}}`

func init() {
	pb.RegisterElement("chimed_counts", pb.ElementFunc(countsElement), false)
	pb.RegisterElement("chimed_rate", pb.ElementFunc(rateElement), false)
	pb.RegisterElement("chimed_time", pb.ElementFunc(timeElement), false)
}

// refreshRate is how often a renderer looks for a changed frame.
const refreshRate = 200 * time.Millisecond

// renderer draws one or more bars, one line each, on a terminal: the only
// writer of their lines, so bars of a group do not overwrite each other.
type renderer struct {
	out  io.Writer
	size func() (rows, cols int)

	mu    sync.Mutex
	bars  []*pb.ProgressBar
	last  string // the last frame written
	lines int    // lines the last frame took, to move back over

	stopOnce sync.Once
	quit     chan struct{}
	done     chan struct{}
}

func newRenderer(out io.Writer, size func() (int, int)) *renderer {
	return &renderer{out: out, size: size, quit: make(chan struct{}), done: make(chan struct{})}
}

// add makes a bar this renderer draws. pb's own writer is never started
// (Static), so only the renderer writes.
func (r *renderer) add(prefix string, total int64, isBytes bool) *pb.ProgressBar {
	b := pb.New64(total)
	b.SetTemplateString(template)
	b.Set(pb.Static, true)
	b.Set(bytesKey, isBytes)
	b.Set("prefix", prefix+" ")
	b.Start() // a Static bar only notes its start time
	r.mu.Lock()
	r.bars = append(r.bars, b)
	r.mu.Unlock()
	return b
}

func (r *renderer) start() {
	go func() {
		defer close(r.done)
		t := time.NewTicker(refreshRate)
		defer t.Stop()
		for {
			select {
			case <-r.quit:
				r.draw()
				return
			case <-t.C:
				r.draw()
			}
		}
	}()
}

// stop draws the last frame and ends the renderer; later calls do nothing.
func (r *renderer) stop() {
	r.stopOnce.Do(func() { close(r.quit) })
	<-r.done
}

// draw writes the current frame if it differs from the last one written.
func (r *renderer) draw() {
	r.mu.Lock()
	defer r.mu.Unlock()
	rows, cols := r.size()
	if out, ok := r.frame(rows, cols); ok {
		io.WriteString(r.out, out)
	}
}

// frame renders the bars for a terminal of rows × cols; ok is false when
// nothing needs writing (no size, or the same frame as last time). It
// moves the cursor back over the last frame and redraws every line.
func (r *renderer) frame(rows, cols int) (out string, ok bool) {
	if rows <= 0 || cols <= 0 || len(r.bars) == 0 {
		return "", false
	}
	bars := r.bars
	if len(bars) > rows-1 && rows > 1 { // the lines that fit, newest last
		bars = bars[len(bars)-(rows-1):]
	}
	var lines strings.Builder
	for _, b := range bars {
		b.SetWidth(cols)
		line := pb.StripString(b.String(), cols)
		lines.WriteString("\r" + line + "\n")
	}
	body := lines.String()
	if body == r.last {
		return "", false
	}
	var f strings.Builder
	if r.lines > 0 {
		fmt.Fprintf(&f, "\033[%dA", r.lines)
	}
	f.WriteString(body)
	if len(bars) < r.lines {
		f.WriteString("\r\033[J") // erase lines left from a taller frame
	}
	r.last, r.lines = body, len(bars)
	return f.String(), true
}

// finish marks a pb bar finished, freezing its rate and time first.
func finish(b *pb.ProgressBar) {
	if b.Get(doneKey) == nil {
		b.Set(doneKey, time.Now())
	}
	b.Finish()
}

// doneAt is when the bar finished or first reached its total; zero while
// it runs. Reaching the total freezes the numbers even if the step that
// owns the bar has more to do before it calls Finish.
func doneAt(s *pb.State) time.Time {
	if t, ok := s.Get(doneKey).(time.Time); ok {
		return t
	}
	if s.IsFinished() || s.Total() > 0 && s.Value() >= s.Total() {
		s.Set(doneKey, s.Time())
		return s.Time()
	}
	return time.Time{}
}

func unitOf(s *pb.State) string {
	if u, ok := s.Get(unitKey).(string); ok && u != "" {
		return u
	}
	return "rows"
}

// countsElement writes "12.3 MB / 40 MB" or "1,234 / 5,000 rows".
func countsElement(s *pb.State, _ ...string) string {
	if s.GetBool(bytesKey) {
		if s.Total() > 0 {
			return humanize.Bytes(uint64(max(s.Value(), 0))) + " / " + humanize.Bytes(uint64(s.Total()))
		}
		return humanize.Bytes(uint64(max(s.Value(), 0)))
	}
	if s.Total() > 0 {
		return humanize.Comma(s.Value()) + " / " + humanize.Comma(s.Total()) + " " + unitOf(s)
	}
	return humanize.Comma(s.Value()) + " " + unitOf(s)
}

// rateElement writes the average rate since the bar started (until it
// finished), or nothing in its first half second.
func rateElement(s *pb.State, _ ...string) string {
	end := doneAt(s)
	if end.IsZero() {
		end = s.Time()
	}
	return formatRate(s.Value(), end.Sub(s.StartTime()).Seconds(), s.GetBool(bytesKey), unitOf(s))
}

// formatRate renders n units in secs seconds as a rate a person reads at a
// glance: "12 MB/s" for bytes, "1,234 rows/s", "2.5 steps/s", or seconds
// per unit ("1.1 s/step") when fewer than one a second. Too short a time
// or nothing done gives "" rather than a guess.
func formatRate(n int64, secs float64, isBytes bool, unit string) string {
	if n <= 0 || secs < 0.5 {
		return ""
	}
	rate := float64(n) / secs
	if isBytes {
		return humanize.Bytes(uint64(math.Round(rate))) + "/s"
	}
	switch {
	case rate >= 100:
		return humanize.Comma(int64(math.Round(rate))) + " " + unit + "/s"
	case rate >= 1:
		return fmt.Sprintf("%.1f %s/s", rate, unit)
	}
	return fmt.Sprintf("%.1f s/%s", 1/rate, strings.TrimSuffix(unit, "s"))
}

// timeElement writes the time left while the bar runs ("ETA 1m5s") and the
// time it took once done ("in 12.3s").
func timeElement(s *pb.State, _ ...string) string {
	if end := doneAt(s); !end.IsZero() {
		return "in " + roundDuration(end.Sub(s.StartTime())).String()
	}
	secs := s.Time().Sub(s.StartTime()).Seconds()
	if s.Value() <= 0 || s.Total() <= 0 || secs < 0.5 {
		return ""
	}
	left := float64(s.Total()-s.Value()) / (float64(s.Value()) / secs)
	return "ETA " + roundDuration(time.Duration(left*float64(time.Second))).String()
}

// roundDuration keeps a duration's digits few: tenths of a second under a
// minute, whole seconds above.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
