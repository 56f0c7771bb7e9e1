// Reads every Parquet file named on the command line with DuckDB
// (npm @duckdb/node-api) and prints, as JSON, each file's row count and,
// for every list column, the number of list elements and of elements whose
// first struct field is not null (which makes DuckDB decode the structs).
// Used by export/duckdb_test.go; run with NODE_PATH=<dir>/node_modules.
const { DuckDBInstance } = require('@duckdb/node-api');

function quote(s) { return "'" + s.replace(/'/g, "''") + "'"; }
function ident(s) { return '"' + s.replace(/"/g, '""') + '"'; }

async function main() {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const out = {};
  for (const file of process.argv.slice(2)) {
    const src = 'read_parquet(' + quote(file) + ')';
    const n = (await conn.runAndReadAll('SELECT count(*) AS n FROM ' + src)).getRowsJson()[0][0];
    const cols = (await conn.runAndReadAll('DESCRIBE SELECT * FROM ' + src)).getRowObjectsJson();
    const lists = {};
    for (const c of cols) {
      const type = String(c.column_type);
      if (!type.endsWith('[]')) continue;
      const m = type.match(/^STRUCT\("?([A-Za-z_][A-Za-z0-9_]*)"?\s/);
      let sql = 'SELECT coalesce(sum(len(' + ident(c.column_name) + ')), 0)';
      if (m) {
        sql += ', coalesce(sum(len(list_filter(' + ident(c.column_name) + ', x -> x.' + ident(m[1]) + ' IS NOT NULL))), 0)';
      } else {
        sql += ', coalesce(sum(len(' + ident(c.column_name) + ')), 0)';
      }
      const r = (await conn.runAndReadAll(sql + ' FROM ' + src)).getRowsJson()[0];
      lists[c.column_name] = { elements: Number(r[0]), struct_fields_read: Number(r[1]), type: type };
    }
    out[file] = { rows: Number(n), lists: lists };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
