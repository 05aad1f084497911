// Signaling: PIN calls. Two peers with the same 6-digit PIN share a private
// room of two; the first learns nothing but "waiting"; a third is refused;
// the PIN is free again once both left; attempts are rate-limited per
// source address.
//
// Every test connects from its own loopback source address (127.0.0.N) so
// that the per-address attempt limit of one test cannot spill into the next.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { useServer, uniq, join, relays, SDP_OFFER, CANDIDATE } from './signal-client.mjs';

const T = { timeout: 20000 };

let host = 10;
/** A loopback source address no other test in this file uses. */
const nextAddr = () => `127.0.0.${++host}`;
/** A random valid PIN. */
const pin = () => String(randomInt(0, 1000000)).padStart(6, '0');

/** join-pin and wait for the answer (pin-waiting, joined or an error). */
async function joinPin(p, value) {
  p.send({ type: 'join-pin', pin: value });
  return p.take(['pin-waiting', 'joined', 'error'], undefined, `answer to join-pin ${value}`);
}

describe('signaling: PIN calls', () => {
  const env = useServer(['--resume-grace', '1']);
  const { peers } = env;

  test('same PIN: the first gets only pin-waiting, the second joined, the first peer-joined', T, async () => {
    const addr = nextAddr();
    const a = await peers.connect('a', { localAddress: addr });
    const b = await peers.connect('b', { localAddress: addr });
    const p = pin();
    a.send({ type: 'join-pin', pin: p });
    const w = await a.next();
    // Nothing but the fact of waiting: no PIN, no room, no id, no count.
    assert.deepEqual(w, { type: 'pin-waiting' }, 'the waiting answer has exactly one key');
    b.send({ type: 'join-pin', pin: p });
    assert.deepEqual(await b.next(), { type: 'joined', peerId: b.id, peers: [a.id] });
    assert.deepEqual(await a.next(), { type: 'peer-joined', peerId: b.id });
    // From here it is a room of two: relay both ways, with the 004 shapes.
    await relays(b, a, { type: 'offer', sdp: SDP_OFFER });
    await relays(a, b, { type: 'answer', sdp: { ...SDP_OFFER, type: 'answer' } });
    await relays(b, a, { type: 'ice-candidate', candidate: CANDIDATE });
    b.send({ type: 'leave' });
    assert.deepEqual(await a.next(), { type: 'peer-left', peerId: b.id });
  });

  test('a third peer with the same PIN gets room_full and the pair hears nothing', T, async () => {
    const addr = nextAddr();
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((l) => peers.connect(l, { localAddress: addr })));
    const p = pin();
    assert.equal((await joinPin(a, p)).type, 'pin-waiting');
    assert.equal((await joinPin(b, p)).type, 'joined');
    await a.take('peer-joined');
    const e = await joinPin(c, p);
    assert.equal(e.type, 'error', `third peer: ${JSON.stringify(e)}`);
    assert.equal(e.code, 'room_full');
    await a.barrier();
    await b.barrier();
    a.none(() => true, 'news of a refused third peer');
    b.none(() => true, 'news of a refused third peer');
    c.send({ type: 'offer', target: a.id, sdp: SDP_OFFER });
    await c.error('not_in_room', undefined, 'the refused peer is in no room');
  });

  test('bad_pin for "12345", "1234567", "abcdef", "12 345", "１２３４５６"; a number is refused too', T, async () => {
    // A fresh connection and source address for every two attempts: whether
    // an invalid PIN counts against the attempt limit is not specified.
    let a;
    let n = 0;
    const peer = async () => {
      if (n++ % 2 === 0) a = await peers.connect(`a${n}`, { localAddress: nextAddr() });
      return a;
    };
    for (const bad of ['12345', '1234567', 'abcdef', '12a456', '12 345', ' 123456', '123456 ', '', '١٢٣٤٥٦', '１２３４５６', '-12345', '+12345']) {
      const p = await peer();
      p.send({ type: 'join-pin', pin: bad });
      await p.error('bad_pin', undefined, `pin ${JSON.stringify(bad)}`);
    }
    // The PIN as a JSON number: the brief asks for bad_pin; protocol.md's
    // general rule (a field of the wrong JSON type) says missing_field with
    // field "pin". Either names the problem.
    for (const bad of [123456, 12345.6, null, ['123456'], { pin: '123456' }]) {
      const p = await peer();
      p.send({ type: 'join-pin', pin: bad });
      const e = await p.take('error', undefined, `error for pin ${JSON.stringify(bad)}`);
      assert.ok(e.code === 'bad_pin' || (e.code === 'missing_field' && e.field === 'pin'),
        `pin ${JSON.stringify(bad)}: bad_pin or missing_field(pin), got ${JSON.stringify(e)}`);
    }
    const p = await peer();
    p.send({ type: 'join-pin' });
    const e = await p.error('missing_field', undefined, 'join-pin without pin');
    assert.equal(e.field, 'pin');
    assert.ok(p.open, 'connection stays open');
    assert.deepEqual(await joinPin(p, pin()), { type: 'pin-waiting' }, 'a valid PIN works afterwards');
  });

  test('after both leave, the PIN is free again for two new peers', T, async () => {
    const addr = nextAddr();
    const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map((l) => peers.connect(l, { localAddress: addr })));
    const p = pin();
    assert.equal((await joinPin(a, p)).type, 'pin-waiting');
    assert.equal((await joinPin(b, p)).type, 'joined');
    await a.take('peer-joined');
    a.send({ type: 'leave' });
    await b.take('peer-left');
    b.send({ type: 'leave' });
    await b.barrier();
    c.send({ type: 'join-pin', pin: p });
    assert.deepEqual(await c.next(), { type: 'pin-waiting' }, 'the PIN room is gone: c waits');
    d.send({ type: 'join-pin', pin: p });
    assert.deepEqual(await d.next(), { type: 'joined', peerId: d.id, peers: [c.id] });
    assert.deepEqual(await c.next(), { type: 'peer-joined', peerId: d.id });
    await a.barrier();
    await b.barrier();
    a.none('peer-joined', 'news from a PIN room one left');
    b.none('peer-joined', 'news from a PIN room one left');
  });

  test('a waiting peer that leaves or disconnects frees the PIN', T, async () => {
    const addr = nextAddr();
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((l) => peers.connect(l, { localAddress: addr })));
    const p = pin();
    assert.equal((await joinPin(a, p)).type, 'pin-waiting');
    a.send({ type: 'leave' });
    await a.barrier();
    assert.deepEqual(await joinPin(b, p), { type: 'pin-waiting' }, 'after the waiter left, the next one waits');
    // b disconnects for good (grace 1 s): the PIN is free again afterwards.
    b.drop();
    await new Promise((ok) => setTimeout(ok, 2500));
    assert.deepEqual(await joinPin(c, p), { type: 'pin-waiting' }, 'after the waiter is gone, the next one waits');
  });

  test('a PIN room is not the room of the same name: join "123456" does not meet a PIN holder', T, async () => {
    const addr = nextAddr();
    const [a, b] = await Promise.all(['a', 'b'].map((l) => peers.connect(l, { localAddress: addr })));
    const p = pin();
    assert.equal((await joinPin(a, p)).type, 'pin-waiting');
    await join(b, p, []);
    await a.barrier();
    a.none(() => true, 'a named room leaking into a PIN room');
  });

  test('different PINs wait separately', T, async () => {
    const addr = nextAddr();
    const [a, b] = await Promise.all(['a', 'b'].map((l) => peers.connect(l, { localAddress: addr })));
    const p = pin();
    const q = p === '000000' ? '000001' : String(Number(p) - 1).padStart(6, '0');
    assert.equal((await joinPin(a, p)).type, 'pin-waiting');
    assert.equal((await joinPin(b, q)).type, 'pin-waiting');
    await a.barrier();
    a.none('peer-joined', 'a peer with another PIN');
  });

  test('chat and relay in a PIN room reach only the other holder', T, async () => {
    const addr = nextAddr();
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((l) => peers.connect(l, { localAddress: addr })));
    const r = uniq('near');
    await join(c, r);
    const p = pin();
    await joinPin(a, p);
    await joinPin(b, p);
    a.send({ type: 'chat', text: 'psst' });
    const m = await b.take('chat');
    assert.equal(m.from, a.id);
    assert.equal(m.text, 'psst');
    await c.barrier();
    c.none('chat', 'chat from a PIN room');
  });
});

describe('signaling: PIN attempt rate limit (--pin-rate 3)', () => {
  const env = useServer(['--pin-rate', '3']);
  const { peers } = env;

  test('the 4th attempt within a minute from one address → rate_limited with retryAfter; another address is not affected', T, async () => {
    const addr = '127.0.0.200';
    // Three attempts, each on its own connection: the limit is per address.
    for (let i = 0; i < 3; i++) {
      const p = await peers.connect(`try${i}`, { localAddress: addr });
      assert.deepEqual(await joinPin(p, pin()), { type: 'pin-waiting' }, `attempt ${i + 1} is allowed`);
    }
    const late = await peers.connect('late', { localAddress: addr });
    const e = await joinPin(late, pin());
    assert.equal(e.type, 'error', `4th attempt: ${JSON.stringify(e)}`);
    assert.equal(e.code, 'rate_limited');
    assert.equal(typeof e.retryAfter, 'number', `retryAfter is a number: ${JSON.stringify(e)}`);
    assert.ok(e.retryAfter > 0 && e.retryAfter <= 60, `0 < retryAfter <= 60: ${e.retryAfter}`);
    assert.equal(typeof e.message, 'string');
    // Still limited on the next try, and the connection stays usable.
    const e2 = await joinPin(late, pin());
    assert.equal(e2.code, 'rate_limited');
    await join(late, uniq('stillok'));
    // Another source address has its own budget.
    const other = await peers.connect('other', { localAddress: '127.0.0.201' });
    assert.deepEqual(await joinPin(other, pin()), { type: 'pin-waiting' }, 'another address is not limited');
  });

  test('the rate limit does not make a PIN guessable: a limited attempt never joins', T, async () => {
    const addr = '127.0.0.202';
    const holder = await peers.connect('holder', { localAddress: '127.0.0.203' });
    const p = pin();
    assert.equal((await joinPin(holder, p)).type, 'pin-waiting');
    for (let i = 0; i < 3; i++) {
      const x = await peers.connect(`g${i}`, { localAddress: addr });
      const q = String((Number(p) + 1 + i) % 1000000).padStart(6, '0');
      assert.equal((await joinPin(x, q)).type, 'pin-waiting');
    }
    const guesser = await peers.connect('guesser', { localAddress: addr });
    const e = await joinPin(guesser, p);
    assert.equal(e.code, 'rate_limited', `the right PIN past the limit is refused too: ${JSON.stringify(e)}`);
    await holder.barrier();
    holder.none('peer-joined', 'a rate-limited peer joining');
  });
});
