package schemas

// RemovedRow is one row that clean took out of the corpus, kept whole in
// removed/<source>-NNNNN.parquet so that nothing is lost silently: the
// reason code says why, Detail names what it matched (the eval id for
// "contaminated", the kept row id for "duplicate" and "near_duplicate", the
// field for a length filter) and Record holds the complete row as ingest
// wrote it, as JSON text, so it can be restored or audited.
type RemovedRow struct {
	ID     string `parquet:"id" json:"id"`
	Source string `parquet:"source" json:"source"`
	Kind   string `parquet:"kind" json:"kind"`
	Reason string `parquet:"reason" json:"reason"`
	Detail string `parquet:"detail" json:"detail"`
	Record string `parquet:"record" json:"record"`
}
