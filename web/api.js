// The native REST API (docs/server.md) as the UI uses it, and whether the server is reachable.
//
// Every call goes through api(): JSON in and out, errors as ApiError with the server's code and
// message. A failed fetch (connection refused, reset) marks the server down; any answer marks it
// up again. Views subscribe with onServerStatus() to show or hide the banner.

import { idText, store } from './util.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;  // HTTP status; 0 when the server could not be reached
    this.code = code;
  }
}

const statusListeners = new Set();
let serverDown = false;

export function onServerStatus(listener) {
  statusListeners.add(listener);
  return () => statusListeners.delete(listener);
}

export function isServerDown() {
  return serverDown;
}

function setServerDown(down) {
  if (down === serverDown) return;
  serverDown = down;
  for (const l of statusListeners) l(down);
}

// An API key, for servers started with MOSAIC_API_KEY / MOSAIC_READ_API_KEY (sent as Qdrant's
// "api-key" header). Asked for when the server answers 401.
const authListeners = new Set();
export function onAuthNeeded(listener) {
  authListeners.add(listener);
}
export function apiKey() {
  return store.get('apiKey', '');
}
// Also a cookie, for what cannot send headers: <img>, <video> and EventSource.
export function setApiKey(key) {
  store.set('apiKey', key);
  document.cookie = `mosaic_api_key=${encodeURIComponent(key)}; path=/; SameSite=Strict`;
}
if (apiKey()) setApiKey(apiKey());

export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const key = apiKey();
  if (key) headers['api-key'] = key;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    setServerDown(true);
    throw new ApiError(0, 'unavailable', 'the server cannot be reached');
  }
  setServerDown(false);
  const text = await res.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!res.ok) {
    const err = json && json.error ? json.error : {};
    const message = err.message || (text && !json ? text.trim() : `${method} ${path}: HTTP ${res.status}`);
    if (res.status === 401) for (const l of authListeners) l(message);
    throw new ApiError(res.status, err.code || String(res.status), message);
  }
  return json ?? {};
}

// Liveness: true when /v1/health answers within a few seconds.
export async function checkHealth() {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 4000);
  try {
    const res = await fetch('/v1/health', { signal: ctl.signal, cache: 'no-store' });
    setServerDown(!res.ok);
    return res.ok;
  } catch {
    setServerDown(true);
    return false;
  } finally {
    clearTimeout(timer);
  }
}

const enc = encodeURIComponent;

export function collectionUrl(collection, rest = '') {
  return `/v1/collections/${enc(collection)}${rest}`;
}

export function pointUrl(collection, id, rest = '') {
  return collectionUrl(collection, `/points/${enc(idText(id))}${rest}`);
}

export const thumbnailUrl = (c, id) => pointUrl(c, id, '/thumbnail');
export const mediaUrl = (c, id) => pointUrl(c, id, '/media');

export const listCollections = () => api('/v1/collections');
export const getPoint = (c, id) => api(pointUrl(c, id));
export const getPoints = (c, ids) =>
  api(collectionUrl(c, '/points/get'), { method: 'POST', body: { ids, with_payload: true } });
export const scroll = (c, body) => api(collectionUrl(c, '/points/scroll'), { method: 'POST', body });
export const query = (c, body, signal) =>
  api(collectionUrl(c, '/query'), { method: 'POST', body, signal });
export const facet = (c, body) => api(collectionUrl(c, '/facet'), { method: 'POST', body });
export const recommend = (c, body, signal) =>
  api(collectionUrl(c, '/recommend'), { method: 'POST', body, signal });
export const listPeople = (c) => api(collectionUrl(c, '/people'));
export const clusterPeople = (c) =>
  api(collectionUrl(c, '/people/cluster'), { method: 'POST', body: {} });
export const namePerson = (c, person, name) =>
  api(collectionUrl(c, `/people/${enc(person)}/name`), { method: 'POST', body: { name } });
export const cluster = (c, body) => api(collectionUrl(c, '/cluster'), { method: 'POST', body });
export const startIngest = (c, path) =>
  api(collectionUrl(c, '/ingest'), { method: 'POST', body: { path } });
export const listJobs = () => api('/v1/jobs');
export const getJob = (job) => api(`/v1/jobs/${enc(job)}`);
export const cancelJob = (job) => api(`/v1/jobs/${enc(job)}`, { method: 'DELETE' });
export const jobEventsUrl = (job) => `/v1/jobs/${enc(job)}/events`;
