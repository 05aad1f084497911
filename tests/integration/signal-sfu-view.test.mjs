// sfu-view (docs/protocol.md, "SFU rooms"): the size each remote video is
// shown at. A bad message gets bad_view / missing_field / not_in_room and
// changes nothing; a good one gets no answer. A simulcast publisher offer
// (a=rid q/h/f send, a=simulcast:send) is answered with recv rids, and the
// other member is offered one plain video track (no rids, one SSRC).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, uniq, joinSfu, FP } from './signal-client.mjs';

const T = { timeout: 20000 };

/** Chromium's form of a simulcast offer: rids and the rid extensions, no a=ssrc. */
const simulcastOffer = () => ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:simu', 'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  `a=fingerprint:sha-256 ${FP}`, 'a=setup:actpass', 'a=mid:0',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  'a=sendonly', 'a=msid:- cam1', 'a=rtcp-mux',
  'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack pli', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96',
  'a=rid:q send', 'a=rid:h send', 'a=rid:f send', 'a=simulcast:send q;h;f', ''].join('\r\n');

describe('signaling: sfu-view and simulcast offers', () => {
  const env = useServer([]);
  const { peers } = env;

  test('sfu-view is validated; outside an SFU room it is refused', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    a.send({ type: 'sfu-view', tiles: [] });
    await a.error('not_in_room');
    const r = uniq('sfu');
    await joinSfu(r, a, b);
    a.send({ type: 'sfu-view' });
    assert.equal((await a.error('missing_field')).field, 'tiles');
    a.send({ type: 'sfu-view', tiles: {} });
    await a.error('missing_field');
    a.send({ type: 'sfu-view', tiles: [{ peer: b.id, width: 320 }] });
    assert.match((await a.error('bad_view')).message, /tile 0/);
    a.send({ type: 'sfu-view', tiles: [{ peer: b.id, width: 320, height: 180 }, { peer: 7, width: 1, height: 1 }] });
    assert.match((await a.error('bad_view')).message, /tile 1/);
    a.send({ type: 'sfu-view', tiles: [{ peer: b.id, width: -1, height: 180 }] });
    assert.match((await a.error('bad_view')).message, /0-16384/);
    a.send({ type: 'sfu-view', tiles: [{ peer: b.id, width: 320, height: 1.5 }] });
    await a.error('bad_view');
    a.send({ type: 'sfu-view', tiles: Array.from({ length: 65 }, () => ({ peer: b.id, width: 1, height: 1 })) });
    assert.match((await a.error('bad_view')).message, /64/);
    // Good ones (a hidden tile is 0 x 0) get no answer: the next message is the error that follows.
    a.send({ type: 'sfu-view', tiles: [{ peer: b.id, width: 640, height: 360 }, { peer: 'nobody', width: 0, height: 0 }] });
    a.send({ type: 'sfu-view', tiles: 1 });
    await a.error('missing_field');
  });

  test('a simulcast offer is answered with recv rids; the subscriber gets one plain track', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    const r = uniq('sfu');
    await joinSfu(r, a, b);
    a.send({ type: 'sfu-publish', sdp: simulcastOffer() });
    const ans = (await a.take('sfu-answer')).sdp;
    assert.match(ans, /^a=rid:q recv\r$/m);
    assert.match(ans, /^a=simulcast:recv q;h;f\r$/m);
    assert.match(ans, /^a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r$/m);
    const sub = (await b.take('sfu-offer')).sdp;
    assert.match(sub, /^m=video 9 UDP\/TLS\/RTP\/SAVPF 96 97\r$/m);
    assert.doesNotMatch(sub, /a=rid|a=simulcast/, 'the subscriber sees an ordinary track');
    assert.equal((sub.match(/^a=ssrc-group:FID \d+ \d+\r$/gm) || []).length, 1);
    assert.match(sub, new RegExp(`^a=msid:${a.id} cam1\\r$`, 'm'));
  });
});
