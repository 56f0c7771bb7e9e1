package clean

import (
	"encoding/hex"
	"fmt"
	"strconv"

	gojson "github.com/goccy/go-json"

	"github.com/chimed/chimed/schemas"
)

// staged is a row between pass 1 and pass 3 of near-dedup, with the values
// as read of the text fields normalisation rewrote, so a near duplicate is
// kept whole in removed/ (see originalJSON).
type staged[T any] struct {
	Row     T        `parquet:"row"`
	Changed []int32  `parquet:"changed"`
	Before  []string `parquet:"before"`
}

// originalJSON puts back the values as read of the text fields listed in
// changed (positions in TextFields) and marshals the row: the JSON of the
// row as read, for removed/. Normalisers rewrite only TextFields, so this is
// the row before any step touched it. It overwrites p's fields.
func originalJSON(p schemas.Record, changed []int32, before []string) (string, error) {
	if len(changed) > 0 {
		fields := p.TextFields()
		for i, j := range changed {
			if int(j) >= len(fields) {
				return "", fmt.Errorf("row %s: staged field %d of %d", p.RecordID(), j, len(fields))
			}
			*fields[j].Value = before[i]
		}
	}
	// goccy/go-json: the same bytes as encoding/json for these structs, at
	// a fraction of the cost.
	b, err := gojson.Marshal(p)
	return string(b), err
}

// removedRowsPerGroup bounds the rows a removed/ writer buffers before it
// writes a row group. Removed rows include the too_long ones, megabytes
// each; with the default 8,192-row groups the 1GB demo's whole
// encyclopedia removed/ file (3,604 rows, 320 MB compressed) sat in memory
// as one row group. Smaller groups cost a few per cent of file size.
const removedRowsPerGroup = 256

// remove writes one row to removed/<source>-NNNNN.parquet and counts it.
// One kind's pass 3 and a later kind's pass 1 both remove rows.
func (r *run) remove(k schemas.Kind, id, src, reason, detail, original string) error {
	r.removedMu.Lock()
	defer r.removedMu.Unlock()
	w := r.removed[src]
	if w == nil {
		if _, ok := r.order[src]; !ok {
			return unknownSource(src)
		}
		w = schemas.NewPartWriter[schemas.RemovedRow](r.opts.Workspace.Removed(),
			schemas.PartOptions{Prefix: src, RowsPerGroup: removedRowsPerGroup})
		r.removed[src] = w
	}
	r.removedKind[src] = k // a source in two kinds: the earlier is done with it (see flight)
	r.report.source(src).Removed[reason]++
	return w.Write(schemas.RemovedRow{ID: id, Source: src, Kind: string(k), Reason: reason, Detail: detail, Record: original})
}

// unknownSource is the error for a row whose source column names no source
// of chimed.yaml. clean and removed/ name their files after the source, so
// a name from data alone (a stale or hand-made normalized/ file, or one
// whose rows say ../../x) must never reach a path.
func unknownSource(src string) error {
	return fmt.Errorf("source %s is not a source in chimed.yaml (clean names its files after the sources listed there; re-run `chimed ingest`)",
		strconv.Quote(src))
}

// closeRemoved commits the removed/ parts of the sources whose last
// removed row was of kind k.
func (r *run) closeRemoved(k schemas.Kind) error {
	r.removedMu.Lock()
	defer r.removedMu.Unlock()
	for _, name := range sortedKeys(r.removed) {
		if r.removedKind[name] != k {
			continue
		}
		if err := r.removed[name].Close(); err != nil {
			return err
		}
	}
	return nil
}

// idBits packs a 16-hex-digit StableID into 64 bits, so the exact-dedup
// index holds 16 bytes per row (key, kept id) instead of a string. Ids of
// another shape give 0 and the duplicate's detail is left empty.
func idBits(id string) uint64 {
	if len(id) != 16 {
		return 0
	}
	var b [8]byte
	if _, err := hex.Decode(b[:], []byte(id)); err != nil {
		return 0
	}
	v, _ := strconv.ParseUint(id, 16, 64)
	return v
}

func idText(v uint64) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprintf("%016x", v)
}
