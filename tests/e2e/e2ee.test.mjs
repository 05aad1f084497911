// Browser tests of end-to-end encrypted calls (docs/e2ee.md): real Chromium
// pages, real RTCRtpScriptTransform, real WebRTC between them, the real
// tincan binary relaying the sealed keys. framesDecoded and bytesReceived
// come from getStats() in the page (window.tincanDebug.stats()); key ids
// and problems from window.tincanDebug.e2ee().
//
//   (a) "New encrypted room" makes /r/<name>#k=<secret>; two pages with that
//       link decode each other's video and show the same safety code; a
//       third with another key decodes nothing though the packets arrive,
//       and everyone sees the red warning naming the odd one out; when it
//       leaves the others rotate their keys and keep decoding
//   (b) the same passphrase typed on the pre-join screen works the same
//   (c) someone in the encrypted room without the key is told so
//   (d) a browser without RTCRtpScriptTransform gets a clear error, no call
//
// Run: flock /tmp/heavy.lock node --test tests/e2e/e2ee.test.mjs
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { ROOT } from '../lib/server.mjs';
import {
  DESKTOP, PHONE, assertClean, passPrejoin, person, shot, stats, useServerAndBrowser, waitDecoding,
} from './helpers.mjs';

const STEP = { timeout: 240_000 };
const AXE = readFileSync(pathJoin(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const SAFETY = /^\d{4} \d{4} \d{4}$/;

const peerId = (page) => page.evaluate(() => window.tincanDebug.id);
const e2ee = (page) => page.evaluate(() => window.tincanDebug.e2ee());
const code = (page) => page.locator('#e2ee-code').textContent();

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

/** Screenshots <name>-desktop.png and <name>-phone.png, axe at both sizes. */
async function screens(page, name) {
  const vp = page.viewportSize();
  await page.setViewportSize(DESKTOP.viewport);
  await shot(page, `${name}-desktop`, { animations: 'disabled' });
  await axeClean(page, `${name}, desktop`);
  await page.setViewportSize(PHONE.viewport);
  await shot(page, `${name}-phone`, { scale: 'css', animations: 'disabled' });
  await axeClean(page, `${name}, phone`);
  await page.setViewportSize(vp);
}

/** Polls fn() until it returns a truthy value; fails with the last value after timeout. */
async function until(fn, what, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(last)}`);
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

/** The names of the members the page's red warning names (their peer ids). */
const warned = (page) => page.$eval('#e2ee-warning', (el) => (el.hidden ? [] : el.dataset.peers.split(' ').filter(Boolean)).sort());

describe('end-to-end encrypted calls', { timeout: 600_000 }, () => {
  const env = useServerAndBrowser({}, STEP);
  const join = (name, path = '/', opts) => person(env.browser, env.server.url + path, name, opts);

  async function done(...ps) {
    await assertClean(ps);
    for (const p of ps) await p.context.close();
  }

  test('(a) same #k= decodes, same safety code; a wrong key decodes nothing and is named; rotation on leave', STEP, async () => {
    const a = await join('A');
    await a.page.getByRole('button', { name: 'New encrypted room' }).click();
    await a.page.waitForURL(/\/r\/[a-z]+-[a-z]+-[a-z]+#k=[A-Za-z0-9_-]{24}$/);
    const link = new URL(a.page.url());
    await a.page.waitForSelector('#e2ee-prejoin-link:not([hidden])');
    assert.ok(await a.page.locator('#e2ee-pass-row').isHidden(), 'no passphrase asked when the link has the key');
    await passPrejoin(a.page);
    const b = await join('B', link.pathname + link.hash);
    await passPrejoin(b.page);
    const [idA, idB] = [await peerId(a.page), await peerId(b.page)];

    await waitDecoding(a.page, 1);
    await waitDecoding(b.page, 1);
    const codeA = await code(a.page);
    assert.match(codeA, SAFETY);
    assert.equal(await code(b.page), codeA, 'the same link gives the same safety code');
    assert.match(await a.page.locator('#e2ee-line').textContent(), /End-to-end encrypted · safety code \d{4} \d{4} \d{4}/);
    for (const p of [a, b]) assert.deepEqual(await warned(p.page), [], `${p.name}: no warning`);
    // The frames really went through the transform: the key ids agree.
    // (The worker reports the key it sends with after its first frames.)
    const own = (await e2ee(a.page)).keyId;
    await until(async () => (await e2ee(a.page)).sentKeyId === own, 'A encrypts with its own key');
    const [ka, kb] = [await e2ee(a.page), await e2ee(b.page)];
    await until(async () => (await e2ee(b.page)).peers[idA]?.rxKeyId === ka.keyId, 'B decrypts A\'s frames with A\'s key');
    assert.equal(kb.peers[idA].keyIds[0], ka.keyId);
    await screens(a.page, 'e2ee-call');

    // C has the same room but another key.
    const c = await join('C', `${link.pathname}#k=${randomBytes(18).toString('base64url')}`);
    await passPrejoin(c.page);
    const idC = await peerId(c.page);
    assert.match(await code(c.page), SAFETY);
    assert.notEqual(await code(c.page), codeA, 'another key, another safety code');
    // The packets arrive (bytesReceived grows from both) but nothing decodes.
    let sc = {};
    await until(async () => {
      sc = await stats(c.page);
      return [idA, idB].every((id) => sc[id]?.bytesReceived > 100_000);
    }, 'C receives media from A and B').catch((err) => assert.fail(`${err.message}: ${JSON.stringify(sc)}`));
    assert.equal(sc[idA].framesDecoded + sc[idB].framesDecoded, 0, `C decodes nothing: ${JSON.stringify(sc)}`);
    // A and B still decode each other and decode nothing from C.
    const sa = await until(async () => {
      const s = await stats(a.page);
      return s[idC] && s[idB]?.framesDecoded > 0 && s;
    }, 'A has C as a peer and decodes B');
    assert.equal(sa[idC].framesDecoded, 0, 'A decodes nothing from C');
    assert.ok(sa[idB].framesDecoded > 0);
    await until(async () => (await warned(a.page)).join() === idC, 'A warns about C');
    await until(async () => (await warned(b.page)).join() === idC, 'B warns about C');
    await until(async () => (await warned(c.page)).join() === [idA, idB].sort().join(), 'C warns about A and B');
    assert.match(await a.page.locator('#e2ee-warning').textContent(), new RegExp(`Guest ${idC.slice(0, 4)} \\(their key does not match yours\\)`));
    assert.equal(await a.page.locator('#e2ee-warning').getAttribute('role'), 'alert');
    assert.equal((await stats(c.page))[idA].framesDecoded, 0, 'still nothing decoded by C');
    await screens(c.page, 'e2ee-warning');

    // C leaves: A and B rotate (new key sent, used a second later); both keep decoding.
    const before = await stats(b.page);
    await c.page.getByRole('button', { name: 'Leave' }).click();
    await until(async () => (await warned(a.page)).length === 0, 'A\'s warning goes with C');
    const rotated = await until(async () => {
      const s = await e2ee(a.page);
      return s.keyId !== ka.keyId && s.sentKeyId === s.keyId && s;
    }, 'A encrypts with a new key');
    await until(async () => (await e2ee(b.page)).peers[idA]?.rxKeyId === rotated.keyId, 'B decrypts A\'s frames with the new key');
    assert.deepEqual((await e2ee(b.page)).peers[idA].keyIds, [rotated.keyId, ka.keyId], 'B keeps A\'s last two keys');
    const after = await stats(b.page);
    await waitDecoding(b.page, 1, { after });
    assert.ok(after[idA].framesDecoded > before[idA].framesDecoded);
    await waitDecoding(a.page, 1, { after: await stats(a.page) });
    // "Copy link" copies the key too (in the fragment, which the server never sees).
    // Last: granting permissions replaces the camera's grant, which ends A's capture.
    await a.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.server.url });
    await a.page.getByRole('button', { name: 'Copy link' }).click();
    await a.page.waitForFunction(() => /copied/i.test(document.getElementById('invite-note').textContent));
    assert.equal(await a.page.evaluate(() => navigator.clipboard.readText()), link.href);
    await done(a, b, c);
  });

  test('(b) the same passphrase on the pre-join screen: decoding, the same safety code', STEP, async () => {
    const room = `/r/pass-${randomBytes(3).toString('hex')}`;
    const a = await join('A', room);
    const b = await join('B', room, PHONE);
    for (const p of [a, b]) {
      await p.page.waitForSelector('#e2ee-pass-row:not([hidden])');
      assert.ok(await p.page.locator('#e2ee-prejoin-link').isHidden());
      await p.page.getByLabel('Room passphrase (optional)').fill('correct horse battery staple');
    }
    await shot(b.page, 'e2ee-prejoin-passphrase-phone', { scale: 'css' });
    await axeClean(b.page, 'pre-join with passphrase');
    await passPrejoin(a.page);
    await passPrejoin(b.page);
    await waitDecoding(a.page, 1);
    await waitDecoding(b.page, 1);
    assert.match(await code(a.page), SAFETY);
    assert.equal(await code(a.page), await code(b.page));
    assert.ok(await a.page.locator('#e2ee-line').isVisible());
    await shot(b.page, 'e2ee-passphrase-call-phone', { scale: 'css' });
    await done(a, b);
  });

  test('(c) joining an encrypted room without its key: told so', STEP, async () => {
    const room = `/r/nokey-${randomBytes(3).toString('hex')}`;
    const a = await join('A', `${room}#k=${randomBytes(18).toString('base64url')}`);
    await passPrejoin(a.page);
    const b = await join('B', room);
    await passPrejoin(b.page);
    assert.ok(await b.page.locator('#e2ee-line').isHidden(), 'no encryption line without a key');
    await b.page.waitForSelector('#e2ee-warning:not([hidden])');
    assert.match(await b.page.locator('#e2ee-warning').textContent(), /encrypt the call end to end and you joined without the key/);
    const idB = await peerId(b.page);
    await until(async () => (await warned(a.page)).join() === idB, 'A names B as not decryptable');
    assert.match(await a.page.locator('#e2ee-warning').textContent(), /their media cannot be decrypted/);
    assert.equal((await stats(a.page))[idB].framesDecoded, 0, 'A never decodes B\'s clear frames');
    await done(a, b);
  });

  test('(d) without RTCRtpScriptTransform: a clear error and no call', STEP, async () => {
    const context = await env.browser.newContext({ ...DESKTOP, ignoreHTTPSErrors: true });
    await context.addInitScript(() => { delete window.RTCRtpScriptTransform; });
    const page = await context.newPage();
    const sent = [];
    page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));
    await page.goto(`${env.server.url}/r/old-browser#k=${randomBytes(18).toString('base64url')}`);
    await page.waitForSelector('#join-note:has-text("cannot encrypt calls end to end")');
    assert.equal(await page.evaluate(() => window.tincanDebug.view), 'start', 'no pre-join, no call');
    await page.getByRole('button', { name: 'Join Room' }).click();
    assert.match(await page.locator('#join-note').textContent(), /RTCRtpScriptTransform/);
    assert.ok(sent.every((t) => !t.includes('"join"')), `no join sent: ${sent}`);
    // And "New encrypted room" says the same instead of making one.
    await page.goto(env.server.url);
    await page.getByRole('button', { name: 'New encrypted room' }).click();
    await page.waitForSelector('#join-note:has-text("cannot encrypt calls end to end")');
    assert.equal(new URL(page.url()).pathname, '/');
    await shot(page, 'e2ee-unsupported-desktop');
    await context.close();
  });
});
