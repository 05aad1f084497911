// Simulcast through the SFU with the real web client (docs/sfu.md,
// "Simulcast"): a publisher whose camera goes out as up to three layers
// (rids q, h, f) and a subscriber whose tile of it is made small, then
// large again, then hidden and shown. What is checked, with real numbers:
//
//  * which layers Chromium really sends (outbound-rtp per rid; its fake
//    camera at 1280x720, which the client asks for): at least two, with
//    tincan's transport-cc feedback reaching it (/metrics);
//  * the subscriber's received frameHeight (inbound-rtp) follows the tile:
//    the largest layer for a big tile, the smallest for a small one, the
//    largest again when it grows back, among the layers the publisher
//    sends at that moment (at least two; Chromium drops its upper layers
//    when its bandwidth estimate or CPU is short, and tincan follows);
//  * frames keep being decoded through every switch: the longest stall of
//    framesDecoded is under STALL_MS (a switch waits for a key frame of the
//    target layer, which tincan asks for at once and again every second);
//  * a hidden tile (display: none → 0 x 0) stops the video (framesDecoded
//    stands still) and showing it again resumes it.
//
// Run: flock /tmp/heavy.lock node --test tests/e2e/sfu-simulcast.test.mjs
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PHONE, passPrejoin, person, shot, stats, useServerAndBrowser, waitDecoding } from './helpers.mjs';

const T = { timeout: 240_000 };
const STALL_MS = 3000;

/** Polls fn() every 200 ms until ok(value) or timeout; returns the value. */
async function until(fn, ok, timeout, what) {
  const deadline = Date.now() + timeout;
  let v;
  for (;;) {
    v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) assert.fail(`${what}: last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Waits until the subscriber receives from pub the layer pick() chooses
 * among the heights the publisher sends now (those whose framesEncoded
 * grew since the last poll: Chromium may drop its upper layers when its
 * bandwidth estimate or the machine's CPU is short), watching
 * framesDecoded meanwhile. Returns the longest stall seen (ms).
 */
async function follow(sub, pub, pubId, pick, what) {
  let stall = 0;
  let last = null;
  let since = Date.now();
  let prev = new Map();
  let sending = [];
  await until(async () => {
    const s = (await stats(sub.page))[pubId];
    const layers = await pub.page.evaluate(() => window.tincanDebug.sendLayers());
    sending = layers.filter((l) => l.frameHeight > 0 && l.framesEncoded > (prev.get(l.rid) ?? Infinity)).map((l) => l.frameHeight);
    prev = new Map(layers.map((l) => [l.rid, l.framesEncoded]));
    const now = Date.now();
    if (last !== null && s.framesDecoded === last) stall = Math.max(stall, now - since);
    else since = now;
    last = s.framesDecoded;
    return { frameHeight: s.frameHeight, sending };
  }, (v) => v.sending.length >= 2 && v.frameHeight === pick(v.sending), 60_000, what);
  return stall;
}

/** Sets the size of the subscriber's <video> of pub (null: as the layout makes it). */
const sizeTile = (page, pub, css) => page.evaluate(([id, style]) => {
  const fig = [...document.querySelectorAll('#grid .tile')].find((f) => f.dataset.peerId === id);
  fig.querySelector('video').style.cssText = style || '';
}, [pub, css]);

describe('simulcast through the SFU', { timeout: 600_000 }, () => {
  const env = useServerAndBrowser();

  test('the received layer follows the tile size, without freezing', T, async () => {
    const room = `simul${Date.now().toString(36)}`;
    const url = `${env.server.url}/r/${room}?sfu`;
    const pub = await person(env.browser, url, 'pub');
    await passPrejoin(pub.page, { name: 'Pub' });
    const sub = await person(env.browser, url, 'sub', PHONE);
    await passPrejoin(sub.page, { name: 'Sub' });
    const pubId = await pub.page.evaluate(() => window.tincanDebug.id);
    await waitDecoding(sub.page, 1, { minFrames: 10, timeout: 60_000 });

    // What Chromium sends: each rid with its height, once they all encode.
    const layers = await until(() => pub.page.evaluate(() => window.tincanDebug.sendLayers()),
      (ls) => ls.filter((l) => l.frameHeight > 0).length >= 2, 60_000, 'at least two simulcast layers');
    const heights = layers.filter((l) => l.frameHeight > 0).map((l) => l.frameHeight);
    console.log(`# layers sent: ${layers.map((l) => `${l.rid}=${l.frameHeight}p`).join(' ')}`);
    // The publisher's browser estimates the way to tincan from tincan's
    // transport-cc feedback (docs/sfu.md, "Publisher bitrate").
    const fed = await pub.page.evaluate(async () => {
      const text = await (await fetch('/metrics', { cache: 'no-store' })).text();
      const m = text.match(/^tincan_sfu_publisher_feedback_total (\d+)$/m);
      return m ? Number(m[1]) : -1;
    });
    assert.ok(fed > 0, `transport-cc feedback sent to publishers: ${fed}`);

    // A big tile (most of the page, device pixels): the largest layer sent.
    const s1 = await follow(sub, pub, pubId, (hs) => Math.max(...hs), `the largest layer (of ${heights}) for a big tile`);
    // Small (96 x 54 CSS pixels on a phone at 2x: 108 device pixels high): the smallest.
    await sizeTile(sub.page, pubId, 'width:96px !important;height:54px !important;object-fit:cover');
    const s2 = await follow(sub, pub, pubId, (hs) => Math.min(...hs), `the smallest layer (of ${heights}) for a small tile`);
    await shot(sub.page, 'sfu-simulcast-small-phone');
    // Back to the layout's size: the largest again.
    await sizeTile(sub.page, pubId, null);
    const s3 = await follow(sub, pub, pubId, (hs) => Math.max(...hs), `the largest layer (of ${heights}) again`);
    const stall = Math.max(s1, s2, s3);
    console.log(`# longest stall of framesDecoded across the switches: ${stall} ms`);
    assert.ok(stall < STALL_MS, `decoding stalled for ${stall} ms`);

    // Hidden: no video comes (framesDecoded stands still for 2 s); shown: it resumes.
    await sizeTile(sub.page, pubId, 'display:none');
    await new Promise((r) => setTimeout(r, 1500)); // the report goes out within 250 ms; frames in flight drain
    const before = (await stats(sub.page))[pubId].framesDecoded;
    await new Promise((r) => setTimeout(r, 2000));
    const paused = (await stats(sub.page))[pubId].framesDecoded;
    assert.ok(paused - before <= 1, `a hidden tile still got ${paused - before} frames`);
    await sizeTile(sub.page, pubId, null);
    await waitDecoding(sub.page, 1, { after: { [pubId]: { framesDecoded: paused + 10 } }, timeout: 20_000 });
    await shot(pub.page, 'sfu-simulcast-desktop');
    for (const p of [pub, sub]) await p.context.close();
  });
});
