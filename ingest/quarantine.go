package ingest

import (
	"errors"

	"github.com/chimed/chimed/internal/escape"
	"github.com/chimed/chimed/schemas"
)

// quarantineRow records one raw record that could not be read or mapped:
// the reader's *Error gives the place; any other error is placed at the
// record's own location. The error text is escaped (escape.Controls): a
// decoder quotes the byte it choked on as it is, and a NUL or a terminal
// escape has no place in a report or a message.
func quarantineRow(source string, kind schemas.Kind, raw *Raw, err error) schemas.QuarantineRow {
	loc := raw.Loc
	var ie *Error
	if errors.As(err, &ie) {
		loc = ie.Location
		err = ie.Err
	}
	return schemas.QuarantineRow{
		Source: source,
		Kind:   string(kind),
		File:   loc.File,
		Line:   loc.Line,
		Row:    loc.Row,
		Offset: loc.Offset,
		Error:  escape.Controls(err.Error()),
		Raw:    Truncate(raw.Text, MaxRawText),
	}
}
