// Converts one JSON Lines file to a zstd Parquet file with DuckDB (npm
// @duckdb/node-api) on 2 threads: the reference `task bench-ingest-duckdb`
// times chimed ingest against. Run with NODE_PATH=<dir>/node_modules:
//   node bench/duckdb_ingest.js in.jsonl out.parquet
// Malformed lines are skipped (ignore_errors), as chimed quarantines them.
// It prints the rows written.
const { DuckDBInstance } = require('@duckdb/node-api');

function quote(s) { return "'" + s.replace(/'/g, "''") + "'"; }

async function main() {
  const [file, out] = process.argv.slice(2);
  if (!file || !out) throw new Error('usage: duckdb_ingest.js in.jsonl out.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run('SET threads=2');
  await conn.run('COPY (SELECT * FROM read_json_auto(' + quote(file) + ', ignore_errors = true)) TO ' + quote(out) +
    ' (FORMAT parquet, COMPRESSION zstd)');
  const n = (await conn.runAndReadAll('SELECT count(*) FROM read_parquet(' + quote(out) + ')')).getRowsJson()[0][0];
  process.stdout.write('rows=' + n + '\n');
}

main().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
