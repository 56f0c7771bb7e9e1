// Package ingest reads the raw sources named in chimed.yaml — JSONL, JSON,
// CSV/TSV, plain text, XLSX and Parquet, plain or gzip'd, in UTF-8, GBK/GB18030
// or UTF-16 — and streams them as canonical records to normalized/<kind>/,
// sending every record it cannot read to quarantine/ with the file and place
// it broke, and counting both in reports/ingest.json.
package ingest
