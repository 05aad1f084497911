// A WebRTC stack nobody here wrote through tincan's SFU (issue 11): two
// aiortc clients (Debian's python3-aiortc, tests/integration/
// sfu_aiortc_client.py) join one SFU room, each publishes a solid-colour
// video track and a silent audio track, and each must decode the other's
// video in the other's colour plus its audio — so tincan forwarded aiortc's
// packets both ways, and /metrics counts them.
//
// aiortc is strict where browsers are lenient: it refuses an offer whose
// a=setup is not actpass (RFC 8842 §5.2), which is why tincan's
// subscriber offers say actpass. The other way round, an answerer that
// says passive (it wants to be the DTLS server, tincan's role) is refused
// with bad_sdp and the offer stays out for a corrected answer.
//
// Run: TINCAN_BIN=build/asan/tincan node --test tests/integration/sfu-aiortc.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { start } from './net.mjs';
import { scrape } from './prom.mjs';
import { aiortc } from './aiortc.mjs';

const T = { timeout: 90_000 };
const RED = [200, 40, 40];
const BLUE = [40, 40, 200];

const near = (rgb, want) => rgb && rgb.every((v, i) => Math.abs(v - want[i]) <= 20);

describe('aiortc through the SFU', () => {
  let srv;
  const clients = [];
  before(async () => { srv = await start(); });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await srv?.stop();
  });

  test('two aiortc clients decode each other: video in the other\'s colour, and audio', T, async () => {
    const red = aiortc(srv.port, 'aio', RED);
    const blue = aiortc(srv.port, 'aio', BLUE);
    clients.push(red, blue);
    for (const [c, want] of [[red, BLUE], [blue, RED]]) {
      const got = await c.waitFor((e) => e.event === 'frames' && e.video > 15 && e.audio > 50 && near(e.rgb, want),
        `video in colour ${want} and audio`);
      assert.deepEqual(got.size, [320, 240]);
      assert.equal(got.pub, 'connected');
      assert.equal(got.sub, 'connected');
    }
    assert.deepEqual([...red.events, ...blue.events].filter((e) => e.event === 'error'), []);
    // Frames keep coming (not one key frame and a freeze).
    const seen = [red.last.video, blue.last.video];
    await red.waitFor((e) => e.event === 'frames' && e.video > seen[0] + 15, 'more video frames', 20_000);
    await blue.waitFor((e) => e.event === 'frames' && e.video > seen[1] + 15, 'more video frames', 20_000);
    const { m } = await scrape(srv.port);
    assert.equal(m.get('tincan_sfu_sessions'), 4, 'a publisher and a subscriber transport per client');
    assert.ok(m.get('tincan_sfu_forwarded_packets_total') > 100, 'tincan forwarded their packets');
    assert.equal(m.get('tincan_sfu_dropped_total', { reason: 'srtp_auth' }), 0);
  });

  test('our offers say actpass; an answer that says passive gets bad_sdp and connects nothing', T, async () => {
    const bad = aiortc(srv.port, 'aio', [40, 200, 40], { extra: ['--answer-setup', 'passive'] });
    clients.push(bad);
    const offer = await bad.waitFor((e) => e.event === 'offer', 'sfu-offer');
    assert.match(offer.sdp, /^a=setup:actpass\r$/m);
    assert.doesNotMatch(offer.sdp, /a=setup:passive/);
    const err = await bad.waitFor((e) => e.event === 'error', 'error');
    assert.equal(err.code, 'bad_sdp');
    assert.match(err.message, /setup:active/);
    // Its publisher works (the others' counts show its video), its subscriber never connects.
    await bad.waitFor((e) => e.event === 'frames' && e.pub === 'connected', 'publisher connected');
    const frames = await bad.waitFor((e) => e.event === 'frames' && e.pub === 'connected', 'a report', 5000,
      bad.events.length);
    assert.notEqual(frames.sub, 'connected');
    assert.equal(frames.video, 0);
  });

  test('the server logged no errors', () => {
    assert.deepEqual(srv.logs.filter((l) => /level=(error|fatal)/.test(l)), []);
  });
});
