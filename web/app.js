// Mosaic's web UI: the collection picker, the views (search, people, clusters, ingest) behind
// hash routes, global keys, and the banner shown while the server cannot be reached.

import * as API from './api.js';
import { initDetail, openDetail } from './detail.js';
import { initIngest, showIngest } from './ingest.js';
import { initPeople, showClusters, showPeople } from './people.js';
import { focusSearch, initSearch, resetSearch, run as runSearch, showPerson } from './search.js';
import { clear, el, store, typingIn } from './util.js';

const $ = (id) => document.getElementById(id);
const VIEWS = {
  search: { section: 'search-view', tab: 'search-tab', title: 'Search' },
  people: { section: 'people-view', tab: 'people-tab', title: 'People', show: () => showPeople() },
  clusters: { section: 'clusters-view', tab: 'clusters-tab', title: 'Clusters', show: () => showClusters() },
  ingest: { section: 'ingest-view', tab: 'ingest-tab', title: 'Ingest', show: () => showIngest() },
};
const HEALTH_EVERY_MS = 10000;
const HEALTH_WHILE_DOWN_MS = 2000;

const app = {
  collections: [],
  collection: store.get('collection', ''),
  loaded: false,
};

const ctx = {
  collection: () => app.collection,
  collectionInfo: () => app.collections.find((c) => c.name === app.collection) || null,
  openDetail: (hits, index, hooks) => openDetail(app.collection, hits, index, hooks),
  showPerson: (id, name) => {
    location.hash = '#/search';
    showPerson(id, name);
  },
  reloadCollections: () => reloadCollections(),
};

function currentView() {
  const m = location.hash.match(/^#\/([a-z]+)/);
  return m && VIEWS[m[1]] ? m[1] : 'search';
}

function route() {
  const name = currentView();
  for (const [key, v] of Object.entries(VIEWS)) {
    $(v.section).hidden = key !== name;
    const tab = $(v.tab);
    if (key === name) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  document.title = `${VIEWS[name].title} · Mosaic`;
  if (app.loaded && VIEWS[name].show) VIEWS[name].show();
}

async function reloadCollections() {
  let res;
  try {
    res = await API.listCollections();
  } catch (e) {
    $('collection-status').textContent = e.status === 0 ? '' : `Collections could not be listed: ${e.message}`;
    return false;
  }
  $('collection-status').textContent = '';
  app.collections = (res.collections || []).slice().sort((a, b) => a.name.localeCompare(b.name));
  const select = $('collection-select');
  const names = app.collections.map((c) => c.name);
  clear(select, app.collections.map((c) =>
    el('option', { value: c.name }, `${c.name}${typeof c.points === 'number' ? ` (${c.points})` : ''}`)));
  select.disabled = names.length === 0;
  $('no-collections').hidden = names.length > 0;
  const before = app.collection;
  // ?collection=NAME (the demo's URL) wins, then the last choice, then "media" (what `mosaic
  // ingest` examples use), then the first.
  const asked = new URLSearchParams(location.search).get('collection');
  if (asked && names.includes(asked) && !app.loaded) app.collection = asked;
  if (!names.includes(app.collection)) app.collection = names.includes('media') ? 'media' : names[0] || '';
  select.value = app.collection;
  const changed = before !== app.collection || !app.loaded;
  app.loaded = true;
  if (changed && app.collection) {
    store.set('collection', app.collection);
    resetSearch();
  }
  return true;
}

function onCollectionChange() {
  app.collection = $('collection-select').value;
  store.set('collection', app.collection);
  resetSearch();
  const show = VIEWS[currentView()].show;
  if (show) show();
}

// --- the server's health ----------------------------------------------------------------------

let healthTimer = null;

function scheduleHealth() {
  clearTimeout(healthTimer);
  healthTimer = setTimeout(async () => {
    await API.checkHealth();
    scheduleHealth();
  }, API.isServerDown() ? HEALTH_WHILE_DOWN_MS : HEALTH_EVERY_MS);
}

function onServerStatus(down) {
  $('server-banner').hidden = !down;
  document.body.classList.toggle('server-down', down);
  if (!down && (!app.loaded || app.collections.length === 0)) {
    reloadCollections().then(() => route());
  } else if (!down) {
    // Back: whatever failed while it was away is shown again.
    const show = VIEWS[currentView()].show;
    if (currentView() === 'search') runSearch();
    else if (show) show();
  }
  scheduleHealth();
}

// --- API key ----------------------------------------------------------------------------------

function onAuthNeeded(message) {
  $('auth-message').textContent = message;
  $('auth-banner').hidden = false;
}

function setupAuth() {
  API.onAuthNeeded(onAuthNeeded);
  $('auth-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    API.setApiKey($('api-key-input').value.trim());
    $('api-key-input').value = '';
    $('auth-banner').hidden = true;
    if (await reloadCollections()) route();
  });
}

// --- keys -------------------------------------------------------------------------------------

function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === '/' && !typingIn(e.target) && !$('detail').open) {
    e.preventDefault();
    if (currentView() !== 'search') location.hash = '#/search';
    focusSearch();
  }
}

function main() {
  // On a narrow screen the filters start folded, so that the results come first.
  if (window.matchMedia('(max-width: 800px)').matches) $('filters-box').open = false;
  initSearch(ctx);
  initDetail();
  initPeople(ctx);
  initIngest(ctx);
  setupAuth();
  API.onServerStatus(onServerStatus);
  $('collection-select').addEventListener('change', onCollectionChange);
  $('server-retry').addEventListener('click', () => API.checkHealth());
  window.addEventListener('hashchange', route);
  document.addEventListener('keydown', onKey);
  route();
  reloadCollections().then(() => route());
  scheduleHealth();
}

main();
