// Package dedup finds the rows that repeat others: canonical keys for
// exact dedup, MinHash signatures and LSH for near-dedup, and the eval
// n-gram index for decontamination. It knows records (schemas) but no
// files: clean's engine streams rows through it.
//
// # Canonical text
//
// Keys, shingles and decontamination n-grams are computed on the stored
// (NFC) text folded with NFKC and lower-cased (FoldFields), where folding
// "，" and ",", "１" and "1", "㎎" and "mg" together is wanted. The canonical
// key (CanonKey) keeps letters and digits only, so rows that differ only in
// punctuation or spacing are exact duplicates; shingles keep punctuation,
// which is context in Chinese.
//
// # Near-dedup in four phases
//
// Near-dedup is four phases with a narrow result between each, so that a
// sharded run can do each phase per shard and merge only the results:
//
//  1. Signatures: MinHasher turns each row's shingles into a signature and
//     its band keys (Signature, BandKeys). Rows are independent.
//  2. Candidate pairs: LSHIndex collects (band key, row ordinal) entries,
//     8 bytes per band per row; BandPairs turns one band's entries into
//     pairs, Candidates does every band and merges them.
//  3. Clusters: Clusterer verifies each pair by the exact Jaccard of the
//     two rows' shingle sets, in row order, and joins rows with union-find
//     (the earliest row of a group is its root).
//  4. Filtering: Clusters says for each row whether it is a near
//     duplicate, and of which row, and its cluster's root.
//
// # Decontamination
//
// EvalIndex holds the hashes of every n-character window of canonical
// eval text; a training row whose probe text (ProbeKeyIndex) shares one is
// contaminated.
package dedup
