package ingest

import (
	"errors"
	"io"
)

// readText is not built yet: it reports the whole file as unreadable.
func (fr *fileReader) readText(_ io.Reader) {
	fr.fail(Location{Offset: -1}, true, errors.New("the text reader is not built yet"))
}
