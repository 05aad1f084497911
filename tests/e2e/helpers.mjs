// Shared pieces of the browser tests: one headless Chromium with fake
// camera and microphone, one context per simulated person, polling of real
// getStats() numbers through window.tincanDebug, screenshots, and a TCP
// proxy that can really cut a page's connections.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { ROOT, startServer } from '../lib/server.mjs';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Chromium refuses service workers on an origin whose certificate it does
  // not trust; ignoreHTTPSErrors alone is not enough for that.
  '--ignore-certificate-errors',
];
export const OUT = join(ROOT, 'test-output', 'e2e');
export const DESKTOP = { viewport: { width: 1280, height: 800 } };
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

export async function launch() {
  mkdirSync(OUT, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/**
 * For a describe block: starts tincan (opts for startServer) and one
 * Chromium before its tests and stops both after them. Returns an object
 * whose server and browser are set once started.
 */
export function useServerAndBrowser(opts = {}, step = { timeout: 90_000 }) {
  const env = { server: null, browser: null };
  before(async () => {
    env.server = await startServer(opts);
    env.browser = await launch();
  }, step);
  after(async () => {
    await env.browser?.close().catch(() => {});
    await env.server?.stop();
  }, step);
  return env;
}

/**
 * For a describe block of the SFU tests that drive RTCPeerConnections with
 * page.evaluate: tincan (opts for startServer), one Chromium that gathers
 * loopback candidates, and n pages of one context sitting on /health (a
 * secure origin of the server). Returns {server, browser, pages}, set once
 * started; all stopped after the block.
 */
export function useSfuPages(n, opts = {}, step = { timeout: 60_000 }) {
  const env = { server: null, browser: null, context: null, pages: [] };
  before(async () => {
    env.server = await startServer(opts);
    env.browser = await chromium.launch({
      executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--allow-loopback-in-peer-connection'], timeout: 30_000,
    });
    env.context = await env.browser.newContext({ ignoreHTTPSErrors: true });
    for (let i = 0; i < n; i++) {
      const page = await env.context.newPage();
      page.setDefaultTimeout(20_000);
      await page.goto(`${env.server.url}/health`);
      env.pages.push(page);
    }
  }, step);
  after(async () => {
    await env.context?.close().catch(() => {});
    await env.browser?.close().catch(() => {});
    await env.server?.stop();
  }, step);
  return env;
}

/** Runs in every page before its own scripts: collects CSP violations. */
function collectCspViolations() {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (ev) => {
    window.__cspViolations.push(`${ev.effectiveDirective} blocked ${ev.blockedURI || 'inline'}`
      + ` at ${ev.sourceFile}:${ev.lineNumber}`);
  });
}

/** Runs in every page: records each change of #status[data-status], in order. */
function recordStatus() {
  window.__statusLog = [];
  const start = () => {
    const el = document.getElementById('status');
    if (!el) return;
    window.__statusLog.push(el.dataset.status);
    new MutationObserver(() => {
      const last = window.__statusLog[window.__statusLog.length - 1];
      if (el.dataset.status !== last) window.__statusLog.push(el.dataset.status);
    }).observe(el, { attributes: true, attributeFilter: ['data-status'] });
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}

/**
 * A simulated person: own browser context (own cookies, storage, camera),
 * one page at `url`. init: one more script to run in the page before its
 * own (e.g. one that lowers the camera's resolution). Returns {name,
 * context, page, problems}.
 */
export async function person(browser, url, name, opts = DESKTOP, init = null) {
  const context = await browser.newContext({ ...opts, ignoreHTTPSErrors: true });
  await context.addInitScript(collectCspViolations);
  await context.addInitScript(recordStatus);
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${name} console.${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`${name} pageerror: ${err}`));
  await page.goto(url);
  await waitStatus(page, 'connected');
  return { name, context, page, problems };
}

export const waitStatus = (page, status, timeout = 20_000) =>
  page.waitForSelector(`#status[data-status="${status}"]`, { timeout }).catch(async (err) => {
    // What the page was doing instead: its address, the status it shows, and
    // whether the browser thought it was online (the client waits for the
    // 'online' event when it is not).
    const seen = await page.evaluate(() => ({
      status: document.querySelector('#status')?.dataset.status ?? null,
      text: document.querySelector('#status')?.textContent.trim() ?? null,
      online: navigator.onLine,
    })).catch((e) => ({ evaluate: e.message }));
    throw new Error(`${err.message.split('\n')[0]}; page ${page.url()}: ${JSON.stringify(seen)}`);
  });

/** The real getStats() numbers of every peer of the page's call. */
export const stats = (page) => page.evaluate(() => window.tincanDebug.stats());

/**
 * Waits until the page decodes video from exactly `count` peers (each
 * framesDecoded > minFrames, or above its entry in `after`, a previous
 * stats() result). Returns the stats.
 */
export async function waitDecoding(page, count, { after = {}, minFrames = 0, timeout = 30_000 } = {}) {
  const deadline = Date.now() + timeout;
  let last = {};
  for (;;) {
    last = await stats(page);
    const ids = Object.keys(last);
    const ok = ids.length === count && ids.every((id) => last[id].framesDecoded > Math.max(minFrames, after[id]?.framesDecoded ?? 0));
    if (ok) return last;
    if (Date.now() > deadline) {
      assert.fail(`expected ${count} peer(s) decoding video, got ${JSON.stringify(last)}`);
    }
    await new Promise((ok2) => setTimeout(ok2, 250));
  }
}

/** Peer ids of the remote tiles on the page. */
export const tileIds = (page) => page.$$eval('#grid .tile', (els) => els.map((el) => el.dataset.peerId));

export const shot = (page, name, opts = {}) => page.screenshot({ path: join(OUT, `${name}.png`), ...opts });

/** Joins the default room with the big button (and the pre-join screen); resolves when the call screen shows. */
export async function joinCall(page, opts = {}) {
  await page.getByRole('button', { name: /^Join (Call|Room)$/ }).click();
  await passPrejoin(page, opts);
}

/**
 * On the pre-join screen (rooms): types `name` if given, waits for the
 * camera preview and presses "Join now"; resolves when the call screen shows.
 */
export async function passPrejoin(page, { name } = {}) {
  await page.waitForSelector('#view-prejoin:not([hidden]), #view-call:not([hidden])');
  if (await page.locator('#view-prejoin').isVisible()) {
    if (name !== undefined) await page.fill('#prejoin-name', name);
    await page.locator('#prejoin-join:enabled').click();
  }
  await page.waitForSelector('#view-call:not([hidden])').catch(async (err) => {
    const seen = await page.evaluate(() => [document.body.dataset.view, document.getElementById('join-note').textContent,
      document.getElementById('prejoin-media-note').textContent]);
    throw new Error(`${err.message}; view/notes: ${JSON.stringify(seen)}`);
  });
}

/** Fails on console errors/warnings, page errors or CSP violations of these people. */
export async function assertClean(people, allowed = null) {
  const all = [];
  for (const p of people) {
    all.push(...p.problems.filter((t) => !(allowed && allowed.test(t))));
    if (!p.page.isClosed()) {
      const csp = await p.page.evaluate(() => window.__cspViolations || []);
      all.push(...csp.map((c) => `${p.name} CSP: ${c}`));
    }
  }
  assert.deepEqual(all, []);
}

/**
 * A TCP proxy on 127.0.0.1 in front of tincan: bytes pass through untouched
 * (TLS included), so a page loaded through it talks to the real server. cut()
 * resets every connection it carries, both ways, and refuses new ones for
 * `downMs` — a real network drop, not a simulated one.
 */
export async function tcpProxy(targetPort) {
  const pairs = new Set();
  let downUntil = 0;
  let accepted = 0;
  const server = net.createServer((client) => {
    if (Date.now() < downUntil) {
      client.resetAndDestroy();
      return;
    }
    accepted++;
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const done = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', done);
    upstream.on('error', done);
    client.on('close', done);
    upstream.on('close', done);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    /** Connections carried right now / accepted so far. */
    get connections() { return pairs.size; },
    get accepted() { return accepted; },
    /** Resets every carried connection and refuses new ones for downMs. */
    cut(downMs = 0) {
      downUntil = Date.now() + downMs;
      let n = 0;
      for (const { client, upstream } of pairs) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
        n++;
      }
      pairs.clear();
      return n;
    },
    close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      return new Promise((ok) => server.close(ok));
    },
  };
}

const AXE = readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/** axe-core in the page (evaluated, so the page's CSP does not apply); fails on serious/critical. */
export async function axeClean(page, what) {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(found, [], `axe on ${what}`);
}

/** Polls fn() until it returns a truthy value (returned); fails with the last value after timeout. */
export async function until(fn, what, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(last)}`);
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

/**
 * In the page: what the grid looks like — overlapping tile pairs, names
 * not inside their tile, and visible tile controls.
 */
export function layoutProblems() {
  const box = (el) => el.getBoundingClientRect();
  const tiles = [...document.querySelectorAll('#grid > .tile, #grid > .self')].filter((el) => el.offsetParent);
  const out = [];
  for (let i = 0; i < tiles.length; i++) {
    const a = box(tiles[i]);
    for (let j = i + 1; j < tiles.length; j++) {
      const b = box(tiles[j]);
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) out.push(`overlap ${tiles[i].dataset.peerId || 'self'} ${tiles[j].dataset.peerId || 'self'}`);
    }
    const name = tiles[i].querySelector('.tile-name, figcaption');
    const n = name && box(name);
    if (!n || n.width < 10 || n.left < a.left - 1 || n.right > a.right + 1 || n.top < a.top - 1 || n.bottom > a.bottom + 1) {
      out.push(`name outside ${tiles[i].dataset.peerId || 'self'}`);
    }
    // A label that covers much of a small tile hides the person.
    if (n && n.width * n.height > 0.35 * a.width * a.height) out.push(`label covers ${tiles[i].dataset.peerId || 'self'}`);
    // The connection line is shown whole or not at all.
    const net = tiles[i].querySelector('.tile-net');
    if (net && net.textContent && net.offsetParent && net.scrollWidth > net.clientWidth + 1) {
      out.push(`connection line cut ${tiles[i].dataset.peerId}: ${net.textContent}`);
    }
    for (const btn of tiles[i].querySelectorAll('button')) {
      if (getComputedStyle(btn).opacity !== '0' && btn.offsetParent && btn.getAttribute('aria-pressed') !== 'true') {
        out.push(`control shown: ${btn.textContent.trim()}`);
      }
    }
  }
  return out;
}

// Chromium in a network namespace of a test aborts a navigation when an
// interface of its namespace comes or goes (the veth settling after start): either as ERR_NETWORK_CHANGED or as
// a navigation "interrupted by another navigation to chrome-error://". Any
// other error, or a third such abort, fails the test.
export async function gotoThroughNetworkChange(page, url, opts = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await page.goto(url, opts);
    } catch (err) {
      const networkChanged = /ERR_NETWORK_CHANGED|chrome-error:\/\/chromewebdata/.test(err.message);
      if (!networkChanged || attempt === 3) throw err;
      await page.waitForTimeout(250 * attempt);
    }
  }
}
