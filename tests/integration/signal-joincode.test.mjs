// Signaling: the WebSocket dialect of the join-code backend (seed 003) —
// connected on "/", join_room → room_joined, room_ready once both are in,
// webrtc_offer / webrtc_answer / ice_candidate relayed as sent, room_full
// for a third, leave_room → left_room + peer_left, a lost connection →
// peer_disconnected at once, ping → pong, errors, and the dialect chosen by
// the first message. docs/protocol.md ("The join-code dialect") is the
// contract.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { useServer, SDP_OFFER, CANDIDATE, WAIT } from './signal-client.mjs';

const T = { timeout: 20000 };
const OFFER = { type: 'webrtc_offer', sdp: SDP_OFFER.sdp };
const ANSWER = { type: 'webrtc_answer', sdp: SDP_OFFER.sdp.replace('actpass', 'active') };

describe('signaling: the join-code dialect', () => {
  // A long resume grace: peer_disconnected must not wait for it.
  const env = useServer(['--resume-grace', '30']);
  const { peers } = env;
  const code = (label) => peers.connect(label, { path: '/' });

  /** a then b join roomId; checks room_joined and room_ready for both. */
  async function pair(a, b, roomId = randomUUID()) {
    a.send({ type: 'join_room', roomId });
    assert.deepEqual(await a.next(), { type: 'room_joined', roomId, clientId: a.id, participants: 1 });
    b.send({ type: 'join_room', roomId });
    assert.deepEqual(await b.next(), { type: 'room_joined', roomId, clientId: b.id, participants: 2 });
    assert.deepEqual(await a.next(), { type: 'room_ready', roomId, peerId: b.id, initiator: true });
    assert.deepEqual(await b.next(), { type: 'room_ready', roomId, peerId: a.id, initiator: false });
    return roomId;
  }

  /** from sends msg; to receives the same object plus from. */
  async function relays(from, to, msg) {
    from.send(msg);
    const got = await to.take(msg.type, WAIT, `relayed ${msg.type}`);
    assert.deepEqual(got, { ...msg, from: from.id }, `${to.label}: ${msg.type} arrives as sent`);
  }

  test('a connection on "/" is greeted with connected {clientId, iceServers}', T, async () => {
    const a = await code('a');
    assert.equal(a.welcome.type, 'connected');
    assert.match(a.welcome.clientId, /^[0-9a-f]{8,}$/);
    assert.ok(Array.isArray(a.welcome.iceServers));
    assert.equal(a.welcome.token, undefined, 'no resume token in this dialect');
  });

  test('two join: room_joined each, then room_ready for both with the other\'s id', T, async () => {
    const [a, b] = await Promise.all([code('a'), code('b')]);
    await pair(a, b);
  });

  test('offer, answer and ICE candidates are relayed as sent, with from added', T, async () => {
    const [a, b] = await Promise.all([code('a'), code('b')]);
    await pair(a, b);
    await relays(a, b, { ...OFFER, extra: { kept: [1, 'two'] } });
    await relays(b, a, ANSWER);
    await relays(a, b, { type: 'ice_candidate', candidate: { candidate: CANDIDATE.candidate, sdpMLineIndex: 0, sdpMid: '0' } });
    await relays(b, a, { type: 'ice_candidate', candidate: { candidate: '', sdpMLineIndex: null, sdpMid: null } });
  });

  test('a third client gets room_full and is not in the room', T, async () => {
    const [a, b, c] = await Promise.all([code('a'), code('b'), code('c')]);
    const roomId = await pair(a, b);
    c.send({ type: 'join_room', roomId });
    assert.deepEqual(await c.next(), { type: 'room_full', roomId });
    c.send(OFFER);
    await c.error('not_in_room');
    await a.barrier();
    await b.barrier();
    a.none(['room_joined', 'room_ready', 'peer_left'], 'the full room did not change');
    b.none(['room_joined', 'room_ready', 'peer_left'], 'the full room did not change');
  });

  test('leave_room: left_room to the leaver, peer_left to the other; joining again makes it ready again', T, async () => {
    const [a, b] = await Promise.all([code('a'), code('b')]);
    const roomId = await pair(a, b);
    a.send({ type: 'leave_room' });
    assert.deepEqual(await a.next(), { type: 'left_room', roomId });
    assert.deepEqual(await b.next(), { type: 'peer_left', roomId, peerId: a.id });
    a.send(OFFER);
    await a.error('not_in_room');
    a.send({ type: 'join_room', roomId });
    assert.deepEqual(await a.next(), { type: 'room_joined', roomId, clientId: a.id, participants: 2 });
    assert.deepEqual(await b.next(), { type: 'room_ready', roomId, peerId: a.id, initiator: true });
    assert.deepEqual(await a.next(), { type: 'room_ready', roomId, peerId: b.id, initiator: false });
    // Leaving when in no room is harmless.
    const c = await code('c');
    c.send({ type: 'leave_room' });
    assert.deepEqual(await c.next(), { type: 'left_room', roomId: null });
  });

  test('a dropped connection: peer_disconnected at once (no resume grace), and the seat is free', T, async () => {
    const [a, b, c] = await Promise.all([code('a'), code('b'), code('c')]);
    const roomId = await pair(a, b);
    const t0 = Date.now();
    b.drop();
    assert.deepEqual(await a.take('peer_disconnected', 3000), { type: 'peer_disconnected', roomId, peerId: b.id });
    assert.ok(Date.now() - t0 < 3000, 'well before the 30 s grace');
    c.send({ type: 'join_room', roomId });
    assert.deepEqual(await c.next(), { type: 'room_joined', roomId, clientId: c.id, participants: 2 });
    assert.equal((await a.take('room_ready')).peerId, c.id);
  });

  test('a closing handshake is a disconnect too', T, async () => {
    const [a, b] = await Promise.all([code('a'), code('b')]);
    const roomId = await pair(a, b);
    b.c.ws.close(1000, 'bye');
    assert.deepEqual(await a.take('peer_disconnected'), { type: 'peer_disconnected', roomId, peerId: b.id });
  });

  test('ping → pong', T, async () => {
    const a = await code('a');
    a.send({ type: 'ping' });
    assert.deepEqual(await a.next(), { type: 'pong' });
  });

  test('bad messages get an error and the connection stays usable', T, async () => {
    const [a, b] = await Promise.all([code('a'), code('b')]);
    a.send({ type: 'ping' }); // fixes the dialect
    await a.take('pong');
    a.send({ type: 'join_room' });
    assert.equal((await a.error('missing_field')).field, 'roomId');
    a.send({ type: 'join_room', roomId: 'has space' });
    await a.error('bad_room');
    a.send({ type: 'join_room', roomId: 'x'.repeat(65) });
    await a.error('bad_room');
    a.send('{"type":"join_room",');
    await a.error('bad_json');
    a.send({ type: 'no_such_type' });
    await a.error('unknown_type');
    a.send({ type: 'join', room: 'tincan-room' });
    await a.error('unknown_type'); // the other dialect's messages are unknown here
    const roomId = randomUUID();
    a.send({ type: 'join_room', roomId });
    await a.take('room_joined');
    a.send(OFFER);
    await a.error('peer_not_found');
    b.send({ type: 'join_room', roomId });
    await b.take('room_ready');
    await a.take('room_ready');
    a.send({ type: 'webrtc_offer' });
    assert.equal((await a.error('missing_field')).field, 'sdp');
    a.send({ type: 'ice_candidate' });
    assert.equal((await a.error('missing_field')).field, 'candidate');
    await relays(a, b, OFFER);
  });

  test('what clients put in sdp and candidate is theirs: an object sdp and a null candidate are relayed', T, async () => {
    const [a, b] = await Promise.all([code('a'), code('b')]);
    await pair(a, b);
    await relays(a, b, { type: 'webrtc_offer', sdp: { type: 'offer', sdp: SDP_OFFER.sdp } });
    await relays(b, a, { type: 'ice_candidate', candidate: null });
    await relays(b, a, { type: 'ice_candidate', candidate: CANDIDATE.candidate });
  });

  test('a first message of neither dialect leaves the choice open', T, async () => {
    const a = await code('a');
    a.send({ type: 'hello_world' });
    await a.error('unknown_type');
    a.send({ type: 'join_room', roomId: randomUUID() });
    assert.equal((await a.next()).type, 'room_joined');
  });

  test('a page of another origin may use this dialect on "/", not the tincan protocol, and not /ws', T, async () => {
    const origin = 'https://app.example.com';
    const [a, b] = await Promise.all([peers.connect('a', { path: '/', origin }), peers.connect('b', { path: '/', origin })]);
    await pair(a, b);
    await relays(a, b, OFFER);
    const t = await peers.connect('t', { path: '/', origin });
    t.send({ type: 'join', room: 'foreign' });
    await t.error('origin_not_allowed');
    t.send({ type: 'hello', name: 'Eve' });
    await t.error('origin_not_allowed');
    t.send({ type: 'ping' });
    await t.take('pong');
    await assert.rejects(peers.connect('w', { origin }), /403/, '/ws refuses the foreign origin');
  });

  test('the first message picks the dialect: a tincan client on "/" gets its welcome, a join-code client on /ws works', T, async () => {
    const t = await code('tincan-on-root');
    t.send({ type: 'join', room: 'dialect-check' });
    const w = await t.next();
    assert.equal(w.type, 'welcome', 'welcome before the first answer');
    assert.equal(w.id, t.id, 'the same id as in connected');
    assert.match(w.token, /^[0-9a-f]{64}$/);
    assert.deepEqual(await t.next(), { type: 'joined', peerId: t.id, peers: [] });
    t.send({ type: 'ping' });
    await t.error('unknown_type'); // ping is the other dialect's

    const [a, b] = await Promise.all([peers.connect('a-ws'), peers.connect('b-ws')]);
    assert.equal(a.welcome.type, 'welcome');
    await pair(a, b);
    await relays(a, b, OFFER);
  });

  test('the two dialects have separate rooms', T, async () => {
    const t = await peers.connect('tincan');
    t.send({ type: 'join', room: 'same-name' });
    await t.take('joined');
    const [a, b] = await Promise.all([code('a'), code('b')]);
    await pair(a, b, 'same-name');
    await t.barrier();
    t.none('peer-joined', 'join-code peers are not in the tincan room');
  });
});
