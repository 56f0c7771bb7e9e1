package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/goccy/go-yaml"

	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// withShardBytes registers the hf format with a smaller shard size for the
// rest of the test, so a small fixture spreads over several shards.
func withShardBytes(t *testing.T, n int64) {
	t.Helper()
	old := formats["hf"]
	Register(hf{maxShardBytes: n})
	t.Cleanup(func() { formats["hf"] = old })
}

// stageRows reads a stage file as generic rows: every column as its Go
// value (string, or []schemas.Turn for a list of turns).
func stageRows(t *testing.T, st schemas.Stage, path string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	add := func(err error, m map[string]any) {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, m)
	}
	sp, _ := schemas.Spec(st)
	switch sp.Shape {
	case schemas.ShapeText:
		for r, err := range schemas.ReadFile[schemas.DCPTRow](path) {
			add(err, map[string]any{"id": r.ID, "source": r.Source, "kind": r.Kind, "text": r.Text})
		}
	case schemas.ShapeChat:
		for r, err := range schemas.ReadFile[schemas.SFTRow](path) {
			add(err, map[string]any{"id": r.ID, "source": r.Source, "kind": r.Kind, "messages": turnsOrEmpty(r.Messages)})
		}
	case schemas.ShapePair:
		for r, err := range schemas.ReadFile[schemas.DPORow](path) {
			add(err, map[string]any{"id": r.ID, "source": r.Source, "kind": r.Kind, "prompt": r.Prompt, "chosen": r.Chosen, "rejected": r.Rejected})
		}
	}
	return rows
}

func turnsOrEmpty(ts []schemas.Turn) []schemas.Turn {
	if ts == nil {
		return []schemas.Turn{}
	}
	return ts
}

// arrowRows reads an Arrow IPC stream file with arrow's own ipc.Reader,
// record batch by record batch, into generic rows like stageRows gives.
func arrowRows(t *testing.T, path string) (*arrow.Schema, []map[string]any, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewReader(f, ipc.WithAllocator(memory.NewGoAllocator()))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer r.Release()
	var rows []map[string]any
	batches := 0
	for r.Next() {
		rec := r.Record()
		batches++
		for i := range int(rec.NumRows()) {
			row := map[string]any{}
			for c, f := range rec.Schema().Fields() {
				switch col := rec.Column(c).(type) {
				case *array.String:
					row[f.Name] = col.Value(i)
				case *array.List:
					start, end := col.ValueOffsets(i)
					st := col.ListValues().(*array.Struct)
					ri, _ := st.DataType().(*arrow.StructType).FieldIdx("role")
					ci, _ := st.DataType().(*arrow.StructType).FieldIdx("content")
					turns := []schemas.Turn{}
					for j := start; j < end; j++ {
						turns = append(turns, schemas.Turn{
							Role:    st.Field(ri).(*array.String).Value(int(j)),
							Content: st.Field(ci).(*array.String).Value(int(j)),
						})
					}
					row[f.Name] = turns
				default:
					t.Fatalf("%s: column %s is a %T", path, f.Name, col)
				}
			}
			rows = append(rows, row)
		}
	}
	if err := r.Err(); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("%s: %v", path, err)
	}
	return r.Schema(), rows, batches
}

// featureType is datasets' get_nested_type (features/features.py:1415-1445
// at datasets b7cb10b) over the features JSON of dataset_info.json, after
// generate_from_dict (:1572-1607): {"dtype": "string", "_type": "Value"}
// is utf8, a one-element list is a list of it, "_type": "List" is a list
// of its "feature", an object without "_type" a struct in key order. It
// returns the type as a string, every field nullable as datasets makes
// them.
func featureType(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		t.Fatal(err)
	}
	switch tok {
	case json.Delim('['):
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil || len(elems) != 1 {
			t.Fatalf("a list feature needs one element: %s", raw)
		}
		return "list<" + featureType(t, elems[0]) + ">"
	case json.Delim('{'):
		keys, vals := orderedObject(t, raw)
		if i := slices.Index(keys, "_type"); i >= 0 {
			var typ string
			json.Unmarshal(vals[i], &typ)
			switch typ {
			case "Value":
				var v struct{ Dtype string }
				json.Unmarshal(raw, &v)
				if v.Dtype != "string" {
					t.Fatalf("Value dtype %q", v.Dtype)
				}
				return "utf8"
			case "List":
				return "list<" + featureType(t, vals[slices.Index(keys, "feature")]) + ">"
			}
			t.Fatalf("feature type %q", typ)
		}
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + featureType(t, vals[i])
		}
		return "struct<" + strings.Join(parts, ", ") + ">"
	}
	t.Fatalf("feature %s", raw)
	return ""
}

// orderedObject lists a JSON object's keys and values in file order.
func orderedObject(t *testing.T, raw json.RawMessage) ([]string, []json.RawMessage) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		vals = append(vals, v)
	}
	return keys, vals
}

// arrowTypeString writes an Arrow type as featureType does; with strict,
// it also says where a field is not nullable or a list item is not named
// "item", which would make datasets cast (copy) the table on load.
func arrowTypeString(dt arrow.DataType, strict bool) string {
	switch dt := dt.(type) {
	case *arrow.StringType:
		return "utf8"
	case *arrow.ListType:
		s := "list<" + arrowTypeString(dt.Elem(), strict) + ">"
		if f := dt.ElemField(); strict && (f.Name != "item" || !f.Nullable) {
			s += fmt.Sprintf("(item %q nullable %v)", f.Name, f.Nullable)
		}
		return s
	case *arrow.StructType:
		parts := make([]string, dt.NumFields())
		for i, f := range dt.Fields() {
			parts[i] = f.Name + ": " + arrowTypeString(f.Type, strict)
			if strict && !f.Nullable {
				parts[i] += " not null"
			}
		}
		return "struct<" + strings.Join(parts, ", ") + ">"
	}
	return dt.String()
}

func schemaString(sc *arrow.Schema, strict bool) string {
	return arrowTypeString(arrow.StructOf(sc.Fields()...), strict)
}

// hfLoad does what datasets.load_from_disk does with a DatasetDict folder
// at datasets b7cb10b, and returns each split's rows and their Arrow
// schema. The cited lines are where datasets reads each key.
func hfLoad(t *testing.T, dir string) map[string][]map[string]any {
	t.Helper()
	// dataset_dict.py:1420-1433: dataset_dict.json's "splits".
	var dd struct {
		Splits []string `json:"splits"`
	}
	readJSONFile(t, filepath.Join(dir, "dataset_dict.json"), &dd)
	out := map[string][]map[string]any{}
	for _, split := range dd.Splits {
		sdir := filepath.Join(dir, split)
		// arrow_dataset.py:2065-2068: state.json and dataset_info.json.
		var state struct {
			DataFiles []struct {
				Filename string `json:"filename"`
			} `json:"_data_files"`
			Fingerprint      *string         `json:"_fingerprint"`
			FormatColumns    json.RawMessage `json:"_format_columns"`
			FormatKwargs     map[string]any  `json:"_format_kwargs"`
			FormatType       json.RawMessage `json:"_format_type"`
			OutputAllColumns *bool           `json:"_output_all_columns"`
			Split            *string         `json:"_split"`
		}
		readJSONFile(t, filepath.Join(sdir, "state.json"), &state)
		// :2087-2101 read _split, _fingerprint and the four _format keys
		// by subscript: a missing one is a KeyError.
		if state.Split == nil || *state.Split != split || state.Fingerprint == nil || len(*state.Fingerprint) != 16 ||
			state.FormatColumns == nil || state.FormatKwargs == nil || state.FormatType == nil || state.OutputAllColumns == nil {
			t.Fatalf("%s/state.json lacks a key load_from_disk reads: %+v", sdir, state)
		}
		var info map[string]json.RawMessage
		readJSONFile(t, filepath.Join(sdir, "dataset_info.json"), &info)
		// info.py:282-284 DatasetInfo.from_dict keeps only its own fields.
		known := []string{"description", "citation", "homepage", "license", "features", "post_processed", "supervised_keys",
			"builder_name", "dataset_name", "config_name", "version", "splits", "download_checksums", "download_size",
			"post_processing_size", "dataset_size", "size_in_bytes"}
		for k := range info {
			if !slices.Contains(known, k) {
				t.Errorf("%s/dataset_info.json: %q is no DatasetInfo field", sdir, k)
			}
		}
		// splits.py:568-583 SplitInfo(**split_info): only keys every
		// version since datasets 2.x has.
		var splits map[string]map[string]json.RawMessage
		json.Unmarshal(info["splits"], &splits)
		for _, si := range splits {
			for k := range si {
				if !slices.Contains([]string{"name", "num_bytes", "num_examples", "shard_lengths", "dataset_name"}, k) {
					t.Errorf("%s: SplitInfo key %q", sdir, k)
				}
			}
		}
		// :2070-2085 concatenates the _data_files' tables in order.
		var rows []map[string]any
		var sc *arrow.Schema
		for _, df := range state.DataFiles {
			s, r, _ := arrowRows(t, filepath.Join(sdir, df.Filename))
			if sc != nil && !sc.Equal(s) {
				t.Fatalf("%s: shards with different schemas", sdir)
			}
			sc = s
			rows = append(rows, r...)
		}
		// arrow_dataset.py:757-763 reorders the features' nested fields as
		// the table's, :766 casts the table when its schema differs from the
		// features' (a copy of every row), :780 raises when the types
		// differ.
		want := featureType(t, info["features"])
		if got := schemaString(sc, false); got != want {
			t.Fatalf("%s: the Arrow files hold %s, dataset_info.json says %s", sdir, got, want)
		}
		if got := schemaString(sc, true); got != want {
			t.Errorf("%s: datasets would cast %s to %s on every load", sdir, got, want)
		}
		var n int64
		json.Unmarshal(splits[split]["num_examples"], &n)
		if n != int64(len(rows)) {
			t.Errorf("%s: dataset_info.json says %d examples, the shards hold %d", sdir, n, len(rows))
		}
		out[split] = rows
	}
	return out
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestHFExportLoadsAndMatchesParquet exports the fixture in the hf format,
// with shards small enough that each split spreads over several, reads
// every DatasetDict as load_from_disk does, and compares every row and
// column with the stage Parquet.
func TestHFExportLoadsAndMatchesParquet(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	newFixture().write(t, ws)
	withShardBytes(t, 300) // a few rows a shard
	rep, err := Run(ws, "hf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkExport(t, ws, rep)
	shards := 0
	for _, f := range rep.Files {
		if strings.HasSuffix(f.Path, ".arrow") {
			shards++
		}
	}
	if shards <= 9 {
		t.Errorf("%d shards for 9 splits: the shard size did not split any", shards)
	}
	for _, st := range schemas.Stages {
		loaded := hfLoad(t, filepath.Join(ws.Export("hf"), string(st)))
		for _, split := range schemas.Splits {
			want := stageRows(t, st, ws.StageFile(st, split))
			if got := loaded[split]; !reflect.DeepEqual(got, want) {
				t.Errorf("%s/%s: the Arrow rows differ from the stage file:\n got %v\nwant %v", st, split, got, want)
			}
		}
	}
}

// TestHFShards pins the shard arithmetic of save_to_disk (arrow_dataset.py
// :1841-1846 and Dataset.shard(contiguous=True)).
func TestHFShards(t *testing.T) {
	tests := []struct {
		rows int64
		n    int
		want []int64
	}{
		{10, 1, []int64{10}},
		{10, 3, []int64{4, 3, 3}},
		{5, 5, []int64{1, 1, 1, 1, 1}},
		{7, 2, []int64{4, 3}},
	}
	for _, tc := range tests {
		var got []int64
		for i := range tc.n {
			got = append(got, hfShardRows(tc.rows, tc.n, i))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("hfShardRows(%d, %d) = %v, want %v", tc.rows, tc.n, got, tc.want)
		}
	}
	ws := workspace.Dir(t.TempDir())
	newFixture().write(t, ws)
	p := ws.StageFile(schemas.StageSFT, "train")
	for _, tc := range []struct {
		max  int64
		want int
	}{{hfMaxShardBytes, 1}, {1, 8}} { // one shard; or at most one a row
		if got, err := hfShardCount(p, 8, tc.max); err != nil || got != tc.want {
			t.Errorf("hfShardCount(max %d) = %d, %v; want %d", tc.max, got, err, tc.want)
		}
	}
}

func TestHFSizeCategory(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "n<1K"}, {999, "n<1K"}, {1000, "1K<n<10K"}, {11053, "10K<n<100K"}, {999_999, "100K<n<1M"},
		{2_250_000, "1M<n<10M"}, {5e12, "n>1T"},
	}
	for _, tc := range tests {
		if got := hfSizeCategory(tc.n); got != tc.want {
			t.Errorf("hfSizeCategory(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

// TestHFCard checks the dataset card: its front matter parses, its configs
// name exactly the Arrow files of each split, its licence follows the
// sources whose rows it holds, and its body gives provenance and the
// manifest's counts, with a note where the manifest disagrees.
func TestHFCard(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	newFixture().write(t, ws)
	manifest := `{"version": "9.9", "seed": 7, "config_sha256": "abc", "tokens": "chars", "leakage_check": "passed",
	  "stages": {"dcpt": {"train": {"rows": 6, "tokens": 100}, "valid": {"rows": 3}, "test": {"rows": 1}},
	             "sft": {"train": {"rows": 8}, "valid": {"rows": 3}, "test": {"rows": 1}},
	             "dpo": {"train": {"rows": 5}, "valid": {"rows": 3}, "test": {"rows": 1}}},
	  "sources": {"textbook": {"kind": "text", "rows": {"dcpt/train": 6, "dcpt/valid": 3, "dcpt/test": 1}},
	              "qa": {"kind": "qa", "rows": {"sft/train": 5, "sft/valid": 3, "sft/test": 1}},
	              "dlg": {"kind": "dialogue", "rows": {"sft/train": 3}},
	              "exam": {"kind": "exam", "rows": {"dpo/train": 5, "dpo/valid": 3, "dpo/test": 1}},
	              "pref": {"kind": "preference", "rows": {"dpo/train": 1}},
	              "heldout": {"kind": "qa", "eval": true, "rows": {"eval/qa": 4}}}}`
	if err := os.WriteFile(filepath.Join(ws.Stages(), "manifest.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	sources := []ingest.Source{
		{Name: "textbook", Kind: "text", License: "cc-by-4.0", URL: "https://example.org/textbook"},
		{Name: "qa", Kind: "qa", License: "apache-2.0", URL: "https://huggingface.co/datasets/x|y"},
		{Name: "dlg", Kind: "dialogue", License: "apache-2.0"},
		{Name: "exam", Kind: "exam"},
		{Name: "pref", Kind: "preference", License: "mit"},
		{Name: "heldout", Kind: "qa", Role: ingest.RoleEval, License: "cc-by-nc-4.0"},
	}
	rep, err := Run(ws, "hf", Options{Sources: sources})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(ws.Export("hf"), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	card := string(b)
	front, body, ok := strings.Cut(strings.TrimPrefix(card, "---\n"), "\n---\n")
	if !strings.HasPrefix(card, "---\n") || !ok {
		t.Fatalf("no YAML front matter:\n%s", card)
	}
	var meta struct {
		License        []string `yaml:"license"`
		Language       []string `yaml:"language"`
		SizeCategories []string `yaml:"size_categories"`
		TaskCategories []string `yaml:"task_categories"`
		Configs        []struct {
			ConfigName string `yaml:"config_name"`
			DataFiles  []struct {
				Split, Path string
			} `yaml:"data_files"`
		} `yaml:"configs"`
	}
	if err := yaml.Unmarshal([]byte(front), &meta); err != nil {
		t.Fatalf("front matter: %v\n%s", err, front)
	}
	// Every training source's licence; the eval source's rows are not in it;
	// "exam" has none.
	if want := []string{"apache-2.0", "cc-by-4.0", "mit", "unknown"}; !slices.Equal(meta.License, want) {
		t.Errorf("license %v, want %v", meta.License, want)
	}
	if !slices.Equal(meta.Language, []string{"zh"}) || !slices.Equal(meta.SizeCategories, []string{"n<1K"}) ||
		!slices.Equal(meta.TaskCategories, []string{"text-generation", "question-answering"}) {
		t.Errorf("front matter %+v", meta)
	}
	var configs []string
	for _, c := range meta.Configs {
		configs = append(configs, c.ConfigName)
		var splits []string
		for _, df := range c.DataFiles {
			splits = append(splits, df.Split)
			matches, err := filepath.Glob(filepath.Join(ws.Export("hf"), filepath.FromSlash(df.Path)))
			want, _ := filepath.Glob(filepath.Join(ws.Export("hf"), c.ConfigName, df.Split, "*.arrow"))
			if err != nil || len(matches) == 0 || !slices.Equal(matches, want) {
				t.Errorf("config %s split %s: %s matches %v, want %v", c.ConfigName, df.Split, df.Path, matches, want)
			}
		}
		if !slices.Equal(splits, schemas.Splits) {
			t.Errorf("config %s splits %v", c.ConfigName, splits)
		}
	}
	if !slices.Equal(configs, []string{"dcpt", "sft", "dpo", "adapt"}) {
		t.Errorf("configs %v", configs)
	}
	for _, want := range []string{
		"| textbook | text | train | cc-by-4.0 | https://example.org/textbook | 10 | 0 | 0 |",
		`| qa | qa | train | apache-2.0 | https://huggingface.co/datasets/x\|y | 0 | 9 | 0 |`,
		"| exam | exam | train | unknown |  | 0 | 0 | 9 |",
		"| heldout | qa | eval | cc-by-nc-4.0 |  | held out | held out | held out |",
		"| dcpt | train | 6 | 100 |",
		"chimed 9.9, seed 7, chimed.yaml sha256 `abc`, leakage check passed",
		`load_from_disk("export/hf/dcpt")`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("card body lacks %q:\n%s", want, body)
		}
	}
	// The fixture's dpo/train has 6 rows, the manifest says 5.
	if !slices.Contains(rep.Notes, "stages/manifest.json says dpo/train has 5 rows; the stage file has 6") {
		t.Errorf("notes %q", rep.Notes)
	}
	// dataset_info.json carries the licences of its own stage's sources.
	var info struct{ License string }
	readJSONFile(t, filepath.Join(ws.Export("hf"), "sft", "train", "dataset_info.json"), &info)
	if info.License != "apache-2.0" {
		t.Errorf("sft dataset_info.json license %q", info.License)
	}
}

// TestHFCardWithoutManifest: the card still describes the export, says the
// manifest is missing, and the report notes it.
func TestHFCardWithoutManifest(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	newFixture().write(t, ws)
	rep, err := Run(ws, "hf", Options{Sources: []ingest.Source{{Name: "a", Kind: "qa", License: "mit"}}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(ws.Export("hf"), "README.md"))
	if !strings.Contains(string(b), "license: mit\n") || !strings.Contains(string(b), "| sft | train | 8 |") {
		t.Errorf("card:\n%s", b)
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "manifest.json is missing") }) {
		t.Errorf("notes %q", rep.Notes)
	}
}

// EnvArrowNode names a folder holding node_modules/apache-arrow; the
// Arrow JS check runs only when it is set:
//
//	mkdir -p arrow-node && (cd arrow-node && npm install apache-arrow)
//	CHIMED_ARROW_NODE=$PWD/arrow-node go test ./export -run ArrowJS -v
//
// CHIMED_ARROW_WS may name a workspace after `chimed build-stages` whose
// stage files are exported and checked too.
const (
	EnvArrowNode = "CHIMED_ARROW_NODE"
	EnvArrowWS   = "CHIMED_ARROW_WS"
)

// arrowJSField is a field as testdata/arrow_read.js describes it.
type arrowJSField struct {
	Name     string         `json:"name"`
	Type     string         `json:"type"`
	Nullable bool           `json:"nullable"`
	Children []arrowJSField `json:"children"`
}

// jsTypeString writes an Arrow JS field type as arrowTypeString does.
func jsTypeString(f arrowJSField) string {
	switch f.Type {
	case "Utf8":
		return "utf8"
	case "List":
		if len(f.Children) == 1 {
			return "list<" + jsTypeString(f.Children[0]) + ">"
		}
	case "Struct":
		parts := make([]string, len(f.Children))
		for i, c := range f.Children {
			parts[i] = c.Name + ": " + jsTypeString(c)
		}
		return "struct<" + strings.Join(parts, ", ") + ">"
	}
	return "?" + f.Type
}

// parquetArrowType is a stage file's schema as the Arrow Parquet reader
// (pqarrow) sees it, independent of the export code.
func parquetArrowType(t *testing.T, path string) string {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	return schemaString(sc, false)
}

// TestArrowJSReadsHFExport reads every Arrow shard of the hf export with
// Arrow JS (apache-arrow's tableFromIPC) and compares its rows and column
// types with the stage Parquet.
func TestArrowJSReadsHFExport(t *testing.T) {
	dir := os.Getenv(EnvArrowNode)
	if dir == "" {
		t.Skipf("%s is not set: npm install apache-arrow in a folder and point %s at it to run this check", EnvArrowNode, EnvArrowNode)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "apache-arrow")); err != nil {
		t.Skipf("%s=%s has no node_modules/apache-arrow", EnvArrowNode, dir)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "arrow_read.js"))
	if err != nil {
		t.Fatal(err)
	}
	ws := workspace.Dir(t.TempDir())
	newFixture().write(t, ws)
	withShardBytes(t, 300)
	wss := []workspace.Dir{ws}
	if src := os.Getenv(EnvArrowWS); src != "" {
		copied := workspace.Dir(t.TempDir())
		for _, st := range schemas.Stages {
			for _, split := range schemas.Splits {
				if b, err := os.ReadFile(workspace.Dir(src).StageFile(st, split)); err == nil {
					os.MkdirAll(filepath.Dir(copied.StageFile(st, split)), 0o755)
					if err := os.WriteFile(copied.StageFile(st, split), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		wss = append(wss, copied)
	}
	for i, ws := range wss {
		if i == 1 {
			Register(hf{maxShardBytes: hfMaxShardBytes}) // the real shard size on a real workspace
		}
		if _, err := Run(ws, "hf", Options{}); err != nil {
			t.Fatal(err)
		}
		var files, rows int
		for _, st := range schemas.Stages {
			for _, split := range schemas.Splits {
				stage := ws.StageFile(st, split)
				if _, err := os.Stat(stage); err != nil {
					continue
				}
				shards, _ := filepath.Glob(filepath.Join(ws.Export("hf"), string(st), split, "data-*.arrow"))
				cmd := exec.Command(node, append([]string{script}, shards...)...)
				cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("node %s: %v\n%s", st, err, stderr.String())
				}
				want := stageRows(t, st, stage)
				wantType := parquetArrowType(t, stage)
				var got []map[string]any
				sc := bufio.NewScanner(bytes.NewReader(out))
				sc.Buffer(nil, 1<<26)
				for left := 0; sc.Scan(); {
					if left == 0 { // a file's header
						var h struct {
							File   string         `json:"file"`
							Rows   int            `json:"rows"`
							Fields []arrowJSField `json:"fields"`
						}
						if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
							t.Fatal(err)
						}
						if got := jsTypeString(arrowJSField{Type: "Struct", Children: h.Fields}); got != wantType {
							t.Errorf("%s: Arrow JS reads %s; the stage Parquet is %s", h.File, got, wantType)
						}
						left = h.Rows
						files++
						continue
					}
					var r struct {
						ID, Source, Kind, Text, Prompt, Chosen, Rejected string
						Messages                                         []schemas.Turn
					}
					if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
						t.Fatal(err)
					}
					m := map[string]any{"id": r.ID, "source": r.Source, "kind": r.Kind}
					switch st {
					case schemas.StageDCPT:
						m["text"] = r.Text
					case schemas.StageSFT:
						m["messages"] = turnsOrEmpty(r.Messages)
					case schemas.StageDPO:
						m["prompt"], m["chosen"], m["rejected"] = r.Prompt, r.Chosen, r.Rejected
					}
					got = append(got, m)
					left--
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s/%s: Arrow JS reads %d rows that differ from the stage file's %d", st, split, len(got), len(want))
				}
				rows += len(got)
			}
		}
		t.Logf("Arrow JS read %d shards, %d rows, equal to the stage Parquet (%s)", files, rows, ws)
	}
}
