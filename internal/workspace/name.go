package workspace

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// CheckName says whether name may be one element of an output path, as a
// source name is in normalized/<kind>/<source>-NNNNN.parquet. Output paths
// are built from checked names only, so neither a chimed.yaml nor a row of
// data can make a step write outside its folder: a name is not empty, not
// "." or "..", holds no path separator, no control character (NUL
// included) and does not start with a dot (dot names are the steps' own:
// .staging, .chimed). The error says which rule the name breaks.
func CheckName(name string) error {
	var why string
	switch {
	case name == "":
		why = "it is empty"
	case name == "." || name == "..":
		why = "it names a folder"
	case strings.HasPrefix(name, "."):
		why = "it starts with a dot"
	case strings.ContainsAny(name, `/\`):
		why = "it holds a path separator"
	case strings.ContainsFunc(name, unicode.IsControl):
		why = "it holds a control character"
	case len(name) > 200:
		why = "it is longer than 200 bytes"
	default:
		return nil
	}
	return fmt.Errorf("%q cannot name output files: %w", name, errors.New(why))
}
