// Signaling of SFU rooms (docs/protocol.md, "SFU rooms"): a join with
// "sfu":true makes the room an SFU room; sfu-publish is answered with
// tincan's ICE-lite description (its host candidate on the main port), the
// other members get an sfu-offer with the publisher's SSRC and msid, and a
// new offer with the track's m-section rejected when the publisher leaves.
// sfu-* messages out of place are refused (mesh or SFU: signal-roommode).
// An offer lost while a member was away is made again when it resumes; a
// transport that hears no ICE check for 30 s is closed with sfu-closed.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, uniq, joinSfu, sfuOffer, sfuAnswerTo } from './signal-client.mjs';

const T = { timeout: 20000 };
/** A browser's sendonly VP8 offer with one SSRC (and its RTX). */
const offer = (ufrag) => sfuOffer(ufrag, 1111, 2222);

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

  test('sfu-publish → sfu-answer; the other member gets sfu-offer; leaving re-offers it inactive', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    const r = uniq('sfu');
    await joinSfu(r, a, b);
    b.send({ type: 'sfu-subscribe-answer', sdp: offer('bbbb') });
    await b.error('unexpected');
    a.send({ type: 'sfu-publish', sdp: 'not sdp' });
    await a.error('bad_sdp');
    a.send({ type: 'sfu-publish', sdp: offer('aaaa').replace('a=setup:actpass', 'a=setup:passive') });
    assert.match((await a.error('bad_sdp')).message, /setup/, 'a publisher that wants to be the DTLS server is refused');
    a.send({ type: 'sfu-publish', sdp: offer('aaaa') });
    const ans = (await a.take('sfu-answer')).sdp;
    assert.match(ans, /^a=ice-lite\r$/m);
    assert.match(ans, /^a=setup:passive\r$/m);
    assert.match(ans, /^a=recvonly\r$/m);
    assert.match(ans, new RegExp(`^a=candidate:\\S+ 1 udp \\d+ 127\\.0\\.0\\.1 ${env.srv.port} typ host\\r$`, 'm'));
    assert.match(ans, /^a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}\r$/m);
    const sub = (await b.take('sfu-offer')).sdp;
    assert.match(sub, /^a=setup:actpass\r$/m, 'an offerer says actpass (RFC 8842)');
    assert.doesNotMatch(sub, /a=setup:passive/);
    assert.match(sub, /^m=video 9 UDP\/TLS\/RTP\/SAVPF 96 97\r$/m);
    assert.match(sub, /^a=sendonly\r$/m);
    assert.match(sub, /^a=rtcp-fb:96 nack\r$/m, 'NACKs are answered from our cache');
    assert.match(sub, /^a=rtpmap:97 rtx\/90000\r$/m);
    assert.match(sub, /^a=fmtp:97 apt=96\r$/m);
    assert.match(sub, /^a=ssrc-group:FID 1111 2222\r$/m, 'the publisher\'s SSRCs, unique in the room, are kept');
    assert.match(sub, /^a=ssrc:1111 cname:c1\r$/m);
    assert.match(sub, /^a=ssrc:2222 cname:c1\r$/m);
    assert.match(sub, new RegExp(`^a=msid:${a.id} track1\\r$`, 'm'));
    const subUfrag = /a=ice-ufrag:(\S+)/.exec(sub)[1];
    assert.notEqual(subUfrag, /a=ice-ufrag:(\S+)/.exec(ans)[1], 'each transport has its own credentials');
    // tincan is always the DTLS server: an answer that wants that role too is refused,
    // and the offer stays out for a corrected answer.
    b.send({ type: 'sfu-subscribe-answer', sdp: sfuAnswerTo(sub).replace(/a=setup:active/g, 'a=setup:passive') });
    assert.match((await b.error('bad_sdp')).message, /setup:active/);
    b.send({ type: 'sfu-subscribe-answer', sdp: sfuAnswerTo(sub).replace(/a=setup:active/g, 'a=setup:actpass') });
    await b.error('bad_sdp');
    b.send({ type: 'sfu-subscribe-answer', sdp: sfuAnswerTo(sub) });
    await b.barrier();
    a.send({ type: 'leave' });
    await b.take('peer-left');
    const again = (await b.take('sfu-offer')).sdp;
    // Its only m-section is BUNDLE's tag: it stays in its place and in the
    // group, inactive and without the stream (docs/sfu.md); another would be
    // rejected (port 0), see test_sfu_room.
    assert.match(again, /^m=video 9 UDP\/TLS\/RTP\/SAVPF 96 97\r$/m, 'the gone track keeps its place');
    assert.match(again, /^a=group:BUNDLE \S+\r$/m, 'still the transport\'s tag');
    assert.match(again, /^a=inactive\r$/m, 'inactive');
    assert.doesNotMatch(again, /^a=(ssrc|msid):/m, 'without the gone stream');
  });
});

describe('signaling: SFU rooms across a resume, and consent (--resume-grace 5)', () => {
  const env = useServer(['--resume-grace', '5']);
  const { peers } = env;

  test('an sfu-offer made while the member was away is made again when it resumes', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    const r = uniq('sfu');
    await joinSfu(r, a, b);
    b.drop();
    assert.equal((await a.take('peer-reconnecting')).peerId, b.id);
    a.send({ type: 'sfu-publish', sdp: offer('aaaa') });
    await a.take('sfu-answer'); // b's sfu-offer goes nowhere now
    const b2 = await peers.connect("b'", { resume: b.token });
    assert.equal(b2.welcome.resumed, true);
    const sub = (await b2.take('sfu-offer')).sdp;
    assert.match(sub, /^a=ssrc:1111 cname:c1\r$/m, 'the offer holds the track published meanwhile');
    b2.send({ type: 'sfu-subscribe-answer', sdp: sfuAnswerTo(sub) });
    await b2.barrier();
  });

  test('a publish with a new ufrag before DTLS is up gets a new transport', T, async () => {
    const [a] = await peers.many('a');
    await joinSfu(uniq('sfu'), a);
    a.send({ type: 'sfu-publish', sdp: offer('aaaa') });
    const first = /a=ice-ufrag:(\S+)/.exec((await a.take('sfu-answer')).sdp)[1];
    a.send({ type: 'sfu-publish', sdp: offer('cccc') });
    const second = /a=ice-ufrag:(\S+)/.exec((await a.take('sfu-answer')).sdp)[1];
    assert.notEqual(second, first);
  });

  test('a subscriber transport without ICE checks for 30 s is closed and offered anew', { timeout: 60000 }, async () => {
    const [a, b] = await peers.many('a', 'b');
    const r = uniq('sfu');
    await joinSfu(r, a, b);
    a.send({ type: 'sfu-publish', sdp: offer('aaaa') });
    await a.take('sfu-answer');
    const sub = (await b.take('sfu-offer')).sdp;
    const t0 = Date.now();
    b.send({ type: 'sfu-subscribe-answer', sdp: sfuAnswerTo(sub) });
    assert.deepEqual(await b.take('sfu-closed', 45000),
      { type: 'sfu-closed', transport: 'subscriber', reason: 'consent', epoch: 0 });
    assert.ok(Date.now() - t0 >= 29000, 'not before 30 s');
    // A new transport (new credentials) is offered. (a's publisher transport
    // lapses too, at about the same time, so its track may be in it or rejected.)
    const ufrag = (sdp) => /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];
    const old = ufrag(sub);
    const again = (await b.take((m) => m.type === 'sfu-offer' && ufrag(m.sdp) !== old)).sdp;
    assert.match(again, /^m=video \d+ UDP\/TLS\/RTP\/SAVPF 96 97\r$/m);
    // The publisher transport never saw a check either: a hears the same.
    assert.deepEqual(await a.take('sfu-closed', 5000), { type: 'sfu-closed', transport: 'publisher', reason: 'consent', epoch: 0 });
  });
});
