// The people page (faces grouped into persons, named here; docs/people.md) and the clusters view
// (k-means over a vector, POST /cluster; docs/applications.md).

import * as API from './api.js';
import { clear, el, idText, kindGlyph } from './util.js';

const $ = (id) => document.getElementById(id);
let ctx = null;  // {collection(), collectionInfo(), openDetail(hits, index), showPerson(id, name)}
let peopleSeq = 0;

export function initPeople(context) {
  ctx = context;
  $('people-cluster').addEventListener('click', regroup);
  $('cluster-form').addEventListener('submit', (e) => {
    e.preventDefault();
    runClusters();
  });
}

function peopleStatus(text, error = false) {
  const s = $('people-status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

function missingRoute(e) {
  return e instanceof API.ApiError && e.status === 404 && /no route/i.test(e.message);
}

export async function showPeople() {
  const c = ctx.collection();
  const seq = ++peopleSeq;
  if (!c) return;
  peopleStatus('Loading people…');
  let res;
  try {
    res = await API.listPeople(c);
  } catch (e) {
    if (seq !== peopleSeq) return;
    clear($('people-list'));
    peopleStatus(missingRoute(e) ? 'This server does not offer the people API (GET /v1/collections/{c}/people).' : `People could not be loaded: ${e.message}`, true);
    return;
  }
  if (seq !== peopleSeq) return;
  const people = res.people || res.persons || [];
  if (people.length === 0) {
    clear($('people-list'));
    peopleStatus('No people yet. Faces are grouped into people with "Group faces", after an ingest with the faces model.');
    return;
  }
  const faces = people.reduce((a, p) => a + (p.faces || 0), 0);
  peopleStatus(`${people.length} ${people.length === 1 ? 'person' : 'people'}, ${faces} faces${res.unassigned_faces ? `; ${res.unassigned_faces} faces in no person yet` : ''}.`);
  clear($('people-list'), people.map((p) => personCard(c, p)));
  loadAvatars(c, people, seq);
}

function personCard(c, p) {
  const id = String(p.id);
  const inputId = `person-name-${id.replace(/[^a-z0-9_-]/gi, '_')}`;
  const status = el('span', { class: 'person-status', role: 'status' });
  const input = el('input', {
    class: 'person-name-input', id: inputId, type: 'text', value: p.name || '', placeholder: 'Add a name',
    autocomplete: 'off', 'data-person': id,
  });
  const form = el('form', {
    class: 'person-name-form', onsubmit: async (e) => {
      e.preventDefault();
      const name = input.value.trim();
      if (!name) {
        status.textContent = 'A name cannot be empty.';
        status.className = 'person-status error';
        return;
      }
      status.textContent = 'Saving…';
      status.className = 'person-status';
      try {
        await API.namePerson(c, id, name);
        input.value = name;
        p.name = name;
        status.textContent = 'Saved';
        card.querySelector('.person-show').textContent = `Show ${name}`;
      } catch (err) {
        status.textContent = missingRoute(err) ? 'This server cannot name people yet.' : err.message;
        status.className = 'person-status error';
      }
    },
  },
  el('label', { for: inputId, class: 'visually-hidden' }, `Name of person ${id}`),
  input,
  el('button', { type: 'submit', class: 'person-name-save' }, 'Save'));
  const card = el('li', { class: 'person-card', 'data-person': id },
    el('div', { class: 'avatar', 'aria-hidden': 'true' }, el('span', { class: 'placeholder' }, kindGlyph.face)),
    el('div', { class: 'person-body' },
      form,
      el('p', { class: 'muted' }, `${p.faces ?? '?'} ${p.faces === 1 ? 'face' : 'faces'} · ${id}`),
      el('button', { type: 'button', class: 'person-show link', onclick: () => ctx.showPerson(id, p.name) },
        p.name ? `Show ${p.name}` : 'Show photos'),
      status));
  return card;
}

// Each person's best face, cropped out of its picture's thumbnail.
async function loadAvatars(c, people, seq) {
  const ids = people.map((p) => String(p.id));
  let faces;
  try {
    const res = await API.scroll(c, {
      filter: { must: [{ key: 'kind', match: { value: 'face' } }, { key: 'person_id', match: { any: ids } }] },
      limit: 2000, with_payload: true,
    });
    faces = res.points || [];
  } catch {
    return;
  }
  const best = new Map();
  for (const f of faces) {
    const fp = f.payload || {};
    const b = best.get(fp.person_id);
    if (!b || (fp.score || 0) > (b.payload.score || 0)) best.set(fp.person_id, f);
  }
  const parents = [...new Set([...best.values()].map((f) => idText(f.payload.parent)).filter(Boolean))];
  const sizes = new Map();
  if (parents.length) {
    try {
      const res = await API.getPoints(c, [...best.values()].map((f) => f.payload.parent).filter((x) => x !== undefined));
      for (const pt of res.points || []) sizes.set(idText(pt.id), pt.payload || {});
    } catch {
      // Without the picture's size the avatar shows the whole thumbnail.
    }
  }
  if (seq !== peopleSeq) return;
  for (const [person, f] of best) {
    const card = [...document.querySelectorAll('.person-card')].find((n) => n.dataset.person === person);
    if (!card) continue;
    const avatar = card.querySelector('.avatar');
    const fp = f.payload;
    const size = sizes.get(idText(fp.parent)) || {};
    avatar.style.backgroundImage = `url("${API.thumbnailUrl(c, f.id)}")`;
    if (Array.isArray(fp.box) && size.width && size.height) {
      const [x0, y0, x1, y1] = fp.box;
      const side = Math.min(Math.max(x1 - x0, y1 - y0) * 1.4, size.width, size.height);
      const cx = Math.min(Math.max((x0 + x1) / 2, side / 2), size.width - side / 2);
      const cy = Math.min(Math.max((y0 + y1) / 2, side / 2), size.height - side / 2);
      const left = cx - side / 2;
      const top = cy - side / 2;
      avatar.style.backgroundSize = `${(size.width / side) * 100}% ${(size.height / side) * 100}%`;
      const px = size.width > side ? (left / (size.width - side)) * 100 : 50;
      const py = size.height > side ? (top / (size.height - side)) * 100 : 50;
      avatar.style.backgroundPosition = `${px}% ${py}%`;
    } else {
      avatar.style.backgroundSize = 'cover';
      avatar.style.backgroundPosition = 'center';
    }
    clear(avatar);
  }
}

async function regroup() {
  const c = ctx.collection();
  if (!c) return;
  const button = $('people-cluster');
  button.disabled = true;
  peopleStatus('Grouping faces…');
  try {
    const r = await API.clusterPeople(c);
    await showPeople();
    if (r && typeof r.new_persons === 'number') peopleStatus(`${$('people-status').textContent} Grouping made ${r.new_persons} new people.`);
  } catch (e) {
    peopleStatus(missingRoute(e) ? 'This server cannot group faces (POST /v1/collections/{c}/people/cluster).' : `Grouping failed: ${e.message}`, true);
  } finally {
    button.disabled = false;
  }
}

// --- clusters ---------------------------------------------------------------------------------

export function showClusters() {
  const info = ctx.collectionInfo();
  const select = $('cluster-using');
  const vectors = info && info.schema && Array.isArray(info.schema.vectors) ? info.schema.vectors.map((v) => v.name) : [];
  const keep = select.value;
  clear(select, vectors.filter((v) => v !== 'face').concat(vectors.filter((v) => v === 'face'))
    .map((v) => el('option', { value: v }, v)));
  if (vectors.includes(keep)) select.value = keep;
}

function clusterStatus(text, error = false) {
  const s = $('cluster-status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

async function runClusters() {
  const c = ctx.collection();
  if (!c) return;
  const k = Number($('cluster-k').value) || 6;
  const kind = $('cluster-kind').value;
  const body = { k, sample: 24 };
  if ($('cluster-using').value) body.using = $('cluster-using').value;
  if (kind) body.filter = { must: [{ key: 'kind', match: { value: kind } }] };
  clusterStatus('Grouping…');
  clear($('cluster-list'));
  try {
    const res = await API.cluster(c, body);
    const clusters = res.clusters || [];
    clusterStatus(`${clusters.length} groups of ${res.points ?? clusters.reduce((a, g) => a + (g.size || 0), 0)} points${res.vector ? ` by vector "${res.vector}"` : ''}.`);
    clear($('cluster-list'), clusters.map((g, i) => clusterNode(c, g, i)));
  } catch (e) {
    clusterStatus(missingRoute(e) ? 'This server does not offer clustering (POST /v1/collections/{c}/cluster).' : `Grouping failed: ${e.message}`, true);
  }
}

function clusterNode(c, g, i) {
  // Each cluster's members nearest its centroid, as ids ("sample") or {id, title} objects.
  const members = (g.sample || g.members || []).map((m) => (m !== null && typeof m === 'object' ? m : { id: m }));
  const number = g.id ?? g.cluster ?? i;
  const shown = members.slice(0, 24);
  const size = g.size ?? members.length;
  const openAt = async (j) => {
    try {
      const res = await API.getPoints(c, shown.map((m) => m.id));
      const byId = new Map((res.points || []).map((p) => [idText(p.id), p]));
      const hits = shown.map((m) => byId.get(idText(m.id))).filter(Boolean);
      const at = hits.findIndex((h) => idText(h.id) === idText(shown[j].id));
      ctx.openDetail(hits, Math.max(0, at));
    } catch (e) {
      clusterStatus(`Cannot open: ${e.message}`, true);
    }
  };
  return el('section', { class: 'cluster', 'data-cluster': number },
    el('h3', {}, `Group ${Number(number) + 1}`, el('span', { class: 'muted' }, ` · ${size} ${size === 1 ? 'item' : 'items'}`)),
    el('ul', { class: 'cluster-members' }, shown.map((m, j) =>
      el('li', {}, el('button', { type: 'button', class: 'member', title: m.title || idText(m.id), onclick: () => openAt(j) },
        el('img', {
          src: API.thumbnailUrl(c, m.id), alt: m.title || idText(m.id), loading: 'lazy',
          onerror: (e) => e.target.replaceWith(el('span', { class: 'placeholder' }, m.title || '?')),
        }))))),
    size > shown.length ? el('p', { class: 'muted' }, `and ${size - shown.length} more`) : null);
}
