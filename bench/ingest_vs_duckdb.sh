#!/usr/bin/env bash
# Times chimed ingest against DuckDB on the same JSON Lines file, in one run:
# DuckDB's read_json_auto → zstd Parquet on 2 threads (bench/duckdb_ingest.js)
# and `chimed ingest` of a workspace holding only that file's source, taken
# alternately RUNS times so the machine's drift hits both alike. Prints each
# run, the medians and chimed's throughput as a ratio of DuckDB's.
#
#   bench/ingest_vs_duckdb.sh CHIMED WORKSPACE DUCKDB_CACHE [RUNS]
#
# WORKSPACE is a `chimed demo --scale` workspace; its largest uncompressed
# .jsonl file is the one timed. DUCKDB_CACHE is where npm installs
# @duckdb/node-api (its libduckdb comes in @duckdb/node-bindings-linux-x64);
# it is installed there when missing, and the script fails if it cannot be.
set -euo pipefail

chimed=$(realpath "$1")
ws=$(realpath "$2")
cache=$3
runs=${4:-3}
here=$(dirname "$(realpath "$0")")

die() { echo "bench-ingest-duckdb: $*" >&2; exit 1; }

[ -x "$chimed" ] || die "$chimed is not an executable"
[ -f "$ws/chimed.yaml" ] || die "$ws has no chimed.yaml"

if [ ! -d "$cache/node_modules/@duckdb/node-api" ]; then
	command -v npm >/dev/null || die "npm is not installed (apt-get install npm): no DuckDB, no ratio"
	mkdir -p "$cache"
	npm install --no-audit --no-fund --prefix "$cache" @duckdb/node-api >&2 ||
		die "npm install @duckdb/node-api into $cache failed: no DuckDB, no ratio"
fi
cache=$(realpath "$cache")
export NODE_PATH=$cache/node_modules
node -e "require('@duckdb/node-api')" 2>/dev/null ||
	die "DuckDB does not load from $cache (remove it to install again): no ratio"

# The largest uncompressed JSON Lines file, and the source that reads it.
file=$(find "$ws/raw" -type f -name '*.jsonl' -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
[ -n "$file" ] || die "$ws/raw holds no .jsonl file"
rel=${file#"$ws"/}
src=$(awk -v rel="\"$rel\"" '
	/^  - name:/ { if (found) exit; block = ""; in_source = 1 }
	/^[^ #]/ { if (found) exit; in_source = 0 }
	in_source { block = block $0 "\n"; if (index($0, rel)) found = 1 }
	END { if (found) printf "%s", block }' "$ws/chimed.yaml")
[ -n "$src" ] || die "no source of $ws/chimed.yaml reads $rel"

work=$cache/bench-ingest
rm -rf "$work"
mkdir -p "$work/ws"
trap 'rm -rf "$work"' EXIT
{
	echo "version: 1"
	echo "sources:"
	printf '%s\n' "$src" | sed "s|\"$rel\"|\"$file\"|"
} >"$work/ws/chimed.yaml"

bytes=$(stat -c %s "$file")
cat "$file" >/dev/null # the page cache holds it for both alike
echo "file: $rel ($(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }')), $runs alternating runs each, $(nproc) cores"

# timed CMD... runs CMD under /usr/bin/time and prints "wall cpu rss_kib".
timed() {
	/usr/bin/env time -f '%e %U %S %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
		cat "$work/err" >&2
		die "$1 failed"
	}
	awk '{ print $1, $2 + $3, $4 }' "$work/time"
}

: >"$work/duckdb"
: >"$work/chimed"
for i in $(seq "$runs"); do
	t=$(timed node "$here/duckdb_ingest.js" "$file" "$work/duckdb.parquet")
	grep -q '^rows=[1-9]' "$work/out" || die "DuckDB wrote no row: $(cat "$work/out")"
	echo "$t" >>"$work/duckdb"
	t=$(timed "$chimed" -q -w "$work/ws" ingest)
	written=$(grep -o '"written": *[0-9]*' "$work/ws/reports/ingest.json" | tail -1 | grep -o '[0-9]*$')
	[ "${written:-0}" -gt 0 ] || die "chimed ingest wrote no row"
	echo "$t" >>"$work/chimed"
	echo "  run $i: DuckDB $(cut -d' ' -f1 <(tail -1 "$work/duckdb")) s, chimed $(cut -d' ' -f1 <(tail -1 "$work/chimed")) s"
done

# median COLUMN FILE
median() { cut -d' ' -f"$1" "$2" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
report() {
	awk -v name="$1" -v b="$bytes" -v w="$(median 1 "$2")" -v c="$(median 2 "$2")" -v m="$(median 3 "$2")" 'BEGIN {
		printf "%-7s %6.2f s wall = %6.1f MB/s; CPU %6.2f s = %6.1f MB/s per CPU-second; peak RSS %4.0f MiB\n", name, w, b / 1e6 / w, c, b / 1e6 / c, m / 1024 }'
}
echo "medians:"
report DuckDB "$work/duckdb"
report chimed "$work/chimed"
awk -v dw="$(median 1 "$work/duckdb")" -v cw="$(median 1 "$work/chimed")" -v dc="$(median 2 "$work/duckdb")" -v cc="$(median 2 "$work/chimed")" 'BEGIN {
	printf "chimed/DuckDB throughput: %.2f× (wall), %.2f× (per CPU-second)\n", dw / cw, dc / cc }'
