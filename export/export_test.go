package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// fieldKind is what a JSON key must hold.
type fieldKind int

const (
	str              fieldKind = iota // a string
	strNonEmpty                       // a non-blank string
	roleTurns                         // a non-empty list of {role, content} strings
	shareTurns                        // a non-empty list of {from, value}, from ∈ system/human/gpt, human first after system
	shareTurnsPrompt                  // like shareTurns but ending with the human prompt (ShareGPT DPO)
	userPrompt                        // a list of {role, content} ending with a user turn (TRL conversational prompt)
	oneAssistant                      // a list of one {role: assistant, content} (TRL conversational answer)
	emptyList                         // an empty list (MedicalGPT legacy history)
)

// fileSchema is what every row of one export file must look like.
type fileSchema struct {
	required map[string]fieldKind
	optional map[string]fieldKind
}

// schemaFor names the schema of an export file by format and path;
// "trl-standard" is the trl format written with TRLStandard.
func schemaFor(t *testing.T, format, rel string) fileSchema {
	trlAny := format == "trl" || format == "trl-standard"
	switch {
	case trlAny && strings.HasPrefix(rel, "dcpt/"):
		return fileSchema{required: map[string]fieldKind{"text": str}}
	case trlAny && (strings.HasPrefix(rel, "sft/") || strings.HasPrefix(rel, "adapt/")):
		return fileSchema{required: map[string]fieldKind{"messages": roleTurns}}
	case format == "trl" && strings.HasPrefix(rel, "dpo/"):
		return fileSchema{required: map[string]fieldKind{"prompt": userPrompt, "chosen": oneAssistant, "rejected": oneAssistant}}
	case format == "trl-standard" && strings.HasPrefix(rel, "dpo/"):
		return fileSchema{required: map[string]fieldKind{"prompt": str, "chosen": str, "rejected": str}}
	case format == "llamafactory" && strings.HasPrefix(rel, "chimed_dcpt_"):
		return fileSchema{required: map[string]fieldKind{"text": strNonEmpty}}
	case format == "llamafactory" && (strings.HasPrefix(rel, "chimed_sft_") || strings.HasPrefix(rel, "chimed_adapt_")):
		return fileSchema{required: map[string]fieldKind{"conversations": shareTurns, "system": str}}
	case format == "llamafactory" && strings.HasPrefix(rel, "chimed_dpo_"):
		return fileSchema{required: map[string]fieldKind{"instruction": strNonEmpty, "chosen": strNonEmpty, "rejected": strNonEmpty}}
	case format == "medicalgpt" && strings.HasPrefix(rel, "sft/"),
		format == "medicalgpt-legacy" && strings.HasPrefix(rel, "finetune/"),
		strings.HasPrefix(format, "medicalgpt") && strings.HasPrefix(rel, "adapt/"):
		return fileSchema{required: map[string]fieldKind{"conversations": shareTurns}}
	case format == "medicalgpt" && strings.HasPrefix(rel, "reward/"):
		return fileSchema{required: map[string]fieldKind{"conversations": shareTurnsPrompt, "chosen": strNonEmpty, "rejected": strNonEmpty}}
	case format == "medicalgpt-legacy" && strings.HasPrefix(rel, "reward/"):
		return fileSchema{required: map[string]fieldKind{"system": str, "history": emptyList,
			"question": strNonEmpty, "response_chosen": strNonEmpty, "response_rejected": strNonEmpty}}
	}
	t.Fatalf("%s: no schema for %s", format, rel)
	return fileSchema{}
}

// checkValue reports what is wrong with v as a k, or "".
func checkValue(v any, k fieldKind) string {
	switch k {
	case str, strNonEmpty:
		s, ok := v.(string)
		if !ok {
			return "not a string"
		}
		if k == strNonEmpty && strings.TrimSpace(s) == "" {
			return "blank"
		}
	case emptyList:
		if list, ok := v.([]any); !ok || len(list) != 0 {
			return "not an empty list"
		}
	case userPrompt, oneAssistant:
		if msg := checkValue(v, roleTurns); msg != "" {
			return msg
		}
		list := v.([]any)
		last := list[len(list)-1].(map[string]any)["role"]
		switch {
		case k == userPrompt && last != schemas.RoleUser:
			return "prompt does not end with a user turn"
		case k == oneAssistant && (len(list) != 1 || last != schemas.RoleAssistant):
			return "not one assistant message"
		}
	case roleTurns, shareTurns, shareTurnsPrompt:
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return "not a non-empty list"
		}
		keys := [2]string{"role", "content"}
		if k != roleTurns {
			keys = [2]string{"from", "value"}
		}
		var froms []string
		for _, e := range list {
			m, ok := e.(map[string]any)
			if !ok || len(m) != 2 {
				return "element is not a two-key object"
			}
			for _, key := range keys {
				if _, ok := m[key].(string); !ok {
					return "element lacks string " + key
				}
			}
			froms = append(froms, m[keys[0]].(string))
		}
		if k == shareTurnsPrompt {
			if froms[0] == "system" {
				froms = froms[1:]
			}
			if len(froms) == 0 || len(froms)%2 != 1 || froms[len(froms)-1] != "human" {
				return "prompt does not end with a human turn"
			}
			froms = append(froms, "gpt") // the chosen/rejected answer completes it
		}
		if k != roleTurns {
			if froms[0] == "system" {
				froms = froms[1:]
			}
			if len(froms) == 0 || len(froms)%2 != 0 {
				return "odd or empty exchange"
			}
			for i, f := range froms {
				if want := []string{"human", "gpt"}[i%2]; f != want {
					return "turn " + f + " where " + want + " belongs"
				}
			}
		}
	}
	return ""
}

// checkJSONL parses every line of a JSON Lines export file against its
// schema and returns the number of rows.
func checkJSONL(t *testing.T, path string, sc fileSchema) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("%s: does not end with a newline", path)
	}
	var n int64
	sc2 := bufio.NewScanner(bytes.NewReader(b))
	sc2.Buffer(nil, 1<<24)
	for sc2.Scan() {
		n++
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(sc2.Bytes()))
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		for k, kind := range sc.required {
			v, ok := m[k]
			if !ok {
				t.Fatalf("%s:%d: no %q key in %s", path, n, k, sc2.Text())
			}
			if msg := checkValue(v, kind); msg != "" {
				t.Fatalf("%s:%d: %q %s", path, n, k, msg)
			}
		}
		for k, v := range m {
			if _, ok := sc.required[k]; ok {
				continue
			}
			kind, ok := sc.optional[k]
			if !ok {
				t.Fatalf("%s:%d: unexpected key %q", path, n, k)
			}
			if msg := checkValue(v, kind); msg != "" {
				t.Fatalf("%s:%d: %q %s", path, n, k, msg)
			}
		}
	}
	if err := sc2.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// shapeOf is the row shape of a stage named by an export path's first
// element.
func shapeOf(stage string) schemas.Shape {
	sp, _ := schemas.Spec(schemas.Stage(stage))
	return sp.Shape
}

// checkParquet reads a TRL Parquet file back and checks its columns are
// exactly the ones TRL reads, in the form the export wrote.
func checkParquet(t *testing.T, path, rel string, form TRLDPOForm) int64 {
	t.Helper()
	cols := parquetColumns(t, path)
	want := map[schemas.Shape][]string{schemas.ShapeText: {"text"}, schemas.ShapeChat: {"messages"},
		schemas.ShapePair: {"prompt", "chosen", "rejected"}}[shapeOf(strings.Split(rel, "/")[0])]
	sort.Strings(cols)
	sort.Strings(want)
	if !reflect.DeepEqual(cols, want) {
		t.Fatalf("%s: columns %v, want %v", rel, cols, want)
	}
	var n int64
	switch want[0] {
	case "text":
		for _, err := range schemas.ReadFile[TRLText](path) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
	case "messages":
		for r, err := range schemas.ReadFile[TRLChat](path) {
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Messages) == 0 {
				t.Fatalf("%s: a row without messages", rel)
			}
			n++
		}
	default:
		if form == TRLStandard {
			for _, err := range schemas.ReadFile[TRLPreference](path) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			break
		}
		for r, err := range schemas.ReadFile[TRLChatPreference](path) {
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Prompt) != 1 || r.Prompt[0].Role != schemas.RoleUser || len(r.Chosen) != 1 || r.Chosen[0].Role != schemas.RoleAssistant ||
				len(r.Rejected) != 1 || r.Rejected[0].Role != schemas.RoleAssistant {
				t.Fatalf("%s: row %d is not a conversational preference: %+v", rel, n, r)
			}
			n++
		}
	}
	return n
}

// checkCPT checks a MedicalGPT pretraining text file: one non-blank
// document a line, no line break of any kind Python's splitlines knows.
func checkCPT(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			t.Fatalf("%s:%d: blank line", path, i+1)
		}
		if strings.ContainsAny(l, "\r\v\f\x1c\x1d\x1e\u0085\u2028\u2029") {
			t.Fatalf("%s:%d: a line break inside a document: %q", path, i+1, l)
		}
	}
	return int64(len(lines))
}

// checkDatasetInfo checks LLaMA-Factory's dataset_info.json: every entry
// names an exported file whose rows hold the columns it maps.
func checkDatasetInfo(t *testing.T, out string) map[string]LFDatasetInfo {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "dataset_info.json"))
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]LFDatasetInfo
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&info); err != nil {
		t.Fatalf("dataset_info.json: %v", err)
	}
	for name, e := range info {
		if e.Formatting != "alpaca" && e.Formatting != "sharegpt" {
			t.Errorf("%s: formatting %q", name, e.Formatting)
		}
		if e.Ranking != strings.HasPrefix(name, "chimed_dpo_") {
			t.Errorf("%s: ranking %v", name, e.Ranking)
		}
		f, err := os.Open(filepath.Join(out, e.FileName))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var first map[string]any
		err = json.NewDecoder(f).Decode(&first)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", e.FileName, err)
		}
		for role, col := range e.Columns {
			if _, ok := first[col]; !ok {
				t.Errorf("%s: column %s→%q not in the file's rows", name, role, col)
			}
		}
		if e.Formatting == "sharegpt" && (e.Tags["role_tag"] != "from" || e.Tags["user_tag"] != "human" || e.Tags["assistant_tag"] != "gpt") {
			t.Errorf("%s: tags %v", name, e.Tags)
		}
	}
	return info
}

// checkExport parses back every file an export wrote against its format's
// schema and checks rows and sizes agree with the report.
func checkExport(t *testing.T, ws workspace.Dir, rep *Report) []FileReport {
	t.Helper()
	out := ws.Export(rep.Format)
	format := rep.Format
	if format == "trl" && rep.Form == string(TRLStandard) {
		format = "trl-standard"
	}
	for _, f := range rep.Files {
		path := filepath.Join(out, filepath.FromSlash(f.Path))
		var parsed int64
		switch {
		case rep.Format == "hf" && strings.HasSuffix(f.Path, ".arrow"):
			_, rows, _ := arrowRows(t, path)
			parsed = int64(len(rows))
		case rep.Format == "hf": // dataset_dict.json, dataset_info.json, state.json, README.md: hf_test.go
		case f.Path == "dataset_info.json":
			checkDatasetInfo(t, out)
		case strings.HasSuffix(f.Path, ".parquet"):
			parsed = checkParquet(t, path, f.Path, TRLDPOForm(rep.Form))
		case strings.HasSuffix(f.Path, ".txt"):
			parsed = checkCPT(t, path)
		default:
			parsed = checkJSONL(t, path, schemaFor(t, format, f.Path))
		}
		if parsed != f.Rows {
			t.Errorf("%s: parsed %d rows, report says %d", f.Path, parsed, f.Rows)
		}
		st, err := os.Stat(path)
		if err != nil || st.Size() != f.Bytes {
			t.Errorf("%s: size %v, report says %d (%v)", f.Path, st, f.Bytes, err)
		}
	}
	return rep.Files
}

// EnvExportWS names a workspace with built stages (e.g. the demo after
// `chimed build-stages`) whose stage files TestExportWorkspace exports into
// a temporary copy and validates.
const EnvExportWS = "CHIMED_EXPORT_WS"

func TestExportWorkspace(t *testing.T) {
	src := os.Getenv(EnvExportWS)
	if src == "" {
		t.Skipf("%s is not set: point it at a workspace after `chimed build-stages` to validate its exports", EnvExportWS)
	}
	ws := workspace.Dir(t.TempDir())
	for _, st := range schemas.Stages {
		for _, split := range schemas.Splits {
			b, err := os.ReadFile(workspace.Dir(src).StageFile(st, split))
			if err != nil {
				t.Logf("skip %v", err)
				continue
			}
			p := ws.StageFile(st, split)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, format := range Names() {
		rep, err := Run(ws, format, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var rows, skipped int64
		for _, f := range checkExport(t, ws, rep) {
			rows += f.Rows
			for _, n := range f.Skipped {
				skipped += n
			}
		}
		var loaded map[string]int // what the target's loader reads (loaders_test.go)
		switch format {
		case "medicalgpt":
			loaded = checkMedicalGPT(t, ws.Export(format))
		case "medicalgpt-legacy":
			loaded = checkMedicalGPTLegacy(t, ws.Export(format))
		case "trl":
			loaded = checkTRL(t, ws.Export(format), TRLDPOForm(rep.Form))
		case "llamafactory":
			loaded = checkLLaMAFactory(t, ws.Export(format))
		}
		t.Logf("%s: %d files, %d rows, %d skipped, notes %q, loader reads %v", format, len(rep.Files), rows, skipped, rep.Notes, loaded)
	}
}

func TestExportFormats(t *testing.T) {
	// want rows and skipped rows per exported file.
	type want struct {
		rows    int64
		skipped int64
	}
	trlFiles := map[string]want{
		"dcpt/train.parquet": {6, 0}, "dcpt/train.jsonl": {6, 0}, "dcpt/valid.parquet": {3, 0}, "dcpt/valid.jsonl": {3, 0},
		"dcpt/test.parquet": {1, 0}, "dcpt/test.jsonl": {1, 0},
		"sft/train.parquet": {8, 0}, "sft/train.jsonl": {8, 0}, "sft/valid.parquet": {3, 0}, "sft/valid.jsonl": {3, 0},
		"sft/test.parquet": {1, 0}, "sft/test.jsonl": {1, 0},
		"dpo/train.parquet": {6, 0}, "dpo/train.jsonl": {6, 0}, "dpo/valid.parquet": {3, 0}, "dpo/valid.jsonl": {3, 0},
		"dpo/test.parquet": {1, 0}, "dpo/test.jsonl": {1, 0},
		"adapt/train.parquet": {5, 0}, "adapt/train.jsonl": {5, 0}, "adapt/valid.parquet": {3, 0}, "adapt/valid.jsonl": {3, 0},
		"adapt/test.parquet": {1, 0}, "adapt/test.jsonl": {1, 0},
	}
	tests := []struct {
		format string
		opts   Options
		files  map[string]want
	}{
		{"trl", Options{}, trlFiles},
		{"trl", Options{TRLDPO: TRLStandard}, trlFiles},
		{"trl", Options{TRLDPO: TRLConversational}, trlFiles},
		{"llamafactory", Options{}, map[string]want{
			"chimed_dcpt_train.jsonl": {5, 1}, "chimed_dcpt_valid.jsonl": {3, 0}, "chimed_dcpt_test.jsonl": {1, 0},
			"chimed_sft_train.jsonl": {6, 2}, "chimed_sft_valid.jsonl": {3, 0}, "chimed_sft_test.jsonl": {1, 0},
			"chimed_dpo_train.jsonl": {5, 1}, "chimed_dpo_valid.jsonl": {3, 0}, "chimed_dpo_test.jsonl": {1, 0},
			"chimed_adapt_train.jsonl": {5, 0}, "chimed_adapt_valid.jsonl": {3, 0}, "chimed_adapt_test.jsonl": {1, 0},
			"dataset_info.json": {0, 0},
		}},
		{"medicalgpt", Options{}, map[string]want{
			"pretrain/train/cpt.txt": {5, 1}, "pretrain/valid/cpt.txt": {3, 0}, "pretrain/test/cpt.txt": {1, 0},
			"sft/train/sft.jsonl": {6, 2}, "sft/valid/sft.jsonl": {3, 0}, "sft/test/sft.jsonl": {1, 0},
			"reward/train/dpo.jsonl": {5, 1}, "reward/valid/dpo.jsonl": {3, 0}, "reward/test/dpo.jsonl": {1, 0},
			"adapt/train/sft.jsonl": {5, 0}, "adapt/valid/sft.jsonl": {3, 0}, "adapt/test/sft.jsonl": {1, 0},
		}},
		{"hf", Options{}, map[string]want{
			"README.md":                            {0, 0},
			"dcpt/dataset_dict.json":               {0, 0},
			"dcpt/train/data-00000-of-00001.arrow": {6, 0}, "dcpt/train/dataset_info.json": {0, 0}, "dcpt/train/state.json": {0, 0},
			"dcpt/valid/data-00000-of-00001.arrow": {3, 0}, "dcpt/valid/dataset_info.json": {0, 0}, "dcpt/valid/state.json": {0, 0},
			"dcpt/test/data-00000-of-00001.arrow": {1, 0}, "dcpt/test/dataset_info.json": {0, 0}, "dcpt/test/state.json": {0, 0},
			"sft/dataset_dict.json":               {0, 0},
			"sft/train/data-00000-of-00001.arrow": {8, 0}, "sft/train/dataset_info.json": {0, 0}, "sft/train/state.json": {0, 0},
			"sft/valid/data-00000-of-00001.arrow": {3, 0}, "sft/valid/dataset_info.json": {0, 0}, "sft/valid/state.json": {0, 0},
			"sft/test/data-00000-of-00001.arrow": {1, 0}, "sft/test/dataset_info.json": {0, 0}, "sft/test/state.json": {0, 0},
			"dpo/dataset_dict.json":               {0, 0},
			"dpo/train/data-00000-of-00001.arrow": {6, 0}, "dpo/train/dataset_info.json": {0, 0}, "dpo/train/state.json": {0, 0},
			"dpo/valid/data-00000-of-00001.arrow": {3, 0}, "dpo/valid/dataset_info.json": {0, 0}, "dpo/valid/state.json": {0, 0},
			"dpo/test/data-00000-of-00001.arrow": {1, 0}, "dpo/test/dataset_info.json": {0, 0}, "dpo/test/state.json": {0, 0},
			"adapt/dataset_dict.json":               {0, 0},
			"adapt/train/data-00000-of-00001.arrow": {5, 0}, "adapt/train/dataset_info.json": {0, 0}, "adapt/train/state.json": {0, 0},
			"adapt/valid/data-00000-of-00001.arrow": {3, 0}, "adapt/valid/dataset_info.json": {0, 0}, "adapt/valid/state.json": {0, 0},
			"adapt/test/data-00000-of-00001.arrow": {1, 0}, "adapt/test/dataset_info.json": {0, 0}, "adapt/test/state.json": {0, 0},
		}},
		{"medicalgpt-legacy", Options{}, map[string]want{
			"pretrain/train/cpt.txt": {5, 1}, "pretrain/valid/cpt.txt": {3, 0}, "pretrain/test/cpt.txt": {1, 0},
			"finetune/train/sft.jsonl": {6, 2}, "finetune/valid/sft.jsonl": {3, 0}, "finetune/test/sft.jsonl": {1, 0},
			"reward/train/dpo.jsonl": {5, 1}, "reward/valid/dpo.jsonl": {3, 0}, "reward/test/dpo.jsonl": {1, 0},
			"adapt/train/sft.jsonl": {5, 0}, "adapt/valid/sft.jsonl": {3, 0}, "adapt/test/sft.jsonl": {1, 0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.format+"/"+string(tc.opts.TRLDPO), func(t *testing.T) {
			ws := workspace.Dir(t.TempDir())
			newFixture().write(t, ws)
			rep, err := Run(ws, tc.format, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			out := ws.Export(tc.format)
			got := map[string]want{}
			for _, f := range checkExport(t, ws, rep) {
				var skipped int64
				for _, n := range f.Skipped {
					skipped += n
				}
				got[f.Path] = want{f.Rows, skipped}
			}
			if !reflect.DeepEqual(got, tc.files) {
				t.Errorf("files:\n got %v\nwant %v", got, tc.files)
			}
			// Every file on disk is in the report, and the report is on disk.
			var onDisk []string
			filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(out, p)
					onDisk = append(onDisk, filepath.ToSlash(rel))
				}
				return err
			})
			if len(onDisk) != len(tc.files) {
				t.Errorf("on disk %v", onDisk)
			}
			if _, err := os.Stat(ws.Report("export-" + tc.format + ".json")); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestExportContent pins the conversions the trainers depend on.
func TestExportContent(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	newFixture().write(t, ws)
	for _, f := range Names() {
		if _, err := Run(ws, f, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(string(ws), "export", rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cpt := read("medicalgpt/pretrain/test/cpt.txt")
	if want := "糖尿病是一组以高血糖为特征的代谢性疾病。 第0段：  胰岛素分泌缺陷。 结束 行\n"; cpt != want {
		t.Errorf("cpt.txt = %q, want %q", cpt, want)
	}
	for _, rel := range []string{"medicalgpt/sft/train/sft.jsonl", "medicalgpt-legacy/finetune/train/sft.jsonl"} {
		sft := read(rel)
		if !strings.Contains(sft, `{"conversations":[{"from":"system","value":"你是一名医生。"},{"from":"human","value":"头痛怎么办？"},{"from":"gpt","value":"多休息。"},{"from":"human","value":"还要吃药吗？"},{"from":"gpt","value":"必要时服用止痛药。"}]}`) {
			t.Errorf("%s lacks the system chat:\n%s", rel, sft)
		}
	}
	if legacy := read("medicalgpt-legacy/pretrain/test/cpt.txt"); legacy != cpt {
		t.Errorf("legacy cpt.txt = %q, want %q", legacy, cpt)
	}
	lf := read("llamafactory/chimed_sft_train.jsonl")
	if !strings.Contains(lf, `{"conversations":[{"from":"human","value":"头痛怎么办？"},{"from":"gpt","value":"多休息。"},{"from":"human","value":"还要吃药吗？"},{"from":"gpt","value":"必要时服用止痛药。"}],"system":"你是一名医生。"}`) {
		t.Errorf("llamafactory sft lacks the system chat:\n%s", lf)
	}
	dpo := read("medicalgpt/reward/test/dpo.jsonl")
	if want := `{"conversations":[{"from":"human","value":"高血压的诊断标准是什么？"}],"chosen":"收缩压≥140mmHg和/或舒张压≥90mmHg。","rejected":"血压高于120/80即可诊断。"}` + "\n"; dpo != want {
		t.Errorf("medicalgpt reward dpo.jsonl = %q", dpo)
	}
	legacy := read("medicalgpt-legacy/reward/test/dpo.jsonl")
	if want := `{"system":"","history":[],"question":"高血压的诊断标准是什么？","response_chosen":"收缩压≥140mmHg和/或舒张压≥90mmHg。","response_rejected":"血压高于120/80即可诊断。"}` + "\n"; legacy != want {
		t.Errorf("medicalgpt-legacy reward dpo.jsonl = %q", legacy)
	}
	trlDPO := read("trl/dpo/test.jsonl")
	if want := `{"prompt":[{"role":"user","content":"高血压的诊断标准是什么？"}],"chosen":[{"role":"assistant","content":"收缩压≥140mmHg和/或舒张压≥90mmHg。"}],"rejected":[{"role":"assistant","content":"血压高于120/80即可诊断。"}]}` + "\n"; trlDPO != want {
		t.Errorf("trl dpo/test.jsonl = %q", trlDPO)
	}
	if _, err := Run(ws, "trl", Options{TRLDPO: TRLStandard}); err != nil {
		t.Fatal(err)
	}
	trlDPO = read("trl/dpo/test.jsonl")
	if want := `{"prompt":"高血压的诊断标准是什么？","chosen":"收缩压≥140mmHg和/或舒张压≥90mmHg。","rejected":"血压高于120/80即可诊断。"}` + "\n"; trlDPO != want {
		t.Errorf("trl standard dpo/test.jsonl = %q", trlDPO)
	}
	info := read("llamafactory/dataset_info.json")
	if !strings.Contains(info, `"ranking": true`) || !strings.Contains(info, `"file_name": "chimed_dpo_train.jsonl"`) {
		t.Errorf("dataset_info.json:\n%s", info)
	}
}

// TestExportDeterministic: two exports of the same stage files give the
// same bytes (same sha256 for every file).
func TestExportDeterministic(t *testing.T) {
	for _, format := range Names() {
		var sums [2]map[string]string
		for i := range sums {
			ws := workspace.Dir(t.TempDir())
			newFixture().write(t, ws)
			rep, err := Run(ws, format, Options{})
			if err != nil {
				t.Fatal(err)
			}
			sums[i] = map[string]string{}
			for _, f := range rep.Files {
				sums[i][f.Path] = f.SHA256
			}
		}
		if !reflect.DeepEqual(sums[0], sums[1]) {
			t.Errorf("%s: two runs differ:\n%v\n%v", format, sums[0], sums[1])
		}
	}
}

// TestExportMissingAndStale: missing stages become notes, no stages at all
// is an error, and a split that disappears is removed from the export with
// its folder, as is a file of an earlier layout.
func TestExportMissingAndStale(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	if _, err := Run(ws, "trl", Options{}); err == nil || !strings.Contains(err.Error(), "build-stages") {
		t.Fatalf("no stages: err = %v", err)
	}
	if _, err := Run(ws, "axolotl", Options{}); err == nil || !strings.Contains(err.Error(), "unknown export format") {
		t.Fatalf("bad format: err = %v", err)
	}
	newFixture().write(t, ws)
	if _, err := Run(ws, "trl", Options{TRLDPO: "chatml"}); err == nil || !strings.Contains(err.Error(), `unknown TRL DPO form "chatml"`) {
		t.Fatalf("bad TRL form: err = %v", err)
	}
	if _, err := Run(ws, "medicalgpt", Options{}); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(string(ws), "export", "medicalgpt", "finetune", "train", "sft.jsonl")
	if err := os.MkdirAll(filepath.Dir(old), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(ws.StageFile(schemas.StageDPO, "test")); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(ws, "medicalgpt", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, stale := range []string{"reward/test", "finetune"} {
		if _, err := os.Stat(filepath.Join(string(ws), "export", "medicalgpt", stale)); !os.IsNotExist(err) {
			t.Errorf("stale %s still there: %v", stale, err)
		}
	}
	if _, err := os.Stat(filepath.Join(string(ws), "export", "medicalgpt", "reward", "train", "dpo.jsonl")); err != nil {
		t.Errorf("reward/train/dpo.jsonl: %v", err)
	}
	if !reflect.DeepEqual(rep.Notes, []string{"stages/dpo/test.parquet is missing"}) {
		t.Errorf("notes = %q", rep.Notes)
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"一行", "一行"},
		{"  前后空格  ", "前后空格"},
		{"甲\n乙", "甲 乙"},
		{"甲 \r\n\r\n  乙", "甲 乙"},
		{"甲\u2028乙\u2029丙\v丁\f戊\x1c己\u0085庚", "甲 乙 丙 丁 戊 己 庚"},
		{"a  b\tc", "a  b\tc"},
		{"\n\n", ""},
		{"甲\u3000\n\u3000乙", "甲 乙"},
	}
	for _, tc := range tests {
		if got := oneLine(tc.in); got != tc.want {
			t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzOneLine(f *testing.F) {
	for _, s := range []string{"甲\n乙", "a\r\n\u2028 b", " \x85 ", "\xff\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := oneLine(s)
		if strings.ContainsAny(got, "\n\r\v\f\x1c\x1d\x1e\u0085\u2028\u2029") {
			t.Fatalf("oneLine(%q) = %q keeps a line break", s, got)
		}
		if again := oneLine(got); again != got {
			t.Fatalf("not idempotent: %q → %q → %q", s, got, again)
		}
	})
}

func TestShareGPT(t *testing.T) {
	sys := schemas.Turn{Role: schemas.RoleSystem, Content: "S"}
	tests := []struct {
		name   string
		msgs   []schemas.Turn
		system string
		n      int
		skip   string
	}{
		{"pair", []schemas.Turn{u("q"), as("a")}, "", 2, ""},
		{"system", []schemas.Turn{sys, u("q"), as("a")}, "S", 2, ""},
		{"empty", nil, "", 0, skipNoExchange},
		{"only user", []schemas.Turn{u("q")}, "", 0, skipNoExchange},
		{"assistant first", []schemas.Turn{as("a"), u("q")}, "", 0, skipNotAlternate},
		{"ends with user", []schemas.Turn{u("q"), as("a"), u("q")}, "", 0, skipOddTurns},
		{"system inside", []schemas.Turn{u("q"), sys, as("a")}, "", 0, skipNotAlternate},
		{"unknown role", []schemas.Turn{u("q"), {Role: "doctor", Content: "a"}}, "", 0, skipBadRole},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			system, turns, skip := shareGPT(tc.msgs)
			if system != tc.system || len(turns) != tc.n || skip != tc.skip {
				t.Errorf("got (%q, %d turns, %q), want (%q, %d, %q)", system, len(turns), skip, tc.system, tc.n, tc.skip)
			}
		})
	}
}

// TestExportUnknownShapeFails: a stage whose rows a format has no layout
// for fails the export, naming the stage, in every format.
func TestExportUnknownShapeFails(t *testing.T) {
	remove, err := schemas.AddStage(schemas.StageSpec{Name: "tree", Parent: schemas.StageSFT, Shape: "tree", Objective: schemas.ObjectiveLM})
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	ws := workspace.Dir(t.TempDir())
	newFixture().write(t, ws)
	if _, err := schemas.WriteFile(ws.StageFile("tree", "train"), slices.Values(newFixture().sft["train"])); err != nil {
		t.Fatal(err)
	}
	for _, f := range Names() {
		if _, err := Run(ws, f, Options{}); err == nil || !strings.Contains(err.Error(), "stage tree") {
			t.Errorf("%s: err = %v, want one naming stage tree", f, err)
		}
	}
}
