package ingest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// capBook writes a one-sheet workbook of rows; inline writes the cells as
// inline strings (the stream writer), else as shared strings.
func capBook(t *testing.T, rows [][]string, inline bool) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	var sw *excelize.StreamWriter
	if inline {
		var err error
		if sw, err = f.NewStreamWriter("Sheet1"); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range rows {
		cells := make([]any, len(r))
		for j, v := range r {
			cells[j] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if inline {
			if err := sw.SetRow(cell, cells); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := f.SetSheetRow("Sheet1", cell, &cells); err != nil {
			t.Fatal(err)
		}
	}
	if inline {
		if err := sw.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestXLSXCap: with a 4 KiB record cap, a workbook whose cell, shared
// string or row excelize would hold in memory beyond the cap is
// quarantined whole, with an *XLSXError saying which part and what, before
// excelize opens it; a row between the cap and twice it is read and
// quarantined alone; within the cap everything reads.
func TestXLSXCap(t *testing.T) {
	const limit = 4 << 10
	big := strings.Repeat("痛", 2000) // 6000 bytes
	cols := func(n int, s string) []string {
		r := make([]string, n)
		for i := range r {
			r[i] = s
		}
		return r
	}
	small := strings.Repeat("x", 200)
	tests := []struct {
		name      string
		rows      [][]string
		inline    bool
		whole     string // the XLSXError's What, when the file goes whole
		records   int
		quarantin int
	}{
		{"inline cell over the cap", [][]string{{"q"}, {"a"}, {big}}, true, "a text run", 0, 0},
		{"shared string over the cap", [][]string{{"q"}, {"a"}, {big}}, false, "a shared string", 0, 0},
		{"row of shared strings over twice the cap", [][]string{{"q"}, {"a"}, cols(60, small)}, false, "a row", 0, 0},
		{"row between the cap and twice it", [][]string{{"q"}, {"a"}, cols(30, small), {"b"}}, false, "", 2, 1},
		{"within the cap", [][]string{{"q"}, {"a"}, cols(10, small)}, true, "", 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := capBook(t, tt.rows, tt.inline)
			var records, quarantined int
			var whole *XLSXError
			for _, err := range ReadStream(bytes.NewReader(data), "f.xlsx", ".xlsx", &Source{MaxRecordBytes: limit}, nil) {
				if err == nil {
					records++
					continue
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("%v is no *Error", err)
				}
				if e.Fatal {
					if !errors.As(err, &whole) {
						t.Fatalf("fatal %v is no *XLSXError", err)
					}
					continue
				}
				quarantined++
			}
			if tt.whole != "" {
				if whole == nil || !strings.HasPrefix(whole.What, tt.whole) || whole.Limit <= 0 || whole.Size <= whole.Limit || whole.Part == "" {
					t.Fatalf("want the file quarantined whole for %q, got %+v", tt.whole, whole)
				}
				return
			}
			if whole != nil {
				t.Fatalf("quarantined whole: %v", whole)
			}
			if records != tt.records || quarantined != tt.quarantin {
				t.Errorf("%d records, %d quarantined; want %d, %d", records, quarantined, tt.records, tt.quarantin)
			}
		})
	}
}

// TestXLSXSpoolInTmpDir: a gzip'd workbook is spooled into the reader's
// temporary folder (the workspace's), not the system's, and removed once
// read.
func TestXLSXSpoolInTmpDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "book.xlsx.gz")
	if err := os.WriteFile(path, []byte(gzipped(string(capBook(t, [][]string{{"q"}, {"a"}, {"b"}}, true)))), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	var during int
	n := 0
	for _, err := range readFile(path, "book.xlsx.gz", &Source{}, nil, nil, tmp) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 1 {
			ents, _ := os.ReadDir(tmp)
			during = len(ents)
		}
	}
	if n != 2 {
		t.Fatalf("%d records, want 2", n)
	}
	if during == 0 {
		t.Error("no spool in the temporary folder while reading")
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("%d files left in the temporary folder", len(ents))
	}
}

// TestXLSXTmpDirMade: reading a workbook makes the reader's temporary
// folder, which a fresh workspace lacks: excelize spills a worksheet over
// xlsxSpillSize there, and where it cannot create the file it holds the
// whole worksheet in memory instead (80 MB of XML at the 1GB scale demo).
func TestXLSXTmpDirMade(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "book.xlsx")
	if err := os.WriteFile(path, capBook(t, [][]string{{"q"}, {"a"}}, true), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".chimed", "tmp")
	for _, err := range readFile(path, "book.xlsx", &Source{}, nil, nil, tmp) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st, err := os.Stat(tmp); err != nil || !st.IsDir() {
		t.Errorf("the temporary folder was not made: %v", err)
	}
}
