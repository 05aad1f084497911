// Browser tests of the team side (--accounts) and the call features of
// issue 13: signing up and in through the page, live presence seen by a
// second person, a team room call, a screen share seen by the other side
// (Chromium's --use-fake-ui-for-media-stream hands getDisplayMedia a fake
// screen), the per-person volume slider driving a real WebAudio gain, a
// device switch that keeps the call, the theme surviving a reload, and log
// out. Real Chromium, real WebRTC, the real tincan binary.
//
// Screenshots go to test-output/e2e/team-*.png, desktop and phone; axe-core
// runs on every new screen.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { startServer, ROOT } from '../lib/server.mjs';
import { DESKTOP, PHONE, assertClean, launch, passPrejoin, person, shot, waitDecoding, waitStatus } from './helpers.mjs';

const STEP = { timeout: 120_000 };
const AXE = readFileSync(pathJoin(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const PW = 'correct horse battery';

async function axeClean(page, what) {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(found, [], `axe on ${what}`);
}

/** Screenshot and axe at desktop and phone size: test-output/e2e/<name>-desktop.png, -phone.png. */
async function screens(page, name) {
  const vp = page.viewportSize();
  const here = vp.width >= 720 ? 'desktop' : 'phone';
  const there = here === 'desktop' ? 'phone' : 'desktop';
  await shot(page, `${name}-${here}`, { animations: 'disabled' });
  await axeClean(page, `${name}, ${here}`);
  await page.setViewportSize(here === 'desktop' ? PHONE.viewport : DESKTOP.viewport);
  await shot(page, `${name}-${there}`, { scale: 'css', animations: 'disabled' });
  await axeClean(page, `${name}, ${there}`);
  await page.setViewportSize(vp);
}

/** Fills the start page's team card and submits it (register: create an account). */
async function signIn(page, user, { register = false } = {}) {
  await page.waitForSelector('#team-card:not([hidden])');
  if (register) await page.click('#signin-mode');
  await page.fill('#signin-user', user);
  await page.fill('#signin-pass', PW);
  await page.click('#signin-submit');
  await page.waitForSelector('#view-team:not([hidden])');
  await page.waitForFunction(() => window.tincanDebug.presence().length > 0);
}

const roomSel = (name) => `.room:has(.room-name:text-is("${name}"))`;

describe('team rooms in the browser', { timeout: 900_000 }, () => {
  let browser;
  let server;
  let alice;
  let bob;
  before(async () => {
    server = await startServer({ args: ['--accounts', '--registration', 'open'] });
    browser = await launch();
  }, STEP);
  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  }, STEP);

  test('sign up, make a room, and a second person sees who is in it live', STEP, async () => {
    alice = await person(browser, `${server.url}/`, 'alice');
    await alice.page.waitForSelector('#team-card:not([hidden])');
    await screens(alice.page, 'team-signin');
    await signIn(alice.page, 'alice', { register: true });
    await alice.page.fill('#room-new-name', 'Standup');
    await alice.page.click('#room-create button[type="submit"]');
    await alice.page.waitForSelector(roomSel('Standup'));
    await alice.page.fill('#room-new-name', 'Secret');
    await alice.page.fill('#room-new-pass', 'sesame!!');
    await alice.page.click('#room-create button[type="submit"]');
    await alice.page.waitForSelector(`${roomSel('Secret')} .room-lock`);

    bob = await person(browser, `${server.url}/`, 'bob', PHONE);
    await signIn(bob.page, 'bob', { register: true });
    await bob.page.waitForSelector(roomSel('Standup'));
    // Both see each other online, pushed over the socket.
    await alice.page.waitForSelector('#team-online .person[data-user="bob"]');
    await bob.page.waitForSelector('#team-online .person[data-user="alice"]');

    await alice.page.click(`${roomSel('Standup')} [data-action="join"]`);
    await passPrejoin(alice.page);
    await bob.page.waitForSelector(`${roomSel('Standup')} .person[data-user="alice"]`);
    await screens(bob.page, 'team-rooms');

    // A room with a password asks for it, and a wrong one is refused.
    await bob.page.click(`${roomSel('Secret')} [data-action="join"]`);
    await bob.page.fill(`${roomSel('Secret')} input[type="password"]`, 'wrong one');
    await bob.page.click(`${roomSel('Secret')} .room-pw button[type="submit"]`);
    await bob.page.waitForSelector('#rooms-note:text("Wrong room password")');

    await bob.page.click(`${roomSel('Standup')} [data-action="join"]`);
    // A team room asks no name: the account's is used.
    await bob.page.waitForSelector('#view-prejoin:not([hidden])');
    assert.ok(await bob.page.locator('#prejoin-name').isHidden(), 'no name field in a team room');
    assert.match(await bob.page.textContent('#prejoin-name-note'), /You join as bob/);
    await passPrejoin(bob.page);
    await waitDecoding(alice.page, 1);
    await waitDecoding(bob.page, 1);
    // In a team room everyone shows with the account name.
    await alice.page.waitForSelector('#grid .tile .tile-name:text-is("bob")');
    assert.equal(await alice.page.textContent('#call-title'), 'Standup');
  });

  test('a screen share is the big tile on the other side, sent as AV1, VP9 or VP8', STEP, async () => {
    const aliceId = await alice.page.evaluate(() => window.tincanDebug.id);
    await alice.page.click('#btn-share');
    await alice.page.waitForSelector('#share-dialog[open]');
    await screens(alice.page, 'team-share-dialog');
    await alice.page.check('input[name="quality"][value="1080p60"]');
    await alice.page.click('#share-start');
    await alice.page.waitForSelector('#btn-share[aria-pressed="true"]');
    const tile = `#grid .tile[data-peer-id="screen:${aliceId}"]`;
    await bob.page.waitForSelector(`${tile}[data-pinned="true"]`);
    await bob.page.waitForFunction((sel) => {
      const v = document.querySelector(`${sel} video`);
      return v && v.videoWidth > 0 && !v.paused;
    }, tile);
    const codecs = await bob.page.evaluate(() => window.tincanDebug.videoCodecs());
    const all = Object.values(codecs).flat();
    assert.ok(all.length >= 2, `camera and screen arrive: ${JSON.stringify(codecs)}`);
    assert.ok(all.some((c) => /^video\/(AV1|VP9)$/.test(c)), `the share prefers AV1 or VP9: ${JSON.stringify(codecs)}`);
    await screens(bob.page, 'team-share-seen');
    // Presence says who shares (everyone signed in sees it).
    await alice.page.waitForFunction(() => window.tincanDebug.presence().some((e) => e.user === 'alice' && e.sharing));
    await alice.page.click('#btn-share');
    await bob.page.waitForSelector(tile, { state: 'detached' });
    // Alice's camera is back on her own tile, not the stopped share's track.
    await bob.page.waitForSelector(`#grid .tile[data-peer-id="${aliceId}"][data-video="on"]`);
    const frames = await bob.page.evaluate(() => window.tincanDebug.stats());
    await waitDecoding(bob.page, 1, { after: frames });
  });

  test('the volume slider drives the gain of that person and is remembered', STEP, async () => {
    const aliceId = await alice.page.evaluate(() => window.tincanDebug.id);
    const tile = `#grid .tile[data-peer-id="${aliceId}"]`;
    const probe = () => bob.page.evaluate((id) => window.tincanDebug.volume(id), aliceId);
    assert.equal((await probe()).gain, 1);
    // Fake microphones beep: the level after the gain is above zero at 100 %.
    await bob.page.waitForFunction((id) => window.tincanDebug.volume(id).level > 0.001, aliceId, { timeout: 15_000 });
    // On a phone the tile's buttons take no touches until the tile is tapped.
    assert.equal(await bob.page.$eval(`${tile} .tile-vol`, (b) => getComputedStyle(b).pointerEvents), 'none');
    await bob.page.locator(tile).tap();
    await bob.page.waitForSelector(`${tile}[data-controls="shown"]`);
    await bob.page.click(`${tile} .tile-vol`);
    await bob.page.locator(`${tile} .vol-range`).fill('150');
    assert.equal((await probe()).gain, 1.5);
    await screens(bob.page, 'team-volume');
    await bob.page.locator(`${tile} .vol-range`).fill('0');
    assert.equal((await probe()).gain, 0);
    // Silence after a zero gain: the level falls to nothing and stays there.
    await bob.page.waitForFunction((id) => window.tincanDebug.volume(id).level === 0, aliceId);
    await bob.page.locator(`${tile} .vol-range`).fill('200');
    assert.equal((await probe()).gain, 2);
    await bob.page.click(`${tile} .vol-mute`);
    assert.equal((await probe()).gain, 0);
    assert.equal(await bob.page.getAttribute(`${tile} .vol-mute`, 'aria-pressed'), 'true');
    const saved = await bob.page.evaluate(() => JSON.parse(localStorage.getItem('tincan.volumes')));
    assert.deepEqual(saved.alice, { v: 200, m: true });
    await bob.page.click(`${tile} .vol-mute`);
    assert.equal((await probe()).gain, 2);
  });

  test('switching the microphone and camera keeps the call going', STEP, async () => {
    const page = alice.page;
    await page.click('#btn-devices');
    await page.waitForSelector('#devices-dialog[open]');
    await screens(page, 'team-devices');
    const mics = await page.$$eval('#dev-mic option', (os) => os.map((o) => o.value));
    assert.ok(mics.length >= 2, `Chromium's fake devices offer several microphones: ${mics}`);
    const before = await page.evaluate(() => window.tincanDebug.localTracks());
    const oldMic = before.find((t) => t.kind === 'audio').deviceId;
    const other = mics.find((id) => id !== oldMic);
    await page.selectOption('#dev-mic', other);
    await page.waitForSelector('#dev-note:text("Microphone switched.")');
    const now = await page.evaluate(() => window.tincanDebug.localTracks());
    assert.equal(now.find((t) => t.kind === 'audio').deviceId, other);
    assert.equal(now.filter((t) => t.kind === 'audio').length, 1, 'the old microphone is gone from the stream');
    const cams = await page.$$eval('#dev-cam option', (os) => os.map((o) => o.value));
    if (cams.length > 1) {
      const cam = cams.find((id) => id !== before.find((t) => t.kind === 'video').deviceId);
      await page.selectOption('#dev-cam', cam);
      await page.waitForSelector('#dev-note:text("Camera switched.")');
    }
    await page.click('#devices-form button[value="close"]');
    const stats = await bob.page.evaluate(() => window.tincanDebug.stats());
    await waitDecoding(bob.page, 1, { after: stats, minFrames: 0 });
    const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('tincan.devices')));
    assert.equal(saved.audio, other, 'remembered for the next call');
    // Bob still hears alice through the new microphone (the gain path is untouched).
    const aliceId = await page.evaluate(() => window.tincanDebug.id);
    await bob.page.waitForFunction((id) => window.tincanDebug.volume(id).level > 0.001, aliceId, { timeout: 15_000 });
  });

  test('leaving, logging out and out everywhere; signed-out reaches the other tab', STEP, async () => {
    await bob.page.click('#btn-hangup');
    await bob.page.waitForSelector('#view-team:not([hidden])');
    await alice.page.click('#btn-hangup');
    await alice.page.waitForSelector('#view-team:not([hidden])');
    await bob.page.waitForFunction(() => !window.tincanDebug.presence().some((e) => e.room));
    // A second tab of alice's, then "log out everywhere" in the first.
    const tab2 = await alice.context.newPage();
    await tab2.goto(`${server.url}/`);
    await waitStatus(tab2, 'connected');
    await tab2.waitForSelector('#team-signed-in:not([hidden])');
    await tab2.click('#open-team');
    await tab2.waitForSelector('#view-team:not([hidden])');
    await alice.page.click('#logout-all');
    await alice.page.waitForSelector('#team-signed-out:not([hidden])');
    await tab2.waitForSelector('#view-start:not([hidden]) #team-signed-out:not([hidden])');
    await bob.page.waitForFunction(() => !window.tincanDebug.presence().some((e) => e.user === 'alice'));
    await bob.page.click('#logout');
    await bob.page.waitForSelector('#team-signed-out:not([hidden])');
    await tab2.close();
    // The wrong room password above was refused on purpose (403); nothing else may complain.
    await assertClean([alice, bob], /status of 403 \(Forbidden\)/);
  });

  test('the theme follows the system, switches, and survives a reload', STEP, async () => {
    const ctx = await browser.newContext({ ...DESKTOP, ignoreHTTPSErrors: true, colorScheme: 'light' });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/`);
    await waitStatus(page, 'connected');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light', 'light system, light page');
    // The button names the action: text, icon and accessible name agree.
    const btn = page.locator('#view-start .theme-toggle');
    const look = () => btn.evaluate((b) => [b.textContent.trim(), b.getAttribute('aria-label'), b.dataset.to, b.hasAttribute('aria-pressed')]);
    assert.deepEqual(await look(), ['Dark theme', 'Switch to dark theme', 'dark', false]);
    assert.ok(await page.getByRole('button', { name: 'Switch to dark theme' }).first().isVisible());
    const moon = await btn.evaluate((b) => b.querySelector('svg path').getAttribute('d'));
    await screens(page, 'team-light');
    await page.click('#view-start .theme-toggle');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    assert.deepEqual(await look(), ['Light theme', 'Switch to light theme', 'light', false]);
    assert.notEqual(await btn.evaluate((b) => b.querySelector('svg path').getAttribute('d')), moon, 'a sun, not the moon');
    await page.reload();
    await waitStatus(page, 'connected');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark', 'the choice outlives a reload');
    await page.click('#view-start .theme-toggle');
    await page.reload();
    await waitStatus(page, 'connected');
    assert.equal(await page.evaluate(() => window.tincanDebug.theme), 'light');
    await ctx.close();
  });
});
