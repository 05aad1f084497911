// Browser tests of real calls: headless Chromium with a fake camera and
// microphone, real WebRTC between pages, the real tincan binary for
// signaling. Every "decodes video" below is framesDecoded > 0 read from
// getStats() in the page (window.tincanDebug.stats()).
//
//   (a) two people press "Join Call" and see each other; chat; controls
//   (b) three people in a named room (/r/<name>): each decodes two videos;
//       one leaves and its tile goes away for the others
//   (c) two people with the same PIN connect; a third with it is refused
//   and: the PIN rate limit in the UI, perfect negotiation under glare, an
//   audio-only participant.
//
// Run: node --test tests/e2e/   (TINCAN_BIN picks another binary)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import {
  PHONE, assertClean, joinCall, passPrejoin, person, shot, stats, tileIds, useServerAndBrowser, waitDecoding,
} from './helpers.mjs';

const STEP = { timeout: 90_000 };

describe('calls', { timeout: 300_000 }, () => {
  const env = useServerAndBrowser({}, STEP);

  /** A new person (own context) on `path`; closed again by done(). */
  async function join(name, path = '/', opts) {
    return person(env.browser, env.server.url + path, name, opts);
  }

  async function done(...ps) {
    await assertClean(ps);
    for (const p of ps) await p.context.close();
  }

  test('(a) two pages press Join Call and each decodes the other\'s video', STEP, async () => {
    const a = await join('A');
    const b = await join('B');
    await joinCall(a.page);
    await a.page.waitForSelector('#call-waiting:not([hidden])');
    assert.match(await a.page.locator('#call-waiting').textContent(), /waiting for others/i);
    await shot(a.page, 'call-waiting');
    await joinCall(b.page);

    const sa = await waitDecoding(a.page, 1);
    const sb = await waitDecoding(b.page, 1);
    const idA = await a.page.evaluate(() => window.tincanDebug.id);
    const idB = await b.page.evaluate(() => window.tincanDebug.id);
    assert.deepEqual(Object.keys(sa), [idB], 'A\'s only peer is B');
    assert.deepEqual(Object.keys(sb), [idA], 'B\'s only peer is A');
    assert.deepEqual(await tileIds(a.page), [idB], 'A shows one tile, for B');
    assert.deepEqual(await tileIds(b.page), [idA]);

    // On one machine the path is direct (host candidates), and the tile says
    // so with an RTT, both taken from the selected candidate pair.
    assert.equal(sa[idB].path, 'direct');
    assert.equal(sa[idB].candidateType, 'host');
    await a.page.waitForSelector(`.tile[data-peer-id="${idB}"][data-state="connected"][data-path="direct"]`);
    await a.page.waitForFunction(() => /^Direct · \d+ ms$/.test(document.querySelector('.tile-net').textContent));
    assert.equal(await a.page.locator('#grid').getAttribute('data-layout'), 'one', 'one remote fills the stage');
    assert.equal(await a.page.locator('#status').getAttribute('data-status'), 'connected');
    assert.ok(await a.page.locator('#view-call #status').isVisible(), 'the status is shown on the call screen');
    // The local preview is mirrored.
    const transform = await a.page.$eval('#local-video', (v) => getComputedStyle(v).transform);
    assert.match(transform, /^matrix\(-1, 0, 0, 1/, `mirrored preview (${transform})`);
    await shot(a.page, 'call-two-desktop');

    // Chat both ways.
    await a.page.getByRole('button', { name: 'Chat' }).click();
    await a.page.getByLabel('Message').fill('hello from A');
    await a.page.getByLabel('Message').press('Enter');
    await b.page.waitForSelector('#chat-unread:not([hidden])');
    assert.equal(await b.page.locator('#chat-unread').textContent(), '1');
    await b.page.locator('#btn-chat').click();
    await b.page.waitForSelector('#chat-log .msg >> text=hello from A');
    assert.match(await b.page.locator('#chat-log .msg-from').first().textContent(), /^Guest /);
    await b.page.getByLabel('Message').fill('hi A');
    await b.page.getByRole('button', { name: 'Send' }).click();
    await a.page.waitForSelector('#chat-log .msg >> text=hi A');
    await shot(a.page, 'call-chat');

    // Controls: mute and camera off toggle (and say so to assistive tech).
    const mute = a.page.locator('#btn-mute');
    await mute.click();
    assert.equal(await mute.getAttribute('aria-pressed'), 'true');
    const cam = a.page.locator('#btn-camera');
    await cam.click();
    assert.equal(await cam.getAttribute('aria-pressed'), 'true');
    assert.equal(await a.page.locator('#self').getAttribute('data-camera'), 'off');
    await shot(a.page, 'call-muted-camera-off');
    await cam.press('Enter'); // keyboard works too
    assert.equal(await cam.getAttribute('aria-pressed'), 'false');
    await mute.press('Space');
    assert.equal(await mute.getAttribute('aria-pressed'), 'false');

    // A leaves: B's tile for A goes, B waits alone; A is back at the start.
    await a.page.getByRole('button', { name: 'Leave' }).click();
    await a.page.waitForSelector('#view-start:not([hidden])');
    await b.page.waitForSelector(`.tile[data-peer-id="${idA}"]`, { state: 'detached' });
    await b.page.waitForSelector('#call-waiting:not([hidden])');
    await done(a, b);
  });

  test('(b) three pages in one room each decode two videos; one leaves, its tile goes', STEP, async () => {
    // /r/<name> opens the room's pre-join screen directly: no click on the start page.
    const a = await join('A', '/r/team-3');
    const b = await join('B', '/r/team-3');
    const c = await join('C', '/r/team-3', PHONE);
    const ids = {};
    for (const p of [a, b, c]) {
      await passPrejoin(p.page);
      ids[p.name] = await p.page.evaluate(() => window.tincanDebug.id);
    }
    assert.equal(await a.page.locator('#call-title').textContent(), 'Room team-3');
    for (const p of [a, b, c]) {
      const s = await waitDecoding(p.page, 2);
      const others = Object.values(ids).filter((id) => id !== ids[p.name]).sort();
      assert.deepEqual(Object.keys(s).sort(), others, `${p.name} decodes the two others`);
      assert.deepEqual((await tileIds(p.page)).sort(), others, `${p.name} shows two tiles`);
    }
    // Two others and the self-view as a tile of its own: four places.
    assert.equal(await a.page.locator('#grid').getAttribute('data-layout'), 'four');
    await a.page.waitForSelector('.tile[data-path="direct"] >> nth=1');
    await shot(a.page, 'call-three-desktop');
    await c.page.waitForSelector('.tile[data-path="direct"] >> nth=1');
    await shot(c.page, 'call-three-phone');
    const widths = await c.page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
    assert.ok(widths[0] <= widths[1], `no horizontal scrolling on a phone (${widths})`);

    await c.page.getByRole('button', { name: 'Leave' }).click();
    for (const p of [a, b]) {
      await p.page.waitForSelector(`.tile[data-peer-id="${ids.C}"]`, { state: 'detached' });
      assert.equal((await tileIds(p.page)).length, 1, `${p.name} has one tile left`);
    }
    await c.page.waitForSelector('#view-start:not([hidden])');
    assert.equal(await c.page.getByRole('button', { name: 'Join Room' }).isVisible(), true,
      'back on /r/<name>, the join card is for that room');
    // The two who stayed still get video from each other.
    const before2 = await stats(a.page);
    await waitDecoding(a.page, 1, { after: before2 });
    await done(a, b, c);
  });

  test('(c) two pages with the same PIN connect; a third with that PIN is refused as full', STEP, async () => {
    const pin = String(100000 + Math.floor(Math.random() * 900000));
    const a = await join('A');
    const b = await join('B');
    const c = await join('C');
    await a.page.getByLabel('6-digit PIN').fill(pin);
    await a.page.getByLabel('6-digit PIN').press('Enter');
    await a.page.waitForSelector('#view-call:not([hidden])');
    await a.page.waitForFunction(() => /other person/i.test(document.getElementById('call-waiting').textContent));
    await shot(a.page, 'pin-waiting');

    await b.page.getByLabel('6-digit PIN').fill(pin);
    await b.page.getByRole('button', { name: 'Call', exact: true }).click();
    await waitDecoding(a.page, 1);
    await waitDecoding(b.page, 1);
    assert.equal(await b.page.locator('#call-title').textContent(), 'PIN call');

    await c.page.getByLabel('6-digit PIN').fill(pin);
    await c.page.getByLabel('6-digit PIN').press('Enter');
    await c.page.waitForFunction(() => /full/i.test(document.getElementById('pin-note').textContent));
    assert.ok(await c.page.locator('#view-start').isVisible(), 'the third stays on the start screen');
    assert.equal(await c.page.locator('#grid .tile').count(), 0);
    await shot(c.page, 'pin-full');
    // The two in the call did not notice.
    assert.equal((await tileIds(a.page)).length, 1);
    await done(a, b, c);
  });

  test('PIN attempts past the server\'s limit are refused with the time to wait', STEP, async () => {
    const limited = await startServer({ args: ['--pin-rate', '2'] });
    const ctx = await env.browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await ctx.newPage();
      await page.goto(limited.url + '/');
      await page.waitForSelector('#status[data-status="connected"]');
      for (const pin of ['111111', '222222']) {
        await page.getByLabel('6-digit PIN').fill(pin);
        await page.getByLabel('6-digit PIN').press('Enter');
        await page.waitForFunction(() => /other person/i.test(document.getElementById('call-waiting').textContent));
        await page.getByRole('button', { name: 'Leave' }).click();
        await page.waitForSelector('#view-start:not([hidden])');
      }
      await page.getByLabel('6-digit PIN').fill('333333');
      await page.getByLabel('6-digit PIN').press('Enter');
      await page.waitForFunction(() => /too many attempts.*try again in \d+ s/i.test(document.getElementById('pin-note').textContent));
      assert.ok(await page.locator('#view-start').isVisible());
      await shot(page, 'pin-rate-limited');
    } finally {
      await ctx.close();
      await limited.stop();
    }
  });

  test('perfect negotiation: both sides offer at once (glare) and still connect', STEP, async () => {
    // call.js driven directly in two pages, its messages carried by the
    // test instead of the server, so both can be made to offer at the same
    // moment — what the room protocol avoids but a resume or an ICE restart
    // on both ends can cause. Media and WebRTC are real.
    const a = await join('A');
    const b = await join('B');
    const ids = { A: 'aaaa000000000000', B: 'bbbb000000000000' };
    const pages = { A: a.page, B: b.page };
    const carried = { offer: 0, answer: 0 };
    for (const [name, other] of [['A', 'B'], ['B', 'A']]) {
      await pages[name].exposeFunction('__relay', async (msg) => {
        if (msg.type in carried) carried[msg.type]++;
        const { target, ...rest } = msg;
        assert.equal(target, ids[other]);
        await pages[other].evaluate((m) => window.__call.handleSignal(m), { ...rest, from: ids[name] });
      });
      await pages[name].evaluate(async (selfId) => {
        const { Call } = await import('/call.js');
        const { getLocalMedia } = await import('/media.js');
        const media = await getLocalMedia();
        window.__call = new Call({ selfId, media, send: (m) => { window.__relay(m); } });
      }, ids[name]);
    }
    // Both become initiators in the same turn: two offers cross.
    await Promise.all(['A', 'B'].map((name) => pages[name].evaluate(
      (other) => { window.__call.addPeer(other, { initiator: true }); }, ids[name === 'A' ? 'B' : 'A'])));
    for (const name of ['A', 'B']) {
      await pages[name].waitForFunction(async () => {
        const s = Object.values(await window.__call.stats())[0];
        return s && s.connectionState === 'connected' && s.framesDecoded > 0;
      }, null, { timeout: 30_000 });
    }
    assert.ok(carried.offer >= 2, `both sides offered (${JSON.stringify(carried)})`);
    const polite = await Promise.all(['A', 'B'].map((n) => pages[n].evaluate(
      () => [...window.__call.peers.values()][0].polite)));
    assert.deepEqual(polite, [true, false], 'the lower id is the polite one');
    await done(a, b);
  });

  test('audio only: no camera is asked for; the other side gets audio and an avatar', STEP, async () => {
    const a = await join('A', '/');
    const b = await join('B', '/');
    await a.page.getByRole('switch', { name: /audio only/i }).check({ force: true });
    await joinCall(a.page);
    await joinCall(b.page);
    assert.equal(await a.page.locator('#self').getAttribute('data-camera'), 'none');
    assert.equal(await a.page.locator('#btn-camera').getAttribute('aria-disabled'), 'true');
    await waitDecoding(a.page, 1); // A still receives B's video
    const idA = await a.page.evaluate(() => window.tincanDebug.id);
    await b.page.waitForFunction(async (id) => {
      const s = (await window.tincanDebug.stats())[id];
      return s && s.connectionState === 'connected' && s.bytesReceived > 0;
    }, idA);
    assert.equal((await stats(b.page))[idA].framesDecoded, 0, 'no video from an audio-only peer');
    assert.equal(await b.page.locator(`.tile[data-peer-id="${idA}"]`).getAttribute('data-video'), 'off');
    await shot(b.page, 'call-audio-only-peer');
    await shot(a.page, 'call-audio-only-self');
    await done(a, b);
  });
});
