// LanceDB full-text search on a BEIR-format corpus: the peer bench/scifact_bench runs in the same
// run (it spawns this script). LanceDB's own FTS defaults, nothing tuned: title and text joined in
// one indexed column, English stemming and stopwords, lowercase, no positions.
//
//   node fts.mjs index DBDIR CORPUS.jsonl          -> {"docs": N, "seconds": S}
//   node fts.mjs query DBDIR QUERIES.txt OUT.json  -> OUT: {"seconds": S, "ranked": [[doc ids]]}
//
// QUERIES.txt has one query a line; "seconds" covers the query loop only (top 100, one at a time).
import * as lancedb from "@lancedb/lancedb";
import fs from "node:fs";

const [mode, dbdir, a, b] = process.argv.slice(2);
const now = () => Number(process.hrtime.bigint()) / 1e9;

if (mode === "index") {
  const rows = fs.readFileSync(a, "utf8").split("\n").filter((l) => l.trim()).map((l) => {
    const d = JSON.parse(l);
    return { id: d._id, all: `${d.title ?? ""}\n${d.text ?? ""}` };
  });
  const t0 = now();
  const db = await lancedb.connect(dbdir);
  const table = await db.createTable("corpus", rows, { mode: "overwrite" });
  await table.createIndex("all", {
    config: lancedb.Index.fts({ withPosition: false, stem: true, removeStopWords: true,
                                lowercase: true, language: "English" }),
  });
  console.log(JSON.stringify({ docs: rows.length, seconds: now() - t0 }));
} else if (mode === "query") {
  const queries = fs.readFileSync(a, "utf8").split("\n");
  if (queries.length && queries[queries.length - 1] === "") queries.pop();
  const db = await lancedb.connect(dbdir);
  const table = await db.openTable("corpus");
  const ranked = [];
  const t0 = now();
  for (const q of queries) {
    const rows = await table.search(q, "fts", "all").select(["id", "_score"]).limit(100).toArray();
    ranked.push(rows.map((r) => r.id));
  }
  const seconds = now() - t0;
  fs.writeFileSync(b, JSON.stringify({ seconds, ranked }));
} else {
  console.error("usage: node fts.mjs index DBDIR CORPUS.jsonl | query DBDIR QUERIES.txt OUT.json");
  process.exit(2);
}
