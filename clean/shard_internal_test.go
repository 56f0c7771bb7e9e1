package clean

import (
	"fmt"
	"testing"
)

// shareOf cuts a kind's rows into n contiguous runs of about equal rows,
// cutting files where it must, so the shares in task order are the rows in
// order, each once.
func TestShareOf(t *testing.T) {
	for _, c := range []struct {
		rows []int64
		n    int
	}{
		{[]int64{10}, 1}, {[]int64{10}, 3}, {[]int64{5, 0, 3}, 3}, {[]int64{1, 1}, 7}, {[]int64{200000, 7, 199999}, 2}, {nil, 2},
	} {
		t.Run(fmt.Sprint(c.rows, c.n), func(t *testing.T) {
			var files []inputFile
			var total int64
			for i, r := range c.rows {
				files = append(files, inputFile{path: fmt.Sprint(i), rows: r})
				total += r
			}
			file, row := 0, int64(0) // the next row expected
			for i := range c.n {
				share := shareOf(files, i, c.n)
				var got int64
				for _, f := range share {
					for file < len(files) && row == files[file].rows {
						file, row = file+1, 0
					}
					if f.path != files[file].path || f.from != row || f.to <= f.from || f.to > f.rows {
						t.Fatalf("task %d: %s [%d, %d), want file %d from row %d", i, f.path, f.from, f.to, file, row)
					}
					row = f.to
					got += f.to - f.from
				}
				if want := total*int64(i+1)/int64(c.n) - total*int64(i)/int64(c.n); got != want {
					t.Errorf("task %d: %d rows, want %d", i, got, want)
				}
			}
			for file < len(files) && row == files[file].rows {
				file, row = file+1, 0
			}
			if file != len(files) {
				t.Errorf("rows from file %d row %d on are in no share", file, row)
			}
		})
	}
}
