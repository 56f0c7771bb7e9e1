package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir is ../shared/corpus from the repository root.
func corpusDir(t testing.TB) string {
	dir := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("the shared corpus is not at %s (%v): skipping the real-data reader tests", dir, err)
	}
	return dir
}

// TestReadCorpus reads every real public sample with format and encoding
// sniffed (only the text splits and headerless TSV are configured, as a
// preset would) and checks the record counts each SOURCE.txt gives, with no
// record broken.
func TestReadCorpus(t *testing.T) {
	dir := corpusDir(t)
	noHeader := CSVOptions{Header: bptr(false)}
	tests := []struct {
		file   string
		src    Source
		format Format // what sniffing must find
		count  int
		check  func(t *testing.T, first Raw)
	}{
		{file: "qa/huatuo26M-test_via-Zhongjing/huatuo26M_test.json", format: FormatJSON, count: 4998},
		{file: "qa/Huatuo-Llama-Med-Chinese/llama_data.json", format: FormatJSONL, count: 8658},
		{file: "qa/MedicalGPT-sft/medical_sft_1K_format.jsonl", format: FormatJSONL, count: 1000},
		{file: "qa/MedicalGPT-sft/medical_corpus.txt", format: FormatJSONL, count: 87,
			check: wantField("问", "肛门病变可能是什么疾病的症状?")},
		// 996 lines of which 11 are blank: blank lines are not records.
		{file: "text/MedicalGPT-pretrain/fever.txt", format: FormatText, count: 985, check: wantField("text", "第一章论")},
		{file: "kg/QASystemOnMedicalKG-medicaljson_via-HugoWang232608/medical1.json", format: FormatJSONL, count: 308},
		{file: "kg/CMeIE_via-GPLinker_torch/CMeIE_train.json", format: FormatJSONL, count: 500},
		{file: "kg/CMeIE_via-GPLinker_torch/CMeIE_dev.json", format: FormatJSONL, count: 108},
		{file: "kg/CMeIE_via-GPLinker_torch/53_schemas.json", format: FormatJSONL, count: 53},
		{file: "kg/K-BERT-Medical-spo/Medical.spo", src: Source{CSV: noHeader}, format: FormatTSV, count: 13864,
			check: wantField("_0", "眼睛发红")},
		{file: "dialogue/Toyhom-Chinese-medical-dialogue-data/样例_内科5000-6000.csv", format: FormatCSV, count: 6569,
			check: wantField("title", "高血压患者能吃党参吗？")},
		{file: "dialogue/Toyhom-Chinese-medical-dialogue-data/内科.txt", src: Source{Text: TextOptions{Split: SplitBlank}},
			format: FormatText, count: 4048, check: wantField("body", "高血压病人可以口服党参的。")},
		{file: "dialogue/COVID-Dialogue-MedDialog-CN/COVID-Dialogue-Dataset-Chinese.txt",
			src:    Source{Text: TextOptions{Split: SplitPattern, Pattern: `^id=\d+\s*$`, Parser: "meddialog"}},
			format: FormatText, count: 1393, check: func(t *testing.T, first Raw) {
				d, _ := first.Fields["dialogue"].([]any)
				if first.Fields["id"] != "1" || len(d) != 13 || d[0] != "医生：呛咳病程多久了？" {
					t.Errorf("first consultation: id %v, %d utterances: %v", first.Fields["id"], len(d), d)
				}
			}},
		{file: "dialogue/COVID-Dialogue-MedDialog-CN/test_data.json", format: FormatJSON, count: 109},
		{file: "dialogue/DISC-MedLLM-test-examples/test_examples.jsonl", format: FormatJSONL, count: 163},
		{file: "dpo/MedicalGPT-reward-medical/test.json", format: FormatJSONL, count: 100},
		{file: "dpo/MedicalGPT-dpo_zh_500/dpo_zh_500.jsonl", format: FormatJSONL, count: 500},
		{file: "exam/CMExam-test10_via-Qilin-Med/test_10.csv", format: FormatCSV, count: 9,
			check: wantField("Question", "对医疗废物的收集，运转，贮存，处置中的疾病防治工作进行定期检测监督检査的部门是")},
		{file: "exam/CMExam-test10_via-Qilin-Med/test_10.xlsx", format: FormatXLSX, count: 9,
			check: wantField("Answer", "C")},
		{file: "exam/CMExam-val-xlsx_via-kyre-99/val.xlsx", format: FormatXLSX, count: 6811,
			check: wantField("Options", `A 原发病\nB 出血部位\nC 出血量\nD 在胃内停留时间\nE 以上均非`)},
	}
	cmmlu := map[string]int{"anatomy": 148, "clinical_knowledge": 237, "college_medicine": 273, "college_medical_statistics": 106,
		"genetics": 176, "nutrition": 145, "professional_medicine": 376, "traditional_chinese_medicine": 185, "virology": 169}
	for subject, n := range cmmlu {
		tests = append(tests,
			struct {
				file   string
				src    Source
				format Format
				count  int
				check  func(t *testing.T, first Raw)
			}{file: "exam/CMMLU-medical/test/" + subject + ".csv", format: FormatCSV, count: n, check: wantField("_0", "0")},
			struct {
				file   string
				src    Source
				format Format
				count  int
				check  func(t *testing.T, first Raw)
			}{file: "exam/CMMLU-medical/dev/" + subject + ".csv", format: FormatCSV, count: 5})
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			if f := sniffFile(t, path); f != tt.format {
				t.Errorf("sniffed %s, want %s", f, tt.format)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			var counted int64
			var first Raw
			for raw, err := range ReadFile(path, tt.file, &tt.src, func(b int64) { counted += b }) {
				if err != nil {
					t.Fatalf("record %d: %v", n, err)
				}
				if raw.Loc.Row != int64(n) || raw.Loc.File != tt.file {
					t.Fatalf("record %d at %v", n, raw.Loc)
				}
				if n == 0 {
					first = raw
				}
				n++
			}
			if n != tt.count {
				t.Errorf("read %d records, SOURCE.txt says %d", n, tt.count)
			}
			if counted != st.Size() {
				t.Errorf("onBytes counted %d bytes of %d", counted, st.Size())
			}
			if tt.check != nil && n > 0 {
				tt.check(t, first)
			}
		})
	}
}

func wantField(name, prefix string) func(t *testing.T, first Raw) {
	return func(t *testing.T, first Raw) {
		t.Helper()
		s, _ := first.Fields[name].(string)
		if !strings.HasPrefix(s, prefix) {
			t.Errorf("first record's %s = %q, want it to start %q (fields %v)", name, Truncate(s, 200), prefix, keys(first.Fields))
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sniffFile(t *testing.T, path string) Format {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Sniff(b[:min(len(b), sniffWindow)], filepath.Ext(path))
}
