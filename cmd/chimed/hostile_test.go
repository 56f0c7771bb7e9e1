package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// hostileScale sizes the hostile files: the full sizes for the
// peak-RSS benchmark, smaller ones (under a smaller record cap, so the
// same code paths run) for the test suite.
type hostileScale struct {
	line, bomb, cell int64  // bytes of the long line, the bomb's inflated size, the XLSX cell
	maxRecord        string // max_record_bytes of those three sources ("" for the default)
}

var (
	fullScale  = hostileScale{line: 200 << 20, bomb: 10 << 30, cell: 300 << 20}
	smallScale = hostileScale{line: 3 << 20, bomb: 64 << 20, cell: 3 << 20, maxRecord: "1MiB"}
)

// hostileCase is one hostile file in a workspace of its own: the source
// reading it and the exit status ingest must give (README: a source over
// max_quarantine, 5% by default, or an unreadable path fails ingest; a
// few quarantined records among good ones do not).
type hostileCase struct {
	name   string
	source string // the chimed.yaml source entry (YAML flow mapping)
	write  func(t testing.TB, raw string, sc hostileScale)
	exit   int
	// quarantined is how many records the report must show quarantined
	// (-1: no report, ingest stopped on an unreadable path).
	quarantined int
	// says is what stderr must hold, if anything.
	says string
}

// goodLines is n JSONL records {"q","a"}.
func goodLines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "{\"q\":\"头痛第%d天怎么办？\",\"a\":\"注意休息，必要时就医检查。\"}\n", i)
	}
	return b.String()
}

const qaMap = `map: {fields: {question: q, answer: a}}`

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// repeatWriter writes n bytes of b to w.
func repeatWriter(w io.Writer, b byte, n int64) error {
	chunk := bytes.Repeat([]byte{b}, 1<<20)
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

func hostileCases() []hostileCase {
	return []hostileCase{
		{name: "long-line", source: `{name: long, kind: qa, format: jsonl, paths: [raw/long.jsonl], %CAP% ` + qaMap + `}`, exit: 0, quarantined: 1,
			write: func(t testing.TB, raw string, sc hostileScale) {
				f, err := os.Create(filepath.Join(raw, "long.jsonl"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				w := bufio.NewWriter(f)
				w.WriteString(goodLines(50) + `{"q":"`)
				if err := repeatWriter(w, 'a', sc.line); err != nil {
					t.Fatal(err)
				}
				w.WriteString(`","a":"b"}` + "\n" + goodLines(50))
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "gzip-bomb", source: `{name: bomb, kind: qa, format: jsonl, paths: [raw/bomb.jsonl.gz], %CAP% ` + qaMap + `}`, exit: 0, quarantined: 1,
			write: func(t testing.TB, raw string, sc hostileScale) {
				// One gzip member of 64 MiB of 'a', repeated: a multi-member
				// stream inflating to sc.bomb bytes with no newline.
				var member bytes.Buffer
				zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
				const unit = 64 << 20
				repeatWriter(zw, 'a', unit)
				zw.Close()
				var head bytes.Buffer
				zh := gzip.NewWriter(&head)
				zh.Write([]byte(goodLines(100) + `{"q":"`))
				zh.Close()
				f, err := os.Create(filepath.Join(raw, "bomb.jsonl.gz"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				f.Write(head.Bytes())
				for range sc.bomb / unit {
					if _, err := f.Write(member.Bytes()); err != nil {
						t.Fatal(err)
					}
				}
			}},
		{name: "deep-nesting", source: `{name: deep, kind: qa, format: jsonl, paths: [raw/deep.jsonl], ` + qaMap + `}`, exit: 0, quarantined: 1,
			write: func(t testing.TB, raw string, sc hostileScale) {
				deep := `{"q":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `,"a":"b"}` + "\n"
				writeFile(t, filepath.Join(raw, "deep.jsonl"), []byte(goodLines(50)+deep+goodLines(50)))
			}},
		{name: "truncated-gzip", source: `{name: truncgz, kind: qa, format: jsonl, paths: [raw/cut.jsonl.gz], ` + qaMap + `}`, exit: 0, quarantined: 1,
			write: func(t testing.TB, raw string, sc hostileScale) {
				var b bytes.Buffer
				zw := gzip.NewWriter(&b)
				zw.Write([]byte(goodLines(2000)))
				zw.Close()
				writeFile(t, filepath.Join(raw, "cut.jsonl.gz"), b.Bytes()[:b.Len()*3/4])
			}},
		{name: "truncated-parquet", source: `{name: truncpq, kind: qa, paths: [raw/cut.parquet], ` + qaMap + `}`, exit: 1, quarantined: 1,
			write: func(t testing.TB, raw string, sc hostileScale) {
				type qa struct {
					Q string `parquet:"q"`
					A string `parquet:"a"`
				}
				rows := make([]qa, 2000)
				for i := range rows {
					rows[i] = qa{fmt.Sprintf("头痛第%d天怎么办？", i), "注意休息。"}
				}
				var b bytes.Buffer
				if err := parquet.Write(&b, rows); err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(raw, "cut.parquet"), b.Bytes()[:b.Len()/2])
			}},
		{name: "symlink-loop", source: `{name: loop, kind: qa, format: jsonl, paths: ["raw/*.jsonl"], ` + qaMap + `}`, exit: 1, quarantined: -1, says: "raw/loop-",
			write: func(t testing.TB, raw string, sc hostileScale) {
				writeFile(t, filepath.Join(raw, "good.jsonl"), []byte(goodLines(10)))
				os.Symlink("loop-b.jsonl", filepath.Join(raw, "loop-a.jsonl"))
				os.Symlink("loop-a.jsonl", filepath.Join(raw, "loop-b.jsonl"))
			}},
		{name: "xlsx-huge-cell", source: `{name: xlsx, kind: qa, paths: [raw/huge.xlsx], %CAP% ` + qaMap + `}`, exit: 1, quarantined: 1, says: "the file is quarantined whole",
			write: func(t testing.TB, raw string, sc hostileScale) {
				writeHugeCellXLSX(t, filepath.Join(raw, "huge.xlsx"), sc.cell)
			}},
		{name: "csv-1m-columns", source: `{name: wide, kind: qa, format: csv, paths: [raw/wide.csv], ` + qaMap + `}`, exit: 1, quarantined: 1,
			write: func(t testing.TB, raw string, sc hostileScale) {
				var b strings.Builder
				b.WriteString("q,a")
				for i := 2; i < 1_000_000; i++ {
					fmt.Fprintf(&b, ",c%d", i)
				}
				b.WriteString("\n头痛怎么办？,休息" + strings.Repeat(",x", 1_000_000-2) + "\n")
				writeFile(t, filepath.Join(raw, "wide.csv"), []byte(b.String()))
			}},
	}
}

// writeHugeCellXLSX writes a minimal workbook whose sheet has a header
// row q,a and one row whose q cell is n bytes of 'a' (an inline string),
// streamed: the file is about n/1000 bytes.
func writeHugeCellXLSX(t testing.TB, path string, n int64) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	parts := map[string]string{
		"[Content_Types].xml":        `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
		"_rels/.rels":                `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
	}
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, parts[name])
	}
	w, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+
		`<row r="1"><c r="A1" t="inlineStr"><is><t>q</t></is></c><c r="B1" t="inlineStr"><is><t>a</t></is></c></row>`+
		`<row r="2"><c r="A2" t="inlineStr"><is><t>`)
	if err := repeatWriter(w, 'a', n); err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, `</t></is></c><c r="B2" t="inlineStr"><is><t>b</t></is></c></row></sheetData></worksheet>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// hostileWorkspace writes one case's workspace.
func hostileWorkspace(t testing.TB, dir string, c hostileCase, sc hostileScale) string {
	cap := ""
	if sc.maxRecord != "" {
		cap = "max_record_bytes: " + sc.maxRecord + ","
	}
	src := strings.ReplaceAll(c.source, "%CAP%", cap)
	writeFile(t, filepath.Join(dir, "chimed.yaml"), []byte("version: 1\nsources:\n  - "+src+"\n"))
	raw := filepath.Join(dir, "raw")
	if err := os.MkdirAll(raw, 0o755); err != nil {
		t.Fatal(err)
	}
	c.write(t, raw, sc)
	return dir
}

// ingestRSS runs `chimed ingest` on ws as a process of its own (the binary
// in $CHIMED_BIN, else this test binary running main) under GNU time and
// returns its exit status, stderr and peak RSS in MiB, as /usr/bin/time
// -v prints it ("Maximum resident set size"). getrusage on the child of a
// big test process would report the parent's RSS: Go starts a child with
// vfork, and Linux carries the high-water mark of the memory shared until
// exec over to the child. Without GNU time, peak is -1.
func ingestRSS(t testing.TB, ws string) (code int, stderr string, peakMiB float64, took time.Duration) {
	t.Helper()
	args := []string{os.Args[0], "-q", "-w", ws, "ingest"}
	if bin := os.Getenv("CHIMED_BIN"); bin != "" {
		args[0] = bin
	}
	timeBin := "/usr/bin/time"
	if _, err := os.Stat(timeBin); err != nil {
		timeBin = ""
	}
	report := filepath.Join(t.TempDir(), "time")
	if timeBin != "" {
		args = append([]string{timeBin, "-f", "%M", "-o", report}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "CHIMED_TEST_RUN_MAIN=1")
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	peakMiB = -1
	if timeBin != "" {
		b, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		// The last line is %M; a "Command exited with non-zero status" line may precede it.
		lines := strings.Fields(strings.TrimSpace(string(b)))
		kib, err := strconv.ParseFloat(lines[len(lines)-1], 64)
		if err != nil {
			t.Fatalf("%s: %q", timeBin, b)
		}
		peakMiB = kib / 1024
	}
	return cmd.ProcessState.ExitCode(), errOut.String(), peakMiB, took
}

// checkHostile runs one case and checks its exit status and report.
func checkHostile(t testing.TB, ws string, c hostileCase) float64 {
	code, stderr, rss, took := ingestRSS(t, ws)
	if code != c.exit {
		t.Errorf("%s: exit %d, want %d\n%s", c.name, code, c.exit, stderr)
	}
	if code != 0 && !strings.Contains(stderr, "raw/") && !strings.Contains(stderr, "sources[") {
		t.Errorf("%s: the error names neither the file nor the source:\n%s", c.name, stderr)
	}
	if !strings.Contains(stderr, c.says) {
		t.Errorf("%s: stderr lacks %q:\n%s", c.name, c.says, stderr)
	}
	if c.quarantined >= 0 {
		var rep struct {
			Sources map[string]struct {
				Read        int `json:"read"`
				RecordsOK   int `json:"records_ok"`
				Quarantined int `json:"quarantined"`
			} `json:"sources"`
		}
		b, err := os.ReadFile(filepath.Join(ws, "reports", "ingest.json"))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		for name, s := range rep.Sources {
			if s.Quarantined != c.quarantined || s.Read != s.RecordsOK+s.Quarantined {
				t.Errorf("%s: source %s read %d = ok %d + quarantined %d, want %d quarantined", c.name, name, s.Read, s.RecordsOK, s.Quarantined, c.quarantined)
			}
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(ws, ".chimed", "tmp")); len(ents) != 0 {
		t.Errorf("%s: %d temporary files left in the workspace", c.name, len(ents))
	}
	t.Logf("%-18s exit %d  peak RSS %6.1f MiB  %5.1fs", c.name, code, rss, took.Seconds())
	return rss
}

// maxHostileRSS is the bound on ingest's peak RSS on any hostile
// file.
const maxHostileRSS = 300

// TestHostileFiles: each hostile file of the issue, at a size the suite
// can afford (under a 1 MiB record cap where size matters), fails ingest
// cleanly or is quarantined, with the exit status the README gives, the
// report's read = records_ok + quarantined, no temporary file left, and
// peak RSS within the bound. BenchmarkHostileIngest runs the full sizes.
func TestHostileFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and ingests hostile files")
	}
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			ws := hostileWorkspace(t, t.TempDir(), c, smallScale)
			if rss := checkHostile(t, ws, c); rss < 0 {
				t.Logf("%s: no /usr/bin/time to measure peak RSS with", c.name)
			} else if rss > maxHostileRSS {
				t.Errorf("%s: peak RSS %.0f MiB, over %d", c.name, rss, maxHostileRSS)
			}
		})
	}
}

// BenchmarkHostileIngest writes each hostile file at the size (a
// 200 MB line, a gzip bomb inflating to 10 GB, 100k-deep nesting, a
// truncated gzip and Parquet, a symlink loop, an XLSX with a 300 MB cell,
// a CSV with 1M columns) and reports the peak RSS of `chimed ingest` on
// it (peak-MiB), failing above 300 MiB:
//
//	go build -o bin/chimed ./cmd/chimed
//	CHIMED_BIN=$PWD/bin/chimed go test ./cmd/chimed -run '^$' -bench HostileIngest -benchtime 1x -v
func BenchmarkHostileIngest(b *testing.B) {
	for _, c := range hostileCases() {
		b.Run(c.name, func(b *testing.B) {
			ws := hostileWorkspace(b, b.TempDir(), c, fullScale)
			var rss float64
			for range b.N {
				os.RemoveAll(filepath.Join(ws, "reports"))
				rss = checkHostile(b, ws, c)
			}
			if rss < 0 {
				b.Skip("no /usr/bin/time to measure peak RSS with")
			}
			b.ReportMetric(rss, "peak-MiB")
			if rss > maxHostileRSS {
				b.Errorf("%s: peak RSS %.0f MiB, over %d", c.name, rss, maxHostileRSS)
			}
		})
	}
}
