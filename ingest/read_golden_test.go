package ingest

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateReaders = flag.Bool("update-readers", false, "rewrite the golden files in testdata/readers")

// goldenSources is how each file in testdata/readers is read; format and
// encoding are always sniffed.
var goldenSources = map[string]Source{
	"toyhom_gbk.csv.gz":      {},
	"utf16.txt":              {},
	"array_broken.json":      {},
	"object_of_records.json": {},
	"triples.spo":            {CSV: CSVOptions{Columns: []string{"head", "relation", "tail"}}},
	"meddialog.txt":          {Text: TextOptions{Split: SplitPattern, Pattern: `^id=\d+\s*$`, Parser: "meddialog"}},
	"blocks_gbk.txt":         {Text: TextOptions{Split: SplitBlank}},
}

// goldenEvent is one yielded record or error as the golden files keep it.
type goldenEvent struct {
	Loc    Location       `json:"loc"`
	Fields map[string]any `json:"fields,omitempty"`
	Text   string         `json:"text,omitempty"`
	Error  string         `json:"error,omitempty"`
	Fatal  bool           `json:"fatal,omitempty"`
}

// TestReadGolden reads small files with the quirks of real sources (gzip'd
// GBK CSV with a lying extension, UTF-16 JSONL named .txt, a broken JSON
// array element, a BOM'd TSV without final newline, MedDialog text, GBK
// blocks with mixed line endings) and compares every record, error and
// location with testdata/readers/NAME.golden.jsonl. Run with
// -update-readers to rewrite them after a deliberate change.
func TestReadGolden(t *testing.T) {
	dir := filepath.Join("testdata", "readers")
	for name, src := range goldenSources {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			var got strings.Builder
			for raw, err := range ReadFile(path, name, &src, nil) {
				ev := goldenEvent{Loc: raw.Loc, Fields: raw.Fields, Text: raw.Text}
				if err != nil {
					e := err.(*Error)
					ev = goldenEvent{Loc: e.Location, Text: raw.Text, Error: e.Err.Error(), Fatal: e.Fatal}
				}
				line, jerr := json.Marshal(ev)
				if jerr != nil {
					t.Fatal(jerr)
				}
				got.Write(line)
				got.WriteByte('\n')
			}
			golden := path + ".golden.jsonl"
			if *updateReaders {
				if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update-readers to create it)", err)
			}
			if got.String() != string(want) {
				t.Errorf("%s differs from the reader's output:\n--- got\n%s--- want\n%s", golden, got.String(), want)
			}
		})
	}
}
