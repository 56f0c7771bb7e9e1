package ingest

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
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
//
// excelize holds a cell, a shared string and a row whole in memory, and
// the workbook's small parts too, so before it opens the file checkXLSX
// streams through the zip and quarantines the file whole when one of them
// is beyond what max_record_bytes allows: a 0.3 MB file can hold a 300 MB
// cell. The zip is read in place (a gzip'd one is spooled to fr.tmpDir),
// never into memory, and excelize spills big XML parts to fr.tmpDir too.
func (fr *fileReader) readXLSX(r io.Reader) {
	fileLoc := Location{Offset: -1}
	ra, size, cleanup, err := fr.randomAccess(r)
	if err != nil {
		fr.fail(fileLoc, true, fmt.Errorf("xlsx: %w", err))
		return
	}
	defer cleanup()
	book, err := fr.openXLSX(ra, size)
	if err != nil {
		fr.fail(fileLoc, true, fmt.Errorf("xlsx: %w", err))
		return
	}
	defer book.Close()
	xo := fr.src.XLSX
	sheet := xo.Sheet
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
	header := xo.Columns
	wantHeader := hasHeader(xo.Header, xo.Columns)
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
		text := strings.Join(cells, "\t")
		if !fr.emit(Raw{Loc: loc, Fields: rowFields(header, cells), Text: Truncate(text, MaxRawText)}) {
			return
		}
	}
	if err := rows.Error(); err != nil {
		fr.fail(Location{Row: row, Offset: -1}, true, fmt.Errorf("xlsx sheet %q: %w", sheet, err))
	}
}

// openXLSX checks the workbook's parts against the record cap while
// streaming its zip (checkXLSX), then opens it with excelize, spilling
// large sheets to the workspace's temporary folder.
func (fr *fileReader) openXLSX(ra io.ReaderAt, size int64) (*excelize.File, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, err
	}
	if err := checkXLSX(zr, fr.maxRecord); err != nil {
		return nil, err
	}
	if fr.tmpDir != "" {
		// excelize spills a large worksheet only where it can create a
		// file, and otherwise quietly holds it all in memory.
		if err := os.MkdirAll(fr.tmpDir, 0o755); err != nil {
			return nil, err
		}
	}
	opts := excelize.Options{TmpDir: fr.tmpDir, UnzipXMLSizeLimit: xlsxSpillSize}
	if f, ok := ra.(*os.File); ok {
		return excelize.OpenFile(f.Name(), opts)
	}
	return excelize.OpenReader(io.NewSectionReader(ra, 0, size), opts)
}

// rowFields names a row's cells by the header; cells past the header are
// kept as _N when not empty.
func rowFields(header, cells []string) map[string]any {
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
	return fields
}

func emptyRow(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// xlsxSpillSize is the size above which excelize keeps a worksheet or the
// shared strings in a temporary file rather than in memory (its default).
const xlsxSpillSize = 16 << 20

// XLSXError says why a workbook was quarantined whole rather than read:
// which zip part (Part) holds what (What) of Size bytes, over Limit.
type XLSXError struct {
	Part  string
	What  string
	Size  int64
	Limit int64
}

func (e *XLSXError) Error() string {
	return fmt.Sprintf("%s: %s of %d bytes or more, over the %d-byte cap (max_record_bytes); excelize would hold it in memory, so the file is quarantined whole",
		e.Part, e.What, e.Size, e.Limit)
}

// checkXLSX streams through a workbook's parts and returns an *XLSXError
// for the first one excelize could not read within the record cap: the
// parts it keeps in memory adding up to more than 4 × maxRecord (at least
// 64 MiB), or, in the shared strings and worksheets, a run of text or a
// shared string longer than maxRecord, a tag longer than that (at least
// 1 MiB), or a row whose XML plus its cells' shared strings (each counted
// at the longest) could exceed 2 × maxRecord. A row between maxRecord and
// that is read and then quarantined alone, as before.
func checkXLSX(zr *zip.Reader, maxRecord int64) error {
	var inMemory int64
	var sst *zip.File
	var sheets []*zip.File
	for _, f := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		spill := int64(f.UncompressedSize64) > xlsxSpillSize
		switch {
		case name == "xl/sharedstrings.xml":
			sst = f
		case strings.HasPrefix(name, "xl/worksheets/") && strings.HasSuffix(name, ".xml"):
			sheets = append(sheets, f)
			if strings.HasPrefix(name, "xl/worksheets/sheet") {
				break
			}
			spill = false
		default:
			spill = false
		}
		if !spill {
			inMemory += int64(f.UncompressedSize64)
			if limit := max(4*maxRecord, xlsxSpillSize*4); inMemory > limit {
				return &XLSXError{Part: f.Name, What: "parts read into memory", Size: inMemory, Limit: limit}
			}
		}
	}
	var longestString int64
	if sst != nil {
		sc := xmlScan{max: maxRecord}
		if err := sc.scan(sst); err != nil {
			return err
		}
		longestString = sc.longestSI
	}
	for _, f := range sheets {
		sc := xmlScan{max: maxRecord, longestString: longestString}
		if err := sc.scan(f); err != nil {
			return err
		}
	}
	return nil
}

// maxTag is the least cap on one tag: a worksheet's root tag declares a
// few KiB of namespaces whatever the record cap.
const maxTag = 1 << 20

// xmlScan measures an XML part byte by byte, never holding more than a
// buffer of it: text runs and tags, and the size of <si> and <row>
// elements (by local name) with the number of <c> cells in a row.
type xmlScan struct {
	max           int64
	longestString int64 // the longest shared string, bounding a cell's text
	longestSI     int64

	pos         int64
	runStart    int64 // where the current text run or tag began
	inTag       bool
	name        []byte // the current tag's name, up to 32 bytes
	naming      bool
	prev        byte
	siStart     int64
	rowStart    int64
	inSI, inRow bool
	cells       int64
}

func (sc *xmlScan) scan(f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := rc.Read(buf)
		for _, b := range buf[:n] {
			if e := sc.byte(b); e != nil {
				e.Part = f.Name
				return e
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
	}
}

func (sc *xmlScan) byte(b byte) *XLSXError {
	err := sc.step(b)
	sc.pos++
	sc.prev = b
	return err
}

func (sc *xmlScan) step(b byte) *XLSXError {
	switch {
	case !sc.inTag && b == '<':
		sc.inTag, sc.runStart, sc.name, sc.naming = true, sc.pos, sc.name[:0], true
	case sc.inTag && b == '>':
		sc.inTag = false
		sc.tag()
		sc.runStart = sc.pos + 1
	case sc.inTag && sc.naming:
		if b == ' ' || b == '\t' || b == '\n' || b == '\r' || (b == '/' && len(sc.name) > 0) || len(sc.name) == 32 {
			sc.naming = false
		} else {
			sc.name = append(sc.name, b)
		}
	}
	run := sc.pos - sc.runStart + 1
	if !sc.inTag && run > sc.max {
		return &XLSXError{What: "a text run (one cell's or shared string's text)", Size: run, Limit: sc.max}
	}
	if limit := max(sc.max, maxTag); sc.inTag && run > limit {
		return &XLSXError{What: "a tag", Size: run, Limit: limit}
	}
	if sc.inSI && sc.pos-sc.siStart+1 > sc.max {
		return &XLSXError{What: "a shared string", Size: sc.pos - sc.siStart + 1, Limit: sc.max}
	}
	if sc.inRow && sc.pos-sc.rowStart+1+sc.cells*sc.longestString > 2*sc.max {
		return &XLSXError{What: "a row (its XML and its cells' shared strings)", Size: sc.pos - sc.rowStart + 1 + sc.cells*sc.longestString, Limit: 2 * sc.max}
	}
	return nil
}

// tag handles the end of a tag at sc.pos.
func (sc *xmlScan) tag() {
	name := sc.name
	closing := len(name) > 0 && name[0] == '/'
	if closing {
		name = name[1:]
	}
	if i := strings.LastIndexByte(string(name), ':'); i >= 0 {
		name = name[i+1:]
	}
	selfClosing := sc.prev == '/'
	switch string(name) {
	case "si":
		switch {
		case closing:
			if sc.inSI {
				sc.longestSI = max(sc.longestSI, sc.pos-sc.siStart+1)
			}
			sc.inSI = false
		case !selfClosing:
			sc.inSI, sc.siStart = true, sc.runStart
		}
	case "row":
		switch {
		case closing:
			sc.inRow = false
		case !selfClosing:
			sc.inRow, sc.rowStart, sc.cells = true, sc.runStart, 0
		}
	case "c":
		if sc.inRow && !closing {
			sc.cells++
		}
	}
}
