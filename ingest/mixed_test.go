package ingest

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestMixedEncodingPerLine: with encoding: auto a line that is plainly
// UTF-8 is read as UTF-8 in a file sniffed as GB18030 and the reverse; a
// line neither decodes is quarantined naming both; an explicit encoding is
// obeyed for every line.
func TestMixedEncodingPerLine(t *testing.T) {
	utf := `{"q":"头痛怎么办？注意休息。"}` + "\n"
	gb := gbk(`{"q":"发烧怎么办？多喝水。"}`) + "\n"
	badGB := gbk(`{"q":"咳嗽`) + "\xff\xff" + gbk(`怎么办？"}`) + "\n"
	badUTF := `{"q":"腹痛` + "\xff\xfe" + `怎么办？请就医检查。"}` + "\n"
	tests := []struct {
		name     string
		encoding string
		file     string
		want     []string // q of each record read, "!" + error part for a broken one
	}{
		{"gb18030 file keeps its utf-8 lines", "auto", badGB + badGB + gb + utf + badGB + utf,
			[]string{"!utf-8 and in gb18030", "!utf-8 and in gb18030", "发烧怎么办？多喝水。", "头痛怎么办？注意休息。", "!utf-8 and in gb18030", "头痛怎么办？注意休息。"}},
		{"utf-8 file keeps its gbk lines", "", utf + utf + gb + utf,
			[]string{"头痛怎么办？注意休息。", "头痛怎么办？注意休息。", "发烧怎么办？多喝水。", "头痛怎么办？注意休息。"}},
		{"a damaged utf-8 line stays utf-8 and is quarantined", "auto", utf + badUTF + utf,
			[]string{"头痛怎么办？注意休息。", "!utf-8 and in gb18030", "头痛怎么办？注意休息。"}},
		{"an explicit encoding is not second-guessed", "utf-8", utf + gb,
			[]string{"头痛怎么办？注意休息。", "!bytes invalid in utf-8 at"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &Source{Format: FormatJSONL, Encoding: tt.encoding}
			var got []string
			for raw, err := range ReadStream(strings.NewReader(tt.file), "x.jsonl", ".jsonl", src, nil) {
				if err != nil {
					got = append(got, "!"+err.Error())
					continue
				}
				q, _ := raw.Fields["q"].(string)
				got = append(got, q)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("read %q, want %q", got, tt.want)
			}
			for i := range got {
				if w, ok := strings.CutPrefix(tt.want[i], "!"); ok {
					if !strings.HasPrefix(got[i], "!") || !strings.Contains(got[i], w) {
						t.Errorf("record %d: %q, want an error with %q", i, got[i], w)
					}
				} else if got[i] != tt.want[i] {
					t.Errorf("record %d: %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestMixedLinesLongLine: past mixedLineMax without a newline the rest of
// the file is decoded whole in the sniffed encoding, nothing dropped.
func TestMixedLinesLongLine(t *testing.T) {
	long := strings.Repeat(gbk("高血压"), mixedLineMax/4) + "\n"
	in := gbk("第一行") + "\n" + long + "头痛\n"
	out, err := io.ReadAll(newMixedLines(strings.NewReader(in), textEncoding{name: "gb18030", enc: simplifiedchinese.GB18030}))
	if err != nil {
		t.Fatal(err)
	}
	want := "第一行\n" + strings.Repeat("高血压", mixedLineMax/4) + "\n" + "头痛\n"
	if string(out) != want {
		i := 0
		for i < len(out) && i < len(want) && out[i] == want[i] {
			i++
		}
		t.Errorf("got %d bytes, want %d; first difference at %d: %q vs %q", len(out), len(want), i, out[max(0, i-6):min(len(out), i+12)], want[max(0, i-6):min(len(want), i+12)])
	}
}

// FuzzMixedLines: valid UTF-8 passes through a UTF-8 file's line decoder
// byte for byte, and any input comes out as a whole stream without error.
func FuzzMixedLines(f *testing.F) {
	f.Add([]byte("头痛\n" + "\xb7\xa2\xc9\xd5\n"))
	f.Add([]byte("a\xff\xfe\nb"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := io.ReadAll(newMixedLines(bytes.NewReader(data), textEncoding{name: "utf-8"}))
		if err != nil {
			t.Fatal(err)
		}
		if utf8.Valid(data) && !bytes.Equal(out, data) {
			t.Errorf("valid UTF-8 changed: %q → %q", data, out)
		}
		if bytes.Count(out, []byte("\n")) != bytes.Count(data, []byte("\n")) {
			t.Errorf("line count changed: %q → %q", data, out)
		}
	})
}
