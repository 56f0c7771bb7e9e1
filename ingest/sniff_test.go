package ingest

import (
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		ext    string
		want   Format
	}{
		{"jsonl", "{\"a\":1}\n{\"a\":2}\n", ".jsonl", FormatJSONL},
		{".json that is JSONL", "{\"a\":1}\r\n{\"a\":2}", ".json", FormatJSONL},
		{".txt that is JSONL", "{\"问\":\"a\"}\n{\"问\":\"b\"}\n", ".txt", FormatJSONL},
		{"JSONL of arrays", "[1,2]\n[3]\n", ".json", FormatJSONL},
		{"json array", "[\n  {\"a\": 1},\n  {\"a\": 2}\n]\n", ".json", FormatJSON},
		{"json array on one line", "[{\"a\": 1}, {\"a\": 2}]", ".txt", FormatJSON},
		{"pretty object", "{\n  \"k1\": {\"a\": 1}\n}\n", ".json", FormatJSON},
		{"one object, no extension", "{\"a\": 1}\n", "", FormatJSON},
		{"one object, .jsonl", "{\"a\": 1}\n", ".jsonl", FormatJSONL},
		{"long first line past the window", "{\"a\": \"" + strings.Repeat("x", 100), "", FormatJSONL},
		{"long array past the window", "[{\"a\": \"" + strings.Repeat("x", 100), ".jsonl", FormatJSONL},
		{"BOM then JSONL", "\ufeff{\"a\":1}\n{\"a\":2}\n", "", FormatJSONL},
		{".spo that is TSV", "眼睛发红\t类别\t症状\n小儿狂犬病\t类别\t疾病\n", ".spo", FormatTSV},
		{"csv by commas", "a,b,c\n1,2,3\n4,5,6\n", "", FormatCSV},
		{"csv by extension", "department,title\n\"a\nb\",c\n", ".csv", FormatCSV},
		{"text", "第一章论\n传染病是指由病原微生物，如朊粒、病毒\n", ".txt", FormatText},
		{"text with commas, .txt", "a, b\nc, d\n", ".txt", FormatText},
		{"a bracket that is text", "[注] 本章\n见下\n", ".txt", FormatText},
		{"xlsx", "PK\x03\x04\x14\x00[Content_Types].xml", ".bin", FormatXLSX},
		{"zip that is not xlsx", "PK\x03\x04\x14\x00other", ".zip", FormatText},
		{"parquet", "PAR1\x15\x00", "", FormatParquet},
		{"empty", "", ".txt", FormatText},
		{"empty csv", "", ".csv", FormatCSV},
		{"pretty array named .jsonl", "[\n  {\"a\": 1},\n  {\"a\": 2}\n]\n", ".jsonl", FormatJSON},
		{"pretty array past the window, .jsonl", "[\n  {\"a\": \"" + strings.Repeat("x", 100), ".jsonl", FormatJSON},
		{"pretty object past the window, .jsonl", "{\n  \"k1\": {\"a\": \"" + strings.Repeat("x", 100), ".jsonl", FormatJSON},
		{"broken first line of a .jsonl stays JSONL", "{\"a\": [1,\n{\"a\": 2}\n", ".jsonl", FormatJSONL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff([]byte(tt.prefix), tt.ext); got != tt.want {
				t.Errorf("Sniff(%q, %q) = %s, want %s", tt.prefix, tt.ext, got, tt.want)
			}
		})
	}
}

// TestSniffHint: a preset's usual format settles only what neither the
// content nor the extension does.
func TestSniffHint(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		ext    string
		hint   Format
		want   Format
	}{
		{"no extension, commas, text preset", "发热,头痛\n咳嗽,乏力\n", "", FormatText, FormatText},
		{"no extension, commas, no preset", "发热,头痛\n咳嗽,乏力\n", "", "", FormatCSV},
		{"quoted newlines, CSV preset", "Question,Options\n\"甲\",\"A 甲\nB 乙\"\n", ".dat", FormatCSV, FormatCSV},
		{"quoted newlines, no preset", "Question,Options\n\"甲\",\"A 甲\nB 乙\"\n", ".dat", "", FormatText},
		{"the extension beats the hint", "a,b\nc,d\n", ".txt", FormatCSV, FormatText},
		{"content beats the hint", "[\n  {\"a\": 1}\n]\n", ".spo", FormatTSV, FormatJSON},
		{"jsonl hint, JSON array content", "[\n  {\"a\": 1},\n  {\"a\": 2}\n]\n", "", FormatJSONL, FormatJSON},
		{"tabs beat a text hint", "a\tb\tc\nd\te\tf\n", ".spo", FormatText, FormatTSV},
		{"one long line, JSON preset", "{\"a\": \"" + strings.Repeat("x", 100), "", FormatJSON, FormatJSON},
		{"one JSONL record in a .txt, JSONL preset", "{\"a\": {\"b\": 1}}\n", ".txt", FormatJSONL, FormatJSONL},
		{"one JSONL record in a .txt, no preset", "{\"a\": {\"b\": 1}}\n", ".txt", "", FormatJSON},
		{"one record in a .json, JSONL preset", "{\"a\": {\"b\": 1}}\n", ".json", FormatJSONL, FormatJSONL},
		{"one record in a .json, no preset", "{\"a\": {\"b\": 1}}\n", ".json", "", FormatJSON},
		{"pretty object in a .json, JSONL preset", "{\n  \"a\": {\"b\": 1}\n}\n", ".json", FormatJSONL, FormatJSON},
		{"one long line, JSONL preset", "{\"a\": \"" + strings.Repeat("x", 100), "", FormatJSONL, FormatJSONL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sniffHinted([]byte(tt.prefix), tt.ext, tt.hint); got != tt.want {
				t.Errorf("sniffHinted(%q, %q, %q) = %s, want %s", tt.prefix, tt.ext, tt.hint, got, tt.want)
			}
		})
	}
}

func TestChooseEncoding(t *testing.T) {
	gbkText := gbk("高血压患者能吃党参吗？")
	tests := []struct {
		name     string
		encoding string
		prefix   string
		atEOF    bool
		want     string
		bom      int
	}{
		{"utf-8", "auto", "高血压", true, "utf-8", 0},
		{"utf-8 BOM", "", "\ufeff高血压", true, "utf-8", 3},
		{"utf-16le BOM", "auto", "\xff\xfea\x00", true, "utf-16le", 2},
		{"utf-16be BOM", "auto", "\xfe\xff\x00a", true, "utf-16be", 2},
		{"gbk", "auto", gbkText, true, "gb18030", 0},
		{"utf-8 cut at the window edge", "auto", "高血压"[:7], false, "utf-8", 0},
		{"utf-8 cut at the end of the file is still utf-8", "auto", "高血压"[:7], true, "utf-8", 0},
		{"utf-8 with one damaged byte stays utf-8", "auto", strings.Repeat("高血压患者能吃党参吗", 3) + "\xff" + strings.Repeat("高血压", 3), true, "utf-8", 0},
		{"long gbk text is gbk", "auto", strings.Repeat(gbkText, 20), true, "gb18030", 0},
		{"gbk cut at the window edge", "auto", gbkText[:5], false, "gb18030", 0},
		{"explicit gbk over ASCII", "GBK", "abc", true, "gb18030", 0},
		{"utf-16le without BOM", "auto", "{\x00\"\x00a\x00\"\x00:\x00 \x001\x00}\x00", true, "utf-16le", 0},
		{"utf-16be without BOM", "auto", "\x00{\x00\"\x00a\x00\"\x00:\x00 \x001\x00}", true, "utf-16be", 0},
		{"a stray NUL is not UTF-16", "auto", "abcdefgh\x00ijklmnopqrstuvwxyz", true, "utf-8", 0},
		{"explicit utf-8 keeps the BOM out", "utf-8", "\ufeffa", true, "utf-8", 3},
		{"explicit utf-16 BE", "utf-16", "\xfe\xff\x00a", true, "utf-16be", 2},
		{"explicit utf-16 without BOM", "utf-16", "a\x00", true, "utf-16le", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chooseEncoding(tt.encoding, []byte(tt.prefix), tt.atEOF)
			if err != nil {
				t.Fatal(err)
			}
			if got.name != tt.want || got.bom != tt.bom {
				t.Errorf("got %s (BOM %d), want %s (BOM %d)", got.name, got.bom, tt.want, tt.bom)
			}
		})
	}
	if _, err := chooseEncoding("latin-9", nil, true); err == nil {
		t.Error("an unknown encoding was accepted")
	}
}

// FuzzSniffHinted: any prefix, extension and preset hint gives one of the
// formats ingest reads, without a panic.
func FuzzSniffHinted(f *testing.F) {
	for _, s := range []string{"", "[", "{\n", "[\n  {\"a\": 1}\n]", "{\"a\":1}\n{\"a\":2}\n", "a\tb\n", "a,b\n1,2\n", "PK\x03\x04", "PAR1", "\ufeff{", "\xff\xfe{\x00"} {
		f.Add([]byte(s), ".json", uint8(0))
		f.Add([]byte(s), "", uint8(3))
	}
	hints := []Format{"", FormatJSONL, FormatJSON, FormatCSV, FormatTSV, FormatText, FormatXLSX, FormatParquet}
	f.Fuzz(func(t *testing.T, prefix []byte, ext string, hint uint8) {
		switch got := sniffHinted(prefix, ext, hints[int(hint)%len(hints)]); got {
		case FormatJSONL, FormatJSON, FormatCSV, FormatTSV, FormatText, FormatXLSX, FormatParquet:
		default:
			t.Fatalf("sniffHinted(%q, %q) = %q", prefix, ext, got)
		}
	})
}
