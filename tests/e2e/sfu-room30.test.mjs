// A 30-person SFU room (issue 12): 28 synthetic publishers from the bench's
// load generator (build/rel/sfuload, joined through the normal signaling
// by bench/sfu/drive.mjs, each sending VP8 and Opus with the RFC 6464
// audio level) and 2 real Chromium pages of the web client (low
// resolution, one desktop, one phone). What is checked, with real numbers:
//
//  * both pages keep decoding: the other page's video (framesDecoded grows,
//    in both phases below) while the room's 28 others send; the pages
//    receive every synthetic publisher's media (bytes grow for all 28: the
//    subscriber connection carries 58 m-sections; their VP8 is not a
//    picture a decoder can show, so framesDecoded is the real pages'
//    only);
//  * last-N (--last-n 9): video (bytes) from at most 9 of a page's 29
//    others; publisher J, who joined 20th, sends no video to the pages
//    until it speaks, and then its video (the lowest simulcast layer at
//    least) comes;
//  * the active speaker: when the generator makes publisher K loud, both
//    pages highlight K's tile (data-speaking="true" on exactly that tile);
//    when K goes quiet and J speaks, the highlight moves to J on both
//    pages;
//  * screenshots at desktop and phone viewports, axe-core clean.
//
// Run: flock /tmp/heavy.lock node --test tests/e2e/sfu-room30.test.mjs
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { DESKTOP, PHONE, axeClean, layoutProblems, passPrejoin, person, shot, stats, until, useServerAndBrowser } from './helpers.mjs';
import { Gen, SFULOAD, setupTincan } from '../../bench/sfu/drive.mjs';

const PUBS = 28;
const LAST_N = 9;
const K = 3; // the generator's first loud publisher (its number, 1-based)
const J = 20; // the second (joined late: outside the first 9 by join order)
const LOUD = 10; // -dBov
const QUIET = 127;
// A subscriber connection holds up to 64 m-sections (SDP_MAX_MEDIA): the
// other page's audio and video and all 28 publishers'.
const HEARD = PUBS;

/**
 * In the page before its scripts: the camera at 320x180, 15 frames/s; and
 * the largest subscriber answer the page sent, with its m-sections
 * (window.largestAnswer), to hold against --ws-max-message.
 */
function lowResCamera() {
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c = {}) => gum(c.video
    ? { ...c, video: { ...(typeof c.video === 'object' ? c.video : {}), width: { ideal: 320 }, height: { ideal: 180 }, frameRate: { ideal: 15 } } }
    : c);
  const send = WebSocket.prototype.send;
  window.largestAnswer = { bytes: 0, sections: 0 };
  WebSocket.prototype.send = function (data) {
    if (typeof data === 'string' && data.includes('"sfu-subscribe-answer"')) {
      const bytes = new TextEncoder().encode(data).length;
      if (bytes > window.largestAnswer.bytes) window.largestAnswer = { bytes, sections: (data.match(/\\r\\nm=/g) || []).length };
    }
    return send.call(this, data);
  };
}

/** The tiles that say they are the speaker: [{id}]. */
const speakingTiles = (page) => page.$$eval('#grid .tile[data-speaking="true"]', (els) => els.map((el) => ({ id: el.dataset.peerId })));

/** Waits until the page highlights exactly the tile of peer id. */
async function waitSpeaker(p, id, what) {
  await until(async () => {
    const t = await speakingTiles(p.page);
    return t.length === 1 && t[0].id === id && t;
  }, `${p.name}: ${what}`, 30_000);
}

/** Per peer: how much each stat grew between two stats() results. */
const growth = (a, b) => Object.fromEntries(Object.keys(b).map((id) => [id, {
  frames: b[id].framesDecoded - (a[id]?.framesDecoded ?? 0),
  bytes: b[id].bytesReceived - (a[id]?.bytesReceived ?? 0),
  video: b[id].videoBytesReceived - (a[id]?.videoBytesReceived ?? 0),
}]));

/**
 * Each page, scrolled to the other page's tile, decodes its video
 * (framesDecoded grows by 5),
 * and hears the synthetic publishers (bytes received grow for at least
 * HEARD of them, the loud ones among them) meanwhile; video comes from at
 * most LAST_N of its 29 others. Returns each page's growth.
 */
async function checkMedia(pages, ids, peer, what) {
  const other = (p) => (p === pages[0] ? ids.b : ids.a);
  // Thirty tiles do not fit: each page looks at the other's tile, as a
  // person would scroll to it (tincan sends no video for tiles out of sight).
  for (const p of pages) {
    await p.page.evaluate((id) => [...document.querySelectorAll('#grid .tile')]
      .find((f) => f.dataset.peerId === id)?.scrollIntoView({ block: 'center' }), other(p));
  }
  const s0 = await Promise.all(pages.map((p) => stats(p.page)));
  const heardOf = (p, g) => Object.keys(g).filter((id) => id !== other(p) && g[id].bytes > 0);
  // Waits for the growth itself (a busy machine delivers late, not less).
  const s1 = await Promise.all(pages.map((p, i) => until(async () => {
    const s = await stats(p.page);
    const g = growth(s0[i], s);
    const heard = heardOf(p, g);
    return g[other(p)]?.frames >= 5 && heard.length >= HEARD && [K, J].every((n) => heard.includes(peer(n))) && s;
  }, `${p.name} decodes the other page's video and hears the publishers ${what}`).catch(async (e) => {
    const g = growth(s0[i], await stats(p.page));
    assert.fail(`${e.message}; media from ${heardOf(p, g).length} publishers: ${JSON.stringify(g)}`);
  })));
  for (const [i, p] of pages.entries()) {
    const g = growth(s0[i], s1[i]);
    console.log(`# ${p.name} ${what}: the other page +${g[other(p)].frames} frames; media from ${heardOf(p, g).length} of ${PUBS} publishers`);
    const seen = Object.keys(g).filter((id) => g[id].video > 0);
    console.log(`# ${p.name} ${what}: video from ${seen.length} of 29 others`);
    assert.ok(seen.length <= LAST_N, `${p.name} ${what}: video from ${seen.length} others, last-N is ${LAST_N}: ${JSON.stringify(g)}`);
  }
  return s1.map((s, i) => growth(s0[i], s));
}

describe('a 30-person SFU room', { timeout: 180_000 }, () => {
  const env = useServerAndBrowser({ args: ['--last-n', String(LAST_N)] });

  test('2 pages + 28 synthetic publishers: both keep decoding, the highlight follows the loud one', { timeout: 150_000 }, async () => {
    assert.ok(existsSync(SFULOAD), `${SFULOAD} is missing: make sfuload`);
    const room = `big${Date.now().toString(36)}`;
    const url = `${env.server.url}/r/${room}?sfu`;
    const a = await person(env.browser, url, 'a', DESKTOP, lowResCamera);
    await passPrejoin(a.page, { name: 'Ada' });
    const b = await person(env.browser, url, 'b', PHONE, lowResCamera);
    await passPrejoin(b.page, { name: 'Bob' });
    const ids = { a: await a.page.evaluate(() => window.tincanDebug.id), b: await b.page.evaluate(() => window.tincanDebug.id) };
    const gen = new Gen([SFULOAD, '--bind', '127.0.0.1', '--level', String(QUIET), '--simulcast', '1']);
    let run;
    try {
      const t0 = Date.now();
      run = await setupTincan(gen, { url: `wss://127.0.0.1:${env.server.port}/ws`, room, pubs: PUBS, subs: 0 });
      const peer = (n) => run.rooms[0].members.find((m) => m.pub === n).peer;
      console.log(`# ${PUBS} synthetic publishers joined and connected in ${Date.now() - t0} ms`);
      gen.send({ op: 'start' });
      for (const p of [a, b]) await until(async () => (await p.page.$$('#grid .tile')).length >= PUBS + 1, `${p.name}: a tile per member`);

      // Phase 1: K is loud.
      gen.send({ op: 'level', id: K, level: LOUD });
      for (const p of [a, b]) await waitSpeaker(p, peer(K), `highlights publisher ${K}`);
      const g1 = await checkMedia([a, b], ids, peer, 'while publisher K speaks');
      // J joined 20th: outside the last 9 (by join order, after K), its video is paused.
      for (const [i, p] of [a, b].entries()) assert.equal(g1[i][peer(J)].video, 0, `${p.name} gets publisher ${J}'s video before it spoke`);
      // Thirty tiles do not fit: they keep their shape and the grid scrolls.
      for (const p of [a, b]) {
        await p.page.mouse.click(2, 2); // no tile hovered or focused; the controls fade out
        await until(async () => (await p.page.evaluate(layoutProblems)).length === 0, `${p.name}'s grid of 30`, 5_000)
          .catch(async () => assert.deepEqual(await p.page.evaluate(layoutProblems), [], `${p.name}'s grid of 30`));
      }
      await shot(a.page, 'sfu-room30-desktop');
      await shot(b.page, 'sfu-room30-phone');

      // Phase 2: K quiet, J loud.
      gen.send({ op: 'level', id: K, level: QUIET });
      gen.send({ op: 'level', id: J, level: LOUD });
      for (const p of [a, b]) await waitSpeaker(p, peer(J), `highlights publisher ${J} after ${K}`);
      // Now the most recent speaker: first in line for video (its lowest layer).
      for (const p of [a, b]) {
        const v0 = (await stats(p.page))[peer(J)].videoBytesReceived;
        await until(async () => (await stats(p.page))[peer(J)].videoBytesReceived > v0 + 5000, `${p.name} gets publisher ${J}'s video once it speaks`);
      }
      await checkMedia([a, b], ids, peer, 'while publisher J speaks');
      for (const p of [a, b]) await axeClean(p.page, `${p.name}'s call screen in a room of 30`);
      // A subscriber answer grows with the room: at 64 m-sections (the most
      // a transport holds) it must still fit the default --ws-max-message.
      for (const p of [a, b]) {
        const { bytes, sections } = await p.page.evaluate(() => window.largestAnswer);
        assert.ok(sections >= 2 * PUBS, `${p.name}'s largest answer has ${sections} m-sections`);
        const at64 = Math.ceil((bytes / sections) * 64);
        console.log(`# ${p.name}: largest sfu-subscribe-answer ${bytes} bytes for ${sections} m-sections, ~${at64} at 64`);
        assert.ok(at64 < 65536, `a 64-section answer (~${at64} bytes) fits --ws-max-message's default 65536`);
      }
    } finally {
      if (run) await run.close();
      await gen.quit();
      for (const p of [a, b]) await p.context.close();
    }
  });
});
