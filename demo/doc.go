// Package demo writes chimed's self-made demo workspace: a small medical fact
// base of its own (facts.go) rendered by seeded templates into all six kinds
// of raw data, in the byte-exact shapes of the public corpora chimed's ingest
// presets read — JSONL, JSON arrays, CSV in GBK with quoted newlines, TSV
// triples, plain text, gzip'd JSONL, XLSX — with trouble planted on purpose
// (broken lines, bad bytes, duplicates, PII, eval questions copied into
// training data) and its ground truth written to demo-truth.json (truth.go),
// so that ingest and clean can prove what they catch.
//
// Generation streams: records go straight to their files and only small
// pools of originals (for planting duplicates) stay in memory, so --scale
// 1GB runs in bounded memory. At --scale, training records are composed
// from a far larger space (prose.go, scaled.go), so that, like real text,
// their sentences rarely repeat and they compress about as much.
package demo
