package export

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// EnvDuckDBNode names a folder holding node_modules/@duckdb/node-api; the
// DuckDB check runs only when it is set:
//
//	mkdir -p /tmp/duckdb-node && cd /tmp/duckdb-node && npm install @duckdb/node-api
//	CHIMED_DUCKDB_NODE=/tmp/duckdb-node go test ./export -run DuckDB -v
//
// CHIMED_DUCKDB_WS may name more workspaces (separated by the OS path list
// separator) whose every Parquet file is checked too, e.g. a demo workspace
// after `chimed build-stages`.
const (
	EnvDuckDBNode = "CHIMED_DUCKDB_NODE"
	EnvDuckDBWS   = "CHIMED_DUCKDB_WS"
)

// duckFile is what the node script reports for one file.
type duckFile struct {
	Rows  int64 `json:"rows"`
	Lists map[string]struct {
		Elements         int64  `json:"elements"`
		StructFieldsRead int64  `json:"struct_fields_read"`
		Type             string `json:"type"`
	} `json:"lists"`
}

// listColumns are the list<struct> columns chimed writes, with how to count
// their elements with parquet-go.
var listColumns = map[string]func(path string) (int64, error){
	"messages": countList(func(r *struct {
		M []schemas.Turn `parquet:"messages,list"`
	}) int {
		return len(r.M)
	}),
	"turns": countList(func(r *struct {
		T []schemas.Turn `parquet:"turns,list"`
	}) int {
		return len(r.T)
	}),
	"options": countList(func(r *struct {
		O []schemas.Option `parquet:"options,list"`
	}) int {
		return len(r.O)
	}),
}

func countList[T any](n func(*T) int) func(string) (int64, error) {
	return func(path string) (int64, error) {
		var total int64
		for r, err := range schemas.ReadFile[T](path) {
			if err != nil {
				return 0, err
			}
			total += int64(n(&r))
		}
		return total, nil
	}
}

func parquetColumns(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var cols []string
	for _, fl := range pf.Schema().Fields() {
		cols = append(cols, fl.Name())
	}
	return cols
}

func TestDuckDBReadsEveryParquetFile(t *testing.T) {
	dir := os.Getenv(EnvDuckDBNode)
	if dir == "" {
		t.Skipf("%s is not set: npm install @duckdb/node-api in a folder and point %s at it to run this check", EnvDuckDBNode, EnvDuckDBNode)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api")); err != nil {
		t.Skipf("%s=%s has no node_modules/@duckdb/node-api", EnvDuckDBNode, dir)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "duckdb_count.js"))
	if err != nil {
		t.Fatal(err)
	}

	ws := workspace.Dir(t.TempDir())
	newFixture().write(t, ws)
	for _, f := range Names() {
		if _, err := Run(ws, f, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	roots := []string{string(ws)}
	if extra := os.Getenv(EnvDuckDBWS); extra != "" {
		roots = append(roots, filepath.SplitList(extra)...)
	}
	var files []string
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") && !strings.HasPrefix(d.Name(), ".") {
				files = append(files, p)
			}
			return err
		})
	}
	sort.Strings(files)
	if len(files) < 18 {
		t.Fatalf("only %d Parquet files found", len(files))
	}
	got := map[string]duckFile{}
	for start := 0; start < len(files); start += 200 {
		batch := files[start:min(start+200, len(files))]
		cmd := exec.Command(node, append([]string{script}, batch...)...)
		cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("duckdb: %v\n%s", err, stderr.String())
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("duckdb output: %v\n%s", err, out)
		}
	}
	var lists int
	for _, f := range files {
		d, ok := got[f]
		if !ok {
			t.Errorf("%s: DuckDB did not report it", f)
			continue
		}
		rows, err := schemas.CountRows(f)
		if err != nil {
			t.Fatal(err)
		}
		if d.Rows != rows {
			t.Errorf("%s: DuckDB reads %d rows, parquet-go %d", f, d.Rows, rows)
		}
		for _, col := range parquetColumns(t, f) {
			count, ok := listColumns[col]
			if !ok {
				continue
			}
			lists++
			want, err := count(f)
			if err != nil {
				t.Fatal(err)
			}
			l, ok := d.Lists[col]
			if !ok || !strings.HasPrefix(l.Type, "STRUCT(") {
				t.Errorf("%s: DuckDB sees %s as %+v, want a list of structs", f, col, l)
				continue
			}
			if l.Elements != want || l.StructFieldsRead != want {
				t.Errorf("%s: %s has %d elements (%d structs read) in DuckDB, %d in parquet-go", f, col, l.Elements, l.StructFieldsRead, want)
			}
		}
	}
	t.Logf("DuckDB read %d Parquet files (%d list<struct> columns) under %v", len(files), lists, roots)
}
