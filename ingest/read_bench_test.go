package ingest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// benchRecords builds n QA-like records with Chinese text of realistic
// length (a few hundred bytes each).
func benchRecords(n int) [][3]string {
	out := make([][3]string, n)
	for i := range out {
		out[i] = [3]string{
			"心血管科",
			fmt.Sprintf("高血压患者能吃党参吗？第%d问", i),
			fmt.Sprintf("高血压病人可以口服党参的。党参有降血脂，降血压的作用，可以彻底消除血液中的垃圾，从而对冠心病以及心血管疾病的患者都有一定的稳定预防工作作用，因此平时口服党参能远离三高的危害。编号%d。", i),
		}
	}
	return out
}

func benchFile(b *testing.B, name string, data []byte) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchRead(b *testing.B, path string, src *Source) {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	// The machine is shared: besides wall-clock MB/s, report MB per second
	// of CPU this process used, which other load disturbs far less.
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, err := range ReadFile(path, "bench", src, nil) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n == 0 {
			b.Fatal("no records")
		}
	}
	b.StopTimer()
	if used := (cpuTime() - cpu0).Seconds(); used > 0 {
		b.ReportMetric(float64(st.Size())*float64(b.N)/1e6/used, "MB/cpu-s")
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const benchN = 20000

func BenchmarkReadFileJSONL(b *testing.B) {
	var buf bytes.Buffer
	for _, r := range benchRecords(benchN) {
		fmt.Fprintf(&buf, "{\"department\":%q,\"title\":%q,\"answer\":%q,\"score\":%d}\n", r[0], r[1], r[2], len(r[2]))
	}
	benchRead(b, benchFile(b, "b.jsonl", buf.Bytes()), &Source{})
}

func BenchmarkReadFileJSONArray(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("[\n")
	for i, r := range benchRecords(benchN) {
		if i > 0 {
			buf.WriteString(",\n")
		}
		fmt.Fprintf(&buf, "  {\"department\": %q, \"title\": %q, \"answer\": [%q]}", r[0], r[1], r[2])
	}
	buf.WriteString("\n]\n")
	benchRead(b, benchFile(b, "b.json", buf.Bytes()), &Source{})
}

func BenchmarkReadFileCSVGBK(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("department,title,ask,answer\n")
	for _, r := range benchRecords(benchN) {
		fmt.Fprintf(&buf, "%s,%s,\"问，\n%s\",%s\n", r[0], r[1], r[1], r[2])
	}
	benchRead(b, benchFile(b, "b.csv", []byte(gbk(buf.String()))), &Source{})
}

func BenchmarkReadFileText(b *testing.B) {
	var buf bytes.Buffer
	for _, r := range benchRecords(benchN) {
		fmt.Fprintf(&buf, "%s\n%s\n\n", r[1], r[2])
	}
	benchRead(b, benchFile(b, "b.txt", buf.Bytes()), &Source{Text: TextOptions{Split: SplitBlank}})
}
