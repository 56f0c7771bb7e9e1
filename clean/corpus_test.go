package clean_test

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/chimed/chimed/clean"
	"github.com/chimed/chimed/config"
	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/workspace"
)

// TestToyhomExactDuplicates ingests and cleans the real Toyhom CSV sample
// (../shared/corpus) and checks that every row that repeats an earlier row
// of the raw file — found here independently, by comparing decoded CSV
// records — is removed, and that the report's sums hold.
func TestToyhomExactDuplicates(t *testing.T) {
	src, err := filepath.Abs(filepath.Join("..", "..", "shared", "corpus", "dialogue", "Toyhom-Chinese-medical-dialogue-data", "样例_内科5000-6000.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(src); err != nil {
		t.Skipf("../shared/corpus is absent: %v", err)
	}
	dir := t.TempDir()
	ws := workspace.Dir(dir)
	if err := os.MkdirAll(ws.Path("raw"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(src, ws.Path("raw", "toyhom.csv")); err != nil {
		t.Fatal(err)
	}
	yaml := "version: 1\nsources:\n  - name: toyhom\n    kind: dialogue\n    preset: toyhom-csv\n    paths: [\"raw/toyhom.csv\"]\n"
	if err := os.WriteFile(ws.Config(), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ingest.Run(ctx, ws, cfg.Sources, ingest.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, err := clean.Run(ctx, clean.Options{Workspace: ws, Sources: []clean.Source{{Name: "toyhom"}}, Config: cfg.Clean})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Sources["toyhom"]
	sum := c.Kept
	for _, n := range c.Removed {
		sum += n
	}
	if sum != c.In || rep.Totals.In != c.In {
		t.Errorf("report sums do not hold: %+v, totals %+v", c, rep.Totals)
	}

	dups := rawDuplicateRows(t, src)
	outcomes := workspaceOutcomes(t, ws)
	removed := 0
	for _, row := range dups {
		os := outcomes[loc{"toyhom", "raw/toyhom.csv", row}]
		if len(os) == 0 {
			continue // quarantined by ingest
		}
		if os[0].kept {
			t.Errorf("raw row %d repeats an earlier row but was kept", row)
			continue
		}
		removed++
	}
	t.Logf("Toyhom CSV: %d rows in, %d kept, removed %v; %d raw rows repeat an earlier row, %d of them removed",
		c.In, c.Kept, c.Removed, len(dups), removed)
	if len(dups) < 300 || c.Removed[clean.ReasonDuplicate] < int64(len(dups))*9/10 {
		t.Errorf("found %d raw duplicate rows and %d duplicate removals; expected about 300 or more of both", len(dups), c.Removed[clean.ReasonDuplicate])
	}
}

// rawDuplicateRows reads the GBK CSV itself and returns the 0-based data-row
// ordinals of rows equal to an earlier row.
func rawDuplicateRows(t *testing.T, path string) []int64 {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(simplifiedchinese.GB18030.NewDecoder().Reader(f))
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	if _, err := r.Read(); err != nil { // header
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var dups []int64
	for row := int64(0); ; row++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		key := strings.Join(rec, "\x1f")
		if seen[key] {
			dups = append(dups, row)
		}
		seen[key] = true
	}
	return dups
}
