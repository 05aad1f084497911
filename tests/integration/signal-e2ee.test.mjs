// Signaling: the e2ee-key message (docs/protocol.md, "End-to-end encryption
// keys"). The server relays a member's sealed key — opaque base64url, 1-512
// characters — to one member of its room or to all the others, as
// {type, from, key} and nothing else; a bad shape is bad_key; nothing
// leaks to other rooms; the copies count against the relay byte budget that
// offers and answers share.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { useServer, uniq, room, relays, SDP_OFFER, WAIT } from './signal-client.mjs';

const T = { timeout: 30000 };
const b64url = (n) => randomBytes(n).toString('base64url');

describe('signaling: e2ee-key relay', () => {
  const env = useServer([]);
  const { peers } = env;

  test('to one target: only it gets {type, from, key}; extra fields are not relayed', T, async () => {
    const [a, b, c] = await peers.many('a', 'b', 'c');
    await room(uniq('keys'), a, b, c);
    const key = b64url(60);
    a.send({ type: 'e2ee-key', target: b.id, key, keyId: 7, note: 'x' });
    assert.deepEqual(await b.next(), { type: 'e2ee-key', from: a.id, key });
    for (const p of [a, b, c]) await p.barrier();
    c.none('e2ee-key', 'a key meant for b reached c');
    a.none('e2ee-key', 'a got its own key back');
    a.none('error', 'a valid key was refused');
  });

  test('without target: every other member gets it, the sender does not', T, async () => {
    const [a, b, c] = await peers.many('a', 'b', 'c');
    await room(uniq('keys'), a, b, c);
    const key = b64url(384); // 512 characters exactly: the largest accepted
    assert.equal(key.length, 512);
    b.send({ type: 'e2ee-key', key });
    assert.deepEqual(await a.next(), { type: 'e2ee-key', from: b.id, key });
    assert.deepEqual(await c.next(), { type: 'e2ee-key', from: b.id, key });
    await b.barrier();
    b.none(['e2ee-key', 'error'], 'an echo or error for the sender');
  });

  test('bad shapes → bad_key, nothing relayed', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    await room(uniq('keys'), a, b);
    const bad = [
      { type: 'e2ee-key' },
      { type: 'e2ee-key', key: '' },
      { type: 'e2ee-key', key: 'a'.repeat(513) },
      { type: 'e2ee-key', key: 'abc=' },
      { type: 'e2ee-key', key: 'ab+c' },
      { type: 'e2ee-key', key: 'ab/c' },
      { type: 'e2ee-key', key: 'ab c' },
      { type: 'e2ee-key', key: 'ab\u0000c' },
      { type: 'e2ee-key', key: 'é' },
      { type: 'e2ee-key', key: 42 },
      { type: 'e2ee-key', key: ['abc'] },
      { type: 'e2ee-key', key: 'abc', target: 5 },
    ];
    for (const m of bad) {
      a.send(m);
      await a.error('bad_key', WAIT, JSON.stringify(m).slice(0, 60));
    }
    await b.barrier();
    b.none('e2ee-key', 'a malformed key was relayed');
  });

  test('not in a room → not_in_room; unknown or own target → unknown_target', T, async () => {
    const [a, b, x] = await peers.many('a', 'b', 'x');
    x.send({ type: 'e2ee-key', key: 'abc' });
    await x.error('not_in_room');
    await room(uniq('keys'), a, b);
    a.send({ type: 'e2ee-key', key: 'abc', target: x.id });
    await a.error('unknown_target', WAIT, 'a peer of no room');
    a.send({ type: 'e2ee-key', key: 'abc', target: a.id });
    await a.error('unknown_target', WAIT, 'oneself');
    await x.barrier();
    x.none('e2ee-key', 'a key reached a peer outside the room');
  });

  test('never reaches another room', T, async () => {
    const [a, b, c, d] = await peers.many('a', 'b', 'c', 'd');
    await room(uniq('one'), a, b);
    await room(uniq('two'), c, d);
    a.send({ type: 'e2ee-key', key: 'AAAA' });
    assert.deepEqual(await b.next(), { type: 'e2ee-key', from: a.id, key: 'AAAA' });
    a.send({ type: 'e2ee-key', key: 'BBBB', target: c.id });
    await a.error('unknown_target', WAIT, 'a member of another room');
    for (const p of [c, d]) {
      await p.barrier();
      p.none('e2ee-key', 'a key from another room');
    }
  });

  test('every copy counts against the relay byte budget shared with offers', T, async () => {
    const [a, b, c] = await peers.many('a', 'b', 'c');
    await room(uniq('budget'), a, b, c);
    const key = b64url(384);
    const text = JSON.stringify({ type: 'e2ee-key', key });
    // Two copies per broadcast: the 128 KiB burst allows this many.
    const fits = Math.floor((128 * 1024) / (2 * Buffer.byteLength(text)));
    const t0 = Date.now();
    for (let i = 0; i < fits + 5; i++) a.send({ type: 'e2ee-key', key });
    const e = await a.error('rate_limited', WAIT, 'past the relay budget');
    // The budget refills 32 KiB a second: on a slow machine the sends take
    // long enough for that to let a few more through.
    const refilled = Math.ceil((((Date.now() - t0) / 1000) * 32 * 1024) / (2 * Buffer.byteLength(text)));
    assert.ok(e.retryAfter >= 1, `retryAfter ${e.retryAfter}`);
    await a.barrier();
    const errors = a.drain('error');
    assert.ok(errors.every((m) => m.code === 'rate_limited'), JSON.stringify(errors.map((m) => m.code)));
    await b.barrier();
    const got = b.drain('e2ee-key').length;
    assert.ok(got >= fits - 2 && got <= fits + refilled, `b got ${got} keys; ${fits} fit in the burst, ${refilled} refilled`);
    assert.equal(got + errors.length + 1, fits + 5, 'each key either delivered or refused');
    // The same budget covers offers: a 30 KB offer right now (the budget
    // refills 32 KiB a second) is refused too.
    a.send({ type: 'offer', target: b.id, sdp: { type: 'offer', sdp: `v=0\r\n${'a=x\r\n'.repeat(6000)}` } });
    await a.error('rate_limited', WAIT, 'an offer after the keys used the budget');
    await b.barrier();
    b.none('offer', 'an offer past the budget');
    await new Promise((ok) => setTimeout(ok, 4500)); // the budget refills (32 KiB/s)
    await relays(a, b, { type: 'offer', sdp: SDP_OFFER });
  });
});
