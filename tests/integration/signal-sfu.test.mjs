// Signaling of SFU rooms (docs/protocol.md, "SFU rooms"): a join with
// "sfu":true makes the room an SFU room; sfu-publish is answered with
// tincan's ICE-lite description (its host candidate on the main port), the
// other members get an sfu-offer with the publisher's SSRC and msid, and a
// new offer with the track's m-section rejected when the publisher leaves.
// sfu-* messages out of place are refused. (Mesh or SFU: signal-roommode.)
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, uniq } from './signal-client.mjs';

const T = { timeout: 20000 };
const FP = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':');

/** A browser's sendonly VP8 offer with one SSRC (and its RTX). */
const offer = (ufrag) => ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97', 'c=IN IP4 0.0.0.0', `a=ice-ufrag:${ufrag}`, 'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  `a=fingerprint:sha-256 ${FP}`, 'a=setup:actpass', 'a=mid:0', 'a=sendonly', 'a=msid:stream1 track1', 'a=rtcp-mux',
  'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack pli', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96',
  'a=ssrc-group:FID 1111 2222', 'a=ssrc:1111 cname:c1', 'a=ssrc:2222 cname:c1', ''].join('\r\n');

/** The browser's answer to a subscriber offer: recvonly for each m-section. */
const answerTo = (sdp) => sdp.replace(/a=sendonly/g, 'a=recvonly').replace(/a=ice-lite\r\n/, '')
  .replace(/a=ice-ufrag:\S+/g, 'a=ice-ufrag:subU').replace(/a=setup:passive/g, 'a=setup:active');

describe('signaling: SFU rooms', () => {
  const env = useServer([]);
  const { peers } = env;

  test('join with sfu:true; a plain join of that room joins it as SFU; sfu-* in a mesh room is refused', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    const r = uniq('sfu');
    a.send({ type: 'join', room: r, sfu: true });
    assert.deepEqual(await a.next(), { type: 'joined', peerId: a.id, peers: [], sfu: true });
    b.send({ type: 'join', room: r });
    assert.deepEqual(await b.next(), { type: 'joined', peerId: b.id, peers: [a.id], sfu: true });
    const mesh = uniq('mesh');
    b.send({ type: 'join', room: mesh });
    assert.deepEqual(await b.next(), { type: 'joined', peerId: b.id, peers: [] });
    b.send({ type: 'sfu-publish', sdp: offer('aaaa') });
    await b.error('not_in_room');
  });

  test('sfu-publish → sfu-answer; the other member gets sfu-offer; leaving re-offers it rejected', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    const r = uniq('sfu');
    a.send({ type: 'join', room: r, sfu: true });
    await a.take('joined');
    b.send({ type: 'join', room: r, sfu: true });
    await b.take('joined');
    b.send({ type: 'sfu-subscribe-answer', sdp: offer('bbbb') });
    await b.error('unexpected');
    a.send({ type: 'sfu-publish', sdp: 'not sdp' });
    await a.error('bad_sdp');
    a.send({ type: 'sfu-publish', sdp: offer('aaaa') });
    const ans = (await a.take('sfu-answer')).sdp;
    assert.match(ans, /^a=ice-lite\r$/m);
    assert.match(ans, /^a=setup:passive\r$/m);
    assert.match(ans, /^a=recvonly\r$/m);
    assert.match(ans, new RegExp(`^a=candidate:\\S+ 1 udp \\d+ 127\\.0\\.0\\.1 ${env.srv.port} typ host\\r$`, 'm'));
    assert.match(ans, /^a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}\r$/m);
    const sub = (await b.take('sfu-offer')).sdp;
    assert.match(sub, /^m=video 9 UDP\/TLS\/RTP\/SAVPF 96\r$/m);
    assert.match(sub, /^a=sendonly\r$/m);
    assert.match(sub, /^a=ssrc:1111 cname:c1\r$/m);
    assert.doesNotMatch(sub, /a=ssrc:2222/, 'no RTX in the subscriber offer');
    assert.match(sub, new RegExp(`^a=msid:${a.id} track1\\r$`, 'm'));
    const subUfrag = /a=ice-ufrag:(\S+)/.exec(sub)[1];
    assert.notEqual(subUfrag, /a=ice-ufrag:(\S+)/.exec(ans)[1], 'each transport has its own credentials');
    b.send({ type: 'sfu-subscribe-answer', sdp: answerTo(sub) });
    await b.barrier();
    a.send({ type: 'leave' });
    await b.take('peer-left');
    const again = (await b.take('sfu-offer')).sdp;
    assert.match(again, /^m=video 0 UDP\/TLS\/RTP\/SAVPF 96\r$/m, 'the gone track is rejected, in its place');
  });
});
