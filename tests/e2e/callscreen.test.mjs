// Browser tests of the call screen people expect (names, mute and camera
// state, invites, offline and long outages, pre-join, listen-only, the PIN
// limit, the lobby's busy and ringing cues, layout on phones, and axe-core
// on every screen). Real Chromium, real WebRTC, the real tincan binary;
// outages are real (a TCP proxy that cuts, the browser's offline mode).
//
// Screenshots go to test-output/e2e/cs-*.png, desktop and phone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { startServer, ROOT } from '../lib/server.mjs';
import {
  DESKTOP, PHONE, assertClean, joinCall, launch, passPrejoin, person, shot, stats, tcpProxy, waitDecoding, waitStatus,
} from './helpers.mjs';

const STEP = { timeout: 120_000 };
const AXE = readFileSync(pathJoin(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
// Refused reconnects through a cut proxy print these; nothing else may.
const NET_NOISE = /WebSocket connection to '.*' failed|ERR_CONNECTION_(RESET|REFUSED|CLOSED)|ERR_INTERNET_DISCONNECTED|Failed to load resource/;

const peerId = (page) => page.evaluate(() => window.tincanDebug.id);

/** axe-core in the page (evaluated, so the page's CSP does not apply); fails on serious/critical. */
async function axeClean(page, what) {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(found, [], `axe on ${what}`);
}

/**
 * Screenshot and axe at the page's viewport, then the same at the other
 * one (desktop 1280×800 ↔ phone 390×844, in CSS pixels), then back:
 * test-output/e2e/<name>-desktop.png and <name>-phone.png.
 */
async function screens(page, name, what = name) {
  const vp = page.viewportSize();
  const here = vp.width >= 720 ? 'desktop' : 'phone';
  const there = here === 'desktop' ? 'phone' : 'desktop';
  await shot(page, `${name}-${here}`, { animations: 'disabled' });
  await axeClean(page, `${what}, ${here}`);
  await page.setViewportSize(here === 'desktop' ? PHONE.viewport : DESKTOP.viewport);
  await shot(page, `${name}-${there}`, { scale: 'css', animations: 'disabled' });
  await axeClean(page, `${what}, ${there}`);
  await page.setViewportSize(vp);
}

/** Whether box a lies inside box b (1 px of rounding allowed). */
const inside = (a, b) => a.x >= b.x - 1 && a.y >= b.y - 1
  && a.x + a.width <= b.x + b.width + 1 && a.y + a.height <= b.y + b.height + 1;

/** Drags the element of `sel` by its middle to (x, y) with the mouse; returns its box after. */
async function dragTo(page, sel, x, y) {
  const b = await page.locator(sel).boundingBox();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
  await page.mouse.down();
  await page.mouse.move(x, y, { steps: 6 });
  await page.mouse.up();
  return page.locator(sel).boundingBox();
}

/**
 * In every page of the context, before its scripts: document.hidden follows
 * window.__hidden (set it, then a visibilitychange is sent), and every
 * registration.showNotification() / new Notification() is recorded in
 * window.__notified before it goes on to the browser's own.
 */
function hideableAndNotifyLog() {
  window.__hidden = false;
  window.__notified = [];
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => window.__hidden });
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true, get: () => (window.__hidden ? 'hidden' : 'visible'),
  });
  const show = ServiceWorkerRegistration.prototype.showNotification;
  ServiceWorkerRegistration.prototype.showNotification = function (title, opts = {}) {
    window.__notified.push({ via: 'registration', title, tag: opts.tag, body: opts.body });
    return show.call(this, title, opts);
  };
  const Orig = window.Notification;
  window.Notification = class extends Orig {
    constructor(title, opts = {}) {
      super(title, opts);
      window.__notified.push({ via: 'Notification', title, tag: opts.tag, body: opts.body });
    }
  };
}

/** Records, in the page, every remote tile that leaves the grid. */
function watchRemovedTiles(page) {
  return page.evaluate(() => {
    window.__removed = [];
    new MutationObserver((list) => {
      for (const m of list) for (const n of m.removedNodes) if (n.dataset && n.dataset.peerId) window.__removed.push(n.dataset.peerId);
    }).observe(document.getElementById('grid'), { childList: true });
  });
}

describe('the call screen', { timeout: 900_000 }, () => {
  let browser;
  let server;
  const extra = [];
  before(async () => {
    server = await startServer({ args: ['--resume-grace', '4'] });
    browser = await launch();
  }, STEP);
  after(async () => {
    await browser?.close().catch(() => {});
    for (const x of extra) await x.close?.().catch?.(() => {}) ?? x.stop?.();
    await server?.stop();
  }, STEP);

  const open = (name, path = '/', opts = DESKTOP) => person(browser, server.url + path, name, opts);
  async function done(people, allowed) {
    await assertClean(people, allowed);
    for (const p of people) await p.context.close();
  }

  test('1, 2, 14, 6: names on tiles, in chat and "You appear as"; mute and camera-off shown to others; M/V with fixed labels; the self-view drags', STEP, async () => {
    const a = await open('A', '/r/names-1');
    const b = await open('B', '/r/names-1', PHONE);
    await passPrejoin(a.page, { name: 'Ada Lovelace' });
    await passPrejoin(b.page, { name: 'Bob' });
    await waitDecoding(a.page, 1);
    await waitDecoding(b.page, 1);
    const idA = await peerId(a.page);
    const idB = await peerId(b.page);
    assert.equal(await a.page.locator('#call-you').textContent(), 'Ada Lovelace');
    assert.equal(await b.page.locator('#call-you').textContent(), 'Bob');
    await a.page.waitForSelector(`.tile[data-peer-id="${idB}"] .tile-name >> text=Bob`);
    await b.page.waitForSelector(`.tile[data-peer-id="${idA}"] .tile-name >> text=Ada Lovelace`);
    // The name is remembered for next time.
    assert.equal(await a.page.evaluate(() => localStorage.getItem('tincan.name')), 'Ada Lovelace');

    // Chat says who.
    await b.page.locator('#btn-chat').click();
    await b.page.getByLabel('Message').fill('hello');
    await b.page.getByLabel('Message').press('Enter');
    await b.page.locator('#chat-close').click();
    await a.page.locator('#btn-chat').click();
    await a.page.waitForSelector('#chat-log .msg >> text=hello');
    assert.equal(await a.page.locator('#chat-log .msg-from').first().textContent(), 'Bob');
    await screens(a.page, 'cs-chat', 'chat');
    await a.page.locator('#chat-close').click();

    // M mutes and V turns the camera off: the labels stay, aria-pressed flips.
    await a.page.keyboard.press('m');
    await a.page.keyboard.press('v');
    const mute = a.page.locator('#btn-mute');
    assert.equal(await mute.getAttribute('aria-pressed'), 'true');
    assert.equal((await mute.textContent()).trim(), 'Mute');
    assert.equal(await a.page.locator('#btn-camera').getAttribute('aria-pressed'), 'true');
    assert.equal((await a.page.locator('#btn-camera').textContent()).trim(), 'Camera off');
    // B sees it: a muted-mic icon and the initials instead of a black picture.
    const tileA = `.tile[data-peer-id="${idA}"]`;
    await b.page.waitForSelector(`${tileA}[data-muted="true"][data-camera="off"]`);
    assert.ok(await b.page.locator(`${tileA} .tile-mic`).isVisible(), 'the muted-mic icon shows');
    assert.ok(await b.page.locator(`${tileA} .tile-avatar`).isVisible(), 'the avatar shows');
    assert.equal(await b.page.locator(`${tileA} .tile-avatar`).textContent(), 'AL');
    assert.equal(await b.page.locator(`${tileA} .tile-mic`).getAttribute('aria-label'), 'microphone off');
    await screens(b.page, 'cs-peer-muted-camera-off', 'call, peer muted');
    await screens(a.page, 'cs-self-muted', 'call, self muted');
    // "Camera off" in the self-view does not run into its "You" label (desktop and phone sizes).
    for (const vp of [DESKTOP.viewport, PHONE.viewport]) {
      await a.page.setViewportSize(vp);
      const [off, you] = await a.page.evaluate(() => {
        const range = document.createRange(); // the text itself, not its full-size box
        range.selectNodeContents(document.querySelector('#self .self-off'));
        return [range.getBoundingClientRect().toJSON(), document.querySelector('#self figcaption').getBoundingClientRect().toJSON()];
      });
      assert.ok(off.bottom + 8 <= you.top, `"Camera off" clear of "You" at ${vp.width}: ${JSON.stringify([off, you])}`);
    }
    await a.page.setViewportSize(DESKTOP.viewport);
    // Label size on a phone: at least 14 px.
    const sizes = await b.page.$$eval('.ctl-label, .tile-name', (els) => els.map((e) => parseFloat(getComputedStyle(e).fontSize)));
    assert.ok(sizes.every((s) => s >= 14), `labels ≥ 14 px: ${sizes}`);
    await a.page.keyboard.press('m');
    await b.page.waitForSelector(`${tileA}[data-muted="false"]`);

    // 6: with one other person the self-view is a small tile that drags
    // (pointer events), stays inside the grid and is remembered.
    for (const p of [a.page, b.page]) {
      assert.equal(await p.locator('#grid > .self').count(), 0, 'one other: the self-view floats');
      const grid = await p.locator('#grid').boundingBox();
      const vp = p.viewportSize();
      const box0 = await p.locator('#self').boundingBox();
      const box1 = await dragTo(p, '#self', grid.x + 60, grid.y + 60);
      assert.ok(box1.x < box0.x - 50 && box1.y < box0.y - 50, `dragged up and left: ${JSON.stringify([box0, box1])}`);
      assert.ok(inside(box1, grid), `inside the grid: ${JSON.stringify([box1, grid])}`);
      // Dragged far past the bottom left corner: it stops at the grid's edge.
      const box2 = await dragTo(p, '#self', -300, vp.height + 400);
      assert.ok(inside(box2, grid), `still inside the grid: ${JSON.stringify([box2, grid])}`);
      assert.ok(inside(box2, { x: 0, y: 0, ...vp }), 'and inside the viewport');
      assert.ok(Math.abs(box2.x - grid.x) <= 1 && Math.abs(box2.y + box2.height - grid.y - grid.height) <= 1,
        `at the bottom left corner: ${JSON.stringify([box2, grid])}`);
      // An arrow key moves it too (it is focusable).
      await p.locator('#self').focus();
      await p.keyboard.press('ArrowRight');
      const box3 = await p.locator('#self').boundingBox();
      assert.ok(box3.x > box2.x && Math.abs(box3.y - box2.y) <= 1, `ArrowRight moved it right: ${JSON.stringify([box2, box3])}`);
    }
    const remembered = await a.page.locator('#self').boundingBox();
    assert.deepEqual(Object.keys(JSON.parse(await a.page.evaluate(() => localStorage.getItem('tincan.selfPos')))), ['x', 'y']);
    await screens(a.page, 'cs-self-moved', 'call, self-view moved');
    // Back into the same call after a reload: the self-view is where it was left.
    await a.page.reload();
    await passPrejoin(a.page);
    await b.page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 1);
    const again = await a.page.locator('#self').boundingBox();
    assert.ok(Math.abs(again.x - remembered.x) <= 2 && Math.abs(again.y - remembered.y) <= 2,
      `remembered: ${JSON.stringify([remembered, again])}`);
    await done([a, b]);
  });

  test('15, 4: the token never goes in a URL; going offline keeps the identity and the others keep the tile', STEP, async () => {
    const proxy = await tcpProxy(server.port);
    extra.push(proxy);
    const a = await open('A', '/r/offline-4');
    const urls = [];
    const bctx = await browser.newContext({ ...DESKTOP, ignoreHTTPSErrors: true });
    const bpage = await bctx.newPage();
    bpage.on('websocket', (ws) => urls.push(ws.url()));
    const b = { name: 'B', context: bctx, page: bpage, problems: [] };
    bpage.on('console', (m) => { if (['error', 'warning'].includes(m.type())) b.problems.push(`B ${m.type()}: ${m.text()}`); });
    await bpage.goto(proxy.url + '/r/offline-4');
    await passPrejoin(a.page, { name: 'Ada' });
    await passPrejoin(bpage, { name: 'Bob' });
    await waitDecoding(a.page, 1);
    const idB = await peerId(bpage);
    await watchRemovedTiles(a.page);

    // A real drop: B reconnects and resumes with the token in its first message.
    proxy.cut(1500);
    await waitStatus(bpage, 'reconnecting', 5_000);
    await waitStatus(bpage, 'connected', 20_000);
    assert.equal(await peerId(bpage), idB, 'B resumed');
    assert.ok(urls.length >= 2, `B reconnected (${urls})`);
    assert.ok(urls.every((u) => !/resume|token/.test(u)), `no token in any WebSocket URL: ${urls}`);
    assert.ok(b.problems.every((t) => !/[0-9a-f]{64}/.test(t)), `no token in the console: ${b.problems}`);

    // The browser goes offline, then online again.
    await bctx.setOffline(true);
    await bpage.waitForSelector('#status[data-status="disconnected"]');
    assert.match(await bpage.locator('#status-text').textContent(), /offline/i);
    await screens(bpage, 'cs-offline', 'offline');
    await bctx.setOffline(false);
    await waitStatus(bpage, 'connected', 20_000);
    assert.equal(await peerId(bpage), idB, 'B kept its identity through the offline spell');
    // The others never saw B leave, and media flows on.
    const s = await stats(a.page);
    await waitDecoding(a.page, 1, { after: s });
    assert.deepEqual(await a.page.evaluate(() => window.__removed), [], 'A never lost B\'s tile');
    assert.equal(await a.page.locator('#call-waiting').isVisible(), false);
    await done([a, b], NET_NOISE);
  });

  test('5: a long outage: the others keep the playing tile (even past the grace); a live countdown and "Reconnect now"', STEP, async () => {
    const proxy = await tcpProxy(server.port);
    extra.push(proxy);
    const a = await open('A', '/r/outage-5');
    const b = await person(browser, proxy.url + '/r/outage-5', 'B');
    await passPrejoin(a.page, { name: 'Ada' });
    await passPrejoin(b.page, { name: 'Bob' });
    await waitDecoding(a.page, 1);
    await waitDecoding(b.page, 1);
    const idB = await peerId(b.page);
    const tileB = `.tile[data-peer-id="${idB}"]`;
    await watchRemovedTiles(a.page);
    proxy.cut(120_000); // signaling is down for good; media is peer to peer and goes on
    await a.page.waitForSelector(`${tileB}[data-signal="away"]`);
    assert.equal(await a.page.locator(tileB).getAttribute('data-state'), 'connected', 'no "Reconnecting…" over playing video');
    assert.equal(await a.page.locator(`${tileB} .tile-state`).textContent(), '');
    // Past the grace (4 s) the server says B is gone ("lost"); its media still flows, so the tile stays.
    await a.page.waitForSelector(`${tileB}[data-signal="lost"]`, { timeout: 15_000 });
    const s = await stats(a.page);
    await waitDecoding(a.page, 1, { after: s });
    assert.deepEqual(await a.page.evaluate(() => window.__removed), []);
    await screens(a.page, 'cs-peer-lost-media-flows', 'peer lost, media flows');

    // B: the countdown counts down, and "Reconnect now" tries at once.
    await b.page.waitForFunction(() => /Reconnecting in/.test(document.getElementById('status-text').textContent)
      && parseInt(document.getElementById('status-count').textContent, 10) >= 3, null, { timeout: 30_000 });
    const first = parseInt(await b.page.locator('#status-count').textContent(), 10);
    await b.page.waitForFunction((n) => parseInt(document.getElementById('status-count').textContent, 10) < n, first);
    await screens(b.page, 'cs-reconnect-countdown', 'reconnect countdown');
    // On a phone the status wraps, but "N s" is never split over two lines.
    await b.page.setViewportSize(PHONE.viewport);
    const countLines = await b.page.evaluate(() => {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById('status-count'));
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    });
    assert.equal(countLines, 1, 'the countdown is on one line');
    await b.page.setViewportSize(DESKTOP.viewport);
    const tries = proxy.accepted;
    const refused = proxy.refusedCount ?? null;
    await b.page.getByRole('button', { name: 'Reconnect now' }).click();
    await b.page.waitForFunction(() => document.getElementById('status').dataset.status === 'reconnecting'
      && parseInt(document.getElementById('status-count').textContent, 10) > 0);
    assert.equal(proxy.accepted, tries, 'the proxy still refuses (nothing got through)');
    void refused;
    await a.context.close();
    await b.context.close();
  });

  test('3, 10, 11: copy the room link; New room; a bad room link offers no Join Call; unknown paths get a page', STEP, async () => {
    const a = await open('A', '/r/invite-3');
    await a.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await passPrejoin(a.page, { name: 'Ada' });
    await a.page.getByRole('button', { name: 'Copy link' }).click();
    await a.page.waitForFunction(() => /copied/i.test(document.getElementById('invite-note').textContent));
    assert.equal(await a.page.evaluate(() => navigator.clipboard.readText()), `${server.url}/r/invite-3`);
    await screens(a.page, 'cs-link-copied', 'link copied');

    const s = await open('S', '/', PHONE);
    assert.match(await s.page.locator('#join-hint').textContent(), /shared room/);
    await screens(s.page, 'cs-start', 'start');
    await s.page.getByRole('button', { name: 'New room' }).click();
    await s.page.waitForURL(/\/r\/[a-z]+-[a-z]+-[a-z]+$/);
    await s.page.waitForSelector('#view-prejoin:not([hidden])');
    await screens(s.page, 'cs-prejoin-new-room', 'pre-join');

    const bad = await open('X', '/r/bad%20name!');
    assert.match(await bad.page.locator('#join-note').textContent(), /not valid/);
    assert.equal(await bad.page.locator('#join').isVisible(), false, 'no Join Call into the shared room');
    assert.ok(await bad.page.getByRole('link', { name: 'Go to the start page' }).isVisible());
    assert.equal(await bad.page.locator('#view-prejoin').isVisible(), false);
    await screens(bad.page, 'cs-bad-room', 'bad room link');

    const resp = await bad.page.goto(server.url + '/no/such/page');
    assert.equal(resp.status(), 404);
    assert.equal(await bad.page.locator('h1').textContent(), 'Page not found');
    await bad.page.getByRole('link', { name: 'Go to the start page' }).waitFor();
    await screens(bad.page, 'cs-404', '404');
    await done([a, s, bad], /status of 404/);
  });

  test('8, 7: the pre-join screen joins nobody before "Join now"; no camera or microphone: a listen-only join', STEP, async () => {
    const a = await open('A', '/r/prejoin-8');
    await passPrejoin(a.page, { name: 'Ada' });
    const b = await open('B', '/r/prejoin-8');
    await b.page.waitForSelector('#view-prejoin:not([hidden])');
    await b.page.locator('#prejoin-join:enabled').waitFor();
    assert.equal(await b.page.locator('#prejoin-preview').getAttribute('data-camera'), 'on');
    await b.page.locator('#prejoin-cam').click(); // camera off before joining
    assert.equal(await b.page.locator('#prejoin-preview').getAttribute('data-camera'), 'off');
    await screens(b.page, 'cs-prejoin-camera-off', 'pre-join, camera off');
    assert.equal(await a.page.locator('#grid .tile').count(), 0, 'nobody joined from the pre-join screen');
    await b.page.fill('#prejoin-name', 'Bea');
    await b.page.locator('#prejoin-join').click();
    await b.page.waitForSelector('#view-call:not([hidden])');
    const idB = await peerId(b.page);
    await a.page.waitForSelector(`.tile[data-peer-id="${idB}"][data-camera="off"] .tile-name >> text=Bea`);
    await b.context.close();

    // Listen only: getUserMedia refused, as a browser does when permission is denied.
    const ctx = await browser.newContext({ ...PHONE, ignoreHTTPSErrors: true });
    await ctx.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
    });
    const lp = await ctx.newPage();
    await lp.goto(server.url + '/r/prejoin-8');
    await lp.getByRole('button', { name: 'Join without camera and microphone' }).click();
    await lp.waitForSelector('#view-call:not([hidden])');
    assert.ok(await lp.locator('#listen-banner').isVisible(), 'the listen-only banner shows');
    await waitDecoding(lp, 1); // hears and sees Ada
    const idL = await peerId(lp);
    await a.page.waitForSelector(`.tile[data-peer-id="${idL}"][data-camera="off"][data-muted="true"]`);
    await screens(lp, 'cs-listen-only', 'listen-only call');
    await ctx.close();
    await done([a]);
  });

  test('9: past the PIN limit the call screen never opens and "Try again in N s" counts down', STEP, async () => {
    const limited = await startServer({ args: ['--pin-rate', '1'] });
    extra.push(limited);
    const p = await person(browser, limited.url + '/', 'P', PHONE);
    await p.page.evaluate(() => {
      window.__views = [];
      new MutationObserver(() => window.__views.push(document.body.dataset.view))
        .observe(document.body, { attributes: true, attributeFilter: ['data-view'] });
      window.__gum = 0;
      const orig = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = (c) => { window.__gum++; return orig(c); };
    });
    await p.page.getByLabel('6-digit PIN').fill('111111');
    await p.page.getByLabel('6-digit PIN').press('Enter');
    await p.page.waitForSelector('#view-call:not([hidden])');
    await p.page.getByRole('button', { name: 'Leave' }).click();
    await p.page.waitForSelector('#view-start:not([hidden])');
    await p.page.evaluate(() => { window.__views = []; window.__gum = 0; });
    await p.page.getByLabel('6-digit PIN').fill('222222');
    await p.page.getByLabel('6-digit PIN').press('Enter');
    await p.page.waitForFunction(() => /try again in \d+ s/i.test(document.getElementById('pin-note').textContent));
    const n1 = parseInt((await p.page.locator('#pin-note').textContent()).match(/(\d+) s/)[1], 10);
    await p.page.waitForFunction((n) => {
      const m = document.getElementById('pin-note').textContent.match(/(\d+) s/);
      return m && parseInt(m[1], 10) < n;
    }, n1);
    assert.deepEqual(await p.page.evaluate(() => window.__views), [], 'the call screen never opened');
    assert.equal(await p.page.evaluate(() => window.__gum), 0, 'the camera never started');
    await screens(p.page, 'cs-pin-limited', 'PIN limited');
    await p.context.close();
  });

  test('13, 12: a busy person\'s Call button says why; the caller hears ringback, the callee\'s tab title rings', STEP, async () => {
    const ada = await open('Ada');
    const bob = await open('Bob', '/', PHONE);
    const cy = await open('Cy');
    // Cy's tab can be hidden, and its notifications are recorded (they still go to the browser).
    await cy.context.grantPermissions(['notifications'], { origin: server.url });
    await cy.context.addInitScript(hideableAndNotifyLog);
    await cy.page.reload();
    await waitStatus(cy.page, 'connected');
    await cy.page.evaluate(() => navigator.serviceWorker.ready);
    for (const [p, n] of [[ada, 'Ada'], [bob, 'Bob'], [cy, 'Cy']]) {
      await p.page.locator('#lobby-name').fill(n);
      await p.page.locator('#lobby-name').press('Enter');
      await p.page.waitForSelector('#view-lobby:not([hidden])');
    }
    await screens(bob.page, 'cs-lobby', 'lobby');
    await ada.page.waitForSelector('button[data-call="Cy"]:not([aria-disabled="true"])');
    // 12: Cy's tab is in the background when Ada calls: a system notification.
    await cy.page.evaluate(() => { window.__hidden = true; document.dispatchEvent(new Event('visibilitychange')); });
    await ada.page.getByRole('button', { name: 'Call Cy' }).click();
    await ada.page.waitForFunction(() => window.tincanDebug.ringback);
    await cy.page.waitForFunction(() => document.title === 'Ringing — Ada');
    await cy.page.waitForFunction(() => window.__notified.length > 0);
    const notified = await cy.page.evaluate(() => window.__notified);
    assert.equal(notified.length, 1, JSON.stringify(notified));
    assert.equal(notified[0].title, 'Ada is calling');
    assert.equal(notified[0].tag, 'tincan-incoming');
    const shown = await cy.page.evaluate(async () => (await (await navigator.serviceWorker.ready)
      .getNotifications({ tag: 'tincan-incoming' })).map((n) => n.title));
    assert.deepEqual(shown, ['Ada is calling'], 'the browser holds the notification');
    await cy.page.evaluate(() => { window.__hidden = false; document.dispatchEvent(new Event('visibilitychange')); });
    await screens(cy.page, 'cs-incoming', 'incoming call dialog');
    await cy.page.getByRole('button', { name: 'Accept' }).click();
    await ada.page.waitForSelector('#view-call:not([hidden])');
    await ada.page.waitForFunction(() => !window.tincanDebug.ringback);
    await cy.page.waitForFunction(() => document.title !== 'Ringing — Ada');
    assert.equal(await ada.page.locator('#call-you').textContent(), 'Ada');
    // Answered: the notification is taken away again.
    await cy.page.waitForFunction(() => navigator.serviceWorker.ready
      .then((reg) => reg.getNotifications({ tag: 'tincan-incoming' })).then((l) => l.length === 0));
    // Bob sees both busy; clicking says so instead of nothing.
    await bob.page.waitForSelector('li[data-name="Ada"][data-busy="true"]');
    // aria-disabled, not disabled: a real click still arrives (no actionability wait).
    await bob.page.getByRole('button', { name: 'Call Ada (busy)' }).click({ force: true });
    await bob.page.waitForFunction(() => /Ada is in another call/.test(document.getElementById('lobby-msg').textContent));
    await screens(bob.page, 'cs-lobby-busy', 'lobby with busy people');
    await done([ada, bob, cy]);
  });

  test('6: three people, one on a phone: whole pictures, self-view as a tile, names not cut, pin and active speaker', { timeout: 240_000 }, async () => {
    // Pages load before anyone joins (four people in a mesh keep two cores busy);
    // two of them are small windows nobody looks at.
    const SMALL = { viewport: { width: 480, height: 320 } };
    const who = [['Ana', DESKTOP], ['Cleo Marchetti', SMALL], ['Dee', PHONE]];
    const ps = [];
    for (const [n, opts] of who) ps.push(await open(n, '/', opts));
    // Cleo joins audio only (less video to encode on two cores).
    await ps[1].page.evaluate(() => localStorage.setItem('tincan.audioOnly', '1'));
    for (let i = 0; i < ps.length; i++) {
      await ps[i].page.goto(server.url + '/r/layout-6');
      await passPrejoin(ps[i].page, { name: who[i][0] });
    }
    const phone = ps[2].page;
    await phone.waitForFunction(() => document.querySelectorAll('#grid .tile[data-state="connected"]').length === 2, null, { timeout: 60_000 })
      .catch(async (err) => {
        await shot(phone, 'cs-four-phone-failed');
        const seen = await Promise.all(ps.map((p) => p.page.evaluate(() => [window.tincanDebug.view, window.tincanDebug.peers()])));
        throw new Error(`${err.message}: ${JSON.stringify(seen)}`);
      });
    assert.equal(await phone.locator('#grid > .self').count(), 1, 'the self-view is a tile of the grid');
    const fits = await phone.$$eval('#grid .tile video, #grid > .self video', (vs) => vs.map((v) => getComputedStyle(v).objectFit));
    assert.ok(fits.every((f) => f === 'contain'), `whole pictures on a phone: ${fits}`);
    await phone.waitForSelector('.tile-name >> text=Cleo Marchetti');
    const cut = await phone.$$eval('.tile-name', (els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).length);
    assert.equal(cut, 0, 'no name is cut');
    // No tile covers another: the self-view does not overlap the remote tiles.
    const overlap = await phone.evaluate(() => {
      const s = document.getElementById('self').getBoundingClientRect();
      return [...document.querySelectorAll('#grid .tile')].some((t) => {
        const r = t.getBoundingClientRect();
        return r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom;
      });
    });
    assert.equal(overlap, false, 'the self-view covers no tile');
    // As a tile of the grid the self-view does not drag.
    const inGrid = await phone.locator('#self').boundingBox();
    const dragged = await dragTo(phone, '#self', 5, 5);
    assert.deepEqual(dragged, inGrid, 'the self-view tile stays in its place in the grid');
    await shot(phone, 'cs-three-phone');
    const desk = ps[0].page;
    await desk.waitForFunction(() => document.querySelectorAll('#grid .tile[data-state="connected"]').length === 2, null, { timeout: 60_000 });
    await shot(desk, 'cs-three-desktop');
    // Active speaker from audio levels (the fake microphones beep).
    await desk.waitForFunction(() => window.tincanDebug.speaker !== null, null, { timeout: 20_000 });
    // Pin someone: the grid spotlights them.
    const first = desk.locator('#grid .tile').first();
    await first.hover();
    await first.locator('.tile-pin').click();
    assert.equal(await desk.locator('#grid').getAttribute('data-layout'), 'pinned');
    await screens(desk, 'cs-pinned', 'call with three, one pinned');
    await done(ps);
  });
});
