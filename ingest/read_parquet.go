package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
)

// readParquet reads a Parquet file of any schema with parquet-go, each row
// reconstructed into a map: nested lists become []any and groups
// map[string]any, so "turns[0].role" paths work as on JSON. Parquet needs
// random access: a gzip'd file is first spooled to a temporary file.
// Locations carry no line and no offset: Row is the row's ordinal.
func (fr *fileReader) readParquet(r io.Reader) {
	fileLoc := Location{Offset: -1}
	f, size, cleanup, err := fr.randomAccess(r)
	if err != nil {
		fr.fail(fileLoc, true, fmt.Errorf("parquet: %w", err))
		return
	}
	defer cleanup()
	pf, err := parquet.OpenFile(f, size)
	if err != nil {
		fr.fail(fileLoc, true, fmt.Errorf("parquet: %w", err))
		return
	}
	reader := parquet.NewReader(pf)
	defer reader.Close()
	var row int64
	for {
		loc := Location{Row: row, Offset: -1}
		fields := map[string]any{}
		err := reader.Read(&fields)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			fr.fail(loc, true, fmt.Errorf("parquet row %d: %w", row, err))
			return
		}
		row++
		normalizeParquet(fields)
		if !fr.emit(Raw{Loc: loc, Fields: fields}) {
			return
		}
	}
}

// randomAccess gives an io.ReaderAt over the file: the open file itself
// when it is plain, else a temporary copy of the decompressed stream in
// fr.tmpDir.
func (fr *fileReader) randomAccess(r io.Reader) (io.ReaderAt, int64, func(), error) {
	if fr.file != nil && !fr.gzipped {
		st, err := fr.file.Stat()
		if err != nil {
			return nil, 0, nil, err
		}
		return fr.file, st.Size(), func() {}, nil
	}
	if fr.tmpDir != "" {
		if err := os.MkdirAll(fr.tmpDir, 0o755); err != nil {
			return nil, 0, nil, err
		}
	}
	tmp, err := os.CreateTemp(fr.tmpDir, "spool-*")
	if err != nil {
		return nil, 0, nil, err
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	n, err := io.Copy(tmp, r)
	if err != nil {
		cleanup()
		return nil, 0, nil, err
	}
	return tmp, n, cleanup, nil
}

// normalizeParquet makes a reconstructed row a JSON-like value tree like
// every other reader's: integers become json.Number (exact), other numbers
// float64, bytes strings and times RFC 3339 text.
func normalizeParquet(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeParquet(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalizeParquet(e)
		}
		return x
	case int:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case int8:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case int16:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case uint8:
		return json.Number(strconv.FormatUint(uint64(x), 10))
	case uint16:
		return json.Number(strconv.FormatUint(uint64(x), 10))
	case uint32:
		return json.Number(strconv.FormatUint(uint64(x), 10))
	case uint64:
		return json.Number(strconv.FormatUint(x, 10))
	case float32:
		return float64(x)
	case []byte:
		return string(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	}
	return v
}
