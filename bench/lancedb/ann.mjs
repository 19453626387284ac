// LanceDB vector search on .fvecs files: the ANN peer bench/ann_bench runs in the same run (it
// spawns this script through bench/ann/lance_runner.h).
//
//   node ann.mjs build DBDIR BASE.fvecs METRIC INDEX
//       METRIC l2|cosine|dot; INDEX ivf_hnsw_sq|ivf_pq|none
//       -> {"rows", "ingest_seconds", "index_seconds", "disk_bytes", "index_bytes"}
//   node ann.mjs search DBDIR QUERIES.fvecs K PARAMS CONCURRENCY OUT.ivecs
//       PARAMS: JSON, e.g. {"nprobes": 20, "ef": 64, "refine": 1}; a key left out keeps
//       LanceDB's default (nprobes 20; ef 1.5 * K * refine; no refine step); "warmup": N runs
//       the first N queries once, untimed, before the loop (default 1)
//       -> {"seconds": S}; OUT.ivecs holds K ids per query, -1 padded
//   node ann.mjs ingest DBDIR BASE.fvecs PAYLOAD.bin METRIC INDEX CHUNK
//       bench/storage_bench's peer: the rows of BASE with a payload per row (PAYLOAD.bin: two
//       little-endian uint32 per row, tag and n) into columns "tag" (utf8 "t<tag>") and "n"
//       (int32), added CHUNK rows per createTable/add call while the file is read CHUNK rows at a
//       time (a 10M-row file does not fit one Node buffer); then the vector index (INDEX, with
//       LanceDB's partition rule, below) and scalar indexes on tag (bitmap) and n (btree)
//       -> {"rows", "ingest_seconds" (the add calls alone), "index_seconds" (vector index),
//           "scalar_index_seconds", "disk_bytes", "index_bytes", "max_rss_kb" (this process)}
//
// The table has two columns, "id" (int32, the row number in BASE) and "vector"
// (fixed_size_list<float32>[dim]). ingest_seconds covers createTable from the Arrow batch (the
// file is parsed before the clock starts); index_seconds covers createIndex; disk_bytes is the
// size of every file under DBDIR afterwards (data, manifests, index), index_bytes the _indices
// part. "seconds" covers the query loop only: the table is open and the warm-up queries have run.
// One warm-up query loads the whole index of ivf_hnsw_sq (one partition) but only the probed
// partitions of ivf_pq (the others load on first use, inside the loop, as in a fresh server).
//
// Index parameters (LanceDB's recommendations for a table of this size, and the graph
// parameters every engine in ann_bench shares):
//   ivf_hnsw_sq  num_partitions by LanceDB's rule for HNSW, rows * dim / 1.28e9, at least 1 (1
//                for ann_bench's sets and up to 10M x 128; its docs say 1 works well for most tables: each partition is a
//                separate graph, more of them only cut build memory), m 16 (2 * m links on
//                layer 0, as in hnswlib), ef_construction 200, SQ 8 bits.
//   ivf_pq       num_partitions round(sqrt(rows)), num_sub_vectors dim / 16, else dim / 8
//                (LanceDB's defaults; on Fashion-MNIST dim / 8 took 587 s to build against 357 s
//                and reached the same recall up to 0.99 with refine >= 5), 8 bits; kmeans
//                defaults (50 iterations, 256 rows per partition sampled).
//
// Threads: LanceDB reads them from the environment when its pools start, so the caller sets
// them on the command line. LANCE_CPU_THREADS sizes the pool that runs the index search of each
// query (by default the cores this process may use minus LANCE_IO_CORE_RESERVATION = 2, at least
// 1: so 1 on a 2-core machine, and 2 queries in flight would take turns); RAYON_NUM_THREADS the
// index build (kmeans, PQ training, the HNSW graph); TOKIO_WORKER_THREADS the Node binding's
// async runtime (query planning, reads, refine). Local file reads run on tokio's blocking pool,
// which no variable bounds (tens of threads, mostly idle); only taskset bounds the whole process.
import * as lancedb from "@lancedb/lancedb";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

// LanceDB checks `instanceof` against the CommonJS build of apache-arrow it requires; the ES
// module build's classes are distinct, so the table is built with the same CommonJS copy.
const arrow = createRequire(import.meta.url)("apache-arrow");

const kTable = "vectors";
const kMetaFile = "mosaic-ann.json";  // what search needs to know about the build
const now = () => Number(process.hrtime.bigint()) / 1e9;

function die(msg) {
  console.error(`ann.mjs: ${msg}`);
  process.exit(1);
}

// Rows of a .fvecs file (int32 dim, then dim float32, per row) as one Float32Array.
function readFvecs(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 4) die(`${file}: empty`);
  const dim = buf.readInt32LE(0);
  const stride = 4 + 4 * dim;
  if (dim <= 0 || buf.length % stride !== 0)
    die(`${file}: ${buf.length} bytes is not a whole number of ${dim}-dim rows`);
  const rows = buf.length / stride;
  const data = new Float32Array(rows * dim);
  for (let i = 0; i < rows; ++i) {
    const off = i * stride;
    if (buf.readInt32LE(off) !== dim)
      die(`${file}: row ${i} has dim ${buf.readInt32LE(off)}, not ${dim}`);
    const start = buf.byteOffset + off + 4;  // copied: the row need not be 4-byte aligned
    data.set(new Float32Array(buf.buffer.slice(start, start + 4 * dim)), i * dim);
  }
  return { rows, dim, data };
}

function dirBytes(dir) {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return total;
}

function findDir(dir, name) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = path.join(dir, e.name);
    if (e.name === name) return p;
    const found = findDir(p, name);
    if (found) return found;
  }
  return null;
}

function indexConfig(kind, metric, rows, dim) {
  if (kind === "ivf_hnsw_sq") {
    // LanceDB's rule: rows * dim / 1.28e9 partitions (1 up to 10M x 128).
    const numPartitions = Math.max(1, Math.round(rows * dim / 1.28e9));
    return lancedb.Index.hnswSq({ distanceType: metric, numPartitions, m: 16,
                                  efConstruction: 200 });
  }
  if (kind === "ivf_pq") {
    const numPartitions = Math.max(1, Math.round(Math.sqrt(rows)));
    const opts = { distanceType: metric, numPartitions, numBits: 8 };
    if (dim % 16 === 0) opts.numSubVectors = dim / 16;
    else if (dim % 8 === 0) opts.numSubVectors = dim / 8;
    return lancedb.Index.ivfPq(opts);
  }
  return null;
}

async function build(dbdir, baseFile, metric, kind) {
  if (!["l2", "cosine", "dot"].includes(metric))
    die(`metric "${metric}": expected l2, cosine or dot`);
  if (!["ivf_hnsw_sq", "ivf_pq", "none"].includes(kind))
    die(`index "${kind}": expected ivf_hnsw_sq, ivf_pq or none`);
  const { rows, dim, data } = readFvecs(baseFile);
  const ids = Int32Array.from({ length: rows }, (_, i) => i);
  const vecType = new arrow.FixedSizeList(dim, new arrow.Field("item", new arrow.Float32(), true));
  const vectors = arrow.makeData({
    type: vecType, length: rows, nullCount: 0,
    child: arrow.makeData({ type: new arrow.Float32(), length: rows * dim, data }),
  });
  const schema = new arrow.Schema([new arrow.Field("id", new arrow.Int32(), false),
                                   new arrow.Field("vector", vecType, false)]);
  const batch = new arrow.RecordBatch(schema, arrow.makeData({
    type: new arrow.Struct(schema.fields), length: rows, nullCount: 0,
    children: [arrow.makeData({ type: new arrow.Int32(), length: rows, data: ids }), vectors],
  }));
  const input = new arrow.Table(schema, [batch]);

  fs.rmSync(dbdir, { recursive: true, force: true });
  const t0 = now();
  const db = await lancedb.connect(dbdir);
  const table = await db.createTable(kTable, input, { mode: "overwrite" });
  const t1 = now();
  const config = indexConfig(kind, metric, rows, dim);
  if (config) await table.createIndex("vector", { config });
  const t2 = now();
  if (config) {
    const [idx] = await table.listIndices();
    const stats = await table.indexStats(idx.name);
    if (!stats || stats.numIndexedRows !== rows)
      die(`index ${idx.name} covers ${stats?.numIndexedRows} of ${rows} rows`);
  }
  fs.writeFileSync(path.join(dbdir, kMetaFile), JSON.stringify({ metric, index: kind, rows, dim }));
  const indices = findDir(dbdir, "_indices");
  console.log(JSON.stringify({
    rows, ingest_seconds: t1 - t0, index_seconds: t2 - t1,
    disk_bytes: dirBytes(dbdir) - fs.statSync(path.join(dbdir, kMetaFile)).size,
    index_bytes: indices ? dirBytes(indices) : 0,
  }));
}

// Rows [first, first + count) of an open .fvecs file of `dim`-d rows as one Float32Array.
function readFvecsChunk(fd, dim, first, count) {
  const stride = 4 + 4 * dim;
  const buf = new ArrayBuffer(count * stride);
  const got = fs.readSync(fd, new Uint8Array(buf), 0, buf.byteLength, first * stride);
  if (got !== buf.byteLength) die(`short read at row ${first}: ${got} of ${buf.byteLength} bytes`);
  const heads = new DataView(buf);
  const data = new Float32Array(count * dim);
  for (let i = 0; i < count; ++i) {
    if (heads.getInt32(i * stride, true) !== dim) die(`row ${first + i} is not ${dim}-dim`);
    data.set(new Float32Array(buf, i * stride + 4, dim), i * dim);
  }
  return data;
}

async function ingest(dbdir, baseFile, payloadFile, metric, kind, chunkArg) {
  const chunk = Number(chunkArg);
  if (!(chunk >= 1)) die(`bad CHUNK ${chunkArg}`);
  const fd = fs.openSync(baseFile, "r");
  const head = Buffer.alloc(4);
  fs.readSync(fd, head, 0, 4, 0);
  const dim = head.readInt32LE(0);
  const size = fs.fstatSync(fd).size;
  if (dim <= 0 || size % (4 + 4 * dim) !== 0) die(`${baseFile}: not ${dim}-dim rows`);
  const rows = size / (4 + 4 * dim);
  const payload = fs.openSync(payloadFile, "r");
  if (fs.fstatSync(payload).size !== rows * 8) die(`${payloadFile}: not 8 bytes per row`);

  const vecType = new arrow.FixedSizeList(dim, new arrow.Field("item", new arrow.Float32(), true));
  const schema = new arrow.Schema([new arrow.Field("id", new arrow.Int32(), false),
                                   new arrow.Field("vector", vecType, false),
                                   new arrow.Field("tag", new arrow.Utf8(), false),
                                   new arrow.Field("n", new arrow.Int32(), false)]);
  fs.rmSync(dbdir, { recursive: true, force: true });
  const db = await lancedb.connect(dbdir);
  let table = null;
  let ingestSeconds = 0;
  for (let first = 0; first < rows; first += chunk) {
    const count = Math.min(chunk, rows - first);
    const data = readFvecsChunk(fd, dim, first, count);
    const fields = new Uint32Array(count * 2);
    fs.readSync(payload, new Uint8Array(fields.buffer), 0, count * 8, first * 8);
    const ids = Int32Array.from({ length: count }, (_, i) => first + i);
    const tags = arrow.vectorFromArray(Array.from({ length: count }, (_, i) => `t${fields[2 * i]}`),
                                       new arrow.Utf8());
    const ns = Int32Array.from({ length: count }, (_, i) => fields[2 * i + 1]);
    const batch = new arrow.RecordBatch(schema, arrow.makeData({
      type: new arrow.Struct(schema.fields), length: count, nullCount: 0,
      children: [
        arrow.makeData({ type: new arrow.Int32(), length: count, data: ids }),
        arrow.makeData({ type: vecType, length: count, nullCount: 0,
                         child: arrow.makeData({ type: new arrow.Float32(), length: count * dim, data }) }),
        tags.data[0],
        arrow.makeData({ type: new arrow.Int32(), length: count, data: ns }),
      ],
    }));
    const input = new arrow.Table(schema, [batch]);
    const t0 = now();
    if (table === null) table = await db.createTable(kTable, input, { mode: "overwrite" });
    else await table.add(input);
    ingestSeconds += now() - t0;
    console.error(`ann.mjs ingest: ${first + count}/${rows} rows, ${ingestSeconds.toFixed(1)} s in add`);
  }
  const t1 = now();
  await table.createIndex("vector", { config: indexConfig(kind, metric, rows, dim) });
  const t2 = now();
  await table.createIndex("tag", { config: lancedb.Index.bitmap() });
  await table.createIndex("n", { config: lancedb.Index.btree() });
  const t3 = now();
  const stats = await table.indexStats((await table.listIndices()).find((i) => i.columns[0] === "vector").name);
  if (!stats || stats.numIndexedRows !== rows)
    die(`the vector index covers ${stats?.numIndexedRows} of ${rows} rows`);
  fs.writeFileSync(path.join(dbdir, kMetaFile), JSON.stringify({ metric, index: kind, rows, dim }));
  const indices = findDir(dbdir, "_indices");
  console.log(JSON.stringify({
    rows, ingest_seconds: ingestSeconds, index_seconds: t2 - t1, scalar_index_seconds: t3 - t2,
    disk_bytes: dirBytes(dbdir) - fs.statSync(path.join(dbdir, kMetaFile)).size,
    index_bytes: indices ? dirBytes(indices) : 0,
    max_rss_kb: process.resourceUsage().maxRSS,
  }));
}

async function search(dbdir, queryFile, kArg, paramsArg, concArg, outFile) {
  const k = Number(kArg), concurrency = Number(concArg);
  if (!(k >= 1) || !(concurrency >= 1)) die(`bad K ${kArg} or CONCURRENCY ${concArg}`);
  let params;
  try {
    params = JSON.parse(paramsArg);
  } catch (e) {
    die(`PARAMS ${paramsArg}: ${e.message}`);
  }
  for (const key of Object.keys(params)) {
    if (!["nprobes", "ef", "refine", "warmup"].includes(key))
      die(`PARAMS ${paramsArg}: unknown key "${key}" (nprobes, ef, refine, warmup)`);
  }
  const meta = JSON.parse(fs.readFileSync(path.join(dbdir, kMetaFile), "utf8"));
  const { rows, dim, data } = readFvecs(queryFile);
  if (dim !== meta.dim) die(`queries have ${dim} dims, the table ${meta.dim}`);

  const db = await lancedb.connect(dbdir);
  const table = await db.openTable(kTable);
  // "_distance" is selected only because LanceDB warns, once per query, when it is not.
  const one = async (i) => {
    let q = table.query().nearestTo(data.subarray(i * dim, (i + 1) * dim)).column("vector")
                 .distanceType(meta.metric).select(["id", "_distance"]).limit(k);
    if (params.nprobes !== undefined) q = q.nprobes(params.nprobes);
    if (params.ef !== undefined) q = q.ef(params.ef);
    if (params.refine) q = q.refineFactor(params.refine);
    const result = await q.toArrow();
    return result.getChild("id").toArray();
  };

  const out = new Int32Array(rows * (k + 1)).fill(-1);
  // Untimed warm-up: the first query opens the index; more of them warm LanceDB's caches and V8.
  const warmup = Math.min(rows, Math.max(1, params.warmup ?? 1));
  for (let i = 0; i < warmup; ++i) await one(i);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < rows; i = next++) {
      const ids = await one(i);
      out.set(ids.subarray(0, k), i * (k + 1) + 1);
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: Math.min(concurrency, rows) }, worker));
  const seconds = now() - t0;
  for (let i = 0; i < rows; ++i) out[i * (k + 1)] = k;
  fs.writeFileSync(outFile, new Uint8Array(out.buffer));
  console.log(JSON.stringify({ seconds }));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "build" && args.length === 4) await build(...args);
else if (mode === "search" && args.length === 6) await search(...args);
else if (mode === "ingest" && args.length === 6) await ingest(...args);
else {
  console.error("usage: node ann.mjs build DBDIR BASE.fvecs l2|cosine|dot INDEX\n" +
                "         INDEX: ivf_hnsw_sq|ivf_pq|none\n" +
                "       node ann.mjs search DBDIR QUERIES.fvecs K PARAMS CONCURRENCY OUT.ivecs\n" +
                "       node ann.mjs ingest DBDIR BASE.fvecs PAYLOAD.bin l2|cosine|dot INDEX CHUNK");
  process.exit(2);
}
