#!/usr/bin/env node
// Browser test of Mosaic's web UI (web/, served by `mosaic serve` at /ui/), in Debian's Chromium
// driven by playwright-core. It searches by text and by an uploaded image, filters by a facet,
// loads the next page, opens a result (boxes drawn over it), asks for more like it, plays a video
// shot from its start, names a person and finds the name again after a reload, ingests a folder
// (when asked to), and checks the banner shown while the server cannot be reached. A screenshot
// is saved after every step.
//
//   MOSAIC_URL          the server, e.g. http://127.0.0.1:6399 (required)
//   MOSAIC_COLLECTION   the collection to use (default: media); made by `mosaic ingest` with the
//                       object, face and visual models, with people clustered (tests/web/run.sh)
//   MOSAIC_ARTIFACTS    where the screenshots go (default: a new temporary folder)
//   MOSAIC_QUERY_IMAGE  the image uploaded as a query; it must be in the collection, whose
//                       copy is then the best hit (default: .cache/data/darknet/dog.jpg)
//   MOSAIC_TEXT_QUERY   the text query; a hit in the first page has it in its title (default: dog)
//   MOSAIC_VIDEO_QUERY  a text query that finds a video with a shot starting after 0 s that
//                       Chromium can play (default: testcard, the clip run.sh makes)
//   MOSAIC_INGEST_PATH, MOSAIC_INGEST_EXPECT  when set: the ingest page ingests that folder
//                       (relative to the server's --media-root) and the search then finds the
//                       title MOSAIC_INGEST_EXPECT, a file of that folder
//
// Exit status 0 when every step passed; 1 with the failed step and why.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const BASE = (process.env.MOSAIC_URL || '').replace(/\/+$/, '');
const COLLECTION = process.env.MOSAIC_COLLECTION || 'media';
const ARTIFACTS = process.env.MOSAIC_ARTIFACTS || fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-ui-'));
const QUERY_IMAGE = process.env.MOSAIC_QUERY_IMAGE || path.join(ROOT, '.cache/data/darknet/dog.jpg');
const TEXT_QUERY = process.env.MOSAIC_TEXT_QUERY || 'dog';
const VIDEO_QUERY = process.env.MOSAIC_VIDEO_QUERY || 'testcard';
// Optional: a folder (relative to the server's media root) for the ingest page to ingest, and
// the title of a file in it that is not in the collection before.
const INGEST_PATH = process.env.MOSAIC_INGEST_PATH || '';
const INGEST_EXPECT = process.env.MOSAIC_INGEST_EXPECT || '';
const DEADLINE_S = Number(process.env.MOSAIC_UI_TEST_TIMEOUT_S || 60);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

class Failure extends Error {}

function expect(condition, message) {
  if (!condition) throw new Failure(message);
}

let context = null;
let page = null;
let userDataDir = null;
let stepNo = 0;
let passed = 0;
const pageErrors = [];

async function cleanup() {
  try {
    if (context) await context.close();
  } catch {
    // The browser may be gone already.
  }
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
}

async function die(message) {
  console.error(`\nFAIL: ${message}`);
  console.error(`screenshots: ${ARTIFACTS}`);
  console.error(`${passed} passed, 1 failed`);
  await cleanup();
  process.exit(1);
}

async function screenshot(name) {
  if (!page) return null;
  const file = path.join(ARTIFACTS, `${String(stepNo).padStart(2, '0')}-${name}.png`);
  try {
    await page.screenshot({ path: file, fullPage: false, timeout: 5000 });
    return file;
  } catch {
    return null;
  }
}

async function step(name, fn) {
  stepNo++;
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  const started = Date.now();
  process.stdout.write(`[${stepNo}] ${name} ... `);
  try {
    await fn();
  } catch (e) {
    console.log('failed');
    const shot = await screenshot(`${slug}-FAILED`);
    const why = e instanceof Failure ? e.message : `${e.name}: ${e.message.split('\n')[0]}`;
    await die(`step ${stepNo} "${name}": ${why}${shot ? `\n(screenshot ${shot})` : ''}`);
  }
  if (pageErrors.length) {
    await screenshot(`${slug}-FAILED`);
    await die(`step ${stepNo} "${name}": the page threw: ${pageErrors.join('; ')}`);
  }
  await screenshot(slug);
  passed++;
  console.log(`ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

// The answer to the next POST to an API path (ending with `suffix`) whose JSON body passes
// `accept`; `what` says in a failure which request never came.
function nextApiResponse(suffix, accept = () => true, what = 'the expected request', timeout = 15000) {
  return quiet(page.waitForResponse((res) => {
    const req = res.request();
    if (req.method() !== 'POST' || !new URL(res.url()).pathname.endsWith(suffix)) return false;
    try {
      return accept(req.postDataJSON() || {});
    } catch {
      return false;
    }
  }, { timeout }).catch((e) => {
    if (e instanceof Error && /Timeout/i.test(e.message))
      throw new Failure(`no answer to ${what} (POST ...${suffix}) within ${timeout / 1000} s`);
    throw e;
  }));
}

// A wait started before the action it waits for may be abandoned when a step fails first: its
// rejection then must not end the process before the failure is reported.
function quiet(promise) {
  promise.catch(() => {});
  return promise;
}

async function expectOk(res, what) {
  if (res.ok()) return res.json();
  let body = '';
  try {
    body = await res.text();
  } catch {
    // No body to show.
  }
  throw new Failure(`${what}: HTTP ${res.status()} from ${new URL(res.url()).pathname}: ${body.slice(0, 300)}`);
}

const cards = () => page.locator('#result-grid .result-card');
const cardAttrs = () => page.$$eval('#result-grid .result-card', (els) =>
  els.map((e) => ({ id: e.dataset.id, kind: e.dataset.kind, title: e.dataset.title, start: e.dataset.start })));

// Waits until the grid holds the hits of the answer just received (rendering follows the
// response by a tick) and returns the cards' attributes.
async function settled(minCount = 1) {
  await page.waitForFunction((n) => document.querySelectorAll('#result-grid .result-card').length >= n
    && document.getElementById('results').getAttribute('aria-busy') === 'false', minCount, { timeout: 10000 })
    .catch(() => {});
  return cardAttrs();
}

async function apiGet(pathname) {
  const res = await page.request.get(`${BASE}${pathname}`);
  return expectOk(res, `GET ${pathname}`);
}

async function main() {
  expect(BASE, 'set MOSAIC_URL to the server, e.g. http://127.0.0.1:6399 (tests/web/run.sh starts one)');
  expect(fs.existsSync(QUERY_IMAGE), `the query image ${QUERY_IMAGE} does not exist (set MOSAIC_QUERY_IMAGE)`);
  expect(!INGEST_PATH || INGEST_EXPECT, 'MOSAIC_INGEST_PATH needs MOSAIC_INGEST_EXPECT, the title of a file in it');
  expect(fs.existsSync(CHROMIUM), `${CHROMIUM} not found: install Debian's chromium package`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const timer = setTimeout(() => die(`the test took longer than ${DEADLINE_S} s`), DEADLINE_S * 1000);
  timer.unref();

  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-ui-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (e) => pageErrors.push(e.message));

  await step('open the UI', async () => {
    const first = nextApiResponse('/query');
    await page.goto(`${BASE}/ui/`).catch((e) => {
      throw new Failure(`cannot open ${BASE}/ui/: ${e.message.split('\n')[0]}`);
    });
    await page.waitForSelector(`#collection-select option[value="${COLLECTION}"]`, { state: 'attached' })
      .catch(() => { throw new Failure(`the collection picker has no "${COLLECTION}" (GET /v1/collections)`); });
    await expectOk(await first, 'the first listing');
    if (await page.inputValue('#collection-select') !== COLLECTION) {
      const listing = nextApiResponse(`/collections/${encodeURIComponent(COLLECTION)}/query`);
      await page.selectOption('#collection-select', COLLECTION);
      await expectOk(await listing, 'the listing of the chosen collection');
    }
    const shown = await settled();
    expect(shown.length > 0, `the collection "${COLLECTION}" shows no results before any search`);
    expect(await page.isHidden('#server-banner'), 'the server-down banner shows while the server is up');
  });

  await step('search by text', async () => {
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.keyboard.press('/');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    expect(focused === 'search-input', `"/" should focus #search-input, focus is on "${focused}"`);
    await page.fill('#search-input', TEXT_QUERY);
    const answer = nextApiResponse('/query', (b) => b.query === TEXT_QUERY && b.explain === true,
      `a query for the text "${TEXT_QUERY}" with explain`);
    await page.click('#search-button');
    const json = await expectOk(await answer, 'the text search');
    const shown = await settled();
    expect(shown.length > 0, `no results for "${TEXT_QUERY}"`);
    expect(shown.length === (json.points || json.groups || []).length,
      `the grid shows ${shown.length} cards for ${(json.points || []).length} hits`);
    const firstPage = shown.slice(0, 10).map((c) => c.title);
    expect(firstPage.some((t) => t.toLowerCase().includes(TEXT_QUERY.toLowerCase())),
      `no result among the first 10 has "${TEXT_QUERY}" in its title: ${JSON.stringify(firstPage)}`);
    const why = await page.locator('#result-grid .result-card').first().locator('.why .signal').count();
    expect(why > 0, 'the first result does not say why it matched (explain signals)');
    const recent = await page.locator('#recent-items .recent-query', { hasText: TEXT_QUERY }).count();
    expect(recent === 1, `the query is not listed once among the recent queries (${recent})`);
  });

  await step('search by an uploaded image', async () => {
    await page.fill('#search-input', '');
    const answer = nextApiResponse('/query', (b) => b.query && Array.isArray(b.query.auto)
      && b.query.auto.length === 1 && typeof b.query.auto[0].image_base64 === 'string'
      && b.query.auto[0].image_base64.length > 1000, 'a query whose only input is the uploaded image as image_base64');
    await page.setInputFiles('#image-input', QUERY_IMAGE);
    const json = await expectOk(await answer, 'the image search');
    expect((json.points || []).length > 0, 'the image search found nothing');
    expect(await page.isVisible('#media-query'), 'the uploaded image is not shown as part of the query');
    const shown = await settled();
    const stem = path.basename(QUERY_IMAGE).replace(/\.[^.]+$/, '');
    expect(shown[0] && shown[0].title === stem,
      `the best hit for the uploaded ${path.basename(QUERY_IMAGE)} should be its own copy "${stem}", got "${shown[0] && shown[0].title}"`);
  });

  await step('filter by a facet', async () => {
    const option = page.locator('.facet-option[data-key="kind"][data-value="image"]');
    expect(await option.count() === 1, 'the "kind" facet offers no "image"');
    const answer = nextApiResponse('/query', (b) => JSON.stringify(b.filter || {}).includes('"key":"kind","match":{"any":["image"]}'),
      'a query filtered by kind = image');
    await option.check();
    await expectOk(await answer, 'the filtered search');
    const shown = await settled();
    expect(shown.length > 0, 'no images left after filtering by kind = image');
    const others = shown.filter((c) => c.kind !== 'image');
    expect(others.length === 0, `filtered by kind = image, yet showing ${others.map((c) => `${c.title} (${c.kind})`).join(', ')}`);
    expect(await page.locator('.facet-option[data-key="kind"][data-value="image"]').isChecked(), 'the facet option is not checked');
    expect(await page.locator('#active-filters .chip[data-key="kind"]').count() === 1, 'no chip shows the active kind filter');
  });

  await step('load the next page', async () => {
    const before = await cardAttrs();
    expect(await page.isVisible('#load-more'), `"Load more" is not offered after ${before.length} results`);
    const answer = nextApiResponse('/query', (b) => b.offset === before.length, `a query for the page at offset ${before.length}`);
    await page.click('#load-more');
    const json = await expectOk(await answer, 'the next page');
    const added = (json.points || []).length;
    expect(added > 0, 'the next page is empty');
    const after = await settled(before.length + added);
    expect(after.length === before.length + added, `expected ${before.length + added} cards after "Load more", got ${after.length}`);
    const ids = after.map((c) => c.id);
    const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(dupes.length === 0, `pages repeat results: ${dupes.join(', ')}`);
    expect(after.slice(before.length).every((c) => c.kind === 'image'), 'the next page ignores the facet filter');
  });

  let opened = null;
  await step('open a result', async () => {
    const first = cards().first();
    opened = await first.getAttribute('data-id');
    await first.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#detail[open]');
    const title = await page.textContent('#detail-title');
    const cardTitle = await first.getAttribute('data-title');
    expect(title === cardTitle, `the detail shows "${title}" for the card "${cardTitle}"`);
    await page.waitForFunction(() => {
      const img = document.getElementById('detail-image');
      return img && img.complete && img.naturalWidth > 0;
    }, null, { timeout: 10000 }).catch(() => { throw new Failure('the full image (GET .../media) did not load in the detail view'); });
    const point = await apiGet(`/v1/collections/${encodeURIComponent(COLLECTION)}/points/${encodeURIComponent(opened)}`);
    const payload = (point.point || point).payload || {};
    const objects = (payload.objects || []).length;
    expect(objects > 0, `the opened image "${cardTitle}" has no detected objects to draw (ingest with the object detectors)`);
    await page.waitForFunction((n) => document.querySelectorAll('#detail-media .box-object').length === n, objects, { timeout: 5000 })
      .catch(async () => {
        const drawn = await page.locator('#detail-media .box-object').count();
        throw new Failure(`the image has ${objects} objects, ${drawn} boxes are drawn`);
      });
    const viewBox = await page.getAttribute('#detail-media svg.boxes', 'viewBox');
    expect(viewBox === `0 0 ${payload.width} ${payload.height}`, `the boxes' frame is "${viewBox}", not the image's ${payload.width} x ${payload.height}`);
    await page.keyboard.press('Escape');
    await page.waitForSelector('#detail', { state: 'hidden' });
    const back = await page.evaluate(() => document.activeElement && document.activeElement.dataset.id);
    expect(back === opened, 'closing the detail does not return the focus to the result');
  });

  await step('more like this', async () => {
    await cards().first().click();
    await page.waitForSelector('#detail[open]');
    const id = await page.getAttribute('#detail', 'data-id');
    const answer = nextApiResponse('/recommend', (b) => Array.isArray(b.positive)
      && b.positive.some((p) => p && String(p.id) === id), `a recommendation with ${id} as a positive example`);
    await page.click('#more-like-this');
    const json = await expectOk(await answer, 'more like this');
    expect((json.points || []).length > 0, 'more like this found nothing');
    await page.waitForSelector('#detail', { state: 'hidden' });
    await page.waitForSelector('#feedback-bar:not([hidden])');
    const shown = await settled();
    expect(shown.length === json.points.length, `the grid shows ${shown.length} cards for ${json.points.length} recommendations`);
    expect(!shown.some((c) => c.id === id), 'the example itself is among its recommendations');
  });

  await step('play a video shot from its start', async () => {
    await page.click('#feedback-clear');
    await page.click('#media-clear');
    await page.locator('#active-filters .chip[data-key="kind"]').click();
    await page.fill('#search-input', VIDEO_QUERY);
    let answer = nextApiResponse('/query', (b) => b.query === VIDEO_QUERY && !JSON.stringify(b.filter || {}).includes('"any":["image"]'),
      `a query for "${VIDEO_QUERY}" without the image filter`);
    await page.click('#search-button');
    await expectOk(await answer, 'the video search');
    await settled();
    const shotOption = page.locator('.facet-option[data-key="kind"][data-value="shot"]');
    expect(await shotOption.count() === 1, `"${VIDEO_QUERY}" finds no shots (facet kind = shot)`);
    answer = nextApiResponse('/query', (b) => JSON.stringify(b.filter || {}).includes('"any":["shot"]'), 'a query filtered by kind = shot');
    await shotOption.check();
    await expectOk(await answer, 'the shots search');
    const shown = await settled();
    const shot = shown.find((c) => c.kind === 'shot' && Number(c.start) > 0);
    expect(shot, `no shot starting after 0 s among ${JSON.stringify(shown.map((c) => [c.title, c.kind, c.start]))}`);
    const start = Number(shot.start);
    await page.click(`.result-card[data-id="${shot.id}"]`);
    await page.waitForSelector('#video-player');
    const ok = await page.waitForFunction((s) => {
      const v = document.getElementById('video-player');
      return v && !v.error && v.readyState >= 2 && !v.seeking && Math.abs(v.currentTime - s) < 0.3;
    }, start, { timeout: 10000 }).then(() => true, () => false);
    const state = await page.$eval('#video-player', (v) => ({
      t: v.currentTime, ready: v.readyState, error: v.error && `${v.error.code} ${v.error.message}`, src: v.currentSrc,
    }));
    expect(ok, `the player should stand at the shot's start ${start} s with a frame: currentTime ${state.t}, readyState ${state.ready}, error ${state.error} (${state.src})`);
    const current = await page.locator('#detail-media .segment.current').getAttribute('data-start').catch(() => null);
    expect(Number(current) === start, `the shot list does not mark the shot at ${start} s as the current one (${current})`);
    await screenshot('video-player');
    await page.keyboard.press('Escape');
  });

  await step('name a person', async () => {
    const people = quiet(page.waitForResponse((r) => new URL(r.url()).pathname.endsWith('/people') && r.request().method() === 'GET'));
    await page.click('#people-tab');
    await expectOk(await people, 'the people list');
    await page.waitForSelector('.person-card');
    const card = page.locator('.person-card').first();
    const person = await card.getAttribute('data-person');
    const name = `UI Test ${Date.now() % 1000000}`;
    await card.locator('.person-name-input').fill(name);
    const saved = nextApiResponse(`/people/${encodeURIComponent(person)}/name`, (b) => b.name === name, `naming ${person}`);
    await card.locator('.person-name-input').press('Enter');
    await expectOk(await saved, `naming ${person}`);
    await card.locator('.person-status', { hasText: 'Saved' }).waitFor();
    await page.reload();
    const input = page.locator(`.person-card[data-person="${person}"] .person-name-input`);
    await input.waitFor();
    const shownName = await input.inputValue();
    expect(shownName === name, `after a reload person ${person} is named "${shownName}", not "${name}"`);
  });

  if (INGEST_PATH) {
    await step('ingest a folder', async () => {
      await page.click('#ingest-tab');
      await page.waitForSelector('#ingest-view:not([hidden])');
      await page.fill('#ingest-path', INGEST_PATH);
      await page.fill('#ingest-collection', COLLECTION);
      const started = quiet(page.waitForResponse((r) => new URL(r.url()).pathname.endsWith('/ingest') && r.request().method() === 'POST'));
      const events = quiet(page.waitForRequest((r) => /\/v1\/jobs\/[^/]+\/events$/.test(new URL(r.url()).pathname)));
      await page.click('#ingest-start');
      const job = await expectOk(await started, `ingesting "${INGEST_PATH}"`);
      await events.catch(() => { throw new Failure('the progress is not followed through GET /v1/jobs/{job}/events'); });
      await page.waitForSelector('#ingest-job[data-state="done"]', { timeout: 20000 }).catch(async () => {
        const state = await page.getAttribute('#ingest-job', 'data-state');
        throw new Failure(`job ${job.id} is "${state}" in the UI, not "done", after 20 s`);
      });
      const final = await apiGet(`/v1/jobs/${encodeURIComponent(job.id)}`);
      const p = final.progress || final;
      const counts = await page.textContent('#ingest-counts');
      expect(counts.includes(`${p.files_done} of ${p.files_total} files`), `the job's counts read "${counts}", the server says ${p.files_done} of ${p.files_total} files`);
      const errors = (final.errors || []).length;
      const listed = await page.locator('#ingest-errors .ingest-error').count();
      expect(listed === errors, `the job has ${errors} failed files, the page lists ${listed}`);
      await screenshot('ingest-done');
      await page.click('#search-tab');
      await page.fill('#search-input', INGEST_EXPECT);
      const answer = nextApiResponse('/query', (b) => b.query === INGEST_EXPECT, `a query for "${INGEST_EXPECT}"`);
      await page.click('#search-button');
      await expectOk(await answer, 'the search for the ingested file');
      const shown = await settled();
      expect(shown.some((c) => c.title === INGEST_EXPECT), `"${INGEST_EXPECT}", ingested just now, is not found: ${JSON.stringify(shown.map((c) => c.title))}`);
    });
  }

  await step('banner while the server is down', async () => {
    await page.click('#search-tab');
    await page.route('**/v1/**', (route) => route.abort('connectionrefused'));
    await page.fill('#search-input', TEXT_QUERY);
    await page.click('#search-button');
    await page.waitForSelector('#server-banner', { state: 'visible', timeout: 5000 })
      .catch(() => { throw new Failure('no banner when requests to the server fail'); });
    await screenshot('server-down');
    await page.unroute('**/v1/**');
    await page.waitForSelector('#server-banner', { state: 'hidden', timeout: 8000 })
      .catch(() => { throw new Failure('the banner stays after the server is reachable again (GET /v1/health)'); });
  });

  clearTimeout(timer);
  console.log(`\nscreenshots: ${ARTIFACTS}`);
  console.log(`${passed} passed, 0 failed`);
  await cleanup();
}

main().catch((e) => die(e instanceof Failure ? e.message : String(e && e.stack ? e.stack : e)));
