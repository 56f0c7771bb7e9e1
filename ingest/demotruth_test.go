package ingest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chimed/chimed/config"
	"github.com/chimed/chimed/demo"
	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// TestDemoTruth ingests the default demo workspace and checks the report
// and the quarantine against demo-truth.json: every source reads its
// records, quarantines exactly its planted broken ones at the right place,
// and read = written + quarantined wherever a record gives one row.
func TestDemoTruth(t *testing.T) {
	ws := t.TempDir()
	truth, err := demo.Generate(ws, demo.Options{Seed: demo.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(ws)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ingest.Run(context.Background(), workspace.Dir(ws), cfg.Sources, ingest.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fanOut := map[string]bool{}
	for _, s := range cfg.Sources {
		src, err := ingest.ApplyPreset(s)
		if err != nil {
			t.Fatal(err)
		}
		fanOut[s.Name] = src.Map.Each != "" || len(src.Map.Relations) > 0
	}
	for _, st := range truth.Sources {
		got, ok := rep.Sources[st.Name]
		if !ok {
			t.Errorf("%s: not in the report", st.Name)
			continue
		}
		if got.Read != st.Records || got.Quarantined != st.Broken {
			t.Errorf("%s: read %d quarantined %d, truth says %d records, %d broken", st.Name, got.Read, got.Quarantined, st.Records, st.Broken)
		}
		if got.Read != got.RecordsOK+got.Quarantined {
			t.Errorf("%s: read %d != records_ok %d + quarantined %d", st.Name, got.Read, got.RecordsOK, got.Quarantined)
		}
		if !fanOut[st.Name] && got.Read != got.Written+got.Quarantined {
			t.Errorf("%s: read %d != written %d + quarantined %d", st.Name, got.Read, got.Written, got.Quarantined)
		}
	}

	// Every planted broken record is quarantined where the truth says.
	type place struct {
		source, file string
		row          int64
	}
	quarantined := map[place]schemas.QuarantineRow{}
	for _, q := range quarantineRows(t, workspace.Dir(ws)) {
		quarantined[place{q.Source, q.File, q.Row}] = q
	}
	for _, p := range truth.Planted {
		if p.Expect != demo.ExpectQuarantine {
			continue
		}
		q, ok := quarantined[place{p.Source, p.File, p.Row}]
		if !ok {
			t.Errorf("planted %s (%s) at %s row %d was not quarantined", p.What, p.Class, p.File, p.Row)
			continue
		}
		if p.Line > 0 && q.Line != p.Line {
			t.Errorf("planted %s at %s row %d: quarantined at line %d, truth says %d", p.Class, p.File, p.Row, q.Line, p.Line)
		}
		if q.Error == "" {
			t.Errorf("%s row %d: quarantined without an error", p.File, p.Row)
		}
		delete(quarantined, place{p.Source, p.File, p.Row})
	}
	for pl, q := range quarantined {
		t.Errorf("quarantined but not planted: %s", fmt.Sprintf("%s %s row %d: %s", pl.source, pl.file, pl.row, q.Error))
	}
}
