// A second browser engine through tincan's SFU (issue 11): one SFU room
// with two headless Chromium pages (playwright-core) and two headless
// Firefox ESR pages (puppeteer-core over WebDriver BiDi). Each page
// publishes its fake camera and microphone and must decode the video of
// the three others (getStats: three inbound video streams whose
// framesDecoded grows), both of its transports running over the server's
// main port. Firefox writes its descriptions differently from Chromium:
// fingerprint and ICE options at session level, attributes sorted by name
// (fmtp before rtpmap), other payload types (VP8 is 120, Opus 109), a
// csrc-audio-level extension, a=rtcp lines with its own ports, and with
// bundlePolicy max-bundle (what the web client uses) port 0 and
// a=bundle-only on every m-section but the first — this test is where the
// SDP code meets that. One page of each engine uses max-bundle, the other
// the default policy.
//
// The pages sit on /health only to have the server's secure origin; the
// web client's UI is not used (tests/e2e/call-firefox.test.mjs does that).
//
// Run: flock /tmp/heavy.lock node --test tests/e2e/sfu-firefox.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './helpers.mjs';
import { firefoxPage, launchFirefox } from './firefox.mjs';
import { pageJoin, pageSdp, pageStats, waitForMedia } from './sfu-pages.mjs';
import { startServer } from '../lib/server.mjs';
import { scrape } from '../integration/prom.mjs';

const STEP = { timeout: 90_000 };

describe('two Chromium and two Firefox pages through the SFU', { timeout: 300_000 }, () => {
  let server, chrome, chromeContext, firefox;
  const pages = []; // {name, page}

  before(async () => {
    server = await startServer();
    chrome = await chromium.launch({
      executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--allow-loopback-in-peer-connection'], timeout: 30_000,
    });
    chromeContext = await chrome.newContext({ ignoreHTTPSErrors: true });
    firefox = await launchFirefox();
    for (let i = 0; i < 2; i++) {
      const page = await chromeContext.newPage();
      page.setDefaultTimeout(20_000);
      await page.goto(`${server.url}/health`);
      pages.push({ name: `chromium${i}`, page });
    }
    for (let i = 0; i < 2; i++) {
      pages.push({ name: `firefox${i}`, page: await firefoxPage(firefox, `${server.url}/health`, `firefox${i}`) });
    }
  }, STEP);

  after(async () => {
    await chromeContext?.close().catch(() => {});
    await chrome?.close().catch(() => {});
    await firefox?.close().catch(() => {});
    await server?.stop();
  }, STEP);

  test('each page decodes the three others over the main port', STEP, async () => {
    // One page of each engine with max-bundle (as the web client), one with the default.
    for (const [i, { page }] of pages.entries()) {
      await page.evaluate(pageJoin, { room: 'sfu-firefox', bundlePolicy: i % 2 ? 'balanced' : 'max-bundle' });
    }
    let stats;
    try {
      stats = await waitForMedia(pages, { count: 3, port: server.port });
    } catch (err) {
      const sdp = await Promise.all(pages.map((p) => p.page.evaluate(pageSdp)));
      err.message += `\nSDP: ${JSON.stringify(sdp)}`;
      throw err;
    }
    for (const s of stats) {
      assert.equal(s.pub.remote.address, '127.0.0.1');
      assert.equal(s.sub.remote.address, '127.0.0.1');
      assert.ok(s.audioPackets.length === 3 && s.audioPackets.every((n) => n > 0), `audio from the three others: ${s.audioPackets}`);
      assert.ok(!s.log.some((l) => /error/.test(l)), `no errors in the signaling: ${s.log}`);
    }
    // framesDecoded keeps growing in every direction (not one key frame and a freeze).
    const later = await waitForMedia(pages, { count: 3, port: server.port, after: stats, minFrames: 0 });
    later.forEach((s, i) => s.decoded.forEach((n, j) => assert.ok(n > stats[i].decoded[j], `${pages[i].name} stream ${j} grows`)));
    const { m } = await scrape(server.port);
    assert.equal(m.get('tincan_sfu_sessions'), 8, 'a publisher and a subscriber transport per page');
    assert.ok(m.get('tincan_sfu_forwarded_packets_total') > 200);
  });

  test('Firefox reports what it receives as inbound-rtp', async () => {
    for (const p of pages.filter((x) => x.name.startsWith('firefox'))) {
      const s = await p.page.evaluate(pageStats);
      assert.equal(s.decoded.length, 3, `${p.name}: three inbound video streams`);
      assert.equal(s.sub.state, 'connected');
      assert.equal(s.pub.state, 'connected');
    }
  });

  test('the server logged no errors and the pages none either', () => {
    const bad = server.logs.filter((l) => /level=(error|fatal)/.test(l));
    assert.deepEqual(bad, []);
    const problems = pages.flatMap((p) => p.page.problems || []);
    assert.deepEqual(problems, []);
  });
});
