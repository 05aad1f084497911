// Browser test of the web client shell against a real tincan binary.
// (Calls themselves: call.test.mjs, lobby.test.mjs, resume.test.mjs.)
//
// One server and one headless Chromium serve all steps in order: the page
// loads with its three ways to call, the signaling status turns "connected"
// over /ws, the service worker installs and caches the shell, the manifest
// and its icons are valid, nothing hits the console or the CSP, screenshots
// (desktop and phone) land in test-output/e2e/, and finally the page survives
// a server restart: served from the service worker's cache while the server
// is down, and back to "connected" once it is up again.
//
// Run: node --test tests/e2e/   (TINCAN_BIN picks another binary)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, startServer } from '../lib/server.mjs';
import { Signal, backoffDelay, signalUrl } from '../../web/signal.js';
import { loudestBlock, windowSize } from '../../web/speaker.js';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Chromium refuses service workers on an origin whose certificate it does
  // not trust; ignoreHTTPSErrors alone is not enough for that.
  '--ignore-certificate-errors',
];
const OUT = join(ROOT, 'test-output', 'e2e');
const STEP = { timeout: 60_000 };
const DESKTOP = { viewport: { width: 1280, height: 800 } };
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };
const SHELL = ['/', '/style.css', '/app.js', '/signal.js', '/ui.js', '/call.js', '/media.js', '/session.js',
  '/call-view.js', '/chat.js', '/lobby.js', '/lobby-view.js', '/ring.js', '/manifest.json',
  '/icons/icon-192.png', '/icons/icon-512.png'];

/** Records console errors/warnings, page errors and CSP violations of a page. */
function watch(page, name, problems) {
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') {
      problems.push({ page: name, kind: `console.${msg.type()}`, text: msg.text() });
    }
  });
  page.on('pageerror', (err) => problems.push({ page: name, kind: 'pageerror', text: String(err) }));
}

/** Runs in every page before its own scripts: collects CSP violation events. */
function collectCspViolations() {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (ev) => {
    window.__cspViolations.push(`${ev.effectiveDirective} blocked ${ev.blockedURI || 'inline'}`
      + ` at ${ev.sourceFile}:${ev.lineNumber}`);
  });
}

/** Width and height from a PNG's IHDR chunk; throws if it is not a PNG. */
function pngSize(buf) {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(buf.length > 33 && buf.subarray(0, 8).equals(sig), 'PNG signature');
  assert.equal(buf.toString('latin1', 12, 16), 'IHDR', 'first chunk is IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

const waitStatus = (page, status, timeout = 15_000) =>
  page.waitForSelector(`#status[data-status="${status}"]`, { timeout });

test('signal.js: reconnect backoff is 1, 2, 4, 8 ... 30 s and the URL follows the page', () => {
  const delays = Array.from({ length: 10 }, (_, i) => backoffDelay(i) / 1000);
  assert.deepEqual(delays, [1, 2, 4, 8, 16, 30, 30, 30, 30, 30]);
  assert.equal(backoffDelay(1000), 30_000);
  assert.equal(signalUrl({ protocol: 'https:', host: 'call.example.com' }), 'wss://call.example.com/ws');
  assert.equal(signalUrl({ protocol: 'http:', host: '127.0.0.1:8443' }), 'ws://127.0.0.1:8443/ws');
  // Reconnects resume with the token in the first message, never in the URL.
  assert.equal(signalUrl({ protocol: 'https:', host: 'h:1' }, 'ab12'), 'wss://h:1/ws', 'no token in the URL');
});

test('speaker.js: each tick sees all the audio since the last, and a short beep between ticks counts', () => {
  // The analyser window covers a whole 250 ms tick at the usual rates.
  for (const rate of [16000, 44100, 48000, 96000]) {
    const n = windowSize(rate, 300);
    assert.ok(n >= (rate * 250) / 1000, `${rate} Hz: ${n} samples cover 250 ms`);
    assert.equal(n & (n - 1), 0, 'a power of two');
  }
  assert.equal(windowSize(48000, 10), 512);
  assert.equal(windowSize(1e9, 1000), 32768, 'capped at what WebAudio allows');
  // A 20 ms, 400 Hz beep at 0.1 (what a fake microphone sends twice a
  // second) inside 300 ms of silence.
  const rate = 48000;
  const buf = new Float32Array(windowSize(rate, 300));
  const beepAt = 9000;
  for (let i = 0; i < rate / 50; i++) buf[beepAt + i] = 0.1 * Math.sin((2 * Math.PI * 400 * i) / rate);
  const level = loudestBlock(buf, rate / 100);
  assert.ok(Math.abs(level - 0.1 / Math.SQRT2) < 0.01, `the beep's own level: ${level}`);
  let sum = 0;
  for (const v of buf) sum += v * v;
  assert.ok(Math.sqrt(sum / buf.length) < 0.02, 'averaged over the window it would fall under the threshold');
  assert.equal(loudestBlock(new Float32Array(1000), 480), 0, 'silence');
  assert.equal(loudestBlock(new Float32Array(0), 480), 0, 'nothing');
});

test('signal.js: a connect that hangs is given up after the welcome timeout and retried, its close or not', async (t) => {
  // A WebSocket whose connect never ends and whose close() fires nothing
  // (a connect stuck in a network change); globals as a page has them.
  const sockets = [];
  class HangingSocket extends EventTarget {
    constructor(url) { super(); this.url = url; sockets.push(this); }
    close() { this.closed = true; }
    send() {}
  }
  const saved = { WebSocket: globalThis.WebSocket, navigator: globalThis.navigator, add: globalThis.addEventListener, remove: globalThis.removeEventListener };
  globalThis.WebSocket = HangingSocket;
  Object.defineProperty(globalThis, 'navigator', { value: { onLine: true }, configurable: true });
  globalThis.addEventListener = () => {};
  globalThis.removeEventListener = () => {};
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const s = new Signal('wss://h/ws');
    const seen = [];
    s.addEventListener('status', (ev) => seen.push(ev.detail.status));
    s.start();
    assert.equal(sockets.length, 1);
    t.mock.timers.tick(10_000); // the welcome timeout
    assert.ok(sockets[0].closed, 'the hanging socket is closed');
    assert.equal(s.status, 'reconnecting', 'and a retry is due without its close event');
    t.mock.timers.tick(backoffDelay(0));
    assert.equal(sockets.length, 2, 'a new connect after the backoff');
    s.stop();
    assert.deepEqual(seen.slice(0, 2), ['connecting', 'reconnecting']);
  } finally {
    t.mock.timers.reset();
    globalThis.WebSocket = saved.WebSocket;
    Object.defineProperty(globalThis, 'navigator', { value: saved.navigator, configurable: true });
    globalThis.addEventListener = saved.add;
    globalThis.removeEventListener = saved.remove;
  }
});

describe('web client shell', { timeout: 300_000 }, () => {
  let server;
  let browser;
  let context;
  let page;
  let dataDir;
  const problems = [];

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    // Our own data dir so the restart step keeps the same certificate.
    dataDir = mkdtempSync(join(tmpdir(), 'tincan-e2e-'));
    server = await startServer({ dataDir });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    context = await browser.newContext({ ...DESKTOP, ignoreHTTPSErrors: true });
    await context.addInitScript(collectCspViolations);
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    watch(page, 'desktop', problems);
  }, STEP);

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, STEP);

  test('the page loads with its name and the three ways to call', STEP, async () => {
    const res = await page.goto(server.url + '/');
    assert.equal(res.status(), 200);
    const csp = res.headers()['content-security-policy'] || '';
    assert.match(csp, /default-src 'self'/, 'the page is served with its CSP, so the CSP checks below mean something');

    assert.match(await page.title(), /tincan/i);
    assert.equal((await page.getByRole('heading', { level: 1 }).textContent()).trim(), 'tincan');
    assert.ok(await page.locator('.tagline').isVisible(), 'tagline visible');

    const join = page.getByRole('button', { name: 'Join Call' });
    assert.ok(await join.isVisible(), 'Join Call button visible');
    assert.ok(await page.getByRole('heading', { name: 'Call with PIN' }).isVisible());
    assert.ok(await page.getByLabel('6-digit PIN').isVisible(), 'PIN input visible and labelled');
    assert.ok(await page.getByRole('heading', { name: 'Lobby' }).isVisible());
    assert.ok(await page.getByLabel('Your name').isVisible(), 'lobby name input visible and labelled');

    // The three choices are real now: no placeholders, nothing disabled.
    assert.equal(await page.getByText(/coming soon/i).count(), 0, 'no "coming soon" placeholders left');
    assert.equal(await join.getAttribute('aria-disabled'), null, 'Join Call is enabled');
    assert.ok(await page.getByRole('switch', { name: /audio only/i }).isVisible(), 'audio-only choice before joining');
    await page.getByLabel('6-digit PIN').fill('12ab');
    assert.equal(await page.getByLabel('6-digit PIN').inputValue(), '12', 'PIN field keeps digits only');
    await page.getByRole('button', { name: 'Call', exact: true }).click();
    assert.match(await page.locator('#pin-note').textContent(), /six digits/i, 'a short PIN is refused in the page');
    assert.equal(await page.getByLabel('6-digit PIN').getAttribute('aria-invalid'), 'true');

    // The CSP forbids inline code and styles; keep the markup free of them.
    const inline = await page.evaluate(() => ({
      styleAttrs: document.querySelectorAll('[style]').length,
      inlineScripts: [...document.scripts].filter((s) => !s.src).length,
      styleTags: document.querySelectorAll('style').length,
      handlers: [...document.querySelectorAll('*')]
        .filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
    }));
    assert.deepEqual(inline, { styleAttrs: 0, inlineScripts: 0, styleTags: 0, handlers: 0 });
  });

  test('the status becomes connected over the /ws WebSocket', STEP, async () => {
    await waitStatus(page, 'connected');
    assert.equal(await page.locator('#status').getAttribute('role'), 'status', 'status is a live region');
    assert.equal((await page.locator('#status-text').textContent()).trim(), 'Connected');
  });

  test('offline shows disconnected; back online it reconnects at once', STEP, async () => {
    await context.setOffline(true);
    await waitStatus(page, 'disconnected');
    assert.match(await page.locator('#status').textContent(), /offline/i);
    await context.setOffline(false);
    // No backoff wait here: the 'online' event triggers the next try.
    await waitStatus(page, 'connected', 5_000);
  });

  test('the service worker registers, activates and caches the shell', STEP, async () => {
    const sw = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      const worker = reg.active;
      if (worker.state !== 'activated') {
        await new Promise((ok) => worker.addEventListener('statechange', () => {
          if (worker.state === 'activated') ok();
        }));
      }
      const keys = await caches.keys();
      const cached = [];
      for (const key of keys) {
        for (const req of await (await caches.open(key)).keys()) cached.push(new URL(req.url).pathname);
      }
      return { scope: reg.scope, script: worker.scriptURL, state: worker.state, keys, cached };
    });
    assert.equal(sw.script, server.url + '/sw.js');
    assert.equal(sw.scope, server.url + '/');
    assert.equal(sw.state, 'activated');
    assert.equal(sw.keys.length, 1, `one versioned cache: ${sw.keys}`);
    assert.match(sw.keys[0], /v\d+/, 'cache name carries a version');
    for (const path of SHELL) assert.ok(sw.cached.includes(path), `${path} cached (got ${sw.cached})`);

    // Reloaded, the page is controlled by the worker and still reaches /ws.
    await page.reload();
    await waitStatus(page, 'connected');
    const live = await page.evaluate(async () => {
      const health = await (await fetch('/health')).json();
      const cached = [];
      for (const key of await caches.keys()) {
        for (const req of await (await caches.open(key)).keys()) cached.push(new URL(req.url).pathname);
      }
      return { controlled: !!navigator.serviceWorker.controller, health, cached };
    });
    assert.ok(live.controlled, 'page is controlled by the service worker after reload');
    assert.equal(live.health.status, 'ok');
    for (const path of ['/health', '/ws']) assert.ok(!live.cached.includes(path), `${path} is never cached`);
  });

  test('the manifest is valid and its icons are real PNGs of the right size', STEP, async () => {
    const href = await page.locator('link[rel="manifest"]').getAttribute('href');
    assert.equal(href, '/manifest.json');
    const res = await context.request.get(server.url + href);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'] || '', /json/);
    const manifest = await res.json();
    assert.equal(manifest.name, 'tincan');
    assert.ok(manifest.short_name, 'short_name');
    assert.equal(manifest.start_url, '/');
    assert.equal(manifest.display, 'standalone');
    const themeColor = await page.locator('meta[name="theme-color"]').getAttribute('content');
    assert.equal(manifest.theme_color, themeColor, 'manifest theme_color matches <meta name=theme-color>');
    assert.ok(manifest.background_color, 'background_color');

    for (const size of [192, 512]) {
      const icon = manifest.icons.find((i) => i.sizes === `${size}x${size}`);
      assert.ok(icon, `icon ${size}x${size} listed`);
      assert.equal(icon.type, 'image/png');
      assert.deepEqual(icon.purpose.split(/\s+/).sort(), ['any', 'maskable']);
      const img = await context.request.get(new URL(icon.src, server.url).href);
      assert.equal(img.status(), 200, `${icon.src} status`);
      assert.equal(img.headers()['content-type'], 'image/png', `${icon.src} content-type`);
      assert.deepEqual(pngSize(await img.body()), { width: size, height: size }, `${icon.src} IHDR size`);
      // And the browser decodes it to the same size.
      const decoded = await page.evaluate(async (src) => {
        const im = new Image();
        im.src = src;
        await im.decode();
        return { width: im.naturalWidth, height: im.naturalHeight };
      }, icon.src);
      assert.deepEqual(decoded, { width: size, height: size }, `${icon.src} decodes`);
    }

    const touch = await page.locator('link[rel="apple-touch-icon"]').getAttribute('href');
    assert.equal((await context.request.get(server.url + touch)).status(), 200, 'apple-touch-icon');

    // Chromium's own verdict on the manifest and installability.
    const cdp = await context.newCDPSession(page);
    const { errors } = await cdp.send('Page.getAppManifest');
    assert.deepEqual(errors, [], 'Chromium parses the manifest without errors');
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    // Playwright contexts are off-the-record, which alone blocks installing.
    const blocking = installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito');
    assert.deepEqual(blocking, [], 'installable apart from the incognito context');
    await cdp.detach();
  });

  test('screenshots: desktop and phone, without horizontal overflow', STEP, async () => {
    await waitStatus(page, 'connected');
    await page.screenshot({ path: join(OUT, 'shell-desktop.png') });

    const phone = await browser.newContext({ ...PHONE, ignoreHTTPSErrors: true });
    try {
      await phone.addInitScript(collectCspViolations);
      const p = await phone.newPage();
      watch(p, 'phone', problems);
      await p.goto(server.url + '/');
      await waitStatus(p, 'connected');
      const widths = await p.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
      assert.ok(widths[0] <= widths[1], `no horizontal scrolling on a phone (${widths})`);
      assert.ok(await p.getByRole('button', { name: 'Join Call' }).isVisible());
      const box = await p.getByRole('button', { name: 'Join Call' }).boundingBox();
      assert.ok(box.height >= 44 && box.width >= 200, `Join Call is a big touch target (${box.width}x${box.height})`);
      await p.screenshot({ path: join(OUT, 'shell-phone.png') });
      await p.screenshot({ path: join(OUT, 'shell-phone-full.png'), fullPage: true });
      assert.deepEqual(await p.evaluate(() => window.__cspViolations), []);
    } finally {
      await phone.close();
    }
  });

  test('no console errors, page errors or CSP violations', STEP, async () => {
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
    assert.deepEqual(problems, []);
  });

  test('a server restart: the shell loads from cache, then the status reconnects', STEP, async () => {
    const port = server.port;
    await server.stop();
    await waitStatus(page, 'reconnecting');

    // Server down: the service worker alone must bring the page up.
    await page.reload();
    assert.equal((await page.getByRole('heading', { level: 1 }).textContent()).trim(), 'tincan');
    assert.ok(await page.getByRole('button', { name: 'Join Call' }).isVisible());
    await waitStatus(page, 'reconnecting');
    await page.screenshot({ path: join(OUT, 'shell-reconnecting.png') });

    server = await startServer({ dataDir, port });
    // Backoff is 1, 2, 4, 8 s ...; the next try is at most a few seconds away.
    await waitStatus(page, 'connected', 40_000);

    // While the server was down the browser logs failed WebSocket attempts
    // (and maybe a failed service worker update check); nothing else is ok.
    const expected = /WebSocket connection to '.*\/ws' failed|ERR_CONNECTION_REFUSED|Failed to load resource|sw\.js/;
    const unexpected = problems.filter((p) => !expected.test(p.text));
    assert.deepEqual(unexpected, []);
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  });
});
