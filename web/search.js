// The search view: the query (text, an uploaded image or clip, both weighted), filters from
// facets and dates, sort and group-by, the result grid with pages, and "more / less like this"
// through /recommend. Requests follow docs/query.md; uploads use the codec's *_base64 keys
// (src/wire/query_codec.cc).

import * as API from './api.js';
import {
  announce, clear, el, fmtDate, fmtScore, fmtTime, highlighted, idText, kindGlyph, readBase64,
  sameId, store, typingIn,
} from './util.js';

const PAGE_SIZE = 24;
// Facets asked with every query (docs/query.md: a key, or {key, bucket} for datetimes).
const FACETS = ['kind', 'file.folder', 'tags', { key: 'date', bucket: 'year' }, 'exif.camera_model', 'person'];
const FACET_LABELS = {
  kind: 'Kind', 'file.folder': 'Folder', tags: 'Objects', date: 'Year', 'exif.camera_model': 'Camera',
  person: 'People', person_id: 'Person',
};
// Sort choices -> the order_by query kind (docs/query.md); relevance has none.
const ORDERS = {
  relevance: null,
  'date-desc': { key: 'date', direction: 'desc' },
  'date-asc': { key: 'date', direction: 'asc' },
  name: { key: 'title', direction: 'asc' },
};
// Bookkeeping points (mosaic:ingest, mosaic:people) are no search results.
const HIDDEN_KINDS = ['meta'];
// Kinds that never have a thumbnail of their own or their parent's.
const NO_THUMBNAIL = new Set(['document', 'chunk', 'audio', 'speech', 'qa', 'meta']);
const MAX_UPLOAD_BYTES = 48 << 20;  // under the server's default 64 MiB body once base64'd
const RECENT_MAX = 10;

const state = {
  media: null,  // {kind: 'image'|'video'|'audio', name, base64, url}
  mediaShare: 50,  // percent of the weight on the media input when text is given too
  selected: new Map(),  // facet key -> Map(JSON of value -> value)
  dateFrom: '',
  dateTo: '',
  sort: 'relevance',
  group: false,
  feedback: null,  // {positive: [ref], negative: [ref]}, ref = {id, title}
  hits: [],
  offset: 0,
  more: false,
  scored: true,
  seq: 0,
  controller: null,
  facets: {},
};

let ctx = null;  // {collection(), openDetail(hits, index, hooks)}
const $ = (id) => document.getElementById(id);

export function initSearch(context) {
  ctx = context;
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.feedback = null;
    rememberQuery($('search-input').value);
    run();
  });
  $('image-input').addEventListener('change', () => {
    const f = $('image-input').files[0];
    if (f) setMedia(f);
  });
  $('media-clear').addEventListener('click', () => {
    clearMedia();
    run();
  });
  $('weight-slider').addEventListener('input', () => showWeight());
  $('search-input').addEventListener('input', () => showWeight());
  $('weight-slider').addEventListener('change', () => {
    state.mediaShare = Number($('weight-slider').value);
    run();
  });
  $('sort-select').addEventListener('change', () => {
    state.sort = $('sort-select').value;
    run();
  });
  $('group-by-file').addEventListener('change', () => {
    state.group = $('group-by-file').checked;
    run();
  });
  for (const id of ['date-from', 'date-to'])
    $(id).addEventListener('change', () => {
      state.dateFrom = $('date-from').value;
      state.dateTo = $('date-to').value;
      run();
    });
  $('load-more').addEventListener('click', () => run({ append: true }));
  $('recent-clear').addEventListener('click', () => {
    store.set('recent', []);
    renderRecent();
  });
  $('result-grid').addEventListener('keydown', onGridKey);
  setupDropAndPaste();
  renderRecent();
  showWeight();
}

// A new collection: start over with its whole listing.
export function resetSearch() {
  state.selected.clear();
  state.feedback = null;
  state.facets = {};
  state.dateFrom = state.dateTo = '';
  $('date-from').value = $('date-to').value = '';
  clear($('facets'));
  run();
}

export function focusSearch() {
  const input = $('search-input');
  input.focus();
  input.select();
}

// Shows the points of one person (from the people page).
export function showPerson(personId, name) {
  state.selected.set('person_id', new Map([[JSON.stringify(personId), name || personId]]));
  state.feedback = null;
  run();
}

// "More like this" (sign +1) or "less like this" (-1) for a hit: results come from /recommend
// with the examples gathered so far, until the next search.
export function feedback(hit, sign) {
  const ref = refOf(hit);
  const fb = state.feedback || { positive: [], negative: [] };
  fb.positive = fb.positive.filter((r) => !sameId(r.id, ref.id));
  fb.negative = fb.negative.filter((r) => !sameId(r.id, ref.id));
  (sign > 0 ? fb.positive : fb.negative).push(ref);
  if (fb.positive.length === 0) {
    // Less like this on a plain search: like the results shown of its kind (kinds share their
    // vectors, and a recommendation searches one vector), less like this one.
    for (const h of state.hits) {
      if (fb.positive.length >= 3) break;
      if ((h.payload || {}).kind !== ref.kind) continue;
      if (!fb.negative.some((r) => sameId(r.id, h.id))) fb.positive.push(refOf(h));
    }
  }
  if (fb.positive.length === 0) {
    setStatus('Nothing to recommend from: search first, or choose "More like this" on a result.', true);
    return;
  }
  state.feedback = fb;
  run();
}

export async function run({ append = false } = {}) {
  const collection = ctx.collection();
  if (!collection) return;
  if (!append) state.offset = 0;
  const seq = ++state.seq;
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  renderFeedbackBar();
  renderActiveFilters();
  setBusy(true);
  const started = performance.now();
  try {
    const res = state.feedback
      ? await API.recommend(collection, recommendBody(), controller.signal)
      : await API.query(collection, queryBody(), controller.signal);
    if (seq !== state.seq) return;
    const units = res.groups ? res.groups.length : (res.points || []).length;
    const hits = res.groups
      ? res.groups.filter((g) => g.hits && g.hits.length).map((g) => ({ ...g.hits[0], group: { value: g.id, size: g.hits.length } }))
      : res.points || [];
    state.scored = res.scored !== false;
    if (!append) {
      state.hits = [];
      clear($('result-grid'));
    }
    const first = state.hits.length;
    state.hits.push(...hits);
    state.offset += units;
    state.more = units === PAGE_SIZE;
    renderCards(first);
    if (res.facets) {
      state.facets = res.facets;
      renderFacets();
      otherValues(collection, seq);
    }
    if (!append) renderUnderstood(res.explain && res.explain.understood);
    const ms = Math.round(performance.now() - started);
    const n = state.hits.length;
    const what = state.group ? (n === 1 ? 'file' : 'files') : n === 1 ? 'result' : 'results';
    setStatus(n === 0 ? 'No results.' : `${n}${state.more ? '+' : ''} ${what} · ${ms} ms`);
    if (!append) announce(n === 0 ? 'No results' : `${n}${state.more ? ' or more' : ''} ${what}`);
    $('load-more').hidden = !state.more;
    if (append && hits.length) focusCard(first);
  } catch (e) {
    if (e.name === 'AbortError' || seq !== state.seq) return;
    if (!append) {
      state.hits = [];
      clear($('result-grid'));
      $('load-more').hidden = true;
    }
    const what = state.feedback ? 'Recommendation failed' : 'Search failed';
    setStatus(`${what}: ${e.message}`, true);
  } finally {
    if (seq === state.seq) setBusy(false);
  }
}

// --- requests ---------------------------------------------------------------------------------

// What the search box holds when the search runs is the text of the query, whatever started it
// (the button, an upload, a filter).
function buildQuery() {
  const text = $('search-input').value.trim();
  const m = state.media;
  if (!m) return text || null;
  const share = text ? state.mediaShare / 100 : 1;
  const inputs = [];
  if (text && share < 1) inputs.push({ text, weight: round2(1 - share) });
  if (share > 0) inputs.push({ [`${m.kind}_base64`]: m.base64, weight: round2(share) });
  return { auto: inputs };
}

// The request's filter; `except` leaves out one facet's selection (to count that facet's other
// values).
function buildFilter(except = null) {
  const must = [];
  for (const [key, values] of state.selected) {
    if (values.size === 0 || key === except) continue;
    const vals = [...values.keys()].map((k) => JSON.parse(k));
    if (key === 'date') {
      const years = vals.map((v) => yearRange(v)).filter(Boolean);
      if (years.length) must.push(years.length === 1 ? years[0] : { should: years });
    } else {
      must.push({ key, match: { any: vals } });
    }
  }
  const range = {};
  if (state.dateFrom) range.gte = `${state.dateFrom}T00:00:00Z`;
  if (state.dateTo) range.lt = nextDay(state.dateTo);
  if (range.gte || range.lt) must.push({ key: 'date', range });
  const filter = { must_not: [{ key: 'kind', match: { any: HIDDEN_KINDS } }] };
  if (must.length) filter.must = must;
  return filter;
}

function queryBody() {
  const body = { limit: PAGE_SIZE, offset: state.offset, explain: true, facets: FACETS, filter: buildFilter() };
  const q = buildQuery();
  const order = ORDERS[state.sort];
  if (order) {
    // Sorted: the query's candidates (or the filtered collection) in a payload field's order.
    if (q) body.prefetch = { query: q, limit: 1000 };
    body.query = { order_by: order };
  } else if (q) {
    body.query = q;
  }
  if (state.group) body.group_by = 'file_id';
  return body;
}

function recommendBody() {
  const fb = state.feedback;
  const body = {
    positive: fb.positive.map((r) => ({ id: r.id })),
    limit: PAGE_SIZE,
    offset: state.offset,
    filter: buildFilter(),
    explain: true,
  };
  if (fb.negative.length) body.negative = fb.negative.map((r) => ({ id: r.id }));
  return body;
}

function yearRange(v) {
  const y = parseInt(String(v).slice(0, 4), 10);
  if (!Number.isFinite(y)) return null;
  const pad = (n) => String(n).padStart(4, '0');
  return { key: 'date', range: { gte: `${pad(y)}-01-01T00:00:00Z`, lt: `${pad(y + 1)}-01-01T00:00:00Z` } };
}

function nextDay(date) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().replace('.000Z', 'Z');
}

const round2 = (x) => Math.round(x * 100) / 100;

// --- the query's media ------------------------------------------------------------------------

function mediaKind(file) {
  const t = file.type || '';
  if (t.startsWith('image/')) return 'image';
  if (t.startsWith('video/')) return 'video';
  if (t.startsWith('audio/')) return 'audio';
  const ext = (file.name.split('.').pop() || '').toLowerCase();
  if (['jpg', 'jpeg', 'png', 'webp', 'gif', 'bmp', 'tif', 'tiff'].includes(ext)) return 'image';
  if (['mp4', 'mov', 'm4v', 'webm', 'mkv', 'avi', 'mpg', 'mpeg', 'ts'].includes(ext)) return 'video';
  if (['wav', 'mp3', 'm4a', 'flac', 'ogg', 'opus'].includes(ext)) return 'audio';
  return null;
}

export async function setMedia(file) {
  const kind = mediaKind(file);
  if (!kind) {
    setStatus(`"${file.name}" is not an image, video or audio file.`, true);
    return;
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    setStatus(`"${file.name}" is ${Math.round(file.size / 1048576)} MiB: upload at most ${MAX_UPLOAD_BYTES >> 20} MiB.`, true);
    return;
  }
  let base64;
  try {
    base64 = await readBase64(file);
  } catch (e) {
    setStatus(`Cannot read "${file.name}": ${e.message}`, true);
    return;
  }
  if (state.media && state.media.url) URL.revokeObjectURL(state.media.url);
  state.media = { kind, name: file.name, base64, url: URL.createObjectURL(file) };
  state.feedback = null;
  renderMedia();
  run();
}

function clearMedia() {
  if (state.media && state.media.url) URL.revokeObjectURL(state.media.url);
  state.media = null;
  $('image-input').value = '';
  renderMedia();
}

function renderMedia() {
  const m = state.media;
  const box = $('media-query');
  box.hidden = !m;
  const preview = $('media-preview');
  if (!m) {
    clear(preview);
    return;
  }
  clear(preview,
    m.kind === 'image' ? el('img', { src: m.url, alt: '' })
      : m.kind === 'video' ? el('video', { src: m.url, muted: true, preload: 'metadata' })
        : el('span', { class: 'glyph' }, 'AUDIO'));
  $('media-name').textContent = `${m.kind}: ${m.name}`;
  showWeight();
}

function showWeight() {
  const share = Number($('weight-slider').value);
  $('weight-output').textContent = `text ${100 - share}% · ${state.media ? state.media.kind : 'image'} ${share}%`;
  $('weight-row').hidden = !state.media || !$('search-input').value.trim();
}

function setupDropAndPaste() {
  let depth = 0;
  const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes('Files');
  window.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    depth++;
    document.body.classList.add('dropping');
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) document.body.classList.remove('dropping');
  });
  window.addEventListener('dragover', (e) => {
    if (hasFiles(e)) e.preventDefault();
  });
  window.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    document.body.classList.remove('dropping');
    const f = e.dataTransfer.files[0];
    if (!f) return;
    if (location.hash !== '#/search' && location.hash !== '') location.hash = '#/search';
    setMedia(f);
  });
  document.addEventListener('paste', (e) => {
    const files = e.clipboardData ? [...e.clipboardData.files] : [];
    const f = files.find((x) => mediaKind(x));
    if (!f) return;
    if (typingIn(e.target) && e.target.id !== 'search-input') return;
    e.preventDefault();
    setMedia(f);
  });
}

// --- recent queries ---------------------------------------------------------------------------

function rememberQuery(text) {
  const t = text.trim();
  if (!t) return;
  const recent = store.get('recent', []).filter((q) => q !== t);
  recent.unshift(t);
  store.set('recent', recent.slice(0, RECENT_MAX));
  renderRecent();
}

function renderRecent() {
  const recent = store.get('recent', []);
  clear($('recent-list'), recent.map((q) => el('option', { value: q })));
  $('recent-queries').hidden = recent.length === 0;
  clear($('recent-items'), recent.map((q) =>
    el('li', {}, el('button', {
      type: 'button', class: 'chip recent-query', onclick: () => {
        $('search-input').value = q;
        state.feedback = null;
        rememberQuery(q);
        run();
      },
    }, q))));
}

// --- facets and active filters ----------------------------------------------------------------

function facetValueLabel(key, value) {
  if (key === 'file.folder' && typeof value === 'string') return value.split('/').filter(Boolean).pop() || value;
  return String(value);
}

function toggleFacet(key, value, label, on) {
  const k = JSON.stringify(value);
  let values = state.selected.get(key);
  if (!values) state.selected.set(key, (values = new Map()));
  if (on) values.set(k, label);
  else values.delete(k);
  if (values.size === 0) state.selected.delete(key);
  run();
}

function renderFacets() {
  const root = $('facets');
  const active = document.activeElement;
  const focused = active && active.classList && active.classList.contains('facet-option')
    ? [active.dataset.key, active.dataset.value] : null;
  const groups = [];
  const keys = FACETS.map((f) => (typeof f === 'string' ? f : f.key));
  for (const key of keys) {
    const counts = (state.facets[key] || []).slice();
    const selected = state.selected.get(key) || new Map();
    for (const [k] of selected)
      if (!counts.some((c) => JSON.stringify(c.value) === k)) counts.push({ value: JSON.parse(k), count: null });
    if (counts.length === 0) continue;
    const name = `facet-${key.replace(/[^a-z0-9]+/gi, '-')}`;
    groups.push(el('fieldset', { class: 'facet', 'data-key': key },
      el('legend', {}, FACET_LABELS[key] || key),
      el('ul', {}, counts.map((c, i) => {
        const id = `${name}-${i}`;
        const checked = selected.has(JSON.stringify(c.value));
        const label = facetValueLabel(key, c.value);
        return el('li', {},
          el('input', {
            type: 'checkbox', id, class: 'facet-option', 'data-key': key, 'data-value': String(c.value),
            checked, onchange: (e) => toggleFacet(key, c.value, label, e.target.checked),
          }),
          el('label', { for: id, title: String(c.value) },
            el('span', { class: 'facet-value' }, label),
            c.count === null ? null : el('span', { class: 'count' }, String(c.count))));
      }))));
  }
  clear(root, groups);
  if (focused) {
    const again = [...root.querySelectorAll('.facet-option')]
      .find((o) => o.dataset.key === focused[0] && o.dataset.value === focused[1]);
    if (again) again.focus();
  }
}

// A facet with a value chosen would otherwise list only that value (the counts are under the
// request's filter): count each such facet again without its own selection, so that more values
// can be added to it.
async function otherValues(collection, seq) {
  const specs = FACETS.map((f) => (typeof f === 'string' ? { key: f } : f)).filter((f) => state.selected.has(f.key));
  if (specs.length === 0) return;
  const answers = await Promise.all(specs.map((f) => {
    const body = { key: f.key, filter: buildFilter(f.key), limit: f.limit || 10 };
    if (f.bucket) body.bucket = f.bucket;
    return API.facet(collection, body).then((r) => [f.key, r.values], () => null);
  }));
  if (seq !== state.seq) return;
  for (const a of answers) if (a && Array.isArray(a[1])) state.facets[a[0]] = a[1];
  renderFacets();
}

function renderActiveFilters() {
  const chips = [];
  for (const [key, values] of state.selected)
    for (const [k, label] of values)
      chips.push(el('button', {
        type: 'button', class: 'chip removable', 'data-key': key, 'aria-label': `Remove filter ${FACET_LABELS[key] || key}: ${label}`,
        onclick: () => toggleFacet(key, JSON.parse(k), label, false),
      }, `${FACET_LABELS[key] || key}: ${label}`, el('span', { 'aria-hidden': 'true' }, ' ×')));
  if (state.dateFrom || state.dateTo)
    chips.push(el('button', {
      type: 'button', class: 'chip removable', 'aria-label': 'Remove the date range',
      onclick: () => {
        state.dateFrom = state.dateTo = '';
        $('date-from').value = $('date-to').value = '';
        run();
      },
    }, `Date: ${state.dateFrom || '…'} – ${state.dateTo || '…'}`, el('span', { 'aria-hidden': 'true' }, ' ×')));
  clear($('active-filters'), chips);
  $('active-filters').hidden = chips.length === 0;
}

function renderUnderstood(understood) {
  const box = $('understood');
  if (!Array.isArray(understood) || understood.length === 0) {
    box.hidden = true;
    clear(box);
    return;
  }
  const items = understood.map((u) => {
    let what = u.as || '';
    if (u.as === 'kind' && Array.isArray(u.kinds)) what = `kind: ${u.kinds.join(' or ')}`;
    else if (u.as === 'date') what = `date ${(u.from || '…').slice(0, 10)} – ${(u.to || '…').slice(0, 10)}`;
    return el('li', {}, el('q', {}, u.text || ''), ' → ', what);
  });
  clear(box, el('span', {}, 'Understood: '), el('ul', {}, items));
  box.hidden = false;
}

function renderFeedbackBar() {
  const bar = $('feedback-bar');
  const fb = state.feedback;
  if (!fb) {
    bar.hidden = true;
    clear(bar);
    return;
  }
  const chip = (ref, list) => el('li', {},
    el('button', {
      type: 'button', class: 'chip removable', 'aria-label': `Remove ${ref.title}`,
      onclick: () => {
        fb[list] = fb[list].filter((r) => !sameId(r.id, ref.id));
        if (fb.positive.length === 0) state.feedback = null;
        run();
      },
    }, NO_THUMBNAIL.has(ref.kind) ? null
      : el('img', { src: API.thumbnailUrl(ctx.collection(), ref.id), alt: '', onerror: (e) => e.target.remove() }), ref.title,
    el('span', { 'aria-hidden': 'true' }, ' ×')));
  clear(bar,
    el('span', { class: 'fb-label' }, 'More like'), el('ul', { id: 'feedback-positive' }, fb.positive.map((r) => chip(r, 'positive'))),
    fb.negative.length ? [el('span', { class: 'fb-label' }, 'less like'), el('ul', { id: 'feedback-negative' }, fb.negative.map((r) => chip(r, 'negative')))] : null,
    el('button', {
      type: 'button', id: 'feedback-clear', class: 'secondary', onclick: () => {
        state.feedback = null;
        run();
      },
    }, 'Back to search'));
  bar.hidden = false;
}

// --- results ----------------------------------------------------------------------------------

function refOf(hit) {
  return { id: hit.id, title: titleOf(hit), kind: (hit.payload || {}).kind || '' };
}

export function titleOf(hit) {
  const p = hit.payload || {};
  return p.title || p.question || (p.file && p.file.name) || idText(hit.id);
}

// The time range a hit is about: a shot or speech segment, or the evidence's time.
export function timeOf(hit) {
  const p = hit.payload || {};
  if (typeof p.start === 'number') return { start: p.start, end: typeof p.end === 'number' ? p.end : null };
  const t = hit.explain && hit.explain.evidence && hit.explain.evidence.time;
  if (t && typeof t.start === 'number') return { start: t.start, end: t.end };
  if (t && typeof t.at === 'number') return { start: t.at, end: null };
  if (typeof p.time === 'number') return { start: p.time, end: null };
  return null;
}

// The one-line excerpt: the matched sentence with its terms marked, else the OCR line, else the
// server's snippet.
export function snippetOf(hit) {
  const ev = (hit.explain && hit.explain.evidence) || {};
  for (const key of ['sentence', 'transcript'])
    if (ev[key] && ev[key].text) return highlighted(ev[key].text, ev[key].highlights);
  if (Array.isArray(ev.ocr) && ev.ocr.length && ev.ocr[0].text) {
    const f = document.createDocumentFragment();
    f.append(el('span', { class: 'tag' }, 'OCR'), ' ', highlighted(ev.ocr[0].text, ev.ocr[0].highlights));
    return f;
  }
  return hit.snippet || '';
}

// Why it matched, compactly: each signal that found the hit with its rank, the matched tags and
// spoken words.
export function whyOf(hit, { full = false } = {}) {
  const ex = hit.explain;
  if (!ex) return null;
  const items = [];
  const signals = (ex.signals || []).filter((s) => full || s.rank > 0);
  const total = signals.reduce((a, s) => a + Math.max(0, s.contribution || 0), 0);
  for (const s of signals) {
    const share = total > 0 ? Math.max(0, s.contribution || 0) / total : 0;
    const tip = s.rank > 0
      ? `${s.signal}: rank ${s.rank}, score ${fmtScore(s.score)}, adds ${fmtScore(s.contribution)}`
      : `${s.signal}: not among its candidates`;
    items.push(el('li', { class: `signal${s.rank > 0 ? '' : ' missed'}`, title: tip, 'data-signal': s.signal },
      el('span', { class: 'bar', style: `--share:${Math.round(share * 100)}%`, 'aria-hidden': 'true' }),
      s.rank > 0 ? `${s.signal} #${s.rank}` : `${s.signal} –`));
  }
  const ev = ex.evidence || {};
  if (Array.isArray(ev.tags))
    for (const t of ev.tags.slice(0, full ? 5 : 2))
      items.push(el('li', { class: 'evidence', title: `object tag ${t.tag}, confidence ${t.confidence}` },
        `${t.tag} ${Math.round((t.confidence || 0) * 100)}%`));
  if (Array.isArray(ev.words))
    for (const w of ev.words.slice(0, full ? 20 : 3))
      items.push(el('li', { class: 'evidence word', title: `said at ${fmtTime(w.start)}` }, `“${w.text}” ${fmtTime(w.start)}`));
  if (full) {
    if (ev.title) items.push(el('li', { class: 'evidence' }, 'title: ', highlighted(ev.title.text, ev.title.highlights)));
    if (ev.names) items.push(el('li', { class: 'evidence' }, 'file name: ', highlighted(ev.names.text, ev.names.highlights)));
  }
  if (items.length === 0) return null;
  return el('ul', { class: 'why', 'aria-label': 'Why it matched' }, items);
}

// Kinds without a picture show the start of their text instead (a passage's heading path and
// words, a recording's transcript).
function textPreview(p) {
  const text = [p.text, p.transcript, p.meta && p.meta.description].find((t) => typeof t === 'string' && t);
  if (!text) return null;
  const headings = Array.isArray(p.headings) ? p.headings.join(' > ') : p.headings;
  return el('div', { class: 'text-preview', 'aria-hidden': 'true' },
    headings ? el('strong', {}, headings) : null,
    el('span', {}, text.slice(0, 280)));
}

function thumbNode(hit) {
  const p = hit.payload || {};
  const kind = p.kind || '';
  const placeholder = () => el('div', { class: 'placeholder', 'aria-hidden': 'true' }, kindGlyph[kind] || kind.toUpperCase() || '?');
  if (NO_THUMBNAIL.has(kind)) return textPreview(p) || placeholder();
  return el('img', {
    src: API.thumbnailUrl(ctx.collection(), hit.id), alt: '', loading: 'lazy', decoding: 'async',
    onerror: (e) => e.target.replaceWith(placeholder()),
  });
}

function card(hit, index) {
  const p = hit.payload || {};
  const kind = p.kind || '';
  const title = titleOf(hit);
  const time = timeOf(hit);
  const page = typeof p.page === 'number' ? p.page : null;
  const badges = [el('span', { class: `badge kind kind-${kind}` }, kind)];
  if (time) badges.push(el('span', { class: 'badge time' }, `▶ ${fmtTime(time.start)}${time.end !== null && time.end !== undefined ? `–${fmtTime(time.end)}` : ''}`));
  if (page !== null) badges.push(el('span', { class: 'badge page' }, `p. ${page}`));
  const meta = [];
  if (state.scored && typeof hit.score === 'number') meta.push(el('span', { class: 'score', title: 'score' }, fmtScore(hit.score)));
  if (hit.order_value !== undefined && hit.order_value !== null && state.sort !== 'relevance')
    meta.push(el('span', { class: 'order-value' }, state.sort.startsWith('date') ? fmtDate(String(hit.order_value)) : String(hit.order_value)));
  if (hit.group && hit.group.size > 1) meta.push(el('span', { class: 'group' }, `${hit.group.size} in this file`));
  const snippet = snippetOf(hit);
  const node = el('article', {
    class: 'result-card', role: 'listitem', tabindex: index === 0 ? 0 : -1,
    'data-id': idText(hit.id), 'data-kind': kind, 'data-title': title, 'data-index': index,
    'data-start': time ? time.start : null, 'aria-label': `${title}, ${kind}${time ? ` at ${fmtTime(time.start)}` : ''}`,
    onclick: () => open(index),
  },
  el('div', { class: 'thumb' }, thumbNode(hit), el('div', { class: 'badges' }, badges)),
  el('div', { class: 'card-body' },
    el('h3', { class: 'card-title', title: p.file && p.file.path ? p.file.path : title }, title),
    meta.length ? el('div', { class: 'card-meta' }, meta) : null,
    snippet && (typeof snippet === 'string' ? snippet.length : snippet.childNodes.length)
      ? el('p', { class: 'snippet' }, snippet) : null,
    whyOf(hit)));
  return node;
}

function renderCards(from) {
  const grid = $('result-grid');
  const frag = document.createDocumentFragment();
  for (let i = from; i < state.hits.length; i++) frag.append(card(state.hits[i], i));
  grid.append(frag);
  grid.setAttribute('aria-busy', 'false');
}

function open(index) {
  ctx.openDetail(state.hits, index, {
    onMore: (hit) => feedback(hit, +1),
    onLess: (hit) => feedback(hit, -1),
    onClose: (i) => focusCard(i),
  });
}

function focusCard(index) {
  const cards = [...$('result-grid').querySelectorAll('.result-card')];
  const target = cards[Math.max(0, Math.min(index, cards.length - 1))];
  if (!target) return;
  for (const c of cards) c.tabIndex = c === target ? 0 : -1;
  target.focus();
}

function onGridKey(e) {
  const cards = [...$('result-grid').querySelectorAll('.result-card')];
  const current = e.target.closest && e.target.closest('.result-card');
  const i = cards.indexOf(current);
  if (i < 0) return;
  const top = cards[0].offsetTop;
  let cols = cards.findIndex((c) => c.offsetTop !== top);
  if (cols <= 0) cols = cards.length;
  let next = null;
  switch (e.key) {
    case 'ArrowRight': next = i + 1; break;
    case 'ArrowLeft': next = i - 1; break;
    case 'ArrowDown': next = i + cols; break;
    case 'ArrowUp': next = i - cols; break;
    case 'Home': next = 0; break;
    case 'End': next = cards.length - 1; break;
    case 'Enter':
    case ' ':
      e.preventDefault();
      open(i);
      return;
    default:
      return;
  }
  e.preventDefault();
  if (next >= cards.length && !$('load-more').hidden) {
    $('load-more').focus();
    return;
  }
  if (next < 0 || next >= cards.length) return;
  focusCard(next);
}

function setBusy(busy) {
  $('results').setAttribute('aria-busy', busy ? 'true' : 'false');
  $('search-button').disabled = false;
  document.body.classList.toggle('busy', busy);
  $('load-more').disabled = busy;
}

function setStatus(text, error = false) {
  const s = $('result-status');
  s.textContent = text;
  s.classList.toggle('error', error);
}
