// The ingest page: start a job on a folder under the server's media root, follow its progress
// (server-sent events from /v1/jobs/{job}/events, polling when they cannot be had), list its
// errors, cancel it.

import * as API from './api.js';
import { clear, el, fmtBytes } from './util.js';

const $ = (id) => document.getElementById(id);
let ctx = null;  // {collection(), reloadCollections()}
let follow = null;  // {id, source, timer}

export function initIngest(context) {
  ctx = context;
  $('ingest-form').addEventListener('submit', (e) => {
    e.preventDefault();
    start();
  });
  $('ingest-cancel').addEventListener('click', cancel);
}

export function showIngest() {
  const input = $('ingest-collection');
  if (!input.value && ctx.collection()) input.value = ctx.collection();
  refreshJobs();
}

function setStatus(text, error = false) {
  const s = $('ingest-status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

async function start() {
  const path = $('ingest-path').value.trim();
  const collection = $('ingest-collection').value.trim() || ctx.collection();
  if (!collection) {
    setStatus('Name the collection to ingest into.', true);
    return;
  }
  setStatus('Starting…');
  try {
    const job = await API.startIngest(collection, path);
    setStatus(`Started ${job.id}.`);
    watch(job);
    refreshJobs();
  } catch (e) {
    setStatus(`Could not start: ${e.message}`, true);
  }
}

async function cancel() {
  if (!follow) return;
  $('ingest-cancel').disabled = true;
  try {
    const job = await API.cancelJob(follow.id);
    render(job);
    setStatus(`Cancelling ${follow.id}: files in flight are finished first.`);
  } catch (e) {
    setStatus(`Could not cancel: ${e.message}`, true);
    $('ingest-cancel').disabled = false;
  }
}

function stopFollowing() {
  if (!follow) return;
  if (follow.source) follow.source.close();
  if (follow.timer) clearTimeout(follow.timer);
  follow = null;
}

function watch(job) {
  stopFollowing();
  follow = { id: job.id, source: null, timer: null };
  render(job);
  if (!running(job)) return;
  const me = follow;
  // EventSource sends no headers: with an API key the events cannot be authorized, so poll.
  if (typeof EventSource === 'undefined' || API.apiKey()) {
    poll(me);
    return;
  }
  const source = new EventSource(API.jobEventsUrl(job.id));
  me.source = source;
  const onData = (e) => {
    if (follow !== me) return;
    try {
      render(JSON.parse(e.data));
    } catch {
      // A malformed event is skipped; the next one carries the whole state again.
    }
  };
  source.addEventListener('progress', onData);
  source.addEventListener('done', (e) => {
    onData(e);
    source.close();
    if (follow === me) finished();
  });
  source.addEventListener('error', () => {
    // Closed by the server after "done", or the connection failed: poll until the job ends.
    source.close();
    if (follow === me && !me.done) poll(me);
  });
}

async function poll(me) {
  if (follow !== me) return;
  try {
    const job = await API.getJob(me.id);
    if (follow !== me) return;
    render(job);
    if (!running(job)) {
      finished();
      return;
    }
  } catch {
    // Down for a moment: the banner says so; keep trying.
  }
  me.timer = setTimeout(() => poll(me), 1000);
}

function finished() {
  if (follow) follow.done = true;
  $('ingest-cancel').disabled = true;
  refreshJobs();
  ctx.reloadCollections();
}

function running(job) {
  return job.state === 'running' || job.state === 'cancelling';
}

function progressOf(job) {
  return job.progress || job;
}

function render(job) {
  const p = progressOf(job);
  const panel = $('ingest-job');
  panel.hidden = false;
  panel.dataset.state = job.state || '';
  $('ingest-job-title').textContent = `${job.id} · ${job.path || '(media root)'} → ${job.collection || ''}`;
  $('ingest-state').textContent = job.state || '';
  const bar = $('ingest-progress');
  if (p.files_total > 0) {
    bar.max = p.files_total;
    bar.value = p.files_done || 0;
  } else if (running(job)) {
    bar.removeAttribute('value');  // indeterminate while the folder is scanned
  } else {
    bar.max = 1;
    bar.value = 1;
  }
  const parts = [`${p.files_done ?? 0} of ${p.files_total ?? '?'} files`];
  if (p.bytes_total) parts.push(`${fmtBytes(p.bytes_done || 0)} of ${fmtBytes(p.bytes_total)}`);
  if (typeof p.points === 'number') parts.push(`${p.points} points`);
  if (p.errors) parts.push(`${typeof p.errors === 'number' ? p.errors : p.errors.length} errors`);
  if (typeof p.elapsed_s === 'number') parts.push(`${p.elapsed_s.toFixed(1)} s`);
  $('ingest-counts').textContent = parts.join(' · ');
  $('ingest-cancel').disabled = !running(job);
  const errors = Array.isArray(job.errors) ? job.errors : [];
  const list = $('ingest-errors');
  clear(list, errors.map((e) => el('li', { class: 'ingest-error' },
    el('code', {}, e.path || ''), ` — ${e.stage ? `${e.stage}: ` : ''}${e.message || e.error || ''}`)));
  if (job.failure) list.append(el('li', { class: 'ingest-error' }, `The job failed: ${job.failure}`));
  $('ingest-errors-box').hidden = list.childElementCount === 0;
}

async function refreshJobs() {
  let res;
  try {
    res = await API.listJobs();
  } catch {
    return;
  }
  const jobs = (res.jobs || []).slice().reverse();
  clear($('ingest-jobs'), jobs.map((j) => {
    const p = progressOf(j);
    return el('li', { 'data-job': j.id },
      el('button', { type: 'button', class: 'link', onclick: () => watch(j) }, j.id),
      ` ${j.state} · ${j.path || '(media root)'} → ${j.collection} · ${p.files_done ?? 0}/${p.files_total ?? '?'} files`);
  }));
  $('ingest-jobs-box').hidden = jobs.length === 0;
  if (!follow) {
    const live = jobs.find(running);
    if (live) watch(live);
  }
}
