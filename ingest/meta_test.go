package ingest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
)

// TestNestedMeta: what no expression reads goes to meta at any depth,
// nested as it was, and nothing read is repeated there.
func TestNestedMeta(t *testing.T) {
	tests := []struct {
		name   string
		src    Source
		record string
		want   map[string]any // meta without provenance
	}{
		{
			name:   "a nested field read, its siblings kept",
			src:    Source{Kind: "qa", Map: Mapping{Fields: map[string]string{"question": "info.desc", "answer": "food.good_diet_text[0]"}}},
			record: `{"name":"病","info":{"desc":"描述","other":"其他","deep":{"x":1}},"food":{"good_diet_text":["好"],"bad_diet_text":["坏"]}}`,
			want:   map[string]any{"name": "病", "info": map[string]any{"other": "其他", "deep": map[string]any{"x": 1.0}}, "food": map[string]any{"bad_diet_text": []any{"坏"}}},
		},
		{
			name:   "everything under an object read",
			src:    Source{Kind: "qa", Map: Mapping{Fields: map[string]string{"question": "info.desc", "answer": "info.other"}}},
			record: `{"info":{"desc":"d","other":"o"}}`,
			want:   map[string]any{},
		},
		{
			name:   "a list partly read goes whole",
			src:    Source{Kind: "qa", Map: Mapping{Fields: map[string]string{"question": "q[0]", "answer": "a[-1]"}}},
			record: `{"q":["问","又问"],"a":["答"]}`,
			want:   map[string]any{"q": []any{"问", "又问"}},
		},
		{
			name:   "a path deeper than the value reads nothing",
			src:    Source{Kind: "qa", Map: Mapping{Fields: map[string]string{"question": "q", "answer": "a", "category": "c.name"}}},
			record: `{"q":"问","a":"答","c":"科"}`,
			want:   map[string]any{"c": "科"},
		},
		{
			name: "each element keeps its unread nested fields",
			src: Source{Kind: "kg", Map: Mapping{Each: "spo", Fields: map[string]string{
				"head": "s", "relation": "p", "tail": "o.@value"}}},
			record: `{"text":"句","spo":[{"s":"甲","p":"是","o":{"@value":"乙","@type":"t"}}]}`,
			want:   map[string]any{"text": "句", "o": map[string]any{"@type": "t"}, "_each": 0.0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := mapOne(t, tt.src, tt.record)
			if err != nil {
				t.Fatal(err)
			}
			meta := metaOf(t, rows[0])
			for _, k := range []string{"_file", "_row", "_line"} {
				delete(meta, k)
			}
			if !reflect.DeepEqual(meta, tt.want) {
				t.Errorf("meta %v, want %v", meta, tt.want)
			}
		})
	}
}

// TestMetaCap: a row whose leftovers pass max_meta_bytes drops the largest
// of them, names them, keeps provenance and mapping notes, and is counted.
func TestMetaCap(t *testing.T) {
	big := strings.Repeat("长", 400) // 1200 bytes
	src := Source{Name: "s", Kind: "qa", MaxMetaBytes: 2048, Map: Mapping{
		Turns: &TurnsMapping{Path: "c", Role: "r", Content: "v"}}}
	mp, err := compileMapping(&src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		record  string
		capped  int64
		dropped []any
		kept    []string
	}{
		{`{"c":[{"r":"user","v":"q"},{"r":"assistant","v":"a"}],"small":"s"}`, 0, nil, []string{"small"}},
		{`{"c":[{"r":"system","v":"` + big + `"},{"r":"user","v":"q"},{"r":"assistant","v":"a"}],"huge":"` + big + `","huger":{"x":"` + big + `x"},"small":"s"}`,
			1, []any{"huge", "huger"}, []string{"small", "system", "_file", "_row"}},
	} {
		raw := rawOf(t, tt.record)
		before := mp.capped
		rows, err := mp.mapRecord(&raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		meta := metaOf(t, rows[0])
		if got := mp.capped - before; got != tt.capped {
			t.Errorf("capped %d rows, want %d", got, tt.capped)
		}
		if !reflect.DeepEqual(meta[metaDropped], any(tt.dropped)) && !(tt.dropped == nil && meta[metaDropped] == nil) {
			t.Errorf("dropped %v, want %v", meta[metaDropped], tt.dropped)
		}
		for _, k := range tt.kept {
			if _, ok := meta[k]; !ok {
				t.Errorf("meta lost %q: %v", k, meta)
			}
		}
	}
	// A record that fails after its meta was capped counts no row.
	raw := rawOf(t, `{"c":[{"r":"user","v":"q"}],"huge":"`+big+`"}`)
	before := mp.capped
	if _, err := mp.mapRecord(&raw, nil); err == nil || mp.capped != before {
		t.Errorf("failed record: err %v, capped %d → %d", err, before, mp.capped)
	}
}

func TestReadTreeUnread(t *testing.T) {
	var tr readTree
	for _, p := range []string{"a.b", "l[0]", "l[-1]", "m"} {
		pt, err := singlePath(p)
		if err != nil {
			t.Fatal(err)
		}
		tr.mark(pt.steps)
	}
	rec := map[string]any{"a": map[string]any{"b": 1, "c": 2}, "l": []any{"x", "y"}, "m": map[string]any{"z": 1}, "n": nil}
	got, ok := tr.unread(rec)
	want := map[string]any{"a": map[string]any{"c": 2}, "n": nil}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("unread = %v, want %v", got, want)
	}
	rec["l"] = []any{"x", "y", "z"}
	got, _ = tr.unread(rec)
	if !reflect.DeepEqual(got.(map[string]any)["l"], rec["l"]) {
		t.Errorf("a list with an unread middle element: %v", got)
	}
	_ = schemas.MetaJSON(got.(map[string]any))
}
