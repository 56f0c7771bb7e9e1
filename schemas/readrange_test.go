package schemas

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadRange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.parquet")
	var rows []Text
	for i := range 600 {
		rows = append(rows, Text{ID: string(rune('a'+i%26)) + strings.Repeat("x", i%7), Text: "行"})
	}
	if _, err := WriteFile(path, slices.Values(rows)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		from, to int64
		want     []Text
		err      string
	}{
		{"whole file", 0, -1, rows, ""},
		{"past a batch", 250, 520, rows[250:520], ""},
		{"from a row to the end", 599, -1, rows[599:], ""},
		{"empty range", 10, 10, nil, ""},
		{"past the end", 590, 610, rows[590:], "ends at row 600, before row 610"},
	} {
		var got []Text
		var err error
		for r, e := range ReadRange[Text](path, tc.from, tc.to) {
			if e != nil {
				err = e
				break
			}
			got = append(got, r)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %d rows, want %d", tc.name, len(got), len(tc.want))
		}
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
		}
	}
}
