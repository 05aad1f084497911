// Signaling: the welcome message and rooms — the 004 protocol message by
// message (join/joined, peer-joined, offer/answer/ice-candidate relayed with
// `from` instead of `target` and everything else untouched, leave and
// disconnects giving peer-left), room name rules, room_full, switching
// rooms, unknown_target and not_in_room. docs/protocol.md is the contract.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from './net.mjs';
import { useServer, uniq, join, room, relays, SDP_OFFER, CANDIDATE } from './signal-client.mjs';

const T = { timeout: 20000 };

describe('signaling: welcome and rooms (004 protocol)', () => {
  const env = useServer(['--max-room', '3', '--resume-grace', '1']);
  const { peers } = env;

  test('welcome: id, 64-hex token, iceServers array, the server version', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    for (const p of [a, b]) {
      const w = p.welcome;
      assert.equal(w.type, 'welcome');
      assert.match(w.id, /^[0-9a-f]{8,}$/, 'id is lowercase hex, at least 8 digits');
      assert.match(w.token, /^[0-9a-f]{64}$/, 'token is 64 hex digits');
      assert.ok(Array.isArray(w.iceServers), `iceServers is an array: ${JSON.stringify(w.iceServers)}`);
      for (const s of w.iceServers) assert.ok(s && (typeof s.urls === 'string' || Array.isArray(s.urls)), `RTCIceServer with urls: ${JSON.stringify(s)}`);
      assert.ok(w.resumed === undefined || w.resumed === false, `a fresh connection is not resumed: ${w.resumed}`);
      const extra = Object.keys(w).filter((k) => !['type', 'id', 'token', 'iceServers', 'version', 'resumed'].includes(k));
      assert.deepEqual(extra, [], 'no other fields in a fresh welcome');
    }
    const health = JSON.parse((await request(env.srv.port, 'GET', '/health')).body.toString());
    assert.equal(a.welcome.version, health.version, 'welcome.version is the server version');
    assert.notEqual(a.id, b.id, 'ids differ');
    assert.notEqual(a.token, b.token, 'tokens differ');
  });

  test('join → joined {peerId, peers}; the others get peer-joined; exact shapes', T, async () => {
    const [a, b, c] = await peers.many('a', 'b', 'c');
    const r = uniq('room');
    a.send({ type: 'join', room: r });
    assert.deepEqual(await a.next(), { type: 'joined', peerId: a.id, peers: [] });
    b.send({ type: 'join', room: r });
    assert.deepEqual(await b.next(), { type: 'joined', peerId: b.id, peers: [a.id] });
    assert.deepEqual(await a.next(), { type: 'peer-joined', peerId: b.id });
    c.send({ type: 'join', room: r });
    const jc = await c.next();
    assert.deepEqual({ ...jc, peers: [...jc.peers].sort() }, { type: 'joined', peerId: c.id, peers: [a.id, b.id].sort() });
    assert.deepEqual(await a.next(), { type: 'peer-joined', peerId: c.id });
    assert.deepEqual(await b.next(), { type: 'peer-joined', peerId: c.id });
    // Nobody gets anything else (no echo of their own join to themselves).
    for (const p of [a, b, c]) await p.barrier();
    for (const p of [a, b, c]) p.none(() => true, 'extra message after joins');
  });

  test('offer / answer / ice-candidate: relayed with from, without target, all else untouched', T, async () => {
    const [a, b, c] = await peers.many('a', 'b', 'c');
    await room(uniq('relay'), a, b, c);
    await relays(a, b, { type: 'offer', sdp: SDP_OFFER });
    await relays(b, a, { type: 'answer', sdp: { type: 'answer', sdp: SDP_OFFER.sdp.replace('actpass', 'active') } });
    await relays(a, b, { type: 'ice-candidate', candidate: CANDIDATE });
    await relays(b, a, { type: 'ice-candidate', candidate: { ...CANDIDATE, sdpMid: null, sdpMLineIndex: null } });
    // Unusual but valid JSON everywhere: nested objects and arrays, empty
    // containers, null, booleans, numbers of every kind, escapes, non-ASCII,
    // keys the server has never heard of.
    const odd = {
      type: 'offer',
      sdp: { type: 'offer', sdp: 'v=0\r\n"quoted" \\ back\\slash \t tab \u0001 \u001f \u2028\u2029 </script>', nested: { deep: [[[{ x: [] }]]], empty: {} } },
      extra: [1, -1, 0, 0.5, -2.25, 1e-7, 1.5e300, 9007199254740991, true, false, null, '', {}, []],
      'ünïcödé-key': 'héllo wörld — 😀 𝄞 中文',
      'weird key "with" quotes\\': { '': '' },
      sessionVersion: 12345678,
    };
    await relays(c, a, odd);
    await relays(a, c, { ...odd, type: 'answer' });
    await relays(b, c, { type: 'ice-candidate', candidate: { ...CANDIDATE, extra: { a: [1, { b: null }] } }, n: 3.14 });
    // Only the target gets it.
    await a.barrier();
    await b.barrier();
    await c.barrier();
    for (const p of [a, b, c]) p.none(['offer', 'answer', 'ice-candidate'], 'relay to a non-target');
  });

  test('a \\u0000 escape inside a relayed string is valid JSON and passes through', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    await room(uniq('nul'), a, b);
    await relays(a, b, { type: 'offer', sdp: { type: 'offer', sdp: 'a\u0000b' } });
  });

  test('a client-supplied from is replaced by the real sender id', T, async () => {
    const [a, b, c] = await peers.many('a', 'b', 'c');
    await room(uniq('spoof'), a, b, c);
    a.send({ type: 'offer', target: b.id, from: c.id, sdp: SDP_OFFER });
    const got = await b.take('offer');
    assert.equal(got.from, a.id, `from must be the sender, not what it claimed: ${JSON.stringify(got.from)}`);
    assert.equal(got.target, undefined);
  });

  test('leave → the others get peer-left; the leaver is no longer in the room', T, async () => {
    const [a, b, c] = await peers.many('a', 'b', 'c');
    const r = uniq('leave');
    await room(r, a, b, c);
    b.send({ type: 'leave' });
    assert.deepEqual(await a.next(), { type: 'peer-left', peerId: b.id });
    assert.deepEqual(await c.next(), { type: 'peer-left', peerId: b.id });
    b.send({ type: 'offer', target: a.id, sdp: SDP_OFFER });
    await b.error('not_in_room', undefined, 'relay after leave');
    a.send({ type: 'offer', target: b.id, sdp: SDP_OFFER });
    await a.error('unknown_target', undefined, 'relay to a peer that left');
    // The room still works for those who stayed, and b can come back.
    await relays(a, c, { type: 'offer', sdp: SDP_OFFER });
    await join(b, r, [a, c]);
  });

  test('disconnect → peer-reconnecting, then peer-left after the grace (1 s)', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    await room(uniq('drop'), a, b);
    const t0 = Date.now();
    b.drop();
    assert.deepEqual(await a.next(), { type: 'peer-reconnecting', peerId: b.id });
    assert.deepEqual(await a.next(6000), { type: 'peer-left', peerId: b.id });
    const dt = Date.now() - t0;
    assert.ok(dt >= 800, `peer-left only after the 1 s grace (came after ${dt} ms)`);
    assert.ok(dt <= 4000, `peer-left soon after the 1 s grace (came after ${dt} ms)`);
    a.send({ type: 'offer', target: b.id, sdp: SDP_OFFER });
    await a.error('unknown_target', undefined, 'relay to a peer gone for good');
  });

  test('room names: bad_room for "", 65 characters, "a b", "../x" and other characters', T, async () => {
    const a = await peers.connect('a');
    for (const bad of ['', 'x'.repeat(65), 'a b', '../x', 'a/b', 'a.b', 'é', 'a\n', '😀', ' a', '%41']) {
      a.send({ type: 'join', room: bad });
      await a.error('bad_room', undefined, `room ${JSON.stringify(bad)}`);
    }
    // Valid names: 1 and 64 characters of A–Z a–z 0–9 _ -.
    await join(a, 'A');
    await join(a, `${'Zz09_-'.repeat(10)}abcd`);
    assert.equal(`${'Zz09_-'.repeat(10)}abcd`.length, 64);
  });

  test('room_full: with --max-room 3 the 4th gets room_full; after a leave there is room again', T, async () => {
    const [a, b, c, d] = await peers.many('a', 'b', 'c', 'd');
    const r = uniq('full');
    await room(r, a, b, c);
    d.send({ type: 'join', room: r });
    await d.error('room_full');
    for (const p of [a, b, c]) await p.barrier();
    for (const p of [a, b, c]) p.none('peer-joined', 'peer-joined for a refused peer');
    d.send({ type: 'offer', target: a.id, sdp: SDP_OFFER });
    await d.error('not_in_room', undefined, 'the refused peer is not in the room');
    c.send({ type: 'leave' });
    await a.take('peer-left');
    await b.take('peer-left');
    await join(d, r, [a, b]);
    assert.deepEqual(await a.take('peer-joined'), { type: 'peer-joined', peerId: d.id });
  });

  test('joining another room leaves the first', T, async () => {
    const [a, b, c] = await peers.many('a', 'b', 'c');
    const r1 = uniq('one');
    const r2 = uniq('two');
    await room(r1, a, b);
    await join(c, r2);
    a.send({ type: 'join', room: r2 });
    assert.deepEqual(await a.next(), { type: 'joined', peerId: a.id, peers: [c.id] });
    assert.deepEqual(await b.next(), { type: 'peer-left', peerId: a.id });
    assert.deepEqual(await c.next(), { type: 'peer-joined', peerId: a.id });
    a.send({ type: 'offer', target: b.id, sdp: SDP_OFFER });
    await a.error('unknown_target', undefined, 'b is in the old room');
    await relays(a, c, { type: 'offer', sdp: SDP_OFFER });
    // Joining the room one is already in does not duplicate the peer.
    a.send({ type: 'join', room: r2 });
    const again = await a.take(['joined', 'error']);
    if (again.type === 'joined') assert.deepEqual(again.peers, [c.id], 're-join lists the others once, not oneself');
    await c.barrier();
    const dup = c.drain('peer-joined');
    const left = c.drain('peer-left');
    assert.equal(dup.length, left.length, 'a re-join is either silent or a clean leave+join for the others');
  });

  test('unknown_target: a peer in another room, oneself, a made-up id, a non-id', T, async () => {
    const [a, b, c] = await peers.many('a', 'b', 'c');
    await room(uniq('t1'), a, b);
    await join(c, uniq('t2'));
    for (const [type, extra] of [['offer', { sdp: SDP_OFFER }], ['answer', { sdp: SDP_OFFER }], ['ice-candidate', { candidate: CANDIDATE }]]) {
      for (const target of [c.id, a.id, '0123456789abcdef', 'nobody', '']) {
        a.send({ type, target, ...extra });
        await a.error('unknown_target', undefined, `${type} to ${JSON.stringify(target)}`);
      }
    }
    await c.barrier();
    c.none(['offer', 'answer', 'ice-candidate'], 'relay across rooms');
    await relays(a, b, { type: 'offer', sdp: SDP_OFFER });
  });

  test('relay or leave when not in a room → not_in_room', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    await join(b, uniq('solo'));
    a.send({ type: 'offer', target: b.id, sdp: SDP_OFFER });
    await a.error('not_in_room', undefined, 'offer');
    a.send({ type: 'answer', target: b.id, sdp: SDP_OFFER });
    await a.error('not_in_room', undefined, 'answer');
    a.send({ type: 'ice-candidate', target: b.id, candidate: CANDIDATE });
    await a.error('not_in_room', undefined, 'ice-candidate');
    a.send({ type: 'leave' });
    await a.error('not_in_room', undefined, 'leave');
    await b.barrier();
    b.none(['offer', 'answer', 'ice-candidate'], 'relay from outside the room');
    assert.ok(a.open);
  });

  test('rooms are separate: nothing crosses from one room to another', T, async () => {
    const [a, b, c, d] = await peers.many('a', 'b', 'c', 'd');
    await room(uniq('x'), a, b);
    await room(uniq('y'), c, d);
    b.send({ type: 'leave' });
    await a.take('peer-left');
    for (const p of [a, c, d]) await p.barrier();
    c.none(() => true, 'message from another room');
    d.none(() => true, 'message from another room');
  });
});
