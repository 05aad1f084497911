// A mesh call between two browser engines through the real web client:
// headless Chromium (playwright-core) and headless Firefox ESR
// (puppeteer-core over WebDriver BiDi), both with fake camera and
// microphone, open the same room (/r/<name>), pass the pre-join screen and
// must decode each other's video (framesDecoded from getStats() through
// window.tincanDebug.stats(), growing), with a tile for the other on each
// side. Nothing goes through the SFU here: the offer/answer and candidates
// are the browsers' own, relayed by tincan's signaling, so this is where
// the web client's negotiation meets Firefox's.
//
// Run: flock /tmp/heavy.lock node --test tests/e2e/call-firefox.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OUT, assertClean, launch, passPrejoin, person, shot, tileIds, waitDecoding } from './helpers.mjs';
import { firefoxJoin, firefoxPage, launchFirefox } from './firefox.mjs';
import { startServer } from '../lib/server.mjs';

const STEP = { timeout: 90_000 };

describe('a mesh call between Chromium and Firefox', { timeout: 240_000 }, () => {
  let server, chrome, firefox, cr, ff;

  before(async () => {
    server = await startServer();
    chrome = await launch();
    firefox = await launchFirefox();
  }, STEP);

  after(async () => {
    await cr?.context.close().catch(() => {});
    await chrome?.close().catch(() => {});
    await firefox?.close().catch(() => {});
    await server?.stop();
  }, STEP);

  test('both join /r/<name> in the web client and decode each other', STEP, async () => {
    const url = `${server.url}/r/engines`;
    cr = await person(chrome, url, 'chromium');
    await passPrejoin(cr.page);
    ff = await firefoxPage(firefox, url, 'firefox');
    await ff.setViewport({ width: 1280, height: 800 });
    await firefoxJoin(ff);

    const idCr = await cr.page.evaluate(() => window.tincanDebug.id);
    const idFf = await ff.evaluate(() => window.tincanDebug.id);
    const sCr = await waitDecoding(cr.page, 1);
    const sFf = await waitDecoding(ff, 1);
    assert.deepEqual(Object.keys(sCr), [idFf], 'Chromium\'s only peer is Firefox');
    assert.deepEqual(Object.keys(sFf), [idCr], 'Firefox\'s only peer is Chromium');
    // Both keep decoding (more frames than a moment ago).
    await waitDecoding(cr.page, 1, { after: sCr });
    await waitDecoding(ff, 1, { after: sFf });
    assert.deepEqual(await tileIds(cr.page), [idFf]);
    assert.deepEqual(await ff.$$eval('#grid .tile', (els) => els.map((el) => el.dataset.peerId)), [idCr]);
    await ff.waitForSelector(`.tile[data-peer-id="${idCr}"][data-state="connected"]`);
    await shot(cr.page, 'call-firefox-chromium-side');
    await ff.screenshot({ path: join(OUT, 'call-firefox-firefox-side.png') });
  });

  test('no console errors, page errors or CSP violations on either side', async () => {
    await assertClean([cr]);
    assert.deepEqual(ff.problems, []);
  });
});
