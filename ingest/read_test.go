package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// event is one thing a reader yields: a record (Fields set) or an error
// (Err holds a substring of its message).
type event struct {
	Loc    Location
	Fields map[string]any
	Err    string
	Fatal  bool
}

// collect reads data as the file "f"+ext and returns what the reader
// yielded, failing the test on any error that is not an *Error naming the
// file.
func collect(t testing.TB, data []byte, ext string, src *Source) []event {
	t.Helper()
	var out []event
	for raw, err := range ReadStream(bytes.NewReader(data), "f"+ext, ext, src, nil) {
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if e.File != "f"+ext {
				t.Fatalf("error %v names file %q", err, e.File)
			}
			out = append(out, event{Loc: e.Location, Err: e.Err.Error(), Fatal: e.Fatal})
			continue
		}
		if raw.Loc.File != "f"+ext {
			t.Fatalf("record at %v names the wrong file", raw.Loc)
		}
		out = append(out, event{Loc: raw.Loc, Fields: raw.Fields})
	}
	return out
}

func loc(line, row, offset int64) Location {
	return Location{File: "f", Line: line, Row: row, Offset: offset}
}

func gbk(s string) string {
	b, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return b
}

func utf16le(s string) string {
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return b
}

func utf16be(s string) string {
	b, err := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return b
}

func gzipped(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func bptr(b bool) *bool { return &b }

func TestReadFile(t *testing.T) {
	tests := []struct {
		name  string
		ext   string
		input string
		src   Source
		want  []event
	}{
		{
			name:  "jsonl with CRLF, a blank line, a broken line and no final newline",
			ext:   ".jsonl",
			input: "{\"q\":\"一\",\"n\":1}\r\n\r\n{\"q\":\r\n[1,2]\n{\"q\":\"二\"}",
			want: []event{
				{Loc: loc(1, 0, 0), Fields: map[string]any{"q": "一", "n": 1.0}},
				{Loc: loc(3, 1, 21), Err: "invalid JSON"},
				{Loc: loc(4, 2, 28), Fields: map[string]any{"_value": []any{1.0, 2.0}}},
				{Loc: loc(5, 3, 34), Fields: map[string]any{"q": "二"}},
			},
		},
		{
			name:  "jsonl with invalid UTF-8 names the byte",
			ext:   ".jsonl",
			input: "{\"q\":\"a\"}\n{\"q\":\"\xff\"}\n{\"q\":\"b\"}\n",
			src:   Source{Encoding: "utf-8"},
			want: []event{
				{Loc: loc(1, 0, 0), Fields: map[string]any{"q": "a"}},
				{Loc: loc(2, 1, 10), Err: "bytes invalid in utf-8 at byte 16: ff"},
				{Loc: loc(3, 2, 20), Fields: map[string]any{"q": "b"}},
			},
		},
		{
			name:  "jsonl over max_record_bytes",
			ext:   ".jsonl",
			input: "{\"q\":\"a\"}\n{\"q\":\"" + strings.Repeat("x", 40) + "\"}\n{\"q\":\"b\"}\n",
			src:   Source{MaxRecordBytes: 20},
			want: []event{
				{Loc: loc(1, 0, 0), Fields: map[string]any{"q": "a"}},
				{Loc: loc(2, 1, 10), Err: "record of 48 bytes exceeds max_record_bytes"},
				{Loc: loc(3, 2, 59), Fields: map[string]any{"q": "b"}},
			},
		},
		{
			name:  "a .json file that is JSON Lines",
			ext:   ".json",
			input: "{\"a\":1}\n{\"a\":2}\n",
			want: []event{
				{Loc: loc(1, 0, 0), Fields: map[string]any{"a": 1.0}},
				{Loc: loc(2, 1, 8), Fields: map[string]any{"a": 2.0}},
			},
		},
		{
			name:  "a .txt file that is JSON Lines, UTF-16 with BOM",
			ext:   ".txt",
			input: utf16le("{\"问\":\"头痛\"}\n{\"问\":\"发热\"}\n"),
			want: []event{
				{Loc: loc(1, 0, 2), Fields: map[string]any{"问": "头痛"}},
				{Loc: loc(2, 1, 19), Fields: map[string]any{"问": "发热"}},
			},
		},
		{
			name:  "UTF-16BE JSONL without a BOM",
			ext:   "",
			input: utf16be("{\"问\":\"头痛\"}\n{\"问\":\"发热\"}\n"),
			want: []event{
				{Loc: loc(1, 0, 0), Fields: map[string]any{"问": "头痛"}},
				{Loc: loc(2, 1, 17), Fields: map[string]any{"问": "发热"}},
			},
		},
		{
			name:  "gzip'd JSONL with a lying extension",
			ext:   ".json",
			input: gzipped("{\"a\":1}\n{\"a\":2}\n"),
			want: []event{
				{Loc: loc(1, 0, 0), Fields: map[string]any{"a": 1.0}},
				{Loc: loc(2, 1, 8), Fields: map[string]any{"a": 2.0}},
			},
		},
		{
			name:  "json array with a broken element goes on",
			ext:   ".json",
			input: "[\n {\"a\": 1},\n {\"a\": tru},\n {\"a\": [\"]\"]}\n]\n",
			want: []event{
				{Loc: loc(2, 0, 3), Fields: map[string]any{"a": 1.0}},
				{Loc: loc(3, 1, 14), Err: "invalid JSON"},
				{Loc: loc(4, 2, 27), Fields: map[string]any{"a": []any{"]"}}},
			},
		},
		{
			name:  "json array whose structure breaks is fatal and says so",
			ext:   ".json",
			input: "[{\"a\": 1} {\"a\": 2}]",
			want: []event{
				{Loc: loc(1, 0, 1), Fields: map[string]any{"a": 1.0}},
				{Loc: loc(1, 1, 11), Err: "the rest of the file cannot be read", Fatal: true},
			},
		},
		{
			name:  "json object of records keeps the key",
			ext:   ".json",
			input: "{\"k1\": {\"a\": 1},\n \"k2\": {\"a\": 2}}",
			want: []event{
				{Loc: loc(1, 0, 7), Fields: map[string]any{"a": 1.0, "_key": "k1"}},
				{Loc: loc(2, 1, 24), Fields: map[string]any{"a": 2.0, "_key": "k2"}},
			},
		},
		{
			name:  "json records path",
			ext:   ".json",
			input: "{\"meta\": {\"x\": [1, {\"y\": \"}\"}]}, \"data\": {\"n\": 2, \"items\": [{\"a\": 1}, {\"a\": 2}]}}",
			src:   Source{JSON: JSONOptions{Records: "data.items"}},
			want: []event{
				{Loc: loc(1, 0, 60), Fields: map[string]any{"a": 1.0}},
				{Loc: loc(1, 1, 70), Fields: map[string]any{"a": 2.0}},
			},
		},
		{
			name:  "a json document that is one record",
			ext:   ".json",
			input: "{\n  \"q\": \"一\",\n  \"tags\": [\"a\"]\n}\n",
			want: []event{
				{Loc: loc(1, 0, 0), Fields: map[string]any{"q": "一", "tags": []any{"a"}}},
			},
		},
		{
			name:  "json element over the cap is skipped",
			ext:   ".json",
			input: "[{\"a\": \"" + strings.Repeat("长", 20) + "\"}, {\"a\": 2}]",
			src:   Source{MaxRecordBytes: 30},
			want: []event{
				{Loc: loc(1, 0, 1), Err: "record of 69 bytes exceeds max_record_bytes"},
				{Loc: loc(1, 1, 72), Fields: map[string]any{"a": 2.0}},
			},
		},
		{
			name:  "csv with BOM, quoted newline, bare quote and a ragged row",
			ext:   ".csv",
			input: "\ufeffQuestion,Answer\r\n\"一\n二\",A\r\n他说\"好\",B\r\nx,y,z\r\n末,C",
			want: []event{
				{Loc: loc(2, 0, 20), Fields: map[string]any{"Question": "一\n二", "Answer": "A"}},
				{Loc: loc(4, 1, 33), Fields: map[string]any{"Question": "他说\"好\"", "Answer": "B"}},
				{Loc: loc(5, 2, 48), Err: "row has 3 cells, the header 2"},
				{Loc: loc(6, 3, 55), Fields: map[string]any{"Question": "末", "Answer": "C"}},
			},
		},
		{
			name:  "GBK csv without a header, columns named",
			ext:   ".csv",
			input: gbk("内科,高血压\n外科,骨折\n"),
			src:   Source{CSV: CSVOptions{Header: bptr(false), Columns: []string{"department", "title"}}},
			want: []event{
				{Loc: loc(1, 0, 0), Fields: map[string]any{"department": "内科", "title": "高血压"}},
				{Loc: loc(2, 1, 17), Fields: map[string]any{"department": "外科", "title": "骨折"}},
			},
		},
		{
			name:  "csv columns named over a header row",
			ext:   ".csv",
			input: "Q,A\n头痛,休息\n",
			src:   Source{CSV: CSVOptions{Header: bptr(true), Columns: []string{"question", "answer"}}},
			want: []event{
				{Loc: loc(2, 0, 4), Fields: map[string]any{"question": "头痛", "answer": "休息"}},
			},
		},
		{
			name:  "csv columns named, so no header row by default",
			ext:   ".csv",
			input: "头痛,休息\n",
			src:   Source{CSV: CSVOptions{Columns: []string{"question", "answer"}}},
			want: []event{
				{Loc: loc(1, 0, 0), Fields: map[string]any{"question": "头痛", "answer": "休息"}},
			},
		},
		{
			name:  "GBK with an invalid byte",
			ext:   ".csv",
			input: gbk("a,b\n内科,高血压\n") + "\x81\x20,x\n" + gbk("外科,骨折\n"),
			src:   Source{Encoding: "gbk"},
			want: []event{
				{Loc: loc(2, 0, 4), Fields: map[string]any{"a": "内科", "b": "高血压"}},
				{Loc: loc(3, 1, 21), Err: "bytes invalid in gb18030 at byte 21"},
				{Loc: loc(4, 2, 28), Fields: map[string]any{"a": "外科", "b": "骨折"}},
			},
		},
		{
			name:  "a .spo file that is TSV",
			ext:   ".spo",
			input: "眼睛发红\t类别\t症状\n小儿狂犬病\t类别\t疾病\n",
			src:   Source{CSV: CSVOptions{Header: bptr(false)}},
			want: []event{
				{Loc: loc(1, 0, 0), Fields: map[string]any{"_0": "眼睛发红", "_1": "类别", "_2": "症状"}},
				{Loc: loc(2, 1, 27), Fields: map[string]any{"_0": "小儿狂犬病", "_1": "类别", "_2": "疾病"}},
			},
		},
		{
			name:  "text per line",
			ext:   ".txt",
			input: "第一章\r\n\r\n传染病是\n指",
			want: []event{
				{Loc: loc(1, 0, 0), Fields: map[string]any{"text": "第一章", "head": "第一章", "body": ""}},
				{Loc: loc(3, 1, 13), Fields: map[string]any{"text": "传染病是", "head": "传染病是", "body": ""}},
				{Loc: loc(4, 2, 26), Fields: map[string]any{"text": "指", "head": "指", "body": ""}},
			},
		},
		{
			name:  "text per blank-line block",
			ext:   ".txt",
			input: "\n标题,问\n答\n\n\n标题二\n答二\n",
			src:   Source{Text: TextOptions{Split: SplitBlank}},
			want: []event{
				{Loc: loc(2, 0, 1), Fields: map[string]any{"text": "标题,问\n答", "head": "标题,问", "body": "答"}},
				{Loc: loc(6, 1, 18), Fields: map[string]any{"text": "标题二\n答二", "head": "标题二", "body": "答二"}},
			},
		},
		{
			name:  "text per pattern",
			ext:   ".txt",
			input: "\nid=1\na\n\nid=2\nb\n",
			src:   Source{Text: TextOptions{Split: SplitPattern, Pattern: `^id=\d+$`}},
			want: []event{
				{Loc: loc(2, 0, 1), Fields: map[string]any{"text": "id=1\na", "head": "id=1", "body": "a"}},
				{Loc: loc(5, 1, 9), Fields: map[string]any{"text": "id=2\nb", "head": "id=2", "body": "b"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := collect(t, []byte(tt.input), tt.ext, &tt.src)
			for i := range tt.want {
				tt.want[i].Loc.File = "f" + tt.ext
			}
			compareEvents(t, got, tt.want)
		})
	}
}

func compareEvents(t *testing.T, got, want []event) {
	t.Helper()
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			t.Errorf("missing %d: %+v", i, want[i])
		case i >= len(want):
			t.Errorf("extra %d: %+v", i, got[i])
		case want[i].Err != "":
			if got[i].Err == "" || !strings.Contains(got[i].Err, want[i].Err) || got[i].Loc != want[i].Loc || got[i].Fatal != want[i].Fatal {
				t.Errorf("%d: got %+v, want error %+v", i, got[i], want[i])
			}
		default:
			if got[i].Err != "" || got[i].Loc != want[i].Loc || !reflect.DeepEqual(got[i].Fields, want[i].Fields) {
				t.Errorf("%d:\n got %+v\nwant %+v", i, got[i], want[i])
			}
		}
	}
}

// TestStopEarly checks that a consumer may stop after any record, with the
// parallel JSON pipeline shutting down, and that a big JSON input comes
// out complete and in order.
func TestStopEarly(t *testing.T) {
	var jsonl, array strings.Builder
	array.WriteString("[")
	const n = 5000
	for i := range n {
		fmt.Fprintf(&jsonl, "{\"i\": %d, \"t\": \"第%d条\"}\n", i, i)
		if i > 0 {
			array.WriteString(",\n")
		}
		fmt.Fprintf(&array, "{\"i\": %d}", i)
	}
	array.WriteString("]")
	for _, input := range []struct{ ext, data string }{{".jsonl", jsonl.String()}, {".json", array.String()}} {
		t.Run(input.ext, func(t *testing.T) {
			got := 0
			for raw, err := range ReadStream(strings.NewReader(input.data), "f", input.ext, &Source{}, nil) {
				if err != nil {
					t.Fatal(err)
				}
				if raw.Fields["i"] != float64(got) || raw.Loc.Row != int64(got) {
					t.Fatalf("record %d is %v at %v", got, raw.Fields, raw.Loc)
				}
				got++
			}
			if got != n {
				t.Fatalf("read %d of %d", got, n)
			}
			for _, stopAt := range []int{1, 300, 4999} {
				seen := 0
				for range ReadStream(strings.NewReader(input.data), "f", input.ext, &Source{}, nil) {
					seen++
					if seen == stopAt {
						break
					}
				}
				if seen != stopAt {
					t.Errorf("stopped at %d, wanted %d", seen, stopAt)
				}
			}
		})
	}
}
