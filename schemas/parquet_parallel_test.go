package schemas

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeParts writes rows through a PartWriter with opts, calls rows at a
// time (cycling through calls), and returns every part's bytes by name.
func writeParts[T any](t *testing.T, opts PartOptions, rows []T, calls []int) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	w := NewPartWriter[T](dir, opts)
	for i := 0; len(rows) > 0; i++ {
		n := min(calls[i%len(calls)], len(rows))
		if err := w.Write(rows[:n]...); err != nil {
			t.Fatal(err)
		}
		rows = rows[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := PartFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// TestPartWriterParallelGroupsSameBytes: row groups encoded and compressed
// on goroutines of their own give the very bytes of the one-at-a-time
// writer, whatever the groups, parts and Write calls: rows long enough to
// cut several pages in a group, nested rows (a dialogue's turns), part and
// group ends inside a call, and a last group left short.
func TestPartWriterParallelGroupsSameBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	text := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteRune(rune(0x4e00 + r.IntN(3000)))
		}
		return b.String()
	}
	qa := make([]QA, 3000)
	dialogues := make([]Dialogue, 1500)
	for i := range qa {
		qa[i] = QA{ID: fmt.Sprint(i), Source: "s", Question: text(r.IntN(200)), Answer: text(r.IntN(900)), Meta: "{}"}
	}
	for i := range dialogues {
		dialogues[i] = Dialogue{ID: fmt.Sprint(i), Source: "s", Turns: []Turn{{RoleUser, text(r.IntN(300))}, {RoleAssistant, text(r.IntN(600))}}}
	}
	for _, c := range []struct {
		name  string
		opts  PartOptions
		calls []int
	}{
		{"ingest's", PartOptions{RowsPerGroup: 2048, RowsPerPart: 200_000}, []int{256}},
		{"odd calls", PartOptions{RowsPerGroup: 700, RowsPerPart: 2500}, []int{100, 1, 333, 64}},
		{"one row at a time", PartOptions{RowsPerGroup: 97, RowsPerPart: 1000}, []int{1}},
		{"calls over groups and parts", PartOptions{RowsPerGroup: 300, RowsPerPart: 1100}, []int{1000}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, par := range []int{2, 3} {
				p := c.opts
				p.ParallelGroups = par
				want, got := writeParts(t, c.opts, qa, c.calls), writeParts(t, p, qa, c.calls)
				wantD, gotD := writeParts(t, c.opts, dialogues, c.calls), writeParts(t, p, dialogues, c.calls)
				for _, pair := range [][2]map[string][]byte{{want, got}, {wantD, gotD}} {
					if len(pair[0]) != len(pair[1]) {
						t.Fatalf("ParallelGroups %d: %d parts, want %d", par, len(pair[1]), len(pair[0]))
					}
					for name, b := range pair[0] {
						if !bytes.Equal(pair[1][name], b) {
							t.Errorf("ParallelGroups %d: %s differs from the one-at-a-time writer's (%d bytes, want %d)", par, name, len(pair[1][name]), len(b))
						}
					}
				}
			}
		})
	}
}
