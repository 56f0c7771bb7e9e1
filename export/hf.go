package export

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/parquet-go/parquet-go"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

func init() { Register(hf{maxShardBytes: hfMaxShardBytes}) }

// hf writes export/hf/ as the Hugging Face datasets library's own on-disk
// form, the folder Dataset.save_to_disk writes and datasets.load_from_disk
// opens memory-mapped, with no conversion:
//
//	README.md                          dataset card (see hfcard.go)
//	<stage>/dataset_dict.json          {"splits": ["train", "valid", "test"]}
//	<stage>/<split>/data-00000-of-0000N.arrow   Arrow IPC streams
//	<stage>/<split>/dataset_info.json  features (the columns' types), splits
//	<stage>/<split>/state.json         the shard list and format state
//
// Each stage is a DatasetDict: load_from_disk("export/hf/sft") gives its
// splits, and load_dataset("export/hf", "sft") reads the same Arrow files
// through the card's configs. Every column of the stage file is kept,
// id/source/kind included, with the stage file's Arrow schema made nullable
// as datasets' features are (else every load would cast, i.e. copy). Rows
// stream from the stage Parquet into record batches of at most
// hfBatchRows rows; pandas, polars and pyarrow read the same files with
// pyarrow.ipc.open_stream.
type hf struct {
	// maxShardBytes is the Arrow data a shard file holds at most, as
	// save_to_disk's max_shard_size; tests lower it to get several shards.
	maxShardBytes int64
}

const (
	// hfMaxShardBytes is save_to_disk's default max_shard_size, "500MB"
	// (datasets config.MAX_SHARD_SIZE, read as 500·10⁶ bytes).
	hfMaxShardBytes = 500_000_000
	// hfBatchRows is the record batch length datasets' ArrowWriter uses
	// (config.DEFAULT_MAX_BATCH_SIZE).
	hfBatchRows = 1000
	// hfBatchBytes ends a batch early once its text reaches this size, so
	// that a batch of long documents does not hold hundreds of MB.
	hfBatchBytes = 64 << 20
)

func (hf) Name() string { return "hf" }

func (h hf) Export(ws workspace.Dir, out string, opts Options, rep *Report) error {
	prov, err := readHFProvenance(ws, opts.Sources, rep)
	if err != nil {
		return err
	}
	var written []hfStage
	for _, st := range schemas.Stages {
		shape, err := stageShape(st)
		if err != nil {
			return err
		}
		ins, err := stageInputs(ws, st, rep)
		if err != nil {
			return err
		}
		hs := hfStage{stage: st}
		license := strings.Join(prov.licenses(st), ", ")
		for _, in := range ins {
			var sp hfSplit
			switch shape {
			case schemas.ShapeText:
				sp, err = writeHFSplit(in, out, h.maxShardBytes, dcptColumns, license, rep)
			case schemas.ShapeChat:
				sp, err = writeHFSplit(in, out, h.maxShardBytes, sftColumns, license, rep)
			case schemas.ShapePair:
				sp, err = writeHFSplit(in, out, h.maxShardBytes, dpoColumns, license, rep)
			default:
				err = errShape("hf", st, shape)
			}
			if err != nil {
				return err
			}
			hs.splits = append(hs.splits, sp)
		}
		if len(hs.splits) == 0 {
			continue
		}
		names := make([]string, len(hs.splits))
		for i, sp := range hs.splits {
			names[i] = sp.name
		}
		// DatasetDict.save_to_disk's dataset_dict.json (dataset_dict.py).
		if err := writeJSON(out, string(st)+"/dataset_dict.json", map[string][]string{"splits": names}, rep); err != nil {
			return err
		}
		written = append(written, hs)
	}
	if len(written) == 0 {
		return nil
	}
	return writeHFCard(out, written, prov, rep)
}

// hfStage is what one stage's DatasetDict holds.
type hfStage struct {
	stage  schemas.Stage
	splits []hfSplit
}

// hfSplit is one written split: its name, rows, and the Arrow bytes.
type hfSplit struct {
	name  string
	rows  int64
	bytes int64
}

// hfColumn reads one column's value out of a stage row of type T; exactly
// one of its functions is set, by the column's Arrow type.
type hfColumn[T any] struct {
	str   func(T) string         // utf8
	turns func(T) []schemas.Turn // list<struct<role: utf8, content: utf8>>
}

// The columns of each stage row, by the names schemas.StageArrowSchema
// gives them. hfAppender checks both agree, so a column added to a stage
// file fails the export instead of vanishing from it.
var (
	dcptColumns = map[string]hfColumn[schemas.DCPTRow]{
		"id":     {str: func(r schemas.DCPTRow) string { return r.ID }},
		"source": {str: func(r schemas.DCPTRow) string { return r.Source }},
		"kind":   {str: func(r schemas.DCPTRow) string { return r.Kind }},
		"text":   {str: func(r schemas.DCPTRow) string { return r.Text }},
	}
	sftColumns = map[string]hfColumn[schemas.SFTRow]{
		"id":       {str: func(r schemas.SFTRow) string { return r.ID }},
		"source":   {str: func(r schemas.SFTRow) string { return r.Source }},
		"kind":     {str: func(r schemas.SFTRow) string { return r.Kind }},
		"messages": {turns: func(r schemas.SFTRow) []schemas.Turn { return r.Messages }},
	}
	dpoColumns = map[string]hfColumn[schemas.DPORow]{
		"id":       {str: func(r schemas.DPORow) string { return r.ID }},
		"source":   {str: func(r schemas.DPORow) string { return r.Source }},
		"kind":     {str: func(r schemas.DPORow) string { return r.Kind }},
		"prompt":   {str: func(r schemas.DPORow) string { return r.Prompt }},
		"chosen":   {str: func(r schemas.DPORow) string { return r.Chosen }},
		"rejected": {str: func(r schemas.DPORow) string { return r.Rejected }},
	}
)

// hfSchema is a stage file's Arrow schema as datasets reads it back from
// its features: every field nullable, list items named "item" (pyarrow's
// pa.list_), and the features in the "huggingface" schema metadata, as
// datasets' ArrowWriter writes them, so pyarrow readers that know datasets
// (Dataset.from_file, the "arrow" builder) get the same features.
func hfSchema(st schemas.Stage) (*arrow.Schema, []byte, error) {
	base, err := schemas.StageArrowSchema(st)
	if err != nil {
		return nil, nil, err
	}
	fields := make([]arrow.Field, base.NumFields())
	for i, f := range base.Fields() {
		fields[i] = arrow.Field{Name: f.Name, Type: nullableType(f.Type), Nullable: true}
	}
	features, err := hfFeatures(fields)
	if err != nil {
		return nil, nil, err
	}
	meta, err := json.Marshal(map[string]any{"info": map[string]json.RawMessage{"features": features}})
	if err != nil {
		return nil, nil, err
	}
	md := arrow.NewMetadata([]string{"huggingface"}, []string{string(meta)})
	return arrow.NewSchema(fields, &md), features, nil
}

// nullableType makes every nested field of t nullable, as pyarrow types
// built from datasets' features are.
func nullableType(t arrow.DataType) arrow.DataType {
	switch t := t.(type) {
	case *arrow.ListType:
		return arrow.ListOfField(arrow.Field{Name: "item", Type: nullableType(t.Elem()), Nullable: true})
	case *arrow.StructType:
		fs := make([]arrow.Field, t.NumFields())
		for i, f := range t.Fields() {
			fs[i] = arrow.Field{Name: f.Name, Type: nullableType(f.Type), Nullable: true}
		}
		return arrow.StructOf(fs...)
	}
	return t
}

// hfFeatures encodes fields as the "features" of datasets' dataset_info.json,
// in column order (datasets builds the table's struct type from the JSON
// object's key order): a string is {"dtype": "string", "_type": "Value"}; a
// list is written in the one-element-list form, [feature]. datasets 2.x and
// 3.x read lists only in that form (they know no "_type": "List", and
// their "Sequence" of a struct means a struct of lists), and datasets 4
// reads it as List(feature) (features.py, Features.__init__'s backward
// compatibility for datasets<4).
func hfFeatures(fields []arrow.Field) (json.RawMessage, error) {
	var b bytes.Buffer
	var enc func(t arrow.DataType) error
	encFields := func(fs []arrow.Field) error {
		b.WriteByte('{')
		for i, f := range fs {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(f.Name)
			b.Write(k)
			b.WriteByte(':')
			if err := enc(f.Type); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
		}
		b.WriteByte('}')
		return nil
	}
	enc = func(t arrow.DataType) error {
		switch t := t.(type) {
		case *arrow.StringType:
			b.WriteString(`{"dtype":"string","_type":"Value"}`)
		case *arrow.ListType:
			b.WriteByte('[')
			if err := enc(t.Elem()); err != nil {
				return err
			}
			b.WriteByte(']')
		case *arrow.StructType:
			return encFields(t.Fields())
		default:
			return fmt.Errorf("no datasets feature for Arrow type %s", t)
		}
		return nil
	}
	if err := encFields(fields); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// hfAppender appends rows of T to a record builder of schema sc, a column
// at a time, and returns the text bytes appended.
func hfAppender[T any](sc *arrow.Schema, cols map[string]hfColumn[T]) (func(*array.RecordBuilder, T) int, error) {
	if sc.NumFields() != len(cols) {
		return nil, fmt.Errorf("the stage schema has %d columns, the hf export knows %d", sc.NumFields(), len(cols))
	}
	type colFn func(array.Builder, T) int
	fns := make([]colFn, sc.NumFields())
	for i, f := range sc.Fields() {
		c, ok := cols[f.Name]
		switch {
		case !ok:
			return nil, fmt.Errorf("the hf export does not know the stage column %q", f.Name)
		case c.str != nil && f.Type.ID() == arrow.STRING:
			get := c.str
			fns[i] = func(b array.Builder, r T) int {
				s := get(r)
				b.(*array.StringBuilder).Append(s)
				return len(s)
			}
		case c.turns != nil && f.Type.ID() == arrow.LIST:
			st, ok := f.Type.(*arrow.ListType).Elem().(*arrow.StructType)
			if !ok {
				return nil, fmt.Errorf("column %q: %s is not a list of structs", f.Name, f.Type)
			}
			role, okRole := st.FieldIdx("role")
			content, okContent := st.FieldIdx("content")
			if !okRole || !okContent || st.NumFields() != 2 {
				return nil, fmt.Errorf("column %q: %s is not a list of {role, content}", f.Name, f.Type)
			}
			get := c.turns
			fns[i] = func(b array.Builder, r T) int {
				lb := b.(*array.ListBuilder)
				sb := lb.ValueBuilder().(*array.StructBuilder)
				rb := sb.FieldBuilder(role).(*array.StringBuilder)
				cb := sb.FieldBuilder(content).(*array.StringBuilder)
				lb.Append(true)
				n := 0
				for _, t := range get(r) {
					sb.Append(true)
					rb.Append(t.Role)
					cb.Append(t.Content)
					n += len(t.Role) + len(t.Content)
				}
				return n
			}
		default:
			return nil, fmt.Errorf("column %q: the hf export cannot write %s from this row", f.Name, f.Type)
		}
	}
	return func(b *array.RecordBuilder, r T) int {
		n := 0
		for i, fn := range fns {
			n += fn(b.Field(i), r)
		}
		return n
	}, nil
}

// hfShardCount is save_to_disk's: int(nbytes / max_shard_size) + 1, at
// most one shard a row. nbytes is the stage file's uncompressed Parquet
// data, which is about its Arrow size (length-prefixed strings in both).
func hfShardCount(path string, rows, maxShardBytes int64) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	var nbytes int64
	for _, rg := range pf.Metadata().RowGroups {
		nbytes += rg.TotalByteSize
	}
	return int(min(nbytes/maxShardBytes+1, max(rows, 1))), nil
}

// hfShardRows is how many rows shard i of n holds when rows are cut into n
// contiguous shards as datasets' Dataset.shard(contiguous=True) cuts them:
// the first rows%n shards take one row more.
func hfShardRows(rows int64, n, i int) int64 {
	size := rows / int64(n)
	if int64(i) < rows%int64(n) {
		size++
	}
	return size
}

// hfShardWriter writes one Arrow IPC stream file.
type hfShardWriter struct {
	hf  *hashedFile
	buf *bufio.Writer
	w   *ipc.Writer
}

func newHFShard(path string, sc *arrow.Schema, mem memory.Allocator) (*hfShardWriter, error) {
	f, err := createHashed(path)
	if err != nil {
		return nil, err
	}
	buf := bufio.NewWriterSize(f, 1<<20)
	return &hfShardWriter{hf: f, buf: buf, w: ipc.NewWriter(buf, ipc.WithSchema(sc), ipc.WithAllocator(mem))}, nil
}

// commit ends the stream (the end-of-stream marker) and the file.
func (s *hfShardWriter) commit() (int64, string, error) {
	if err := s.w.Close(); err != nil {
		s.hf.f.Abort()
		return 0, "", err
	}
	if err := s.buf.Flush(); err != nil {
		s.hf.f.Abort()
		return 0, "", err
	}
	return s.hf.commit()
}

// writeHFSplit streams one stage split file into its Arrow shards and
// writes the split's dataset_info.json and state.json.
func writeHFSplit[T any](in stageInput, out string, maxShardBytes int64, cols map[string]hfColumn[T], license string, rep *Report) (hfSplit, error) {
	dir := filepath.ToSlash(filepath.Join(string(in.stage), in.split))
	fail := func(err error) (hfSplit, error) {
		return hfSplit{}, fmt.Errorf("export hf %s from %s: %w", dir, in.rel, err)
	}
	sc, features, err := hfSchema(in.stage)
	if err != nil {
		return fail(err)
	}
	appendRow, err := hfAppender(sc, cols)
	if err != nil {
		return fail(err)
	}
	nShards, err := hfShardCount(in.path, in.rows, maxShardBytes)
	if err != nil {
		return fail(err)
	}
	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()

	sp := hfSplit{name: in.split}
	var (
		shard      *hfShardWriter
		shardIdx   int
		shardRows  int64 // rows written to the current shard
		batchRows  int
		batchBytes int
		fileNames  []string
		sums       = sha256.New()
	)
	shardName := func(i int) string { return fmt.Sprintf("data-%05d-of-%05d.arrow", i, nShards) }
	defer func() {
		if shard != nil { // an error left a shard open
			shard.hf.f.Abort()
		}
	}()
	flush := func() error {
		if batchRows == 0 {
			return nil
		}
		rec := b.NewRecord()
		defer rec.Release()
		batchRows, batchBytes = 0, 0
		return shard.w.Write(rec)
	}
	closeShard := func() error {
		if err := flush(); err != nil {
			return err
		}
		n, sum, err := shard.commit()
		if err != nil {
			return err
		}
		rel := dir + "/" + shardName(shardIdx)
		rep.Files = append(rep.Files, FileReport{Path: rel, From: in.rel, Rows: shardRows, Bytes: n, SHA256: sum})
		fileNames = append(fileNames, shardName(shardIdx))
		sums.Write([]byte(sum))
		sp.bytes += n
		shard, shardRows = nil, 0
		shardIdx++
		return nil
	}
	for row, err := range schemas.ReadFile[T](in.path) {
		if err != nil {
			return fail(err)
		}
		if shard == nil {
			if shardIdx >= nShards {
				return fail(fmt.Errorf("more rows than the %d its metadata counts", in.rows))
			}
			if shard, err = newHFShard(filepath.Join(out, filepath.FromSlash(dir), shardName(shardIdx)), sc, mem); err != nil {
				return fail(err)
			}
		}
		batchBytes += appendRow(b, row)
		batchRows++
		shardRows++
		sp.rows++
		if batchRows >= hfBatchRows || batchBytes >= hfBatchBytes {
			if err := flush(); err != nil {
				return fail(err)
			}
		}
		if shardRows == hfShardRows(in.rows, nShards, shardIdx) {
			if err := closeShard(); err != nil {
				return fail(err)
			}
		}
	}
	if shard != nil || shardIdx != nShards {
		return fail(fmt.Errorf("read %d rows where its metadata counts %d", sp.rows, in.rows))
	}

	if err := writeHFSplitMeta(in, out, dir, sp, features, license, fileNames, hex.EncodeToString(sums.Sum(nil))[:16], rep); err != nil {
		return fail(err)
	}
	return sp, nil
}

// writeHFSplitMeta writes a split's dataset_info.json and state.json, once
// its shards (fileNames, in order) are written; fingerprint is a hash of
// their contents.
func writeHFSplitMeta(in stageInput, out, dir string, sp hfSplit, features json.RawMessage, license string, fileNames []string, fingerprint string, rep *Report) error {
	// Dataset.save_to_disk's dataset_info.json (arrow_dataset.py): the
	// DatasetInfo fields with their keys sorted; datasets fills the rest
	// with their defaults.
	info := struct {
		Citation    string                    `json:"citation"`
		ConfigName  string                    `json:"config_name"`
		DatasetName string                    `json:"dataset_name"`
		DatasetSize int64                     `json:"dataset_size"`
		Description string                    `json:"description"`
		Features    json.RawMessage           `json:"features"`
		Homepage    string                    `json:"homepage"`
		License     string                    `json:"license"`
		Splits      map[string]hfSplitInfoRow `json:"splits"`
	}{
		ConfigName:  string(in.stage),
		DatasetName: "chimed",
		DatasetSize: sp.bytes,
		Description: stageDescription(in.stage),
		Features:    features,
		License:     license,
		Splits:      map[string]hfSplitInfoRow{in.split: {Name: in.split, NumBytes: sp.bytes, NumExamples: sp.rows, DatasetName: "chimed"}},
	}
	if err := writeJSON(out, dir+"/dataset_info.json", info, rep); err != nil {
		return err
	}
	// Its state.json: the shards in order and the format state of a dataset
	// with no format set. The fingerprint, which datasets uses to name cache
	// files of later map() calls, is a hash of the shards' contents.
	type dataFile struct {
		Filename string `json:"filename"`
	}
	state := struct {
		DataFiles        []dataFile     `json:"_data_files"`
		Fingerprint      string         `json:"_fingerprint"`
		FormatColumns    []string       `json:"_format_columns"`
		FormatKwargs     map[string]any `json:"_format_kwargs"`
		FormatType       *string        `json:"_format_type"`
		OutputAllColumns bool           `json:"_output_all_columns"`
		Split            string         `json:"_split"`
	}{Fingerprint: fingerprint, FormatKwargs: map[string]any{}, Split: in.split}
	for _, n := range fileNames {
		state.DataFiles = append(state.DataFiles, dataFile{n})
	}
	return writeJSON(out, dir+"/state.json", state, rep)
}

// hfSplitInfoRow is a datasets SplitInfo, with only the fields every
// datasets version since 2.x accepts.
type hfSplitInfoRow struct {
	Name        string `json:"name"`
	NumBytes    int64  `json:"num_bytes"`
	NumExamples int64  `json:"num_examples"`
	DatasetName string `json:"dataset_name"`
}

// stageDescription says what a stage's rows are for, in dataset_info.json
// and the card (the stage table's Description).
func stageDescription(st schemas.Stage) string {
	sp, _ := schemas.Spec(st)
	return sp.Description
}
