// Reads Arrow IPC stream files with the apache-arrow npm package, an Arrow
// implementation independent of the Go one that wrote them, and prints
// JSON Lines: per file, a header {"file", "rows", "fields"} (each field's
// name, type name, nullability and children, as Arrow JS sees them), then
// each row as a JSON object. Used by TestArrowJSReadsHFExport.
const fs = require("fs");
const { tableFromIPC, Type } = require("apache-arrow");

function describe(field) {
  return {
    name: field.name,
    type: Type[field.type.typeId],
    nullable: field.nullable,
    children: (field.type.children || []).map(describe),
  };
}

// plain turns Arrow JS values (vectors, struct rows) into JSON values.
function plain(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return v.toString();
  if (typeof v !== "object") return v;
  if (typeof v.toArray === "function" && typeof v.length === "number" && !(v instanceof Uint8Array)) {
    return Array.from(v.toArray(), plain);
  }
  if (typeof v.toJSON === "function") v = v.toJSON();
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = plain(x);
  return out;
}

for (const file of process.argv.slice(2)) {
  const table = tableFromIPC(fs.readFileSync(file));
  let out = [JSON.stringify({ file, rows: table.numRows, fields: table.schema.fields.map(describe) })];
  for (const row of table) {
    out.push(JSON.stringify(plain(row)));
    if (out.length >= 1000) { // bounded output buffers for shards of millions of rows
      writeAll(out.join("\n") + "\n");
      out = [];
    }
  }
  if (out.length > 0) writeAll(out.join("\n") + "\n");
}

// writeAll writes s to stdout whole: writeSync on a pipe may write less.
function writeAll(s) {
  const buf = Buffer.from(s);
  for (let off = 0; off < buf.length; ) off += fs.writeSync(1, buf, off);
}
