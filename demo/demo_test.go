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
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/chimed/chimed/config"
)

var (
	demoOnce  sync.Once
	demoDir   string
	demoTruth *Truth
	demoErr   error
)

// workspace generates the default demo once for all tests of the package.
func workspace(t *testing.T) (string, *Truth) {
	t.Helper()
	demoOnce.Do(func() {
		demoDir, demoErr = os.MkdirTemp("", "chimed-demo-test-")
		if demoErr == nil {
			demoTruth, demoErr = Generate(demoDir, Options{Seed: DefaultSeed})
		}
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoDir, demoTruth
}

func TestMain(m *testing.M) {
	code := m.Run()
	if demoDir != "" {
		os.RemoveAll(demoDir)
	}
	os.Exit(code)
}

// rawRecord is one raw record as the tests find it in a written file.
type rawRecord struct {
	line int64  // 1-based start line; 0 where the format has none
	raw  string // the record's decoded text
	text string // every string value inside it when it parses as JSON; else raw
}

// readRecords splits a written file into raw records the way ingest counts
// them, independently of the generator's own bookkeeping.
func readRecords(t *testing.T, ws, rel string) []rawRecord {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ws, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(rel, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
	}
	var out []rawRecord
	switch {
	case strings.HasSuffix(rel, ".xlsx"):
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		rows, err := f.GetRows(f.GetSheetName(0))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for _, row := range rows[1:] {
			s := strings.Join(row, "\t")
			out = append(out, rawRecord{raw: s, text: s})
		}
	case strings.HasSuffix(rel, ".csv") || strings.HasSuffix(rel, ".tsv"):
		if strings.Contains(rel, "内科") {
			if data, err = simplifiedchinese.GBK.NewDecoder().Bytes(data); err != nil {
				t.Fatalf("%s: not GBK: %v", rel, err)
			}
		}
		data = bytes.TrimPrefix(data, []byte("\ufeff"))
		cr := csv.NewReader(bytes.NewReader(data))
		cr.LazyQuotes, cr.FieldsPerRecord = true, -1
		if strings.HasSuffix(rel, ".tsv") {
			cr.Comma = '\t'
		}
		for first := true; ; first = false {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			line, _ := cr.FieldPos(0)
			if !first {
				s := strings.Join(rec, "\t")
				out = append(out, rawRecord{line: int64(line), raw: s, text: s})
			}
		}
	case rel == pathAlpaca || rel == pathHuatuo:
		var elems []json.RawMessage
		if err := json.Unmarshal(data, &elems); err != nil {
			t.Fatalf("%s: not a JSON array: %v", rel, err)
		}
		for _, e := range elems {
			out = append(out, rawRecord{raw: string(e), text: jsonText(e)})
		}
	case rel == pathFAQ:
		dec := json.NewDecoder(bytes.NewReader(data))
		if _, err := dec.Token(); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for dec.More() {
			if _, err := dec.Token(); err != nil { // the key
				t.Fatalf("%s: %v", rel, err)
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			out = append(out, rawRecord{raw: string(v), text: jsonText(v)})
		}
	case rel == pathMedDialog:
		lines := strings.Split(string(data), "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "id=") {
				out = append(out, rawRecord{line: int64(i + 1)})
			}
			if n := len(out); n > 0 {
				out[n-1].raw += l + "\n"
				out[n-1].text = out[n-1].raw
			}
		}
	default: // one record per line
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 4<<20)
		for n := int64(1); sc.Scan(); n++ {
			l := strings.TrimSuffix(sc.Text(), "\r")
			out = append(out, rawRecord{line: n, raw: l, text: jsonText([]byte(l))})
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
	}
	return out
}

// jsonText joins every string inside a JSON value, or returns the input
// when it is not JSON.
func jsonText(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	var parts []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			parts = append(parts, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return strings.Join(parts, "\n")
}

func TestTruthMatchesFiles(t *testing.T) {
	ws, truth := workspace(t)
	checkTruth(t, ws, truth)
}

// checkTruth checks a workspace's files against the truth Generate
// returned: record counts, and every planted record where the truth says.
func checkTruth(t *testing.T, ws string, truth *Truth) {
	t.Helper()
	loaded, err := LoadTruth(filepath.Join(ws, TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded, truth) {
		t.Fatal("demo-truth.json does not load back as the truth Generate returned")
	}
	records := map[string][]rawRecord{}
	for _, s := range truth.Sources {
		var sum, broken int64
		for _, f := range s.Files {
			recs := readRecords(t, ws, f.Path)
			records[f.Path] = recs
			if int64(len(recs)) != f.Records {
				t.Errorf("%s: %d records in the file, truth says %d", f.Path, len(recs), f.Records)
			}
			if !f.Lookup {
				sum += f.Records
				broken += f.Broken
			}
		}
		if sum != s.Records || broken != s.Broken {
			t.Errorf("source %s: files hold %d records (%d broken), truth says %d (%d)", s.Name, sum, broken, s.Records, s.Broken)
		}
	}
	// a cMedQA2 record is an answer row joined with its question row
	questions := records[pathCMedQAQ]
	for i := range records[pathCMedQAA] {
		records[pathCMedQAA][i].text += "\n" + questions[i].text
	}
	brokenAt := map[string]int64{}
	for _, p := range truth.Planted {
		recs, ok := records[p.File]
		if !ok {
			t.Errorf("%+v: file not in any source", p)
			continue
		}
		if p.Row < 0 || p.Row >= int64(len(recs)) {
			t.Errorf("%s %s row %d: the file has %d records", p.What, p.File, p.Row, len(recs))
			continue
		}
		rec := recs[p.Row]
		if p.Line != 0 && p.Line != rec.line {
			t.Errorf("%s %s row %d: truth says line %d, the record starts on line %d", p.What, p.File, p.Row, p.Line, rec.line)
		}
		if p.Needle != "" && !strings.Contains(rec.raw, p.Needle) && !strings.Contains(rec.text, p.Needle) {
			t.Errorf("%s %s row %d: %q not in the record %q", p.What, p.File, p.Row, p.Needle, firstRunes(rec.raw, 80))
		}
		if p.Of != nil {
			if of := records[p.Of.File]; p.Of.Row >= int64(len(of)) {
				t.Errorf("%s %s row %d: its pair %s row %d does not exist", p.What, p.File, p.Row, p.Of.File, p.Of.Row)
			}
		}
		switch p.What {
		case Broken:
			brokenAt[p.File]++
			if p.Class == "" || p.Expect != ExpectQuarantine {
				t.Errorf("broken %s row %d: class %q expect %q", p.File, p.Row, p.Class, p.Expect)
			}
		case NearDup:
			if p.Jaccard < 0.8 || p.Jaccard > 0.95 {
				t.Errorf("near_dup %s row %d: Jaccard %.3f outside [0.8, 0.95]", p.File, p.Row, p.Jaccard)
			}
		case NearDistinct:
			if p.Jaccard >= 0.8 {
				t.Errorf("near_distinct %s row %d: Jaccard %.3f is a duplicate's", p.File, p.Row, p.Jaccard)
			}
		case PIIValue:
			if p.PII == nil || p.PII.Value != p.Needle || p.PII.Placeholder == "" {
				t.Errorf("pii %s row %d: %+v", p.File, p.Row, p.PII)
			}
		}
	}
	for _, s := range truth.Sources {
		for _, f := range s.Files {
			if brokenAt[f.Path] != f.Broken {
				t.Errorf("%s: %d broken records planted, truth counts %d", f.Path, brokenAt[f.Path], f.Broken)
			}
		}
	}
}

// TestPlantedVariety checks that every kind of trouble the brief asks for
// is present in the default demo.
func TestPlantedVariety(t *testing.T) {
	_, truth := workspace(t)
	count := map[string]int{}
	for _, p := range truth.Planted {
		count[string(p.What)]++
		if p.What == Broken {
			count["class:"+string(p.Class)]++
		}
		if p.PII != nil {
			count["pii:"+string(p.PII.Type)]++
		}
	}
	want := []string{"long_record", "quirk", "noise", "exact_dup", "near_dup", "near_distinct", "pii_decoy", "contamination",
		"class:json", "class:encoding", "class:fields", "class:missing_field", "class:too_large"}
	for _, ty := range piiTypes {
		want = append(want, "pii:"+string(ty))
	}
	for _, w := range want {
		if count[w] == 0 {
			t.Errorf("no planted %s", w)
		}
	}
	var eval int
	for _, s := range truth.Sources {
		if s.Role == "eval" {
			eval++
		}
	}
	if eval != 2 || !truth.Guarded {
		t.Errorf("eval sources %d (want 2), guarded %v", eval, truth.Guarded)
	}
}

func TestPlantedPIIValidates(t *testing.T) {
	_, truth := workspace(t)
	for _, p := range truth.Planted {
		switch {
		case p.PII != nil && p.PII.Type == PIIIDCard:
			if v := p.PII.Value; len(v) != 18 || idChecksum(v[:17]) != v[17] {
				t.Errorf("planted ID %s fails its checksum", v)
			}
		case p.PII != nil && p.PII.Type == PIIBankCard:
			if !luhnValid(p.PII.Value) {
				t.Errorf("planted card %s fails Luhn", p.PII.Value)
			}
		case p.What == PIIDecoy && len(p.Needle) == 18 && !strings.ContainsAny(p.Needle, "-X"):
			if idChecksum(p.Needle[:17]) == p.Needle[17] || luhnValid(p.Needle) {
				t.Errorf("decoy %s passes a check it must fail", p.Needle)
			}
		}
	}
}

func TestConfigParses(t *testing.T) {
	ws, truth := workspace(t)
	data, err := os.ReadFile(filepath.Join(ws, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(filepath.Join(ws, config.FileName), data)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 1 || c.Seed != DefaultSeed || len(c.Sources) != len(truth.Sources) {
		t.Fatalf("version %d seed %d sources %d", c.Version, c.Seed, len(c.Sources))
	}
	for i, s := range c.Sources {
		st := truth.Sources[i]
		if s.Name != st.Name || string(s.Kind) != st.Kind || s.Preset != st.Preset || s.IsEval() != (st.Role == "eval") {
			t.Errorf("source %d: yaml %s/%s/%s, truth %s/%s/%s", i, s.Name, s.Kind, s.Preset, st.Name, st.Kind, st.Preset)
		}
		for _, f := range st.Files {
			matched := false
			for _, p := range s.Paths {
				if ok, _ := filepath.Match(p, f.Path); ok {
					matched = true
				}
			}
			if !matched {
				t.Errorf("source %s: %s matches none of %v", s.Name, f.Path, s.Paths)
			}
		}
	}
	if c.Sources[3].MaxRecordBytes != capBytes {
		t.Errorf("textbook-notes max_record_bytes = %d, want %d", c.Sources[3].MaxRecordBytes, capBytes)
	}
}

// TestFileShapes checks the byte-level quirks each public shape must keep.
func TestFileShapes(t *testing.T) {
	ws, _ := workspace(t)
	read := func(rel string) []byte {
		b, err := os.ReadFile(filepath.Join(ws, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if b := read(pathEvalExam); !bytes.HasPrefix(b, []byte("\xef\xbb\xbfQuestion,Options")) || !bytes.Contains(b, []byte("\nB ")) ||
		!bytes.Contains(b, []byte("\r\n")) {
		t.Errorf("%s: want a BOM, CRLF records and options on their own lines", pathEvalExam)
	}
	if b := read(pathMongo); !bytes.Contains(b, []byte("\r\n")) || bytes.HasSuffix(b, []byte("\n")) ||
		!bytes.Contains(b, []byte(`"$oid" : "`)) {
		t.Errorf("%s: want mongoexport lines with CRLF and no final newline", pathMongo)
	}
	toyhom := read(pathToyhom)
	if utf8.Valid(toyhom) {
		t.Errorf("%s is valid UTF-8; want GBK", pathToyhom)
	}
	if !bytes.Contains(toyhom, []byte("\"\"没事\"\"")) && !bytes.Contains(toyhom, toGBK([]byte(`"没事"`))) {
		t.Errorf("%s: no bare-quote row", pathToyhom)
	}
	if b := read(pathLlama); b[0] != '{' {
		t.Errorf("%s: want JSON Lines behind a .json name", pathLlama)
	}
	f, err := excelize.OpenFile(filepath.Join(ws, pathXLSX))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cell, err := f.GetCellValue("Sheet1", "B2")
	if err != nil || !strings.Contains(cell, `\nB `) {
		t.Errorf("%s B2 = %q (%v): want options joined by a literal backslash-n", pathXLSX, cell, err)
	}
	var longest int
	sc := bufio.NewScanner(bytes.NewReader(read(pathShareGPT)))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		longest = max(longest, len(sc.Bytes()))
	}
	if longest < 1<<20 {
		t.Errorf("%s: longest line %d bytes, want one over 1 MiB", pathShareGPT, longest)
	}
}

func TestDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a second demo workspace")
	}
	ws, _ := workspace(t)
	again := t.TempDir()
	if _, err := Generate(again, Options{Seed: DefaultSeed}); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.WalkDir(ws, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(ws, p)
		a, _ := os.ReadFile(p)
		b, err := os.ReadFile(filepath.Join(again, rel))
		if err != nil {
			return fmt.Errorf("%s missing from the second run: %w", rel, err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("only %d files compared", n)
	}
	a := (&renderer{r: newRNG(DefaultSeed, 1), ds: facts()}).answer(&factsForTest[0], qDrug)
	b := (&renderer{r: newRNG(7, 1), ds: facts()}).answer(&factsForTest[0], qDrug)
	if a == b {
		t.Error("seeds 42 and 7 render the same answer")
	}
}

var factsForTest = facts()

var update = flag.Bool("update", false, "rewrite testdata golden files")

// TestChimedYAMLGolden pins the chimed.yaml the demo writes: a change to a
// source's name, preset or mapping is a change every step's tests see.
func TestChimedYAMLGolden(t *testing.T) {
	ws, _ := workspace(t)
	got, err := os.ReadFile(filepath.Join(ws, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "chimed.yaml.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./demo -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("chimed.yaml differs from %s (run with -update if the change is meant):\n%s", golden, got)
	}
}
