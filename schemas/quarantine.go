package schemas

// QuarantineRow is one raw record ingest could not read or map, kept in
// quarantine/ with where it was and why, so nothing is lost silently.
// Line is 1-based (0 where lines mean nothing, as in XLSX); Row is the
// record's 0-based ordinal in its file, counting broken records; Offset is
// its byte offset in the decoded file (-1 when unknown). Raw is the
// record's source text, truncated to a few KiB.
type QuarantineRow struct {
	Source string `parquet:"source" json:"source"`
	Kind   string `parquet:"kind" json:"kind"`
	File   string `parquet:"file" json:"file"`
	Line   int64  `parquet:"line" json:"line"`
	Row    int64  `parquet:"row" json:"row"`
	Offset int64  `parquet:"offset" json:"offset"`
	Error  string `parquet:"error" json:"error"`
	Raw    string `parquet:"raw" json:"raw"`
}
