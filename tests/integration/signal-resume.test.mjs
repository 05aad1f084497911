// Signaling: resuming after a dropped connection. Within the grace period
// /ws?resume=<token> gives back the same id, room, peers and lobby name, and
// the others see peer-reconnecting then peer-resumed; after it the token is
// dead, the others got peer-left and a call ends with offline.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from './net.mjs';
import {
  useServer, uniq, join, room, relays, hello, lobbyCall, lobbyWhere, userIn, SDP_OFFER, CANDIDATE,
} from './signal-client.mjs';

const T = { timeout: 25000 };

/** Checks a resumed welcome. */
function resumedWelcome(w, old, expect) {
  assert.equal(w.type, 'welcome');
  assert.equal(w.resumed, true, `resumed:true: ${JSON.stringify(w)}`);
  assert.equal(w.id, old.id, 'the same id');
  assert.match(w.token, /^[0-9a-f]{64}$/, 'a token to resume again');
  assert.ok(Array.isArray(w.iceServers), 'iceServers');
  assert.equal(typeof w.version, 'string', 'version');
  assert.equal(w.room, expect.room, `room: ${JSON.stringify(w)}`);
  assert.deepEqual([...(w.peers || [])].sort(), expect.peers.map((p) => p.id).sort(), `peers: ${JSON.stringify(w)}`);
  assert.equal(w.name, expect.name, `name: ${JSON.stringify(w)}`);
}

/** Drops p and waits until each of others saw peer-reconnecting for it. */
async function dropSeen(p, others) {
  p.drop();
  for (const o of others) {
    assert.deepEqual(await o.take(['peer-reconnecting', 'peer-left']), { type: 'peer-reconnecting', peerId: p.id },
      `${o.label}: peer-reconnecting for ${p.label}`);
  }
}

/** Resumes p's identity on a new connection; label gets a prime. */
function resume(peers, p, token = p.token) {
  return peers.connect(`${p.label}'`, { resume: token });
}

describe('signaling: resume within the grace (--resume-grace 3)', () => {
  const env = useServer(['--resume-grace', '3']);
  const { peers } = env;

  test('room: peer-reconnecting, then resume → same id, resumed, room and peers; peer-resumed; relay both ways', T, async () => {
    const [a, b, c] = await peers.many('a', 'b', 'c');
    const r = uniq('res');
    await room(r, a, b, c);
    await dropSeen(a, [b, c]);
    const a2 = await resume(peers, a);
    resumedWelcome(a2.welcome, a, { room: r, peers: [b, c], name: null });
    assert.deepEqual(await b.take(['peer-resumed', 'peer-left']), { type: 'peer-resumed', peerId: a.id });
    assert.deepEqual(await c.take(['peer-resumed', 'peer-left']), { type: 'peer-resumed', peerId: a.id });
    await relays(a2, b, { type: 'offer', sdp: SDP_OFFER });
    await relays(b, a2, { type: 'answer', sdp: { ...SDP_OFFER, type: 'answer' } });
    await relays(c, a2, { type: 'ice-candidate', candidate: CANDIDATE });
    a2.send({ type: 'chat', text: 'back' });
    assert.equal((await b.take('chat')).from, a.id);
    // A second drop, resumed with the token of the latest welcome.
    await dropSeen(a2, [b, c]);
    const a3 = await resume(peers, a2, a2.welcome.token);
    resumedWelcome(a3.welcome, a, { room: r, peers: [b, c], name: null });
    await b.take('peer-resumed');
    await relays(b, a3, { type: 'offer', sdp: SDP_OFFER });
    // a newcomer sees a in the room.
    const d = await peers.connect('d');
    const j = await join(d, r, [a3, b, c]);
    assert.ok(j.peers.includes(a.id));
  });

  test('the resumed peer did not miss what happened while it was away: the room list is current', T, async () => {
    const [a, b, c] = await peers.many('a', 'b', 'c');
    const r = uniq('away');
    await room(r, a, b);
    await dropSeen(a, [b]);
    // c joins while a is away (whether a newcomer is told about a peer that
    // is away is not specified; b at least must be listed).
    c.send({ type: 'join', room: r });
    const j = await c.take('joined');
    assert.ok(j.peers.includes(b.id), `c's joined lists b: ${JSON.stringify(j)}`);
    await b.take('peer-joined');
    const a2 = await resume(peers, a);
    resumedWelcome(a2.welcome, a, { room: r, peers: [b, c], name: null });
    await relays(a2, c, { type: 'offer', sdp: SDP_OFFER });
  });

  test('lobby: the name is kept across a resume and stays taken while away', T, async () => {
    const [a, b, x] = await peers.many('a', 'b', 'x');
    const n = uniq('Ada');
    await hello(a, n);
    await hello(b, uniq('Bob'));
    a.drop();
    await sleep(100);
    x.send({ type: 'hello', name: n.toLowerCase() });
    await x.error('name_taken', undefined, 'the name of a peer that may still resume');
    const a2 = await resume(peers, a);
    resumedWelcome(a2.welcome, a, { room: null, peers: [], name: n });
    a2.name = n;
    // a2 is in the lobby again under its name: it is called by it, and listed once.
    b.send({ type: 'call', name: n });
    const inc = await a2.take('incoming');
    assert.equal(inc.from, b.name);
    const l = await lobbyWhere(b, (u) => userIn(u, n), undefined, `a list with ${n}`);
    assert.equal(l.users.filter((u) => u.name.toLowerCase() === n.toLowerCase()).length, 1, 'listed once');
  });

  test('lobby call: resume → room null, peers [other], name; the call goes on; hangup works', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    const callId = await lobbyCall(a, b);
    await dropSeen(a, [b]);
    const a2 = await resume(peers, a);
    resumedWelcome(a2.welcome, a, { room: null, peers: [b], name: a.name });
    await b.take('peer-resumed');
    await relays(a2, b, { type: 'offer', sdp: SDP_OFFER });
    await relays(b, a2, { type: 'answer', sdp: SDP_OFFER });
    a2.send({ type: 'hangup' });
    assert.deepEqual(await b.take('call-ended'), { type: 'call-ended', callId, reason: 'hangup' });
    assert.deepEqual(await b.take('peer-left'), { type: 'peer-left', peerId: a.id });
  });

  test('PIN room: resume → room null, peers [other]', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    const pin = String(100000 + Math.floor(Math.random() * 900000));
    a.send({ type: 'join-pin', pin });
    await a.take('pin-waiting');
    b.send({ type: 'join-pin', pin });
    await b.take('joined');
    await a.take('peer-joined');
    await dropSeen(b, [a]);
    const b2 = await resume(peers, b);
    resumedWelcome(b2.welcome, b, { room: null, peers: [a], name: null });
    await a.take('peer-resumed');
    await relays(a, b2, { type: 'offer', sdp: SDP_OFFER });
  });

  test('a peer in no room resumes with room null and no peers', T, async () => {
    const a = await peers.connect('a');
    a.drop();
    await sleep(100);
    const a2 = await resume(peers, a);
    resumedWelcome(a2.welcome, a, { room: null, peers: [], name: null });
  });

  test('an unknown or malformed token gives a fresh identity (resumed:false)', T, async () => {
    const a = await peers.connect('a');
    for (const token of ['0'.repeat(64), 'nope', '', a.token.slice(0, 63), `${a.token}00`, `${a.token}&x=1`]) {
      const x = await peers.connect({ resume: token });
      assert.equal(x.welcome.resumed, false, `token ${JSON.stringify(token)}: ${JSON.stringify(x.welcome)}`);
      assert.notEqual(x.id, a.id, `token ${JSON.stringify(token)} gives a new id`);
      assert.match(x.token, /^[0-9a-f]{64}$/);
      x.drop();
    }
  });
});

describe('signaling: after the grace (--resume-grace 1)', () => {
  const env = useServer(['--resume-grace', '1']);
  const { peers } = env;

  test('room: peer-left after the grace; the token is dead (resumed:false, new id, no room)', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    const r = uniq('late');
    await room(r, a, b);
    await dropSeen(a, [b]);
    assert.deepEqual(await b.take(['peer-left', 'peer-resumed'], 5000), { type: 'peer-left', peerId: a.id });
    const a2 = await peers.connect('a2', { resume: a.token });
    assert.equal(a2.welcome.resumed, false, `expired token: ${JSON.stringify(a2.welcome)}`);
    assert.notEqual(a2.id, a.id, 'a new id');
    assert.ok(a2.welcome.room === undefined || a2.welcome.room === null, 'no room');
    b.send({ type: 'offer', target: a.id, sdp: SDP_OFFER });
    await b.error('unknown_target', undefined, 'the old id is gone');
    a2.send({ type: 'offer', target: b.id, sdp: SDP_OFFER });
    await a2.error('not_in_room', undefined, 'the new identity is in no room');
    await b.barrier();
    b.none(['peer-joined', 'peer-resumed'], 'the expired peer coming back');
  });

  test('a resume within the grace cancels the peer-left', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    await room(uniq('quick'), a, b);
    await dropSeen(a, [b]);
    const a2 = await resume(peers, a);
    assert.equal(a2.welcome.resumed, true, 'resumed within 1 s');
    await b.take('peer-resumed');
    await sleep(2200);
    await b.barrier();
    b.none('peer-left', 'peer-left for a peer that came back in time');
    await relays(b, a2, { type: 'offer', sdp: SDP_OFFER });
  });

  test('lobby call: a peer gone for good ends the call with offline, then peer-left; busy clears', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    const callId = await lobbyCall(a, b);
    await dropSeen(a, [b]);
    assert.deepEqual(await b.take('call-ended', 5000), { type: 'call-ended', callId, reason: 'offline' });
    assert.deepEqual(await b.take('peer-left', 5000), { type: 'peer-left', peerId: a.id });
    await lobbyWhere(b, (u) => !userIn(u, a.name) && userIn(u, b.name)?.busy === false, 5000, 'a list without a, b free');
    const a2 = await peers.connect('a2', { resume: a.token });
    assert.equal(a2.welcome.resumed, false);
    assert.ok(a2.welcome.name === undefined || a2.welcome.name === null, 'no name after expiry');
  });

  test('a ringing call ends when the caller is gone for good', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    await hello(a, uniq('Ada'));
    await hello(b, uniq('Bob'));
    a.send({ type: 'call', name: b.name });
    const { callId } = await b.take('incoming');
    a.drop();
    const e = await b.take('call-ended', 5000);
    assert.equal(e.callId, callId);
    assert.ok(['offline', 'cancelled'].includes(e.reason), `reason: ${JSON.stringify(e)}`);
    b.send({ type: 'accept', callId });
    await b.error('unknown_call');
  });
});
