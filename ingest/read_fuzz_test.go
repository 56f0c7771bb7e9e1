package ingest

import (
	"bytes"
	"errors"
	"testing"
)

// checkStream reads data and fails on anything a reader must never do:
// panic (the fuzzer catches that), yield an error that is not an *Error
// naming the file, go on after a fatal error, or number rows out of order.
func checkStream(t *testing.T, data []byte, ext string, src *Source) {
	const rel = "fuzz/input"
	fatal := false
	next := int64(0)
	for raw, err := range ReadStream(bytes.NewReader(data), rel, ext, src, nil) {
		if fatal {
			t.Fatalf("a yield after a fatal error: %v %v", raw.Loc, err)
		}
		loc := raw.Loc
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			fatal = e.Fatal
			loc = e.Location
		}
		if loc.File != rel {
			t.Fatalf("location %v does not name the file", loc)
		}
		if loc.Offset < -1 || loc.Line < 0 || loc.Offset > int64(4*len(data)+8) {
			t.Fatalf("location %v is outside the input of %d bytes", loc, len(data))
		}
		if err == nil || !fatal {
			if loc.Row != next {
				t.Fatalf("record at %v, want row %d", loc, next)
			}
			next++
		}
	}
}

func addSeeds(f *testing.F, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(1))
	}
}

// fuzzCap gives a small record cap for some inputs, so over-cap paths run.
func fuzzCap(knob uint8) ByteSize {
	if knob%2 == 1 {
		return ByteSize(8 + int(knob)/2)
	}
	return 0
}

func FuzzReadJSONL(f *testing.F) {
	addSeeds(f, "{\"q\":\"一\"}\r\n\r\n{\"q\":\r\n[1,2]\n{\"q\":\"二\"}", "{\"q\":\"\xff\"}\n", "\ufeff{}\n", "null\n\"s\"\n")
	f.Fuzz(func(t *testing.T, data []byte, knob uint8) {
		checkStream(t, data, ".jsonl", &Source{Format: FormatJSONL, MaxRecordBytes: fuzzCap(knob)})
	})
}

func FuzzReadJSON(f *testing.F) {
	addSeeds(f, "[\n {\"a\": 1},\n {\"a\": tru},\n {\"a\": [\"]\"]}\n]\n", "{\"k1\": {\"a\": 1}, \"k2\": 3}",
		"{\"a\": \"b\"}", "[1, \"x\", null]", "[{\"a\":1} {}]", "{\"data\": {\"items\": [{}]}}", "[\"\\\"]\"]", "[", "{\"a\"")
	f.Fuzz(func(t *testing.T, data []byte, knob uint8) {
		src := &Source{Format: FormatJSON, MaxRecordBytes: fuzzCap(knob)}
		if knob%4 >= 2 {
			src.JSON.Records = "data.items"
		}
		checkStream(t, data, ".json", src)
	})
}

func FuzzReadCSV(f *testing.F) {
	addSeeds(f, "\ufeffQuestion,Answer\r\n\"一\n二\",A\r\n他说\"好\",B\r\nx,y,z\r\n末,C", "a,b\n\"x\n", ",Question\n0,q\n",
		gbk("科室,标题\n内科,高血压\n")+"\x81\x20,x\n", "a\tb\n1\t2\n")
	f.Fuzz(func(t *testing.T, data []byte, knob uint8) {
		src := &Source{Format: FormatCSV, MaxRecordBytes: fuzzCap(knob)}
		if knob%4 >= 2 {
			src.Format = FormatTSV
			src.CSV.Header = bptr(false)
		}
		if knob%8 >= 4 {
			src.CSV.LazyQuotes = bptr(false)
		}
		checkStream(t, data, ".csv", src)
	})
}

func FuzzReadText(f *testing.F) {
	addSeeds(f, "第一章\r\n\r\n传染病是\n指", "\n标题,问\n答\n\n\n标题二\n答二\n", "id=1\na\nid=2", "\xff\xfea\x00\n\x00")
	f.Fuzz(func(t *testing.T, data []byte, knob uint8) {
		src := &Source{Format: FormatText, MaxRecordBytes: fuzzCap(knob)}
		switch knob % 6 / 2 {
		case 1:
			src.Text.Split = SplitBlank
		case 2:
			src.Text.Split, src.Text.Pattern = SplitPattern, `^id=\d+`
		}
		checkStream(t, data, ".txt", src)
	})
}

func FuzzMedDialog(f *testing.F) {
	addSeeds(f, medDialogSample, "id=1\nDialogue\n病人：\n医生：\n", "id=\n", "x\nid=1\nDescription\n：\n：x\n")
	f.Fuzz(func(t *testing.T, data []byte, knob uint8) {
		src := &Source{Format: FormatText, MaxRecordBytes: fuzzCap(knob),
			Text: TextOptions{Split: SplitPattern, Pattern: `^id=\d+\s*$`, Parser: "meddialog"}}
		checkStream(t, data, ".txt", src)
		fields := map[string]any{}
		if err := parseMedDialog(string(data), fields); err == nil {
			if _, ok := fields["dialogue"].([]any); !ok {
				t.Fatalf("no dialogue list in %v", fields)
			}
		}
	})
}

func FuzzSniff(f *testing.F) {
	addSeeds(f, "{\"a\":1}\n{\"a\":2}\n", "[{\"a\": 1}]", "a\tb\n", "a,b\n1,2\n", "PK\x03\x04[Content_Types].xml", "PAR1",
		"\x1f\x8b\x08\x00", "\ufeff[", "\xfe\xff\x00[", gbk("高血压,党参\n"))
	exts := []string{"", ".json", ".jsonl", ".csv", ".txt", ".spo", ".xlsx", ".parquet"}
	f.Fuzz(func(t *testing.T, data []byte, knob uint8) {
		ext := exts[int(knob)%len(exts)]
		Sniff(data, ext)
		checkStream(t, data, ext, &Source{MaxRecordBytes: fuzzCap(knob)})
	})
}
