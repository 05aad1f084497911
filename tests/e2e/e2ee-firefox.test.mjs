// An end-to-end encrypted mesh call between Chromium and Firefox ESR
// (docs/e2ee.md): both engines run web/e2ee-worker.js behind their own
// RTCRtpScriptTransform, so this is where Chromium's and Firefox's encoded
// frames, `rtctransform` events and WebCrypto in a worker must agree.
//
//   Chromium and Firefox open the same /r/<name>#k=<secret> link: each
//   decodes the other's video (framesDecoded grows), each decrypts the
//   other's frames with the other's key id, and both show the same safety
//   code. A second Firefox page with another key receives the packets of
//   both but decodes nothing, and neither of them decodes anything of its.
//
// Run: flock /tmp/heavy.lock node --test tests/e2e/e2ee-firefox.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { OUT, assertClean, launch, passPrejoin, person, shot, stats, until, waitDecoding } from './helpers.mjs';
import { firefoxJoin, firefoxPage, launchFirefox } from './firefox.mjs';
import { startServer } from '../lib/server.mjs';

const STEP = { timeout: 120_000 };

const dbg = (page, what) => page.evaluate((w) => window.tincanDebug[w](), what);

describe('an encrypted call between Chromium and Firefox', { timeout: 300_000 }, () => {
  let server, chrome, firefox, cr, ff, odd;

  before(async () => {
    [server, chrome, firefox] = await Promise.all([startServer(), launch(), launchFirefox()]);
  }, STEP);

  after(async () => {
    await cr?.context.close().catch(() => {});
    await chrome?.close().catch(() => {});
    await firefox?.close().catch(() => {});
    await server?.stop();
  }, STEP);

  test('the same #k= decodes both ways; a Firefox with another key decodes nothing and is not decoded', STEP, async () => {
    const path = `/r/fx-${randomBytes(3).toString('hex')}`;
    const url = `${server.url}${path}#k=${randomBytes(18).toString('base64url')}`;
    cr = await person(chrome, url, 'chromium', { viewport: { width: 640, height: 400 } });
    await passPrejoin(cr.page);
    ff = await firefoxPage(firefox, url, 'firefox');
    await ff.setViewport({ width: 640, height: 400 });
    await firefoxJoin(ff);
    const idCr = await cr.page.evaluate(() => window.tincanDebug.id);
    const idFf = await ff.evaluate(() => window.tincanDebug.id);

    const sCr = await waitDecoding(cr.page, 1).catch(async (err) => {
      throw new Error(`${err.message}; chromium e2ee ${JSON.stringify(await dbg(cr.page, 'e2ee'))}; firefox e2ee ${JSON.stringify(await dbg(ff, 'e2ee'))}`);
    });
    const sFf = await waitDecoding(ff, 1);
    await waitDecoding(cr.page, 1, { after: sCr });
    await waitDecoding(ff, 1, { after: sFf });
    const [eCr, eFf] = [await dbg(cr.page, 'e2ee'), await dbg(ff, 'e2ee')];
    assert.equal(eCr.safetyCode, eFf.safetyCode, 'the same link, the same safety code');
    await until(async () => (await dbg(cr.page, 'e2ee')).peers[idFf]?.rxKeyId === eFf.keyId, 'Chromium decrypts Firefox\'s frames with its key');
    await until(async () => (await dbg(ff, 'e2ee')).peers[idCr]?.rxKeyId === eCr.keyId, 'Firefox decrypts Chromium\'s frames with its key');
    await shot(cr.page, 'e2ee-firefox-chromium-side');
    await ff.screenshot({ path: join(OUT, 'e2ee-firefox-firefox-side.png') });

    // A Firefox with another key: the packets arrive, nothing decodes, either way.
    odd = await firefoxPage(firefox, `${server.url}${path}#k=${randomBytes(18).toString('base64url')}`, 'firefox-wrong-key');
    await odd.setViewport({ width: 640, height: 400 });
    await firefoxJoin(odd);
    const idOdd = await odd.evaluate(() => window.tincanDebug.id);
    let so = {};
    await until(async () => {
      so = await stats(odd);
      return [idCr, idFf].every((id) => so[id]?.bytesReceived > 50_000);
    }, 'the wrong-key page receives media from both').catch((err) => assert.fail(`${err.message}: ${JSON.stringify(so)}`));
    assert.equal(so[idCr].framesDecoded + so[idFf].framesDecoded, 0, `nothing decoded with the wrong key: ${JSON.stringify(so)}`);
    const sc = await until(async () => {
      const s = await stats(cr.page);
      return s[idOdd]?.bytesReceived > 50_000 && s;
    }, 'Chromium receives the wrong-key page\'s media');
    assert.equal(sc[idOdd].framesDecoded, 0, 'Chromium decodes nothing of the wrong-key page');
    const sf = await until(async () => {
      const s = await stats(ff);
      return s[idOdd]?.bytesReceived > 50_000 && s;
    }, 'Firefox receives the wrong-key page\'s media');
    assert.equal(sf[idOdd].framesDecoded, 0, 'Firefox decodes nothing of the wrong-key page');
    assert.ok((await stats(cr.page))[idFf].framesDecoded > sCr[idFf].framesDecoded, 'Chromium still decodes Firefox');
    assert.notEqual((await dbg(odd, 'e2ee')).safetyCode, eCr.safetyCode);
  });

  test('no console errors, page errors or CSP violations', async () => {
    await assertClean([cr]);
    assert.deepEqual([...(ff?.problems || []), ...(odd?.problems || [])], []);
  });
});
