// Drives Mosaic's Qdrant-compatible API through Qdrant's official JS client and checks every answer
// against brute force computed here. Usage: MOSAIC_URL=http://127.0.0.1:PORT node
// --harmony-json-parse-with-source scenario.mjs (the flag lets the client carry 64-bit ids as
// BigInt, so ids up to 2^64-1 round-trip exactly). Prints one line per check and "N passed, M
// failed"; exits non-zero on any failure.
import { QdrantClient } from '@qdrant/js-client-rest';

const url = process.env.MOSAIC_URL;
if (!url) {
  console.error('MOSAIC_URL is not set');
  process.exit(2);
}
const EXACT_INTS = 'rawJSON' in JSON; // the client then sends and reads unsafe integers as BigInt

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) {
    passed++;
    console.log(`ok - ${name}`);
  } else {
    failed++;
    console.log(`FAIL - ${name}${detail ? ': ' + detail : ''}`);
  }
}
async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    failed++;
    const data = e?.data ? ' ' + JSON.stringify(e.data, (k, v) => (typeof v === 'bigint' ? String(v) : v)) : '';
    console.log(`FAIL - ${name}: threw ${e?.constructor?.name} ${e?.status ?? ''} ${e?.message ?? e}${data}`);
  }
}
async function expectStatus(name, promise, status, messagePart) {
  try {
    await promise;
    check(name, false, `expected an error with HTTP ${status}, got success`);
  } catch (e) {
    const msg = e?.data?.status?.error ?? '';
    const okMsg = messagePart === undefined || msg.includes(messagePart);
    check(name, e?.status === status && okMsg, `got HTTP ${e?.status}, error ${JSON.stringify(msg)}`);
  }
}

// --- deterministic data -------------------------------------------------------------------------

function mulberry32(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(20240607);
const randInt = (n) => Math.floor(rand() * n);
const pick = (arr) => arr[randInt(arr.length)];
const randVec = (dim) => Array.from({ length: dim }, () => rand() * 2 - 1);
function uuid() {
  const h = () => randInt(16).toString(16);
  let s = '';
  for (let i = 0; i < 32; i++) s += h();
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-a${s.slice(17, 20)}-${s.slice(20)}`;
}

// A canonical key for an id as the server returns it: integers (Number or BigInt) by value, UUIDs
// lower-case.
const key = (id) => (typeof id === 'string' ? 's:' + id.toLowerCase() : 'n:' + String(id));

const COLORS = ['red', 'green', 'blue', 'yellow'];
const WORDS = ['apple', 'banana', 'cherry', 'grape', 'lemon', 'mango', 'peach', 'plum'];
function makePayload(i) {
  const p = {
    color: pick(COLORS),
    price: Math.round(rand() * 10000) / 100,
    count: randInt(21),
    tags: ['a', 'b', 'c', 'd'].filter(() => rand() < 0.4),
    group: randInt(10),
    created: new Date(Date.UTC(2024, 0, 1) + randInt(365) * 86400000 + randInt(86400) * 1000).toISOString(),
    title: Array.from({ length: 3 }, () => pick(WORDS)).join(' '),
    nested: { level: randInt(4) },
    items: Array.from({ length: randInt(3) }, () => ({ kind: pick(['x', 'y', 'z']), n: randInt(5) })),
    flag: rand() < 0.5,
  };
  const note = i % 5;
  if (note === 1) p.note = null;
  else if (note === 2) p.note = [];
  else if (note === 3) p.note = 'hello';
  return p;
}

const DIM = 8;
const BIG_IDS = EXACT_INTS
  ? [2n ** 64n - 1n, 2n ** 63n, 2n ** 63n + 12345n, 9007199254740993n, 2n ** 64n - 2n]
  : [2 ** 63, 2 ** 64 - 2048, 2 ** 53 + 2, 2 ** 60 + 4096, 2 ** 62];
const plainPoints = [];
for (let i = 0; i < 300; i++) {
  let id;
  if (i < 200) id = i * 3;
  else if (i < 260) id = i % 2 ? uuid().toUpperCase() : uuid();
  else if (i - 260 < BIG_IDS.length) id = BIG_IDS[i - 260];
  else id = EXACT_INTS ? 2n ** 62n + BigInt(i) * 7n : 2 ** 62 + i * 1024;
  plainPoints.push({ id, vector: randVec(DIM), payload: makePayload(i) });
}
const multiPoints = [];
for (let i = 0; i < 200; i++)
  multiPoints.push({ id: 1000 + i, img: randVec(6), txt: randVec(5), payload: makePayload(i) });

// --- brute force --------------------------------------------------------------------------------

const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
const norm = (a) => Math.sqrt(dot(a, a));
const unit = (a) => a.map((x) => x / norm(a));
const euclid = (a, b) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0));
const METRICS = {
  Cosine: { score: (q, v) => dot(unit(q), unit(v)), higher: true },
  Dot: { score: dot, higher: true },
  Euclid: { score: euclid, higher: false },
};
// Points ranked by `metric` against q: [{id, score, p}].
function rank(points, getVec, q, metric, filter = () => true, exclude = new Set()) {
  const m = METRICS[metric];
  return points
    .filter((p) => filter(p) && !exclude.has(key(p.id)))
    .map((p) => ({ id: p.id, score: m.score(q, getVec(p)), p }))
    .sort((a, b) => (m.higher ? b.score - a.score : a.score - b.score));
}
function sameHits(name, got, want, tol = 1e-4) {
  const g = got.map((h) => `${key(h.id)}@${h.score.toFixed(4)}`);
  const w = want.map((h) => `${key(h.id)}@${h.score.toFixed(4)}`);
  let ok = got.length === want.length;
  for (let i = 0; ok && i < got.length; i++)
    ok = key(got[i].id) === key(want[i].id) && Math.abs(got[i].score - want[i].score) <= tol;
  check(name, ok, ok ? '' : `got ${g.slice(0, 6).join(' ')} want ${w.slice(0, 6).join(' ')}`);
}
// For fusions, where equal scores may come in any order: each hit's score is the brute-force score
// of its id, and the scores are the brute-force top scores.
function sameFused(name, got, wantScores, tol = 1e-5) {
  const sorted = [...wantScores.values()].sort((a, b) => b - a).slice(0, got.length);
  let ok = got.length === Math.min(sorted.length, got.length) && got.length > 0;
  let detail = '';
  for (let i = 0; ok && i < got.length; i++) {
    const w = wantScores.get(key(got[i].id));
    ok = w !== undefined && Math.abs(w - got[i].score) <= tol && Math.abs(sorted[i] - got[i].score) <= tol;
    if (!ok) detail = `hit ${i}: id ${key(got[i].id)} score ${got[i].score}, want ${w} (rank score ${sorted[i]})`;
  }
  check(name, ok, detail);
}
const sameIdSet = (a, b) => a.length === b.length && a.map(key).sort().join() === b.map(key).sort().join();
const plainById = new Map(plainPoints.map((p) => [key(p.id), p]));

// --- the scenario -------------------------------------------------------------------------------

const warnings = [];
const origWarn = console.warn;
console.warn = (...args) => warnings.push(args.join(' '));
const client = new QdrantClient({ url, checkCompatibility: true });
const P = 'qdrant_plain';
const M = 'qdrant_multi';

await step('service', async () => {
  const root = await client.versionInfo();
  check('GET / greets as Qdrant with a compatible version', root.title === 'qdrant - vector search engine' && /^1\.\d+\.\d+$/.test(root.version), JSON.stringify(root));
  for (const path of ['/healthz', '/livez', '/readyz']) {
    const res = await fetch(url + path);
    check(`GET ${path}`, res.status === 200, `HTTP ${res.status}`);
  }
  const telemetry = (await client.api().telemetry({})).data.result;
  check('GET /telemetry', typeof telemetry?.app?.version === 'string' && typeof telemetry?.collections?.number_of_collections === 'number', JSON.stringify(telemetry));
});

await step('collections', async () => {
  for (const name of [P, M]) if (await client.collectionExists(name).then((r) => r.exists)) await client.deleteCollection(name);
  check('create an unnamed Cosine collection', (await client.createCollection(P, { vectors: { size: DIM, distance: 'Cosine' }, hnsw_config: { m: 16, ef_construct: 100 } })) === true);
  check('create a named Euclid + Dot collection', (await client.createCollection(M, { vectors: { img: { size: 6, distance: 'Euclid' }, txt: { size: 5, distance: 'Dot' } } })) === true);
  await expectStatus('creating an existing collection fails', client.createCollection(P, { vectors: { size: DIM, distance: 'Cosine' } }), 409, 'already exists');
  await expectStatus('distance Manhattan is refused, naming it', client.createCollection('qdrant_manhattan', { vectors: { size: 4, distance: 'Manhattan' } }), 400, 'Manhattan');
  check('collectionExists', (await client.collectionExists(P)).exists === true && (await client.collectionExists('qdrant_nope')).exists === false);
  const names = (await client.getCollections()).collections.map((c) => c.name);
  check('getCollections lists both', names.includes(P) && names.includes(M), names.join());
  const info = await client.getCollection(P);
  check('getCollection: green, unnamed vector params', info.status === 'green' && info.optimizer_status === 'ok' && info.config.params.vectors.size === DIM && info.config.params.vectors.distance === 'Cosine' && info.config.hnsw_config.m === 16 && info.config.quantization_config === null, JSON.stringify(info.config.params));
  const minfo = await client.getCollection(M);
  check('getCollection: named vector params', minfo.config.params.vectors.img?.distance === 'Euclid' && minfo.config.params.vectors.txt?.size === 5, JSON.stringify(minfo.config.params.vectors));
  check('updateCollection is accepted', (await client.updateCollection(P, { optimizers_config: { indexing_threshold: 20000 } })) === true);
});

await step('upsert', async () => {
  for (let i = 0; i < plainPoints.length; i += 100) {
    const res = await client.upsert(P, { wait: true, points: plainPoints.slice(i, i + 100).map((p) => ({ id: p.id, vector: p.vector, payload: p.payload })) });
    check(`upsert points ${i}..${i + 99}`, res.status === 'completed' && typeof res.operation_id === 'number', JSON.stringify(res));
  }
  const res = await client.upsert(M, { wait: true, batch: { ids: multiPoints.map((p) => p.id), vectors: { img: multiPoints.map((p) => p.img), txt: multiPoints.map((p) => p.txt) }, payloads: multiPoints.map((p) => p.payload) } });
  check('upsert the batch form with named vectors', res.status === 'completed');
  check('points_count', (await client.getCollection(P)).points_count === 300 && (await client.getCollection(M)).points_count === 200);
  check('count (exact)', (await client.count(P, { exact: true })).count === 300);
});

await step('retrieve', async () => {
  const wanted = [plainPoints[0], plainPoints[201], plainPoints[203], ...plainPoints.slice(260, 265)];
  const got = await client.retrieve(P, { ids: wanted.map((p) => p.id), with_payload: true, with_vector: true });
  check('retrieve ints, UUIDs (upper-case in, lower-case out) and 64-bit ids', sameIdSet(got.map((r) => r.id), wanted.map((p) => p.id)) && got.every((r) => typeof r.id !== 'string' || r.id === r.id.toLowerCase()), got.map((r) => String(r.id)).join());
  const byKey = new Map(got.map((r) => [key(r.id), r]));
  let vecOk = true;
  let payloadOk = true;
  for (const p of wanted) {
    const r = byKey.get(key(p.id));
    if (!r) continue;
    const u = unit(p.vector);
    vecOk &&= r.vector.length === DIM && r.vector.every((x, i) => Math.abs(x - u[i]) < 1e-5);
    payloadOk &&= JSON.stringify(r.payload) === JSON.stringify(Object.fromEntries(Object.entries(p.payload).sort()));
  }
  check('retrieved Cosine vectors are normalized, as Qdrant stores them', vecOk);
  check('retrieved payloads', payloadOk);
  if (EXACT_INTS) check('2^64-1 round-trips exactly', got.some((r) => r.id === 2n ** 64n - 1n));
  const one = (await client.api().getPoint({ collection_name: P, id: plainPoints[201].id.toLowerCase() })).data.result;
  check('GET a point by UUID', key(one.id) === key(plainPoints[201].id) && Array.isArray(one.vector));
  const sel = await client.retrieve(P, { ids: [plainPoints[1].id], with_payload: { include: ['color', 'nested.level'] } });
  check('with_payload include', JSON.stringify(sel[0].payload) === JSON.stringify({ color: plainPoints[1].payload.color, nested: { level: plainPoints[1].payload.nested.level } }), JSON.stringify(sel[0].payload));
  const exc = await client.retrieve(P, { ids: [plainPoints[1].id], with_payload: { exclude: ['items', 'title'] } });
  check('with_payload exclude', exc[0].payload.title === undefined && exc[0].payload.color === plainPoints[1].payload.color);
});

// Raw HTTP: the exact decimal text of 2^64-1 in and out, whatever the JS runtime.
await step('64-bit ids over raw HTTP', async () => {
  const put = await fetch(`${url}/collections/${P}/points?wait=true`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: `{"points":[{"id":18446744073709551613,"vector":[${plainPoints[5].vector.join(',')}],"payload":{"raw":true}}]}` });
  check('upsert id 2^64-3 as JSON text', put.status === 200);
  const res = await fetch(`${url}/collections/${P}/points`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ids":[18446744073709551613],"with_payload":true}' });
  const text = await res.text();
  check('retrieve answers the exact digits', text.includes('"id":18446744073709551613'), text.slice(0, 200));
  await fetch(`${url}/collections/${P}/points/delete?wait=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"points":[18446744073709551613]}' });
});

const queries = Array.from({ length: 4 }, () => randVec(DIM));
await step('search', async () => {
  for (const [i, q] of queries.entries()) {
    const got = await client.search(P, { vector: q, limit: 10 });
    sameHits(`search #${i} = brute-force Cosine top 10`, got, rank(plainPoints, (p) => p.vector, q, 'Cosine').slice(0, 10));
  }
  const filter = { must: [{ key: 'color', match: { value: 'red' } }, { key: 'price', range: { gte: 20, lt: 80 } }] };
  const pred = (p) => p.payload.color === 'red' && p.payload.price >= 20 && p.payload.price < 80;
  const got = await client.search(P, { vector: queries[0], limit: 7, filter, with_payload: true });
  sameHits('filtered search', got, rank(plainPoints, (p) => p.vector, queries[0], 'Cosine', pred).slice(0, 7));
  check('search hits carry payloads', got.every((h) => h.payload && h.payload.color === 'red'));
  const off = await client.search(P, { vector: queries[1], limit: 5, offset: 5 });
  sameHits('search offset', off, rank(plainPoints, (p) => p.vector, queries[1], 'Cosine').slice(5, 10));
  const all = rank(plainPoints, (p) => p.vector, queries[2], 'Cosine');
  const th = all[12].score - 1e-6;
  const thr = await client.search(P, { vector: queries[2], limit: 50, score_threshold: th });
  sameHits('score_threshold (similarity)', thr, all.filter((h) => h.score >= th));
  const batch = await client.searchBatch(P, { searches: queries.slice(0, 3).map((q) => ({ vector: q, limit: 4 })) });
  check('searchBatch', batch.length === 3);
  batch.forEach((b, i) => sameHits(`searchBatch #${i}`, b, rank(plainPoints, (p) => p.vector, queries[i], 'Cosine').slice(0, 4)));
  const qe = randVec(6);
  sameHits('named Euclid search: distances ascending', await client.search(M, { vector: { name: 'img', vector: qe }, limit: 8 }), rank(multiPoints, (p) => p.img, qe, 'Euclid').slice(0, 8));
  const qd = randVec(5);
  sameHits('named Dot search', await client.search(M, { vector: { name: 'txt', vector: qd }, limit: 8 }), rank(multiPoints, (p) => p.txt, qd, 'Dot').slice(0, 8));
  const ethr = rank(multiPoints, (p) => p.img, qe, 'Euclid');
  const dmax = ethr[9].score + 1e-6;
  sameHits('score_threshold (Euclid: a maximum distance)', await client.search(M, { vector: { name: 'img', vector: qe }, limit: 50, score_threshold: dmax }), ethr.filter((h) => h.score <= dmax));
});

await step('query', async () => {
  sameHits('query nearest (vector)', (await client.query(P, { query: queries[3], limit: 6 })).points, rank(plainPoints, (p) => p.vector, queries[3], 'Cosine').slice(0, 6));
  const anchor = plainPoints[210];
  const byId = (await client.query(P, { query: anchor.id, limit: 5 })).points;
  sameHits('query by point id (the point itself left out)', byId, rank(plainPoints, (p) => p.vector, anchor.vector, 'Cosine', () => true, new Set([key(anchor.id)])).slice(0, 5));
  const qe = randVec(6);
  sameHits('query using a named Euclid vector', (await client.query(M, { query: { nearest: qe }, using: 'img', limit: 5 })).points, rank(multiPoints, (p) => p.img, qe, 'Euclid').slice(0, 5));
  const wv = (await client.query(M, { query: randVec(5), using: 'txt', limit: 2, with_vector: ['txt'], with_payload: ['color'] })).points;
  check('with_vector by name, with_payload keys', wv.every((h) => Array.isArray(h.vector.txt) && h.vector.img === undefined && Object.keys(h.payload).join() === 'color'), JSON.stringify(wv[0]));
  const batch = await client.queryBatch(P, { searches: [{ query: queries[0], limit: 3 }, { query: queries[1], limit: 2, filter: { must: [{ key: 'group', match: { any: [1, 2, 3] } }] } }] });
  sameHits('queryBatch #0', batch[0].points, rank(plainPoints, (p) => p.vector, queries[0], 'Cosine').slice(0, 3));
  sameHits('queryBatch #1 (match any)', batch[1].points, rank(plainPoints, (p) => p.vector, queries[1], 'Cosine', (p) => [1, 2, 3].includes(p.payload.group)).slice(0, 2));

  // Fusion over two prefetches, against RRF and DBSF computed here over brute-force lists.
  const [qa, qb] = [queries[0], queries[1]];
  const la = rank(plainPoints, (p) => p.vector, qa, 'Cosine').slice(0, 20);
  const lb = rank(plainPoints, (p) => p.vector, qb, 'Cosine', (p) => p.payload.count >= 5).slice(0, 20);
  const prefetch = [{ query: qa, limit: 20 }, { query: qb, limit: 20, filter: { must: [{ key: 'count', range: { gte: 5 } }] } }];
  const rrf = (k) => {
    const s = new Map();
    for (const list of [la, lb]) list.forEach((h, pos) => s.set(key(h.id), (s.get(key(h.id)) ?? 0) + 1 / (k + pos)));
    return s;
  };
  sameFused('fusion rrf k=60 = brute force', (await client.query(P, { prefetch, query: { rrf: { k: 60 } }, limit: 10 })).points, rrf(60));
  sameFused('fusion rrf default (k=2)', (await client.query(P, { prefetch, query: { fusion: 'rrf' }, limit: 10 })).points, rrf(2));
  const dbsf = new Map();
  for (const list of [la, lb]) {
    const xs = list.map((h) => h.score);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    list.forEach((h) => dbsf.set(key(h.id), (dbsf.get(key(h.id)) ?? 0) + (h.score - (mean - 3 * sd)) / (6 * sd)));
  }
  sameFused('fusion dbsf = brute force', (await client.query(P, { prefetch, query: { fusion: 'dbsf' }, limit: 10 })).points, dbsf, 1e-4);

  // order_by: by a payload field, descending, with start_from.
  const ordered = (await client.query(P, { query: { order_by: { key: 'price', direction: 'desc' } }, limit: 12, with_payload: true })).points;
  const wantOrder = [...plainPoints].sort((a, b) => b.payload.price - a.payload.price || (key(a.id) < key(b.id) ? -1 : 1)).slice(0, 12);
  check('query order_by price desc', ordered.map((h) => h.payload.price).join() === wantOrder.map((p) => p.payload.price).join(), ordered.map((h) => h.payload.price).join());

  // Groups: best group_size hits per value of `group`, groups by their best hit.
  const groups = (await client.queryGroups(P, { query: queries[2], group_by: 'group', group_size: 2, limit: 4, with_payload: true })).groups;
  const seen = new Map();
  for (const h of rank(plainPoints, (p) => p.vector, queries[2], 'Cosine')) {
    const g = h.p.payload.group;
    if (!seen.has(g)) seen.set(g, []);
    if (seen.get(g).length < 2) seen.get(g).push(h);
  }
  const wantGroups = [...seen.entries()].slice(0, 4);
  check('queryGroups: group ids in order', groups.map((g) => g.id).join() === wantGroups.map(([g]) => g).join(), `${groups.map((g) => g.id)} vs ${wantGroups.map(([g]) => g)}`);
  groups.forEach((g, i) => wantGroups[i] && sameHits(`queryGroups: group ${g.id} hits`, g.hits, wantGroups[i][1]));
  const sg = (await client.searchPointGroups(P, { vector: queries[2], group_by: 'group', group_size: 2, limit: 4 })).groups;
  check('search/groups', sg.map((g) => g.id).join() === wantGroups.map(([g]) => g).join());
});

await step('recommend', async () => {
  const pos = [plainPoints[3], plainPoints[205]];
  const neg = [plainPoints[40]];
  const avg = (vs) => vs[0].map((_, d) => vs.reduce((s, v) => s + v[d], 0) / vs.length);
  // Cosine vectors are stored normalized, so the examples are averaged as unit vectors.
  const ap = avg(pos.map((p) => unit(p.vector)));
  const an = avg(neg.map((p) => unit(p.vector)));
  const target = ap.map((x, d) => 2 * x - an[d]);
  const exclude = new Set([...pos, ...neg].map((p) => key(p.id)));
  const want = rank(plainPoints, (p) => p.vector, target, 'Cosine', () => true, exclude);
  sameHits('recommend average_vector = brute force', await client.recommend(P, { positive: pos.map((p) => p.id), negative: neg.map((p) => p.id), limit: 8 }), want.slice(0, 8));
  sameHits('query recommend', (await client.query(P, { query: { recommend: { positive: pos.map((p) => p.id), negative: neg.map((p) => p.id) } }, limit: 8 })).points, want.slice(0, 8));
  const rb = await client.recommendBatch(P, { searches: [{ positive: [pos[0].id], limit: 3 }] });
  sameHits('recommendBatch', rb[0], rank(plainPoints, (p) => p.vector, pos[0].vector, 'Cosine', () => true, new Set([key(pos[0].id)])).slice(0, 3));
  // Euclid vectors are averaged as they are.
  const mp = [multiPoints[1], multiPoints[2]];
  const mt = avg(mp.map((p) => p.img));
  sameHits('recommend using a named Euclid vector', await client.recommend(M, { positive: mp.map((p) => p.id), using: 'img', limit: 5 }), rank(multiPoints, (p) => p.img, mt, 'Euclid', () => true, new Set(mp.map((p) => key(p.id)))).slice(0, 5));
});

await step('filters and count', async () => {
  const cases = [
    ['match value', { must: [{ key: 'color', match: { value: 'blue' } }] }, (p) => p.payload.color === 'blue'],
    ['match any (array field)', { must: [{ key: 'tags', match: { any: ['a', 'd'] } }] }, (p) => p.payload.tags.some((t) => t === 'a' || t === 'd')],
    ['match except', { must: [{ key: 'color', match: { except: ['red', 'green'] } }] }, (p) => !['red', 'green'].includes(p.payload.color)],
    ['range', { must: [{ key: 'price', range: { gt: 10.5, lte: 40 } }] }, (p) => p.payload.price > 10.5 && p.payload.price <= 40],
    ['datetime range', { must: [{ key: 'created', range: { gte: '2024-06-01T00:00:00Z', lt: '2024-09-01T00:00:00Z' } }] }, (p) => p.payload.created >= '2024-06-01T00:00:00.000Z' && p.payload.created < '2024-09-01T00:00:00.000Z'],
    ['nested key path', { must: [{ key: 'nested.level', match: { value: 2 } }] }, (p) => p.payload.nested.level === 2],
    ['should', { should: [{ key: 'color', match: { value: 'red' } }, { key: 'count', range: { lt: 3 } }] }, (p) => p.payload.color === 'red' || p.payload.count < 3],
    ['must_not', { must_not: [{ key: 'flag', match: { value: true } }] }, (p) => p.payload.flag !== true],
    ['is_empty', { must: [{ is_empty: { key: 'note' } }] }, (p) => p.payload.note === undefined || p.payload.note === null || (Array.isArray(p.payload.note) && p.payload.note.length === 0)],
    ['is_null', { must: [{ is_null: { key: 'note' } }] }, (p) => p.payload.note === null],
    ['has_id (UUIDs in any case)', { must: [{ has_id: [plainPoints[0].id, plainPoints[201].id, plainPoints[202].id.toUpperCase(), plainPoints[261].id] }] }, (p) => [0, 201, 202, 261].some((i) => plainPoints[i] === p)],
    ['nested', { must: [{ nested: { key: 'items', filter: { must: [{ key: 'kind', match: { value: 'x' } }] } } }] }, (p) => p.payload.items.some((it) => it.kind === 'x')],
    ['nested should', { must: [{ nested: { key: 'items', filter: { should: [{ key: 'kind', match: { value: 'z' } }, { key: 'n', range: { gte: 4 } }] } } }] }, (p) => p.payload.items.some((it) => it.kind === 'z' || it.n >= 4)],
    ['min_should 2 of 3', { min_should: { conditions: [{ key: 'color', match: { value: 'red' } }, { key: 'count', range: { gte: 10 } }, { key: 'tags', match: { any: ['a'] } }], min_count: 2 } }, (p) => [p.payload.color === 'red', p.payload.count >= 10, p.payload.tags.includes('a')].filter(Boolean).length >= 2],
    ['full-text match', { must: [{ key: 'title', match: { text: 'apple' } }] }, (p) => p.payload.title.split(' ').includes('apple')],
    ['full-text match text_any', { must: [{ key: 'title', match: { text_any: 'mango plum' } }] }, (p) => p.payload.title.split(' ').some((w) => w === 'mango' || w === 'plum')],
    ['is_empty as a field condition flag', { must: [{ key: 'note', is_empty: false }] }, (p) => !(p.payload.note === undefined || p.payload.note === null || (Array.isArray(p.payload.note) && p.payload.note.length === 0))],
  ];
  for (const [name, filter, pred] of cases) {
    const want = plainPoints.filter(pred).length;
    const got = (await client.count(P, { filter, exact: true })).count;
    check(`count with filter: ${name}`, got === want && want > 0, `got ${got}, want ${want}`);
  }
  await expectStatus('geo filters are refused, naming them', client.count(P, { filter: { must: [{ key: 'loc', geo_radius: { center: { lon: 0, lat: 0 }, radius: 10 } }] } }), 400, 'geo');
});

await step('scroll', async () => {
  const ids = [];
  let offset;
  let pages = 0;
  do {
    const page = await client.scroll(P, { limit: 37, offset, with_payload: false });
    ids.push(...page.points.map((p) => p.id));
    offset = page.next_page_offset ?? undefined;
    pages++;
  } while (offset !== undefined && pages < 50);
  const keys = ids.map(key);
  check('scroll pages cover every point exactly once', new Set(keys).size === 300 && keys.length === 300 && sameIdSet(ids, plainPoints.map((p) => p.id)), `${keys.length} ids, ${new Set(keys).size} distinct`);
  const ints = ids.filter((id) => typeof id !== 'string');
  const sortedInts = ints.every((id, i) => i === 0 || BigInt(ints[i - 1]) < BigInt(id));
  const firstUuid = ids.findIndex((id) => typeof id === 'string');
  check('scroll order: integers ascending, then UUIDs', sortedInts && ids.slice(firstUuid).every((id) => typeof id === 'string'));
  const filtered = await client.scroll(P, { filter: { must: [{ key: 'color', match: { value: 'green' } }] }, limit: 1000 });
  check('scroll with a filter', sameIdSet(filtered.points.map((p) => p.id), plainPoints.filter((p) => p.payload.color === 'green').map((p) => p.id)) && filtered.next_page_offset == null);
  const ob = await client.scroll(P, { order_by: { key: 'count', direction: 'asc', start_from: 7 }, limit: 20, with_payload: true });
  const counts = ob.points.map((p) => p.payload.count);
  check('scroll order_by with start_from', counts.length === 20 && counts.every((c, i) => c >= 7 && (i === 0 || counts[i - 1] <= c)) && ob.points.every((p) => p.order_value === p.payload.count), counts.join());
});

await step('field indexes and facets', async () => {
  for (const [field, schema] of [['color', 'keyword'], ['count', 'integer'], ['price', 'float'], ['created', 'datetime'], ['title', { type: 'text', tokenizer: 'word' }], ['flag', 'bool'], ['nested.level', 'integer']]) {
    const res = await client.createPayloadIndex(P, { field_name: field, field_schema: schema, wait: true });
    check(`create a ${typeof schema === 'string' ? schema : schema.type} index on ${field}`, res.status === 'completed');
  }
  const ps = (await client.getCollection(P)).payload_schema;
  check('payload_schema lists the indexes with their point counts', ps.color?.data_type === 'keyword' && ps.color.points === 300 && ps.count?.data_type === 'integer' && ps.title?.data_type === 'text', JSON.stringify(ps));
  const want = new Map();
  for (const p of plainPoints) want.set(p.payload.color, (want.get(p.payload.color) ?? 0) + 1);
  const facet = (await client.facet(P, { key: 'color', limit: 10 })).hits;
  check('facet counts', facet.length === want.size && facet.every((h) => want.get(h.value) === h.count) && facet.every((h, i) => i === 0 || facet[i - 1].count >= h.count), JSON.stringify(facet));
  const ff = (await client.facet(P, { key: 'color', filter: { must: [{ key: 'count', range: { gte: 10 } }] } })).hits;
  const fw = new Map();
  for (const p of plainPoints.filter((p) => p.payload.count >= 10)) fw.set(p.payload.color, (fw.get(p.payload.color) ?? 0) + 1);
  check('facet with a filter', ff.every((h) => fw.get(h.value) === h.count) && ff.length === fw.size, JSON.stringify(ff));
  sameHits('indexed filtered search', await client.search(P, { vector: queries[0], limit: 5, filter: { must: [{ key: 'color', match: { value: 'yellow' } }, { key: 'title', match: { text: 'cherry' } }] } }), rank(plainPoints, (p) => p.vector, queries[0], 'Cosine', (p) => p.payload.color === 'yellow' && p.payload.title.split(' ').includes('cherry')).slice(0, 5));
  check('delete a field index', (await client.deletePayloadIndex(P, 'title')).status === 'completed' && (await client.getCollection(P)).payload_schema.title === undefined);
});

await step('payload operations', async () => {
  const [a, b] = [plainPoints[10].id, plainPoints[220].id];
  const get = async (id) => (await client.retrieve(P, { ids: [id] }))[0].payload;
  await client.setPayload(P, { points: [a, b], payload: { extra: 1, color: 'purple' }, wait: true });
  let pa = await get(a);
  check('setPayload merges', pa.extra === 1 && pa.color === 'purple' && pa.price === plainPoints[10].payload.price);
  await client.setPayload(P, { points: [a], payload: { inner: 'v' }, key: 'nested', wait: true });
  pa = await get(a);
  check('setPayload under a key', pa.nested.inner === 'v' && pa.nested.level === plainPoints[10].payload.nested.level, JSON.stringify(pa.nested));
  await client.deletePayload(P, { points: [a], keys: ['extra', 'nested.inner'], wait: true });
  pa = await get(a);
  check('deletePayload (top-level and nested keys)', pa.extra === undefined && pa.nested.inner === undefined && pa.nested.level !== undefined);
  await client.overwritePayload(P, { points: [b], payload: { only: true }, wait: true });
  check('overwritePayload replaces', JSON.stringify(await get(b)) === '{"only":true}');
  await client.clearPayload(P, { points: [b], wait: true });
  check('clearPayload', JSON.stringify(await get(b)) === '{}');
  await client.setPayload(P, { filter: { must: [{ key: 'color', match: { value: 'purple' } }] }, payload: { painted: true }, wait: true });
  check('setPayload by filter', (await client.count(P, { filter: { must: [{ key: 'painted', match: { value: true } }] } })).count === 1);
});

await step('vectors and deletes', async () => {
  const id = plainPoints[30].id;
  const v = randVec(DIM);
  await client.updateVectors(P, { points: [{ id, vector: v }], wait: true });
  const got = (await client.retrieve(P, { ids: [id], with_vector: true }))[0];
  const u = unit(v);
  check('updateVectors replaces the vector, keeps the payload', got.vector.every((x, i) => Math.abs(x - u[i]) < 1e-5) && got.payload.color !== undefined);
  const top = await client.search(P, { vector: v, limit: 1 });
  check('the updated vector is searched', key(top[0].id) === key(id) && Math.abs(top[0].score - 1) < 1e-4);
  const del = await client.delete(P, { points: [plainPoints[0].id, plainPoints[250].id], wait: true });
  check('delete by ids', del.status === 'completed' && (await client.count(P)).count === 298);
  const filter = { must: [{ key: 'color', match: { value: 'yellow' } }] };
  const yellow = (await client.count(P, { filter })).count;
  await client.delete(P, { filter, wait: true });
  check('delete by filter', (await client.count(P, { filter })).count === 0 && (await client.count(P)).count === 298 - yellow && yellow > 0);
  check('deleted points are gone', (await client.retrieve(P, { ids: [plainPoints[0].id] })).length === 0);
  const ops = await client.batchUpdate(P, { operations: [{ upsert: { points: [{ id: 999999, vector: randVec(DIM), payload: { batch: 1 } }] } }, { set_payload: { points: [999999], payload: { batch: 2 } } }], wait: true });
  check('batchUpdate', ops.length === 2 && (await client.retrieve(P, { ids: [999999] }))[0]?.payload.batch === 2);
});

await step('errors', async () => {
  await expectStatus('unknown collection: 404 in Qdrant shape', client.getCollection('qdrant_nope'), 404, 'Not found: Collection `qdrant_nope` doesn\'t exist!');
  await expectStatus('search an unknown collection: 404', client.search('qdrant_nope', { vector: queries[0] }), 404);
  await expectStatus('upsert a wrong dimension: 400', client.upsert(P, { points: [{ id: 1, vector: [1, 2, 3] }] }), 400, 'dims');
  await expectStatus('search with a wrong dimension: 400', client.search(P, { vector: [1, 2, 3] }), 400);
  await expectStatus('a string id that is not a UUID: 400', client.upsert(P, { points: [{ id: 'not-a-uuid', vector: randVec(DIM) }] }), 400, 'UUID');
  await expectStatus('a sparse vector is refused, naming it', client.upsert(M, { points: [{ id: 1, vector: { img: { indices: [1], values: [0.5] } } }] }), 400, 'sparse');
  await expectStatus('an unknown vector name: 400', client.search(M, { vector: { name: 'nope', vector: [1, 2] } }), 400, 'nope');
});

await step('cleanup', async () => {
  check('deleteCollection', (await client.deleteCollection(M)) === true && (await client.collectionExists(M)).exists === false);
  check('deleteCollection of a missing collection answers false', (await client.deleteCollection(M)) === false);
  await client.deleteCollection(P);
});

check('the client version check passed without warnings', warnings.length === 0, warnings.join(' | '));
console.warn = origWarn;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
