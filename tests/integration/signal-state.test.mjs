// Signaling: names, mute and camera state ("state" / "peer-state"), the
// peer-left reason for clients that speak it, and resuming with the token
// in the first message instead of the URL.
//
// Clients that never send "state" (the room protocol of old clients) must
// see exactly the room messages they always did.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, uniq, room, relays, SDP_OFFER } from './signal-client.mjs';

const T = { timeout: 25000 };

describe('signaling: state and peer-state', () => {
  const env = useServer(['--resume-grace', '2']);
  const { peers } = env;

  test('state before join: the newcomer gets the others\' states after joined, the others its state after peer-joined', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    const r = uniq('st');
    a.send({ type: 'state', name: 'Ada', muted: false, camera: true });
    await room(r, a);
    b.send({ type: 'state', name: 'Bob Li', muted: true, camera: false });
    b.send({ type: 'join', room: r });
    const joined = await b.take('joined');
    assert.deepEqual(joined, { type: 'joined', peerId: b.id, peers: [a.id] });
    assert.deepEqual(await b.next(), { type: 'peer-state', peerId: a.id, name: 'Ada', muted: false, camera: true });
    assert.deepEqual(await a.take('peer-joined'), { type: 'peer-joined', peerId: b.id });
    assert.deepEqual(await a.next(), { type: 'peer-state', peerId: b.id, name: 'Bob Li', muted: true, camera: false });
    // A change goes to the room at once; the sender hears nothing back.
    b.send({ type: 'state', muted: false });
    assert.deepEqual(await a.take('peer-state'), { type: 'peer-state', peerId: b.id, name: 'Bob Li', muted: false, camera: false });
    await b.barrier();
    b.none('peer-state', 'no echo of its own state');
    // Chat carries the display name.
    b.send({ type: 'chat', text: 'hi' });
    assert.deepEqual(await a.take('chat'), { type: 'chat', from: b.id, text: 'hi', name: 'Bob Li' });
  });

  test('a client without state sees the room protocol verbatim; peer-left says why only to state clients', T, async () => {
    const [a, old, c] = await peers.many('a', 'old', 'c');
    const r = uniq('st');
    a.send({ type: 'state', name: 'Ada' });
    c.send({ type: 'state', name: 'Cy' });
    await room(r, old);
    a.send({ type: 'join', room: r });
    await a.take('joined');
    assert.deepEqual(await old.next(), { type: 'peer-joined', peerId: a.id });
    a.send({ type: 'state', muted: true });
    await relays(a, old, { type: 'offer', sdp: SDP_OFFER });
    c.send({ type: 'join', room: r });
    await c.take('joined');
    assert.deepEqual(await c.take('peer-state'), { type: 'peer-state', peerId: a.id, name: 'Ada', muted: true, camera: true });
    assert.deepEqual(await old.next(), { type: 'peer-joined', peerId: c.id });
    a.send({ type: 'leave' });
    assert.deepEqual(await old.take('peer-left'), { type: 'peer-left', peerId: a.id });
    assert.deepEqual(await c.take('peer-left'), { type: 'peer-left', peerId: a.id, reason: 'left' });
    await old.barrier();
    old.none('peer-state', 'an old client never hears peer-state');
    // Gone for good after the grace: "lost".
    old.drop();
    assert.deepEqual(await c.take('peer-reconnecting'), { type: 'peer-reconnecting', peerId: old.id });
    assert.deepEqual(await c.take('peer-left', 5000), { type: 'peer-left', peerId: old.id, reason: 'lost' });
  });

  test('a bad name or flag is refused and changes nothing', T, async () => {
    const a = await peers.connect('a');
    a.send({ type: 'state', name: ' bad' });
    assert.equal((await a.error('name_invalid')).field, 'name');
    a.send({ type: 'state', muted: 'yes' });
    assert.equal((await a.error('missing_field')).field, 'muted');
  });
});

describe('signaling: resume with the token in the first message', () => {
  const env = useServer(['--resume-grace', '3']);
  const { peers } = env;

  test('{"type":"resume"} takes over the identity: same id, room, states; the fresh one is gone', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    const r = uniq('rs');
    a.send({ type: 'state', name: 'Ada' });
    b.send({ type: 'state', name: 'Bob' });
    await room(r, a, b);
    await a.take('peer-state');
    a.drop();
    assert.deepEqual(await b.take('peer-reconnecting'), { type: 'peer-reconnecting', peerId: a.id });
    const fresh = await peers.connect('a2');
    assert.equal(fresh.welcome.resumed, false);
    assert.notEqual(fresh.id, a.id);
    fresh.send({ type: 'resume', token: a.token });
    const w = await fresh.take('welcome');
    assert.equal(w.resumed, true);
    assert.equal(w.id, a.id);
    assert.equal(w.room, r);
    assert.deepEqual(w.peers, [b.id]);
    assert.deepEqual(await fresh.take('peer-state'), { type: 'peer-state', peerId: b.id, name: 'Bob', muted: false, camera: true });
    assert.deepEqual(await b.take('peer-resumed'), { type: 'peer-resumed', peerId: a.id });
    // The connection speaks for a now: relays go both ways.
    fresh.id = a.id;
    await relays(b, fresh, { type: 'offer', sdp: SDP_OFFER });
    fresh.send({ type: 'chat', text: 'back' });
    assert.deepEqual(await b.take('chat'), { type: 'chat', from: a.id, text: 'back', name: 'Ada' });
  });

  test('an unknown token keeps the fresh identity (welcome again, resumed:false); resume later is refused', T, async () => {
    const p = await peers.connect('p');
    p.send({ type: 'resume', token: 'f'.repeat(64) });
    const w = await p.take('welcome');
    assert.equal(w.resumed, false);
    assert.equal(w.id, p.id);
    assert.equal(w.token, p.token);
    p.send({ type: 'resume', token: p.token });
    await p.error('resume_late');
  });
});
