package ingest

import (
	"errors"
	"fmt"
	"io"
	"os"

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
		if !fr.emit(Raw{Loc: loc, Fields: fields}) {
			return
		}
	}
}

// randomAccess gives an io.ReaderAt over the file: the open file itself
// when it is plain, else a temporary copy of the decompressed stream.
func (fr *fileReader) randomAccess(r io.Reader) (io.ReaderAt, int64, func(), error) {
	if fr.file != nil && !fr.gzipped {
		st, err := fr.file.Stat()
		if err != nil {
			return nil, 0, nil, err
		}
		return fr.file, st.Size(), func() {}, nil
	}
	tmp, err := os.CreateTemp("", "chimed-parquet-*")
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
