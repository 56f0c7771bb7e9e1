package ingest

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// readXLSX reads one sheet (xlsx.sheet, default the first) with excelize's
// streaming row iterator, so a big sheet is not turned into one [][]string.
// The header row (or xlsx.columns; without either, "_0", "_1", …) names
// the fields; a row's missing trailing cells are empty strings, cells past
// the header are kept as "_<column>", and empty rows are not records. Locations carry no line
// (Line 0) and no offset (-1): Row is the record's ordinal.
func (fr *fileReader) readXLSX(r io.Reader) {
	fileLoc := Location{Offset: -1}
	// excelize keeps the zip in memory and spills big sheet XML to a
	// temporary file; the rows themselves are streamed.
	book, err := excelize.OpenReader(r)
	if err != nil {
		fr.fail(fileLoc, true, fmt.Errorf("xlsx: %w", err))
		return
	}
	defer book.Close()
	opts := fr.src.XLSX
	sheet := opts.Sheet
	if sheet == "" {
		sheets := book.GetSheetList()
		if len(sheets) == 0 {
			fr.fail(fileLoc, true, fmt.Errorf("xlsx: the workbook has no sheets"))
			return
		}
		sheet = sheets[0]
	}
	rows, err := book.Rows(sheet)
	if err != nil {
		fr.fail(fileLoc, true, fmt.Errorf("xlsx sheet %q: %w", sheet, err))
		return
	}
	defer rows.Close()
	header := opts.Columns
	wantHeader := hasHeader(opts.Header, opts.Columns)
	var row int64
	for rows.Next() {
		loc := Location{Row: row, Offset: -1}
		cells, err := rows.Columns()
		if err != nil {
			fr.fail(loc, true, fmt.Errorf("xlsx sheet %q: %w", sheet, err))
			return
		}
		if emptyRow(cells) {
			continue
		}
		if wantHeader {
			wantHeader = false
			if header == nil {
				header = headerNames(cells)
			}
			continue
		}
		if header == nil {
			header = make([]string, len(cells))
			for i := range header {
				header[i] = "_" + strconv.Itoa(i)
			}
		}
		row++
		var size int64
		for _, c := range cells {
			size += int64(len(c)) + 1
		}
		if size > fr.maxRecord {
			if !fr.fail(loc, false, tooLong(size)) {
				return
			}
			continue
		}
		fields := make(map[string]any, max(len(header), len(cells)))
		for i, name := range header {
			fields[name] = ""
			if i < len(cells) {
				fields[name] = cells[i]
			}
		}
		for i := len(header); i < len(cells); i++ {
			if cells[i] != "" {
				fields["_"+strconv.Itoa(i)] = cells[i]
			}
		}
		text := strings.Join(cells, "\t")
		if !fr.emit(Raw{Loc: loc, Fields: fields, Text: Truncate(text, MaxRawText)}) {
			return
		}
	}
	if err := rows.Error(); err != nil {
		fr.fail(Location{Row: row, Offset: -1}, true, fmt.Errorf("xlsx sheet %q: %w", sheet, err))
	}
}

func emptyRow(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
