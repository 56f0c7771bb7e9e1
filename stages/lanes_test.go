package stages

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

// TestLanesKeepKindOrder: whichever order kinds write and finish in, a
// file holds lane 0's rows, then lane 1's, then lane 2's, each in the
// order written, whether held rows stay in memory or spill to a spool.
func TestLanesKeepKindOrder(t *testing.T) {
	type step struct {
		lane   int
		finish bool
	}
	w := func(l int) step { return step{lane: l} }
	f := func(l int) step { return step{lane: l, finish: true} }
	cases := []struct {
		name   string
		limit  int64
		steps  []step
		spills bool
	}{
		{"in turn", 1 << 20, []step{w(0), w(0), f(0), w(1), f(1), w(2), f(2)}, false},
		{"last first, held in memory", 1 << 20, []step{w(2), w(2), w(1), w(0), f(2), w(1), f(0), w(0 + 1), f(1)}, false},
		{"last first, spilled", 0, []step{w(2), w(2), w(1), w(0), f(2), w(1), f(0), w(1), f(1)}, true},
		{"middle finishes first", 0, []step{w(1), f(1), w(2), w(0), w(2), f(0), w(2), f(2)}, true},
		{"a lane with no rows", 0, []step{f(1), w(2), w(0), f(0), f(2)}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			fw, err := newFileWriter[LineageRow](filepath.Join(dir, "out.parquet"))
			if err != nil {
				t.Fatal(err)
			}
			sb := &spillBudget{dir: filepath.Join(dir, "tmp"), limit: c.limit}
			lf := newLaneFile(fw, 3, sb)
			n := [3]int{}
			var want [3][]string
			for _, s := range c.steps {
				l := lf.lanes[s.lane]
				if s.finish {
					if err := l.finish(); err != nil {
						t.Fatal(err)
					}
					continue
				}
				id := fmt.Sprintf("k%d-%d", s.lane, n[s.lane])
				n[s.lane]++
				want[s.lane] = append(want[s.lane], id)
				if err := l.Write(LineageRow{ID: id, Group: "g", Records: []string{id}}); err != nil {
					t.Fatal(err)
				}
			}
			if !lf.finished() {
				t.Fatal("every lane finished, but the file says not")
			}
			if err := fw.Close(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range readAll[LineageRow](t, fw.path) {
				got = append(got, r.ID)
			}
			if all := slices.Concat(want[0], want[1], want[2]); !slices.Equal(got, all) {
				t.Errorf("rows %v, want %v", got, all)
			}
			if spilled := sb.spills.Load() > 0; spilled != c.spills {
				t.Errorf("spilled %v, want %v", spilled, c.spills)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "tmp", "*")); len(left) > 0 {
				t.Errorf("spool files left: %v", left)
			}
			if used := sb.used.Load(); used != 0 {
				t.Errorf("%d bytes still counted as held", used)
			}
		})
	}
}

// TestLaneRefusesRowsAfterDone: a kind that writes to a file it said it
// was done with gets an error, not a row silently dropped.
func TestLaneRefusesRowsAfterDone(t *testing.T) {
	dir := t.TempDir()
	fw, err := newFileWriter[LineageRow](filepath.Join(dir, "out.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Abort()
	lf := newLaneFile(fw, 2, &spillBudget{dir: dir, limit: 1 << 20})
	if err := lf.lanes[1].finish(); err != nil {
		t.Fatal(err)
	}
	if err := lf.lanes[1].Write(LineageRow{ID: "late"}); err == nil {
		t.Error("a row after the lane finished was taken")
	}
}
