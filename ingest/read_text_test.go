package ingest

import (
	"reflect"
	"strings"
	"testing"
)

const medDialogSample = `
id=2
https://www.haodf.com/doctorteam/flow_team_6477136453_1.htm

Description
疾病： 肺炎相关
用药情况： 17：盐酸氨溴索片；
21：头孢克肟片；
过敏史： 无

Dialogue
病人：
咳嗽从2月开始到现在
有痰
医生：
查个血常规
医生：
病人：
好的

Diagnosis and suggestions
病情摘要及初步印象： 感冒
总结建议： 多喝水

Doctor faculty
德化县医院  内科  

Description
疾病： 复诊

Dialogue
病人：谢谢

id=3
no url here
`

func TestMedDialog(t *testing.T) {
	src := &Source{Text: TextOptions{Split: SplitPattern, Pattern: `^id=\d+\s*$`, Parser: "meddialog"}}
	got := collect(t, []byte(medDialogSample), ".txt", src)
	if len(got) != 2 {
		t.Fatalf("got %d records, want 2: %+v", len(got), got)
	}
	first := got[0]
	if first.Loc != (Location{File: "f.txt", Line: 2, Row: 0, Offset: 1}) {
		t.Errorf("location %v", first.Loc)
	}
	want := map[string]any{
		"id":  "2",
		"url": "https://www.haodf.com/doctorteam/flow_team_6477136453_1.htm",
		"description": map[string]any{
			"疾病":   "肺炎相关\n复诊",
			"用药情况": "17：盐酸氨溴索片；\n21：头孢克肟片；",
			"过敏史":  "无",
		},
		"dialogue":       []any{"病人：咳嗽从2月开始到现在\n有痰", "医生：查个血常规", "病人：好的", "病人：谢谢"},
		"diagnosis":      "病情摘要及初步印象： 感冒\n总结建议： 多喝水",
		"doctor_faculty": "德化县医院  内科",
	}
	for k, v := range want {
		if !reflect.DeepEqual(first.Fields[k], v) {
			t.Errorf("%s = %#v, want %#v", k, first.Fields[k], v)
		}
	}
	if !strings.HasPrefix(first.Fields["text"].(string), "id=2\nhttps://") {
		t.Errorf("text = %q", first.Fields["text"])
	}
	second := got[1]
	if second.Err != "" || second.Fields["id"] != "3" || second.Fields["url"] != nil ||
		!reflect.DeepEqual(second.Fields["dialogue"], []any{}) {
		t.Errorf("second record = %+v", second)
	}

	bad := collect(t, []byte("preamble\nid=1\n"), ".txt", src)
	if len(bad) != 2 || !strings.Contains(bad[0].Err, "does not start with an id=N line") || bad[0].Loc.Line != 1 || bad[1].Err != "" {
		t.Errorf("a record without id= gave %+v", bad)
	}
}

// TestLongLines checks a 1 MB line reads at the default cap and a line
// over a smaller cap is skipped, with the lines after it still read.
func TestLongLines(t *testing.T) {
	long := strings.Repeat("长", 400_000) // 1.2 MB
	for _, tt := range []struct {
		format Format
		line   string
	}{
		{FormatJSONL, `{"t":"` + long + `"}`},
		{FormatText, long},
		{FormatCSV, "\"" + long + "\",x"},
	} {
		t.Run(string(tt.format), func(t *testing.T) {
			input := tt.line + "\n" + tt.line + "\r\n" + tt.line
			if tt.format == FormatCSV {
				input = "a,b\n" + input
			}
			src := &Source{Format: tt.format, CSV: CSVOptions{Header: bptr(tt.format == FormatCSV)}}
			got := collect(t, []byte(input), "", src)
			if len(got) != 3 {
				t.Fatalf("got %d events", len(got))
			}
			for i, e := range got {
				if e.Err != "" || e.Loc.Row != int64(i) {
					t.Errorf("event %d: %v %s", i, e.Loc, e.Err)
				}
			}
			if tt.format == FormatCSV {
				return // a CSV row over the cap ends the file: see TestCSVRowOverCap
			}
			src.MaxRecordBytes = 1 << 20
			got = collect(t, []byte("short\n"+input+"\nshort"), "", src)
			if tt.format == FormatJSONL {
				got = collect(t, []byte("{}\n"+input+"\n{}"), "", src)
			}
			if len(got) != 5 {
				t.Fatalf("got %d events, want 5", len(got))
			}
			for i, e := range got {
				wantErr := i >= 1 && i <= 3
				if (e.Err != "") != wantErr || e.Loc.Line != int64(i+1) {
					t.Errorf("event %d: line %d, err %q", i, e.Loc.Line, e.Err)
				}
				if wantErr && !strings.Contains(e.Err, "exceeds max_record_bytes") {
					t.Errorf("event %d: %s", i, e.Err)
				}
			}
		})
	}
}

func TestCSVRowOverCap(t *testing.T) {
	input := "a,b\n1,2\n\"" + strings.Repeat("x", 200_000) + "\n3,4\n"
	got := collect(t, []byte(input), ".csv", &Source{MaxRecordBytes: 1000})
	if len(got) != 2 || got[0].Err != "" || !got[1].Fatal || !strings.Contains(got[1].Err, "exceeds max_record_bytes") || got[1].Loc.Line != 3 {
		t.Errorf("got %+v", got)
	}
}

func TestTextOptionErrors(t *testing.T) {
	for _, opts := range []TextOptions{{Split: "words"}, {Split: SplitPattern}, {Split: SplitPattern, Pattern: "("}, {Parser: "nope"}} {
		got := collect(t, []byte("a\n"), ".txt", &Source{Text: opts})
		if len(got) != 1 || !got[0].Fatal {
			t.Errorf("%+v: got %+v", opts, got)
		}
	}
}
