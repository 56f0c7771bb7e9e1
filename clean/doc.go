// Package clean turns normalized records into clean ones: normalisation,
// PII masking, quality filters, exact and near-duplicate removal and
// decontamination against the evaluation sets. Every removed row goes to
// removed/<source>-NNNNN.parquet with its reason, the detail of what it
// matched and the whole row as read; reports/clean.json counts, per source,
// in = kept + Σ removed, from the same counters the code decides with.
//
// # Layout
//
// The package is three parts, and dedup is a fourth, its own package:
//
//   - Components (norm_*.go, pii.go, filter_*.go): one normaliser or
//     filter per file, each with its own fast path.
//   - Their contract (component.go, profile.go): the Normaliser and Filter
//     interfaces, the registry, and Profile, one pass over a value that
//     tells every component whether it has anything to do.
//   - The engine (engine*.go): Run, the three passes over the rows, the
//     staging codec, the ordered worker pool, the writers of clean/ and
//     removed/, and the finisher; report.go and evalcheck.go write and
//     check reports/clean.json.
//   - Package dedup: canonical keys, MinHash, LSH, near-duplicate
//     clustering and the decontamination index, which the engine calls.
//   - Sharded clean (shard*.go): the same passes as array tasks over a
//     shuffle folder of files (ShardScan, ShardDedup, ShardFilter,
//     ShardMerge), writing the bytes Run writes.
//
// # Components
//
// Normalisers (rewrite a field, count the rewrite) and filters (return a
// removal reason or keep) are small interfaces, one implementation per
// file, registered by name; chimed.yaml's clean.steps lists which run, in
// what order, on which kinds and with what settings (see Config). Default
// order: html, invisible, unicode, width, whitespace, wrappers, signoffs,
// pii; then length, cjk_ratio, repetition, answer_ratio, dialogue_roles,
// exam_answer. Adding one is adding a file that calls register in init.
//
// Most values need nothing from most normalisers, and deciding that cost
// each of them a decode of the value. So the engine profiles a value once
// (ProfileText: rune counts, the union of its runes' classes, where its
// spaces and line feeds stand) and asks each component that implements
// the optional Skipper interface whether it can skip it; a filter that
// implements ProfiledFilter decides from the Profiles. A component that
// needs a class of runes of its own defines it with NewRuneClass in its
// own file (the invisible, unicode, width, whitespace and pii normalisers
// do), so the profile grows no per-component flag. The profile is made
// again only after a normaliser has rewritten the value; each component's
// tests hold its CanSkip to its own check (TestProfileMatchesComponents,
// FuzzProfileText).
//
// # Normalisers never cut a sentence
//
// A normaliser that removes text removes a whole wrapper ("<s>", "问：", a
// dangling "答：" that stands apart) or a whole sign-off: the last sentence
// of an answer when every clause of it is one ("祝您早日康复！"), or
// sign-off clauses at the end of a sentence, whose comma then becomes "。".
// Advice to see a doctor is not a sign-off ("有任何不适或疑问，都可以随时咨询
// 医生。" stays whole), and a field is never emptied. The sign-off rules are
// on signoffNormaliser; TestNormalisersNeverCutOnSharedCorpus checks every
// normaliser's rewrites of every text value in the public samples.
//
// # PII
//
// The pii normaliser replaces personal data with a typed placeholder:
// e-mail addresses [EMAIL]; URLs [URL]; passport numbers, QQ numbers and
// WeChat ids where marked ("护照号", "QQ：", "微信号", "vx") [PASSPORT], [QQ],
// [WECHAT]; resident ID numbers with a valid date and check character [ID];
// card numbers of 16 to 19 digits with an issuer's prefix that pass Luhn
// [BANKCARD]; mobile numbers, landlines with an area code and extension,
// and 7–8 digit local numbers where marked ("电话：") [PHONE]; IPv4
// addresses where an address is meant [IP]. Numbers that fail validation,
// touch other digits, letters or a decimal point, or carry a unit stay:
// doses, dates, lab values, record numbers. piiMasker lists each rule;
// pii_truth_test.go measures recall and false masks per type.
//
// # Unicode forms
//
// Stored text is NFC (golang.org/x/text/unicode/norm): canonical
// composition only. NFKC is not applied to stored text because it folds the
// full-width Chinese punctuation the corpus keeps ("，" → ",", "：" → ":") and
// "①" → "1", "㎎" → "mg"; width.Narrow is not used either ("。" → "｡").
// Full-width ASCII letters and digits alone are narrowed, rune by rune.
// Dedup keys, shingles and decontamination n-grams (package dedup) are
// computed on NFKC + lower-cased text, where folding those variants
// together is wanted.
//
// # Order, exact dedup and eval rows
//
// Rows are processed in a deterministic order: sources in chimed.yaml order,
// then their part files by name, then rows as ingest wrote them (file, row).
// The first row of a canonical key (text; question+answer; triple; all
// turns; prompt+chosen+rejected; question+options+answer — NFKC-folded,
// letters and digits only) is kept, later ones are removed as "duplicate"
// with the kept row's id. The index holds 16 bytes of key and id per row
// (plus Go map overhead).
//
// Eval rows (sources with role: eval) go through normalisation and PII
// masking, are deduplicated only among themselves (a separate key
// namespace, so a training copy can never make an eval row disappear), are
// never removed as contaminated, and are what training rows are checked
// against.
//
// # Decontamination
//
// Every training row whose probe text (question, document text, user turns,
// prompt) shares a 13-character window of folded text (letters and digits
// only, so punctuation and wrapping do not hide it) with an eval question
// (exam, or eval QA; eval answers too with decontaminate.answers) is removed
// as "contaminated" with the matched eval row's id. Eval questions shorter
// than the window are searched for whole (from 6 characters).
//
// # Near-dedup
//
// MinHash LSH over character 5-gram shingles of the row's key fields
// (near_dedup.shingle, ngram, bands and rows; package dedup says how, and
// why those settings). Candidate pairs are verified by exact Jaccard of
// the shingle sets: J ≥ 0.8 (near_dedup.threshold) removes the later row as
// "near_duplicate" (detail: the kept row's id); J ≥ 0.6
// (cluster_threshold) only joins the rows into one cluster. A cluster's
// root is its earliest row, which is always kept; every clean row's
// cluster column holds its root's id (its own id when alone), so
// build-stages can keep a cluster in one split. KG triples are left to
// exact dedup (near_dedup.kinds).
//
// Memory: the LSH index costs a fixed 8 bytes per band per row — 128 bytes
// for 16 bands — plus 16 bytes per row of exact-dedup index. Once the index
// has become candidate pairs, verification keeps 60 bytes per row (see
// dedup.Clusterer; the engine adds the ids of the rows in pairs) and the
// shingle sets of rows in pairs, each only until its last pair is checked.
// On the 1GB demo peak RSS is about 500–540 MiB.
//
// # Passes and crash safety
//
// Pass 1 streams normalized/ through a pool of workers (order preserved,
// at most 2×workers batches in flight), writes removals, and stages the
// survivors (engine_stage.go: one frame per batch, encoded by its worker, with the
// values as read of the fields normalisation rewrote, so a removed row's
// JSON is made only for rows that are removed); pass 2 re-reads the staged
// frames, the workers decode them and shingle the rows in candidate pairs,
// and the pairs are verified in row order; pass 3 has the workers decode
// the frames again and writes clean/<kind>/<source>-NNNNN.parquet (each
// source from its own goroutine) and the near duplicates. Without
// near-dedup, pass 1 writes clean/ directly. A kind's pass 3 (or, without
// near-dedup, the end of its writes) runs beside later kinds' passes 1
// and 2: these last passes run one at a time, in kind order, in a
// goroutine of their own (finisher, engine_finisher.go), and a later kind's first row
// of a source still being written waits for it, so the files are the same
// bytes as a serial run gives (the tests compare the two). Within pass 1 a
// text value is profiled once for the components that only look at it
// (profile.go), and a
// row's key fields are folded once for its dedup key, eval probes and
// shingles. removed/ is written in row groups of 256 rows. Every part
// file is written atomically; a run starts by deleting clean/, removed/ and
// reports/clean.json, so a re-run after a kill gives the same bytes.
package clean
