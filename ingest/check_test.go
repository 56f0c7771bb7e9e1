package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/chimed/chimed/internal/workspace"
)

func TestShareYAML(t *testing.T) {
	tests := []struct {
		in   string
		want Share
		err  bool
	}{
		{"5%", 0.05, false},
		{"'10 %'", 0.1, false},
		{"0.1", 0.1, false},
		{`"0.25"`, 0.25, false},
		{"0", 0, false},
		{"100%", 1, false},
		{"1", 1, false},
		{"150%", 0, true},
		{"-1%", 0, true},
		{"lots", 0, true},
		{"NaN", 0, true},
	}
	for _, tt := range tests {
		var s struct {
			M *Share `yaml:"m"`
		}
		err := yaml.Unmarshal([]byte("m: "+tt.in), &s)
		if (err != nil) != tt.err {
			t.Errorf("%s: error %v", tt.in, err)
			continue
		}
		if !tt.err && (s.M == nil || *s.M < tt.want-1e-12 || *s.M > tt.want+1e-12) {
			t.Errorf("%s: got %v, want %v", tt.in, s.M, tt.want)
		}
	}
	if got := Share(0.055).String(); got != "5.5%" {
		t.Errorf("String = %q", got)
	}
}

// writeRaw writes name → body under the workspace.
func writeRaw(t *testing.T, ws workspace.Dir, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := ws.Path(name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestQuarantineLimit: a source that quarantines more than its
// max_quarantine fails ingest with its name, its count and its first three
// errors, after the report and quarantine are written; --keep-going makes
// that a warning kept in the report.
func TestQuarantineLimit(t *testing.T) {
	good := `{"instruction":"头痛怎么办？","output":"多休息。"}` + "\n"
	bad := `{"instruction":"发烧怎么办？"}` + "\n" // no answer
	body := func(goods, bads int) string {
		return strings.Repeat(good, goods) + strings.Repeat(bad, bads)
	}
	share := func(s Share) *Share { return &s }
	tests := []struct {
		name      string
		body      string
		limit     *Share
		keepGoing bool
		fail      bool
	}{
		{"none quarantined", body(10, 0), nil, false, false},
		{"1 in 20 is the default 5%", body(19, 1), nil, false, false},
		{"1 in 19 is over 5%", body(18, 1), nil, false, true},
		{"every record quarantined", body(0, 4), nil, false, true},
		{"every record, keep going", body(0, 4), nil, true, false},
		{"a raised limit", body(8, 2), share(0.2), false, false},
		{"a zero limit fails on one", body(99, 1), share(0), false, true},
		{"100% tolerates anything", body(0, 3), share(1), false, false},
		{"an empty file quarantines nothing", "", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := workspace.Dir(t.TempDir())
			writeRaw(t, ws, map[string]string{"raw/a.jsonl": tt.body})
			src := Source{Name: "faq", Kind: "qa", Preset: "alpaca", Paths: []string{"raw/a.jsonl"}, MaxQuarantine: tt.limit}
			rep, err := Run(context.Background(), ws, []Source{src}, RunOptions{KeepGoing: tt.keepGoing})
			if (err != nil) != tt.fail {
				t.Fatalf("error %v, want failure %v", err, tt.fail)
			}
			if rep == nil {
				t.Fatal("no report returned")
			}
			if _, serr := os.Stat(ws.Report("ingest.json")); serr != nil {
				t.Errorf("reports/ingest.json not written: %v", serr)
			}
			on := rep.Sources["faq"]
			if tt.fail {
				var o *QuarantineOverrun
				if !errors.As(err, &o) || o.Source != "faq" || o.Quarantined != on.Quarantined || o.Records != on.Read {
					t.Fatalf("error %v names no overrun of faq", err)
				}
				msg := err.Error()
				for _, want := range []string{"sources[faq]", "records quarantined", "raw/a.jsonl:", "required column is empty or missing: answer", "max_quarantine"} {
					if !strings.Contains(msg, want) {
						t.Errorf("message lacks %q:\n%s", want, msg)
					}
				}
				if n := strings.Count(msg, "raw/a.jsonl:"); n != min(3, int(on.Quarantined)) {
					t.Errorf("message quotes %d errors, want the first 3 at most:\n%s", n, msg)
				}
			}
			warned := len(on.Warnings) > 0
			if warned != (tt.keepGoing && on.Quarantined > 0) {
				t.Errorf("warnings %q", on.Warnings)
			}
		})
	}
}

// TestQuarantineLimitCountsLookups: question rows no answer joins are
// lost as surely as unreadable ones, so they count against the limit.
func TestQuarantineLimitCountsLookups(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	writeRaw(t, ws, map[string]string{
		"raw/question.csv": "question_id,content\n1,胃痛怎么办\n2,没人回答\n3,也没人回答\n",
		"raw/answer.csv":   "ans_id,question_id,content\n10,1,吃药\n",
	})
	src := Source{Name: "cmedqa2", Kind: "qa", Preset: "cmedqa2", Paths: []string{"raw/*.csv"}}
	_, err := Run(context.Background(), ws, []Source{src}, RunOptions{})
	var o *QuarantineOverrun
	if !errors.As(err, &o) || o.Quarantined != 2 || o.Records != 4 || !strings.Contains(err.Error(), "no record joined this question row") {
		t.Fatalf("error %v", err)
	}
}

// TestEmptyEvalSource: an eval source that gives no row fails ingest, with
// or without --keep-going, and says what to fix.
func TestEmptyEvalSource(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"every record quarantined", `{"Question":"q"}` + "\n", "all 1 of its records were quarantined"},
		{"no record at all", "", "its files hold no record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := workspace.Dir(t.TempDir())
			writeRaw(t, ws, map[string]string{"raw/exam.jsonl": tt.body})
			all := Share(1)
			src := Source{Name: "exam", Kind: "exam", Role: RoleEval, Preset: "cmexam-csv", Paths: []string{"raw/exam.jsonl"}, MaxQuarantine: &all}
			_, err := Run(context.Background(), ws, []Source{src}, RunOptions{KeepGoing: true})
			if err == nil || !strings.Contains(err.Error(), "sources[exam]: role eval") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one naming the eval source and %q", err, tt.want)
			}
		})
	}
}

// TestMixedFiles: a glob that picks up a file of another format or
// encoding is warned of, naming the odd file.
func TestMixedFiles(t *testing.T) {
	gbkBlock := gbk("头痛怎么办,头痛三天\n注意休息。\n\n")
	tests := []struct {
		name  string
		files map[string]string
		src   Source
		want  []string // substrings, one warning each; none when empty
	}{
		{"one format", map[string]string{"raw/a.txt": "发热。\n", "raw/b.txt": "咳嗽。\n"},
			Source{Preset: "medicalgpt-pretrain"}, nil},
		{"a SOURCE.txt among GBK data", map[string]string{"raw/内科.txt": gbkBlock, "raw/外科.txt": gbkBlock, "raw/SOURCE.txt": "来源：Toyhom\n\n"},
			Source{Preset: "toyhom-txt"}, []string{"different encodings: 2 as gb18030; utf-8: raw/SOURCE.txt"}},
		{"a JSON file among CSVs", map[string]string{"raw/a.csv": "Question,A,B,Answer\nq,x,y,A\n", "raw/b.csv": "Question,A,B,Answer\nq,x,y,B\n", "raw/meta.csv": "{\"version\": 1}\n"},
			Source{Kind: "exam", Map: Mapping{Fields: map[string]string{"question": "Question", "answer": "Answer"}, Options: &OptionsMapping{Columns: []string{"A", "B"}}}},
			[]string{"different formats: 2 as csv; json: raw/meta.csv"}},
		{"an ASCII file goes with any encoding", map[string]string{"raw/内科.txt": gbkBlock, "raw/en.txt": "headache,three days\nrest.\n\n"},
			Source{Preset: "toyhom-txt"}, nil},
		{"an empty file says nothing", map[string]string{"raw/a.txt": "发热。\n", "raw/empty.jsonl": ""},
			Source{Preset: "medicalgpt-pretrain"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := workspace.Dir(t.TempDir())
			writeRaw(t, ws, tt.files)
			src := tt.src
			src.Name, src.Paths = "src", []string{"raw/*"}
			all := Share(1)
			src.MaxQuarantine = &all
			if src.Kind == "" {
				src.Kind = Presets[src.Preset].Kind
			}
			rep, err := Run(context.Background(), ws, []Source{src}, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := rep.Sources["src"].Warnings
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %q, want %q", got, tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) || !strings.HasPrefix(got[i], "sources[src]: ") {
					t.Errorf("warning %q lacks %q", got[i], w)
				}
			}
		})
	}
}

// TestQuarantineErrorsEscaped: a decoder's error quotes the byte it choked
// on as it is; quarantine rows and messages carry it escaped.
func TestQuarantineErrorsEscaped(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	writeRaw(t, ws, map[string]string{"raw/a.jsonl": "{\"instruction\":\"q\",\"output\":\"a\"}\n{\"instruction\":\x00}\n\x1b[31m\n"})
	src := Source{Name: "nul", Kind: "qa", Preset: "alpaca", Paths: []string{"raw/a.jsonl"}}
	_, err := Run(context.Background(), ws, []Source{src}, RunOptions{})
	if err == nil {
		t.Fatal("a source of broken records passed")
	}
	if strings.ContainsAny(err.Error(), "\x00\x1b") || !strings.Contains(err.Error(), `'\x00'`) {
		t.Errorf("message carries raw control characters or lost them: %q", err)
	}
	rows := quarantined(t, ws, "nul")
	if len(rows) != 2 {
		t.Fatalf("%d quarantine rows", len(rows))
	}
	for _, r := range rows {
		if strings.ContainsAny(r.Error, "\x00\x1b") || !strings.Contains(r.Error, `\x`) {
			t.Errorf("quarantine error %q", r.Error)
		}
	}
}

// FuzzShareYAML: whatever max_quarantine says, it is refused or a share
// between 0 and 1.
func FuzzShareYAML(f *testing.F) {
	for _, s := range []string{"5%", "0.1", "'10 %'", "1e-3", "-0", "Inf", "1%%", "\"\"", "0x1p-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var r Share
		if err := r.UnmarshalYAML([]byte(s)); err == nil && !(r >= 0 && r <= 1) {
			t.Fatalf("%q gave %v", s, r)
		}
	})
}
