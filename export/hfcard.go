package export

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/stages"
)

// hfCardMeta is the YAML front matter of a Hugging Face dataset card: the
// keys the Hub reads to describe and load a dataset repository.
type hfCardMeta struct {
	// License is one licence id, or a list when the sources differ.
	License        any            `yaml:"license"`
	Language       []string       `yaml:"language"`
	SizeCategories []string       `yaml:"size_categories"`
	TaskCategories []string       `yaml:"task_categories"`
	Tags           []string       `yaml:"tags"`
	PrettyName     string         `yaml:"pretty_name"`
	Configs        []hfCardConfig `yaml:"configs"`
}

// hfCardConfig is one entry of the card's configs: a stage, whose splits
// are the Arrow shards in its folder. load_dataset("export/hf", "sft")
// reads them with datasets' "arrow" builder.
type hfCardConfig struct {
	ConfigName string           `yaml:"config_name"`
	DataFiles  []hfCardDataFile `yaml:"data_files"`
}

// hfCardDataFile maps a split to a glob of files, relative to the card.
type hfCardDataFile struct {
	Split string `yaml:"split"`
	Path  string `yaml:"path"`
}

// hfSizeCategory is the Hub's size_categories tag for n examples.
func hfSizeCategory(n int64) string {
	bounds := []struct {
		below int64
		tag   string
	}{
		{1e3, "n<1K"}, {1e4, "1K<n<10K"}, {1e5, "10K<n<100K"}, {1e6, "100K<n<1M"}, {1e7, "1M<n<10M"},
		{1e8, "10M<n<100M"}, {1e9, "100M<n<1B"}, {1e10, "1B<n<10B"}, {1e11, "10B<n<100B"}, {1e12, "100B<n<1T"},
	}
	for _, b := range bounds {
		if n < b.below {
			return b.tag
		}
	}
	return "n>1T"
}

// hfCardSource is one source as the card's provenance table shows it.
type hfCardSource struct {
	name, kind, role, license, url string
	rows                           map[schemas.Stage]int64 // rows in each exported stage
	eval                           bool
}

// hfProvenance is what the dataset card and dataset_info.json say about
// where the rows came from: the manifest (nil when missing) and every
// source with its licence and rows per stage.
type hfProvenance struct {
	manifest *stages.Manifest
	sources  []hfCardSource
}

func readHFProvenance(ws workspace.Dir, sources []ingest.Source, rep *Report) (hfProvenance, error) {
	m, err := readHFManifest(ws, rep)
	if err != nil {
		return hfProvenance{}, err
	}
	return hfProvenance{m, cardSources(m, sources)}, nil
}

// licenses lists the licence ids of the sources whose rows are in any of
// stages ("unknown" for a source without one), sorted. Without a manifest
// every training source counts.
func (p hfProvenance) licenses(stages ...schemas.Stage) []string {
	set := map[string]bool{}
	for _, s := range p.sources {
		contributes := !s.eval && p.manifest == nil
		for _, st := range stages {
			contributes = contributes || s.rows[st] > 0
		}
		if contributes {
			set[cmp.Or(s.license, "unknown")] = true
		}
	}
	if len(set) == 0 {
		set["unknown"] = true
	}
	out := make([]string, 0, len(set))
	for l := range set {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// readHFManifest reads stages/manifest.json; a missing one gives nil and a
// note, since the card can still describe what was exported.
func readHFManifest(ws workspace.Dir, rep *Report) (*stages.Manifest, error) {
	m, err := stages.ReadManifest(ws)
	if errors.Is(err, fs.ErrNotExist) {
		rep.Notes = append(rep.Notes, "stages/manifest.json is missing: the dataset card has no per-source rows or token counts")
		return nil, nil
	}
	return m, err
}

// splitCount is the manifest's count of a stage split (zero when absent).
func splitCount(m *stages.Manifest, st schemas.Stage, split string) stages.SplitCount {
	if c := m.Stages[st][split]; c != nil {
		return *c
	}
	return stages.SplitCount{}
}

// cardSources joins chimed.yaml's sources (licence, address, role) with the
// manifest's (rows per stage). A source the manifest counts but chimed.yaml
// no longer lists is kept, with an unknown licence.
func cardSources(m *stages.Manifest, sources []ingest.Source) []hfCardSource {
	byName := map[string]*hfCardSource{}
	for _, s := range sources {
		role := string(s.Role)
		if role == "" {
			role = string(ingest.RoleTrain)
		}
		byName[s.Name] = &hfCardSource{name: s.Name, kind: string(s.Kind), role: role, license: s.License, url: s.URL,
			eval: s.IsEval(), rows: map[schemas.Stage]int64{}}
	}
	if m != nil {
		for name, ms := range m.Sources {
			if ms == nil {
				continue
			}
			cs, ok := byName[name]
			if !ok {
				role := string(ingest.RoleTrain)
				if ms.Eval {
					role = string(ingest.RoleEval)
				}
				cs = &hfCardSource{name: name, kind: string(ms.Kind), role: role, eval: ms.Eval, rows: map[schemas.Stage]int64{}}
				byName[name] = cs
			}
			for file, n := range ms.Rows {
				stage, _, _ := strings.Cut(file, "/")
				cs.rows[schemas.Stage(stage)] += n
			}
		}
	}
	out := make([]hfCardSource, 0, len(byName))
	for _, cs := range byName {
		out = append(out, *cs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// writeHFCard writes export/hf/README.md, the dataset card: YAML front
// matter the Hub reads (licence, language, size, tasks, and configs that
// make load_dataset find each stage's Arrow files) and a body giving
// provenance per source and the rows of every stage split.
func writeHFCard(out string, written []hfStage, prov hfProvenance, rep *Report) error {
	front, err := hfCardFront(written, prov, rep)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("---\n")
	b.Write(front)
	b.WriteString("---\n\n# chimed Chinese medical training data\n\n")
	b.WriteString("Training data for a Chinese medical language model in the three stages of the Qilin-Med recipe, " +
		"made by chimed from the sources listed below. Each stage is a `DatasetDict` saved as Hugging Face " +
		"`datasets` saves one (Arrow IPC stream shards, `dataset_info.json`, `state.json`); every row keeps its " +
		"`id`, `source` and `kind`.\n\n")
	for _, hs := range written {
		fmt.Fprintf(&b, "- `%s`: %s\n", hs.stage, stageDescription(hs.stage))
	}
	b.WriteString("\n## Load\n\n```python\nfrom datasets import load_dataset, load_from_disk\n\n")
	first := written[0].stage
	fmt.Fprintf(&b, "ds = load_from_disk(\"export/hf/%s\")       # a DatasetDict, memory-mapped\n", first)
	fmt.Fprintf(&b, "ds = load_dataset(\"export/hf\", \"%s\")       # the same files, through this card's configs\n", first)
	fmt.Fprintf(&b, "df = ds[\"%s\"].to_pandas()\n```\n\n", written[0].splits[0].name)
	b.WriteString("pandas, polars and pyarrow read the shards directly: `pyarrow.ipc.open_stream(path).read_all()`.\n\n")
	hfCardRows(&b, written, prov.manifest)
	hfCardSources(&b, written, prov)

	hf, err := createHashed(filepath.Join(out, "README.md"))
	if err != nil {
		return err
	}
	if _, err := hf.Write([]byte(b.String())); err != nil {
		hf.f.Abort()
		return err
	}
	n, sum, err := hf.commit()
	if err != nil {
		return err
	}
	fr := FileReport{Path: "README.md", Bytes: n, SHA256: sum}
	if prov.manifest != nil {
		fr.From = "stages/manifest.json"
	}
	rep.Files = append(rep.Files, fr)
	return nil
}

// hfCardFront is the card's YAML front matter. A split whose rows differ
// from the manifest's count is a note.
func hfCardFront(written []hfStage, prov hfProvenance, rep *Report) ([]byte, error) {
	m := prov.manifest
	var total int64
	var configs []hfCardConfig
	var exported []schemas.Stage
	for _, hs := range written {
		exported = append(exported, hs.stage)
		c := hfCardConfig{ConfigName: string(hs.stage)}
		for _, sp := range hs.splits {
			total += sp.rows
			c.DataFiles = append(c.DataFiles, hfCardDataFile{Split: sp.name, Path: fmt.Sprintf("%s/%s/data-*.arrow", hs.stage, sp.name)})
			if m != nil {
				if want := splitCount(m, hs.stage, sp.name).Rows; want != sp.rows {
					rep.Notes = append(rep.Notes, fmt.Sprintf("stages/manifest.json says %s/%s has %d rows; the stage file has %d", hs.stage, sp.name, want, sp.rows))
				}
			}
		}
		configs = append(configs, c)
	}
	licenseList := prov.licenses(exported...)

	meta := hfCardMeta{
		Language:       []string{"zh"},
		SizeCategories: []string{hfSizeCategory(total)},
		TaskCategories: []string{"text-generation"},
		Tags:           []string{"medical"},
		PrettyName:     "chimed Chinese medical training data",
		Configs:        configs,
	}
	if len(licenseList) == 1 {
		meta.License = licenseList[0]
	} else {
		meta.License = licenseList
	}
	if slices.Contains(exported, schemas.StageSFT) {
		meta.TaskCategories = append(meta.TaskCategories, "question-answering")
	}
	for _, hs := range written {
		meta.Tags = append(meta.Tags, string(hs.stage))
	}
	front, err := yaml.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("export hf README.md: %w", err)
	}
	return front, nil
}

// hfCardRows writes the card's table of rows (and tokens, from the
// manifest when there is one) per stage split.
func hfCardRows(b *strings.Builder, written []hfStage, m *stages.Manifest) {
	b.WriteString("## Rows\n\n")
	if m != nil {
		fmt.Fprintf(b, "From `stages/manifest.json` (chimed %s, seed %d, chimed.yaml sha256 `%s`, leakage check %s). Tokens count %s.\n\n",
			m.Version, m.Seed, m.ConfigSHA256, cmp.Or(m.LeakageCheck, "not recorded"), cmp.Or(m.Tokens, "chars"))
		b.WriteString("| stage | split | rows | tokens |\n| --- | --- | ---: | ---: |\n")
	} else {
		b.WriteString("| stage | split | rows |\n| --- | --- | ---: |\n")
	}
	for _, hs := range written {
		for _, sp := range hs.splits {
			if m != nil {
				fmt.Fprintf(b, "| %s | %s | %d | %d |\n", hs.stage, sp.name, sp.rows, splitCount(m, hs.stage, sp.name).Tokens)
			} else {
				fmt.Fprintf(b, "| %s | %s | %d |\n", hs.stage, sp.name, sp.rows)
			}
		}
	}
}

// hfCardSources writes the card's provenance table: every source with its
// licence and the rows it gave each exported stage.
func hfCardSources(b *strings.Builder, written []hfStage, prov hfProvenance) {
	m, srcs := prov.manifest, prov.sources
	var exported []schemas.Stage
	for _, hs := range written {
		exported = append(exported, hs.stage)
	}
	b.WriteString("\n## Sources\n\nWhere each row came from, under which licence, and how many rows it gave each stage")
	if m == nil {
		b.WriteString(" (not known: no manifest)")
	}
	b.WriteString(". Evaluation sources are held out of every stage.\n\n| source | kind | role | license | url |")
	for _, st := range exported {
		fmt.Fprintf(b, " %s |", st)
	}
	b.WriteString("\n| --- | --- | --- | --- | --- |" + strings.Repeat(" ---: |", len(exported)) + "\n")
	for _, s := range srcs {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |", mdCell(s.name), mdCell(s.kind), mdCell(s.role),
			mdCell(cmp.Or(s.license, "unknown")), mdCell(s.url))
		for _, st := range exported {
			switch {
			case m == nil:
				b.WriteString(" |")
			case s.eval:
				b.WriteString(" held out |")
			default:
				fmt.Fprintf(b, " %d |", s.rows[st])
			}
		}
		b.WriteString("\n")
	}
	if slices.ContainsFunc(srcs, func(s hfCardSource) bool { return s.license == "" && !s.eval }) {
		b.WriteString("\nA source without a `license:` key in chimed.yaml is listed as unknown; check its terms before you publish this dataset.\n")
	}
}

// mdCell makes s safe inside a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}
