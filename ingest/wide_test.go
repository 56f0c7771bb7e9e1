package ingest

import (
	"strings"
	"testing"
)

// TestCSVTooWide: a CSV whose header (or, without one, first row) has more
// than MaxColumns columns ends the file with one error naming the count,
// instead of records of a million map entries each.
func TestCSVTooWide(t *testing.T) {
	wide := strings.TrimSuffix(strings.Repeat("a,", MaxColumns+1), ",") + "\n"
	noHeader := false
	tests := []struct {
		name string
		src  *Source
		file string
	}{
		{"wide header", &Source{Format: FormatCSV}, wide + wide},
		{"wide first row, no header", &Source{Format: FormatCSV, CSV: CSVOptions{Header: &noHeader}}, wide},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var records, errs int
			for _, err := range ReadStream(strings.NewReader(tt.file), "wide.csv", ".csv", tt.src, nil) {
				if err == nil {
					records++
					continue
				}
				errs++
				if !strings.Contains(err.Error(), "16385 columns") {
					t.Errorf("error %q does not give the column count", err)
				}
			}
			if records != 0 || errs != 1 {
				t.Errorf("%d records, %d errors; want 0 and 1", records, errs)
			}
		})
	}
	// At the cap a table still reads.
	ok := strings.TrimSuffix(strings.Repeat("a,", MaxColumns), ",") + "\n"
	n := 0
	for _, err := range ReadStream(strings.NewReader(strings.Replace(ok, "a", "h", MaxColumns)+ok), "ok.csv", ".csv", &Source{Format: FormatCSV}, nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d records at the cap, want 1", n)
	}
}
