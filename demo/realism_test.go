package demo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realismWS, when set, measures an existing workspace (e.g. one written by
// `chimed demo --scale 250MB`) instead of generating a small scaled one:
//
//	go test ./demo -run TestScaledRealism -realism-ws DIR -v
var realismWS = flag.String("realism-ws", "", "measure this demo workspace's raw files instead of a generated --scale one")

// sharedCorpus is where the real public samples sit, next to the repository.
const sharedCorpus = "../../shared/corpus"

// realGzip is size / gzip size of each kind's real public samples in
// ../shared/corpus, all files of the kind together (xlsx, already
// compressed, left out), measured with
//
//	for f in $(find KIND -type f ! -name SOURCE.txt ! -name '*.xlsx'); do
//	  s=$((s+$(stat -c %s $f))); g=$((g+$(gzip -c $f | wc -c))); done; echo "$s/$g" | bc -l
//
// text 351655/135559 bytes = 2.59, qa 6745696/2281972 = 2.96, dialogue
// 7906598/2803921 = 2.82, preference (dpo/) 1411642/537671 = 2.63. Exam is
// the one real file the demo's exam text is shaped after, CMMLU's
// clinical_knowledge test (77125/28257 = 2.73): the kind's other files are
// other subjects and mostly tiny (0.3–7.7 KB), where gzip has no history
// yet, which puts the whole kind at 2.39. The scaled demo's files of a
// kind must compress within 20% of these.
var realGzip = map[string]float64{"text": 2.594, "qa": 2.956, "dialogue": 2.819, "preference": 2.625, "exam": 2.729}

// realFiles are where realGzip was measured, under ../shared/corpus.
var realFiles = map[string]string{"text": "text", "qa": "qa", "dialogue": "dialogue", "preference": "dpo",
	"exam": "exam/CMMLU-medical/test/clinical_knowledge.csv"}

// roleSpec says how to take questions, answers and text out of the lines
// of one scaled demo file, for the distinct-sentence shares.
type roleSpec struct {
	path  string
	roles func(line []byte) map[string][]string
}

var roleSpecs = []roleSpec{
	{pathPretrain, textRoles},
	{pathShareGPT, shareGPTRoles},
	{pathLlama, alpacaRoles},
	{pathDISC, discRoles},
	{pathReward, rewardRoles},
	{pathCMMLUTest, cmmluRoles},
}

// sentences splits text at Chinese and Western sentence ends and line
// breaks; clauses joined by commas stay one sentence.
func sentences(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		switch r {
		case '。', '！', '？', '；', '!', '?', ';', '\n', '\r':
			return true
		}
		return false
	})
}

// shareCounter counts sentences and distinct sentences (by hash, so a
// 250 MB workspace fits in memory).
type shareCounter struct {
	seen  map[uint64]struct{}
	total int
}

func (c *shareCounter) add(text string) {
	if c.seen == nil {
		c.seen = map[uint64]struct{}{}
	}
	for _, s := range sentences(text) {
		if s = strings.TrimSpace(s); s != "" {
			c.seen[hashString(s)] = struct{}{}
			c.total++
		}
	}
}

func (c *shareCounter) share() float64 {
	if c.total == 0 {
		return 0
	}
	return float64(len(c.seen)) / float64(c.total)
}

func textRoles(line []byte) map[string][]string {
	return map[string][]string{"text": {string(line)}}
}

func shareGPTRoles(line []byte) map[string][]string {
	var v struct{ Conversations []fromValue }
	if json.Unmarshal(line, &v) != nil || len(v.Conversations) < 2 {
		return nil
	}
	return map[string][]string{"question": {v.Conversations[0].Value}, "answer": {v.Conversations[1].Value}}
}

func alpacaRoles(line []byte) map[string][]string {
	var v alpacaRec
	if json.Unmarshal(line, &v) != nil {
		return nil
	}
	return map[string][]string{"question": {v.Instruction + v.Input}, "answer": {v.Output}}
}

func discRoles(line []byte) map[string][]string {
	var v struct {
		Conversation []struct{ Role, Content string }
	}
	if json.Unmarshal(line, &v) != nil {
		return nil
	}
	out := map[string][]string{}
	for _, t := range v.Conversation {
		role := "answer"
		if t.Role == "user" {
			role = "question"
		}
		out[role] = append(out[role], t.Content)
	}
	return out
}

func rewardRoles(line []byte) map[string][]string {
	var v rewardRec
	if json.Unmarshal(line, &v) != nil {
		return nil
	}
	return map[string][]string{"question": {v.Question}, "answer": {v.Chosen, v.Rejected}}
}

func cmmluRoles(line []byte) map[string][]string {
	rec, err := csv.NewReader(bytes.NewReader(line)).Read()
	if err != nil || len(rec) < 2 || rec[1] == "Question" {
		return nil
	}
	return map[string][]string{"question": {rec[1]}}
}

// fileRealism is one file's figures.
type fileRealism struct {
	bytes, gzipped int64
	shares         map[string]*shareCounter
}

func (f fileRealism) gzipRatio() float64 { return float64(f.bytes) / float64(f.gzipped) }

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// measureFile reads path once: its size, its gzip size (default level, as
// the gzip command) and, with roles, the sentence shares per role.
func measureFile(path string, roles func([]byte) map[string][]string) (fileRealism, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileRealism{}, err
	}
	defer f.Close()
	var cw countWriter
	zw := gzip.NewWriter(&cw)
	out := fileRealism{shares: map[string]*shareCounter{}}
	sc := bufio.NewScanner(io.TeeReader(f, zw))
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		if roles == nil {
			continue
		}
		for role, texts := range roles(sc.Bytes()) {
			c := out.shares[role]
			if c == nil {
				c = &shareCounter{}
				out.shares[role] = c
			}
			for _, t := range texts {
				c.add(t)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fileRealism{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		return fileRealism{}, err
	}
	st, err := f.Stat()
	if err != nil {
		return fileRealism{}, err
	}
	out.bytes = st.Size()
	out.gzipped = cw.n
	return out, nil
}

// TestScaledRealism checks that --scale text has real text's statistics:
// at least 95% of the sentences of each role (question, answer, text)
// distinct, and each kind's files compressing within 20% of the real
// public samples of that kind (realGzip). For comparison, the same shares
// in the real files (MedicalGPT SFT answers 97%, DISC answers 86%, CMMLU
// questions 73%) are logged when ../shared/corpus is present.
func TestScaledRealism(t *testing.T) {
	ws := *realismWS
	if ws == "" {
		if testing.Short() {
			t.Skip("writes a 16 MB scaled demo")
		}
		ws = t.TempDir()
		truth, err := Generate(ws, Options{Seed: DefaultSeed, ScaleBytes: 16 << 20})
		if err != nil {
			t.Fatal(err)
		}
		checkTruth(t, ws, truth)
	}
	truth, err := LoadTruth(filepath.Join(ws, TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	if truth.ScaleBytes <= 3*defaultBytes {
		t.Fatalf("%s is not a --scale workspace", ws)
	}
	roles := map[string]func([]byte) map[string][]string{}
	for _, r := range roleSpecs {
		roles[r.path] = r.roles
	}
	type sum struct{ bytes, gzipped int64 }
	kinds := map[string]*sum{}
	for _, s := range truth.Sources {
		if s.Role == "eval" || realGzip[s.Kind] == 0 {
			continue
		}
		for _, f := range s.Files {
			if strings.HasSuffix(f.Path, ".gz") || strings.HasSuffix(f.Path, ".xlsx") {
				continue
			}
			got, err := measureFile(filepath.Join(ws, filepath.FromSlash(f.Path)), roles[f.Path])
			if err != nil {
				t.Fatal(err)
			}
			k := kinds[s.Kind]
			if k == nil {
				k = &sum{}
				kinds[s.Kind] = k
			}
			k.bytes += got.bytes
			k.gzipped += got.gzipped
			var shares []string
			for _, role := range []string{"question", "answer", "text"} {
				c := got.shares[role]
				if c == nil {
					continue
				}
				shares = append(shares, fmt.Sprintf("%s %.1f%% of %d", role, 100*c.share(), c.total))
				if c.share() < 0.95 {
					t.Errorf("%s: %s sentences %.1f%% distinct, want ≥ 95%%", f.Path, role, 100*c.share())
				}
			}
			t.Logf("%-10s %-42s %7.1f MB gzip %.2f %s", s.Kind, f.Path, float64(got.bytes)/1e6, got.gzipRatio(), strings.Join(shares, ", "))
		}
	}
	real := realKinds(t)
	for _, kind := range []string{"text", "qa", "dialogue", "preference", "exam"} {
		k := kinds[kind]
		if k == nil {
			t.Errorf("no %s files measured", kind)
			continue
		}
		ratio := float64(k.bytes) / float64(k.gzipped)
		t.Logf("%-10s %7.1f MB gzip %.2f, real %.2f (%+.0f%%)", kind, float64(k.bytes)/1e6, ratio, real[kind], 100*(ratio/real[kind]-1))
		if r := ratio / real[kind]; r < 0.8 || r > 1.2 {
			t.Errorf("%s: gzip ratio %.2f, real %.2f: off by %+.0f%%, want within 20%%", kind, ratio, real[kind], 100*(r-1))
		}
	}
}

// realKinds is realGzip measured again with this test's own gzip (Go's
// compress/gzip compresses a little less than the gzip command), when
// ../shared/corpus is present; else realGzip as written.
func realKinds(t *testing.T) map[string]float64 {
	out := map[string]float64{}
	for kind, dir := range realFiles {
		var size, gz int64
		err := filepath.WalkDir(filepath.Join(sharedCorpus, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() == "SOURCE.txt" || strings.HasSuffix(p, ".xlsx") {
				return err
			}
			f, err := measureFile(p, nil)
			size += f.bytes
			gz += f.gzipped
			return err
		})
		if err != nil || gz == 0 {
			t.Logf("no ../shared/corpus (%v): comparing with the ratios measured when the test was written", err)
			return realGzip
		}
		out[kind] = float64(size) / float64(gz)
	}
	return out
}

// TestRealShares logs the distinct-sentence shares of the real public
// samples that roleSpecs' shapes come from, for comparison.
func TestRealShares(t *testing.T) {
	for _, f := range []struct {
		path  string
		roles func([]byte) map[string][]string
	}{
		{"text/MedicalGPT-pretrain/fever.txt", textRoles},
		{"qa/MedicalGPT-sft/medical_sft_1K_format.jsonl", shareGPTRoles},
		{"qa/Huatuo-Llama-Med-Chinese/llama_data.json", alpacaRoles},
		{"dialogue/DISC-MedLLM-test-examples/test_examples.jsonl", discRoles},
		{"dpo/MedicalGPT-reward-medical/test.json", rewardRoles},
		{"exam/CMMLU-medical/test/clinical_knowledge.csv", cmmluRoles},
	} {
		got, err := measureFile(filepath.Join(sharedCorpus, filepath.FromSlash(f.path)), f.roles)
		if os.IsNotExist(err) {
			t.Skip("no ../shared/corpus")
		}
		if err != nil {
			t.Fatal(err)
		}
		var shares []string
		for role, c := range got.shares {
			shares = append(shares, fmt.Sprintf("%s %.1f%% of %d", role, 100*c.share(), c.total))
		}
		t.Logf("%-55s gzip %.2f %s", f.path, got.gzipRatio(), strings.Join(shares, ", "))
	}
}
