package stages

import (
	"strings"

	"github.com/chimed/chimed/internal/workspace"
)

// LineageRow says where one stage or eval row came from: its group key (the
// split key) and the ids of the clean records behind it. Lineage files sit
// beside the stage files, row for row in the same order, so a reader can
// trace any training row back to clean/ and on to the raw file and line in
// the record's meta; CheckLeakage uses them to prove no cluster spans two
// splits.
type LineageRow struct {
	ID      string   `parquet:"id" json:"id"`
	Group   string   `parquet:"group" json:"group"`
	Records []string `parquet:"records,list" json:"records"`
}

// LineagePath is the lineage file of a stage split or eval set, keyed
// "sft/train" or "eval/qa": stages/lineage/sft-train.parquet.
func LineagePath(ws workspace.Dir, key string) string {
	return ws.Path("stages", "lineage", strings.ReplaceAll(key, "/", "-")+".parquet")
}
