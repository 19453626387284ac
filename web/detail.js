// The detail dialog: one result in full. Images with their object and face boxes drawn over
// them, videos and recordings that start at the hit's time, document passages with their page,
// what the point's payload says, why it matched, and "more / less like this".

import * as API from './api.js';
import { titleOf, timeOf, whyOf } from './search.js';
import {
  clear, el, fmtBytes, fmtDate, fmtScore, fmtTime, highlighted, idText, kindGlyph, sameId, svg, typingIn,
} from './util.js';

const $ = (id) => document.getElementById(id);
const CHILD_KINDS = new Set(['shot', 'chunk', 'speech', 'face']);

// {collection, hits, index, hooks: {onMore, onLess, onClose}, shown: a point shown instead of
// hits[index] (its whole file), token: bumps on every render so late answers are dropped}
let cur = null;

export function initDetail() {
  const dlg = $('detail');
  $('detail-close').addEventListener('click', () => dlg.close());
  $('detail-prev').addEventListener('click', () => step(-1));
  $('detail-next').addEventListener('click', () => step(+1));
  $('more-like-this').addEventListener('click', () => act('onMore'));
  $('less-like-this').addEventListener('click', () => act('onLess'));
  $('detail-parent').addEventListener('click', showWholeFile);
  dlg.addEventListener('close', () => {
    for (const m of dlg.querySelectorAll('video, audio')) m.pause();
    clear($('detail-media'));
    if (cur && cur.hooks.onClose) cur.hooks.onClose(cur.index);
  });
  // A click on the backdrop (the dialog box itself, outside its content) closes it.
  dlg.addEventListener('click', (e) => {
    if (e.target === dlg) dlg.close();
  });
  dlg.addEventListener('keydown', (e) => {
    if (typingIn(e.target) || (e.target instanceof HTMLMediaElement)) return;
    if (e.key === 'ArrowLeft') step(-1);
    else if (e.key === 'ArrowRight') step(+1);
  });
}

export function openDetail(collection, hits, index, hooks = {}) {
  cur = { collection, hits, index, hooks, shown: null, token: 0 };
  render();
  const dlg = $('detail');
  if (!dlg.open) dlg.showModal();
  $('detail-close').focus();
}

export function closeDetail() {
  if ($('detail').open) $('detail').close();
}

function hit() {
  return cur.shown || cur.hits[cur.index];
}

function step(delta) {
  const i = cur.index + delta;
  if (i < 0 || i >= cur.hits.length) return;
  cur.index = i;
  cur.shown = null;
  render();
}

function act(hook) {
  const h = hit();
  const fn = cur.hooks[hook];
  $('detail').close();
  if (fn) fn(h);
}

async function showWholeFile() {
  const p = hit().payload || {};
  const parent = p.parent ?? p.file_id;
  if (parent === undefined) return;
  try {
    const point = await API.getPoint(cur.collection, parent);
    cur.shown = point.point || point;
    render();
  } catch (e) {
    note(`Cannot open the whole file: ${e.message}`);
  }
}

function render() {
  const h = hit();
  const token = ++cur.token;
  const p = h.payload || {};
  const kind = p.kind || '';
  $('detail-title').textContent = titleOf(h);
  $('detail-kind').textContent = kind;
  $('detail-kind').className = `badge kind kind-${kind}`;
  $('detail').dataset.id = idText(h.id);
  $('detail').dataset.kind = kind;
  $('detail-prev').disabled = !!cur.shown || cur.index <= 0;
  $('detail-next').disabled = !!cur.shown || cur.index >= cur.hits.length - 1;
  $('detail-position').textContent = cur.shown ? '' : `${cur.index + 1} of ${cur.hits.length}`;
  $('detail-parent').hidden = !CHILD_KINDS.has(kind) || (p.parent === undefined && p.file_id === undefined);
  const open = $('detail-open');
  open.href = API.mediaUrl(cur.collection, h.id) + (typeof p.page === 'number' ? `#page=${p.page}` : '');
  open.hidden = kind === 'qa';
  clear($('detail-notes'));

  const media = $('detail-media');
  clear(media);
  if (kind === 'image' || kind === 'face') media.append(imageView(h, token));
  else if (kind === 'video' || kind === 'shot') media.append(playerView(h, 'video', token));
  else if (kind === 'audio' || kind === 'speech') media.append(playerView(h, 'audio', token));
  else if (kind === 'document' || kind === 'chunk') media.append(passageView(h, token));
  else media.append(el('div', { class: 'placeholder big' }, kindGlyph[kind] || kind || '?'));

  const why = whyOf(h, { full: true });
  clear($('detail-why'), why ? [el('h3', {}, 'Why it matched'), why] : null);
  clear($('detail-info'), infoRows(h));
}

function note(text) {
  $('detail-notes').append(el('p', { class: 'note' }, text));
}

// --- images and their boxes -------------------------------------------------------------------

function imageView(h, token) {
  const c = cur.collection;
  const p = h.payload || {};
  const isFace = p.kind === 'face';
  const fileId = isFace ? p.parent ?? p.file_id : h.id;
  const stage = el('div', { class: 'stage' });
  const img = el('img', { id: 'detail-image', alt: titleOf(h), src: API.mediaUrl(c, h.id) });
  const overlay = svg('svg', { class: 'boxes', preserveAspectRatio: 'none', 'aria-hidden': 'true' });
  const toggles = el('div', { class: 'box-toggles' });
  stage.append(el('div', { class: 'stage-inner' }, img, overlay));
  const wrap = el('div', { class: 'image-view' }, stage, toggles);

  let triedThumb = false;
  img.addEventListener('error', () => {
    if (triedThumb) return;
    triedThumb = true;
    img.src = API.thumbnailUrl(c, h.id);
    note('The original is not available from the server (see "Open original" for why); showing the thumbnail.');
  });

  // Boxes are in the original's pixels: the overlay's coordinate system is the original's size.
  const sized = (w, hgt) => {
    if (w > 0 && hgt > 0 && !overlay.getAttribute('viewBox')) overlay.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  };
  const draw = (base, faces) => {
    if (token !== cur.token) return;
    sized(base.width, base.height);
    if (img.complete && img.naturalWidth > 0) {
      if (!triedThumb) sized(img.naturalWidth, img.naturalHeight);
    } else {
      img.addEventListener('load', () => {
        if (!triedThumb) sized(img.naturalWidth, img.naturalHeight);
      });
    }
    const w = base.width || img.naturalWidth || 1000;
    const fontSize = Math.max(10, Math.round(w / 45));
    const groups = { object: svg('g', { class: 'layer-objects' }), face: svg('g', { class: 'layer-faces' }) };
    for (const o of Array.isArray(base.objects) ? base.objects : []) {
      if (!Array.isArray(o.box) || o.box.length !== 4) continue;
      groups.object.append(box(o.box, 'box box-object', `${o.label || 'object'} ${Math.round((o.confidence || 0) * 100)}%`, fontSize));
    }
    for (const f of faces) {
      const fp = f.payload || {};
      if (!Array.isArray(fp.box) || fp.box.length !== 4) continue;
      const current = isFace && sameId(f.id, h.id);
      groups.face.append(box(fp.box, `box box-face${current ? ' current' : ''}`, fp.person || fp.person_id || 'face', fontSize));
    }
    overlay.append(groups.object, groups.face);
    const nObjects = groups.object.childElementCount;
    const nFaces = groups.face.childElementCount;
    clear(toggles,
      nObjects ? toggle('show-objects', `Objects (${nObjects})`, groups.object) : null,
      nFaces ? toggle('show-faces', `Faces (${nFaces})`, groups.face) : null);
    wrap.dataset.objects = String(nObjects);
    wrap.dataset.faces = String(nFaces);
  };

  (async () => {
    let base = p;
    if (isFace && fileId !== undefined) {
      try {
        const parent = await API.getPoint(c, fileId);
        base = (parent.point || parent).payload || {};
      } catch {
        base = {};
      }
    }
    let faces = [];
    if (fileId !== undefined && (base.faces === undefined || base.faces > 0)) {
      try {
        const res = await API.scroll(c, {
          filter: { must: [{ key: 'parent', match: { value: fileId } }, { key: 'kind', match: { value: 'face' } }] },
          limit: 200, with_payload: true,
        });
        faces = res.points || [];
      } catch (e) {
        if (token === cur.token) note(`Faces could not be loaded: ${e.message}`);
      }
    }
    if (isFace && !faces.some((f) => sameId(f.id, h.id))) faces.push(h);
    draw(base, faces);
  })();
  return wrap;
}

function box([x0, y0, x1, y1], cls, label, fontSize) {
  return svg('g', { class: cls },
    svg('rect', { x: x0, y: y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0) }),
    svg('text', { x: x0 + 2, y: Math.max(fontSize, y0 - 4), 'font-size': fontSize }, label));
}

function toggle(id, label, layer) {
  return el('label', { class: 'toggle' },
    el('input', { type: 'checkbox', id, checked: true, onchange: (e) => { layer.style.display = e.target.checked ? '' : 'none'; } }),
    ` ${label}`);
}

// --- video and audio --------------------------------------------------------------------------

function playerView(h, tag, token) {
  const c = cur.collection;
  const p = h.payload || {};
  const t = timeOf(h);
  const start = t ? t.start : 0;
  const src = API.mediaUrl(c, h.id) + (start > 0 ? `#t=${start}` : '');
  const player = el(tag, {
    id: tag === 'video' ? 'video-player' : 'audio-player', controls: true, preload: 'metadata', src,
    'data-start': start, poster: tag === 'video' ? API.thumbnailUrl(c, h.id) : null,
  });
  // The media fragment asks for the start; set it again in case the browser ignored it.
  player.addEventListener('loadedmetadata', () => {
    if (start > 0 && Math.abs(player.currentTime - start) > 0.25) player.currentTime = start;
  }, { once: true });
  player.addEventListener('error', () => {
    if (token !== cur.token) return;
    const code = player.error ? player.error.code : 0;
    note(code === 4
      ? `This browser cannot play this ${tag === 'video' ? 'video' : 'recording'} (its format or codec), or the server would not send it: try "Open original".`
      : `The ${tag} could not be loaded.`);
  });
  const view = el('div', { class: `player-view ${tag}` }, player);
  if (t) view.append(el('p', { class: 'at' }, `From ${fmtTime(t.start)}${t.end !== null && t.end !== undefined ? ` to ${fmtTime(t.end)}` : ''}`));

  const seek = (s) => {
    player.currentTime = s;
    player.play().catch(() => {});
  };
  if (Array.isArray(p.words) && p.words.length) {
    const said = new Set(((h.explain && h.explain.evidence && h.explain.evidence.words) || []).map((w) => `${w.start}`));
    view.append(el('div', { class: 'words', 'aria-label': 'Spoken words' }, p.words.map((w) =>
      el('button', {
        type: 'button', class: `word${said.has(`${w.start}`) ? ' matched' : ''}`, title: `${fmtTime(w.start)}`,
        onclick: () => seek(w.start),
      }, w.text))));
  } else if (typeof p.text === 'string' && p.text) {
    view.append(el('p', { class: 'transcript' }, p.text));
  } else if (typeof p.transcript === 'string' && p.transcript) {
    view.append(el('details', {}, el('summary', {}, 'Transcript'), el('p', { class: 'transcript' }, p.transcript)));
  }

  // The file's shots or speech segments, to jump between.
  const fileId = p.parent ?? p.file_id ?? h.id;
  const childKind = tag === 'video' ? 'shot' : 'speech';
  const list = el('ol', { class: 'segments', 'aria-label': tag === 'video' ? 'Shots' : 'Segments' });
  view.append(list);
  API.scroll(c, {
    filter: { must: [{ key: 'parent', match: { value: fileId } }, { key: 'kind', match: { value: childKind } }] },
    limit: 500, with_payload: true,
  }).then((res) => {
    if (token !== cur.token) return;
    const segs = (res.points || []).filter((s) => typeof (s.payload || {}).start === 'number')
      .sort((a, b) => a.payload.start - b.payload.start);
    for (const [i, s] of segs.entries()) {
      const sp = s.payload;
      const here = sameId(s.id, h.id);
      list.append(el('li', {}, el('button', {
        type: 'button', class: `segment${here ? ' current' : ''}`, 'aria-current': here ? 'true' : null,
        'data-start': sp.start, onclick: () => seek(sp.start),
      }, `${childKind === 'shot' ? 'Shot' : 'Part'} ${(sp.index ?? i) + 1} · ${fmtTime(sp.start)}–${fmtTime(sp.end)}`)));
    }
  }).catch(() => {});
  return view;
}

// --- documents --------------------------------------------------------------------------------

function passageView(h, token) {
  const p = h.payload || {};
  const ev = (h.explain && h.explain.evidence) || {};
  const view = el('div', { class: 'passage-view' });
  const where = [];
  if (p.headings) where.push(Array.isArray(p.headings) ? p.headings.join(' > ') : p.headings);
  if (typeof p.page === 'number')
    where.push(typeof p.page_last === 'number' && p.page_last !== p.page ? `pages ${p.page}–${p.page_last}` : `page ${p.page}`);
  if (where.length) view.append(el('p', { class: 'where', id: 'detail-page' }, where.join(' · ')));
  const sentence = ev.sentence && ev.sentence.text ? ev.sentence : null;
  if (typeof p.text === 'string' && p.text) {
    const at = sentence ? p.text.indexOf(sentence.text) : -1;
    const body = el('div', { class: 'passage', id: 'detail-passage' });
    if (at >= 0) {
      body.append(p.text.slice(0, at),
        el('span', { class: 'sentence' }, highlighted(sentence.text, sentence.highlights)),
        p.text.slice(at + sentence.text.length));
    } else {
      if (sentence) view.append(el('blockquote', { class: 'sentence' }, highlighted(sentence.text, sentence.highlights)));
      body.append(p.text);
    }
    view.append(body);
  } else {
    const meta = p.meta || {};
    if (meta.description) view.append(el('p', {}, meta.description));
    view.append(passageList(h, token));
  }
  return view;
}

// A document's passages in order, each opening in the dialog.
function passageList(h, token) {
  const list = el('ol', { class: 'passages', 'aria-label': 'Passages' });
  API.scroll(cur.collection, {
    filter: { must: [{ key: 'parent', match: { value: h.id } }, { key: 'kind', match: { value: 'chunk' } }] },
    limit: 1000, with_payload: true,
  }).then((res) => {
    if (token !== cur.token) return;
    const chunks = (res.points || []).sort((a, b) => ((a.payload || {}).index ?? 0) - ((b.payload || {}).index ?? 0));
    if (chunks.length === 0) list.replaceWith(el('div', { class: 'placeholder big' }, kindGlyph.document));
    for (const c of chunks) {
      const cp = c.payload || {};
      const where = [Array.isArray(cp.headings) ? cp.headings.join(' > ') : cp.headings,
        typeof cp.page === 'number' ? `p. ${cp.page}` : null].filter(Boolean).join(' · ');
      list.append(el('li', {}, el('button', {
        type: 'button', class: 'passage-link', onclick: () => {
          cur.shown = c;
          render();
        },
      }, where ? el('strong', {}, where) : null, el('span', {}, (cp.text || '').slice(0, 200)))));
    }
  }).catch((e) => {
    if (token === cur.token) note(`The passages could not be loaded: ${e.message}`);
  });
  return list;
}

// --- the payload, readable --------------------------------------------------------------------

function infoRows(h) {
  const p = h.payload || {};
  const rows = [];
  const row = (k, v) => {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) return;
    rows.push(el('div', { class: 'row' }, el('dt', {}, k), el('dd', {}, v)));
  };
  const file = p.file || {};
  row('File', file.path || file.name);
  row('Date', p.date ? fmtDate(p.date) : null);
  if (p.exif) row('Camera', [p.exif.camera_make, p.exif.camera_model].filter(Boolean).join(' · '));
  if (p.width && p.height) row('Size', `${p.width} × ${p.height}`);
  if (typeof p.duration === 'number') row('Duration', fmtTime(p.duration));
  if (typeof file.size === 'number') row('Bytes', fmtBytes(file.size));
  if (p.mime) row('Type', p.mime);
  if (Array.isArray(p.tags)) row('Objects', p.tags.join(', '));
  const people = Array.isArray(p.person) ? p.person : p.person ? [p.person] : [];
  row('People', people.join(', '));
  if (p.exif && p.exif.gps && typeof p.exif.gps.lat === 'number')
    row('Place', `${p.exif.gps.lat.toFixed(5)}, ${p.exif.gps.lon.toFixed(5)}`);
  if (p.meta && p.meta.author) row('Author', p.meta.author);
  if (typeof p.pages === 'number') row('Pages', String(p.pages));
  if (typeof p.ocr_text === 'string' && p.ocr_text) row('Text in image', p.ocr_text);
  if (typeof h.score === 'number' && h.score !== 0) row('Score', fmtScore(h.score));
  row('Id', idText(h.id));
  return rows;
}
