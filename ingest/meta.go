package ingest

import (
	"cmp"
	"fmt"
	"slices"

	gojson "github.com/goccy/go-json"

	"github.com/chimed/chimed/schemas"
)

// DefaultMaxMetaBytes caps one row's meta JSON when a source sets no
// max_meta_bytes: far above any real record's leftovers (a CMExam row's
// annotations are a few hundred bytes), low enough that a forgotten 1 MB
// HTML field does not ride along in every stage.
const DefaultMaxMetaBytes = 64 << 10

// readTree records which parts of a record a mapping's expressions read,
// so the rest, at any depth, can go to the row's meta: reading "info.desc"
// leaves "info.other" unread. A node read whole (a path ends there) hides
// everything under it. A list read by index ("instruction[0]") counts the
// element as read whole; a list some element of which no index reaches
// goes to meta whole, read elements included, since a list with holes
// would no longer say where its elements were.
type readTree struct {
	whole   bool
	keys    map[string]*readTree
	indices []int // may be negative: counted from the end
}

// mark records that a path reads steps.
func (t *readTree) mark(steps []step) {
	n := t
	for _, s := range steps {
		if n.whole {
			return
		}
		if s.isIdx {
			if !slices.Contains(n.indices, s.index) {
				n.indices = append(n.indices, s.index)
			}
			return
		}
		if n.keys == nil {
			n.keys = map[string]*readTree{}
		}
		c := n.keys[s.key]
		if c == nil {
			c = &readTree{}
			n.keys[s.key] = c
		}
		n = c
	}
	n.whole = true
	n.keys, n.indices = nil, nil
}

// reads reports whether some path starts with the top-level key k.
func (t *readTree) reads(k string) bool {
	return t.whole || t.keys[k] != nil
}

// unread gives the part of v that no path read, and false when nothing is
// left. Objects keep their nesting: {"info": {"other": …}}.
func (t *readTree) unread(v any) (any, bool) {
	if t == nil {
		return v, true
	}
	if t.whole {
		return nil, false
	}
	switch x := v.(type) {
	case map[string]any:
		if len(t.keys) == 0 {
			return x, true // only indices, which find nothing in an object
		}
		out := map[string]any{}
		for k, e := range x {
			if r, ok := t.keys[k].unread(e); ok {
				out[k] = r
			}
		}
		return out, len(out) > 0
	case []any:
		if len(t.indices) == 0 {
			return x, true // only keys, which find nothing in a list
		}
		for i := range x {
			if !slices.ContainsFunc(t.indices, func(j int) bool { return j == i || j+len(x) == i }) {
				return x, true
			}
		}
		return nil, false
	default:
		return v, true // a path went deeper than this value: nothing read it
	}
}

// unreadInto puts the unread fields of the object x into meta, but for
// keys skip says to leave out; it is unread for the top level of a record,
// without a map of its own.
func (t *readTree) unreadInto(meta, x map[string]any, skip func(string) bool) {
	if t.whole {
		return
	}
	for k, v := range x {
		if skip != nil && skip(k) {
			continue
		}
		if r, ok := t.keys[k].unread(v); ok {
			meta[k] = r
		}
	}
}

// reservedMeta are the meta keys ingest itself sets: provenance and what a
// mapping moved there (a system turn, a preference prompt's history,
// skipped turns). The meta cap never drops them.
var reservedMeta = map[string]bool{
	"_file": true, "_row": true, "_line": true, "_each": true, metaDropped: true,
	"system": true, "history": true, "skipped_turns": true,
}

// metaDropped names, in a row's meta, the leftover fields the meta cap dropped.
const metaDropped = "_meta_dropped"

// maxDroppedNames bounds the list under metaDropped.
const maxDroppedNames = 100

// metaJSON renders a row's meta within the source's cap: when the JSON is
// longer, the largest raw leftover fields are dropped whole until it fits
// and their names are listed under "_meta_dropped"; the row still points at
// its raw record through _file and _row. capped reports that this happened,
// for the report's meta_capped counter.
func (mp *mapper) metaJSON(meta map[string]any) (js string, capped bool) {
	js = schemas.MetaJSON(meta)
	if len(js) <= mp.maxMeta {
		return js, false
	}
	type sized struct {
		key string
		n   int
	}
	var fields []sized
	for k, v := range meta {
		if reservedMeta[k] {
			continue
		}
		b, err := gojson.Marshal(v)
		n := len(b)
		if err != nil {
			n = len(js)
		}
		fields = append(fields, sized{k, n + len(k) + 4}) // "k":v,
	}
	slices.SortFunc(fields, func(a, b sized) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.key, b.key))
	})
	size := len(js) + len(metaDropped) + 6 // ,"_meta_dropped":[]
	var dropped []string
	for _, f := range fields {
		if size <= mp.maxMeta {
			break
		}
		delete(meta, f.key)
		size += len(f.key) + 3 - f.n // its name is listed instead
		dropped = append(dropped, f.key)
	}
	slices.Sort(dropped)
	if len(dropped) > maxDroppedNames {
		dropped = append(dropped[:maxDroppedNames], fmt.Sprintf("… %d more", len(dropped)-maxDroppedNames))
	}
	if len(dropped) > 0 {
		meta[metaDropped] = dropped
	}
	return schemas.MetaJSON(meta), true
}
