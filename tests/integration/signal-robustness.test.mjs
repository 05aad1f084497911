// Signaling: wrong input never closes the connection. Unknown types,
// malformed JSON, missing fields (missing_field names the field), fields of
// the wrong JSON type; each answered with an error, and the next valid
// message works. Also: the overall message rate limit, large and deeply
// nested messages.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from './net.mjs';
import { useServer, uniq, join, room, relays, hello, SDP_OFFER, WAIT } from './signal-client.mjs';

const T = { timeout: 20000 };

describe('signaling: robustness', () => {
  const env = useServer(['--resume-grace', '1']);
  const { peers } = env;

  test('unknown types → unknown_type; the connection stays open and a valid message works', T, async () => {
    const a = await peers.connect('a');
    for (const type of ['nope', 'JOIN', 'Join', 'join ', '', 'welcome', 'joined', 'peer-joined', 'error', '__proto__', 'constructor', 'x'.repeat(1000)]) {
      a.send({ type, room: 'r' });
      await a.error('unknown_type', undefined, `type ${JSON.stringify(type).slice(0, 40)}`);
    }
    assert.ok(a.open);
    await join(a, uniq('ok'));
  });

  test('a type with an embedded NUL is not the type before the NUL', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    await room(uniq('nul'), a, b);
    for (const type of ['offer\u0000', 'offer\u0000x', 'leave\u0000', 'join\u0000']) {
      a.send({ type, target: b.id, room: uniq('n'), sdp: SDP_OFFER });
      await a.barrier();
      await b.barrier();
      const errs = a.drain('error');
      // bad_json is acceptable from a parser that refuses NUL escapes.
      assert.ok(errs.length === 1 && ['unknown_type', 'bad_json'].includes(errs[0].code),
        `type ${JSON.stringify(type)}: one unknown_type error, got ${JSON.stringify(errs)}; a also got ${JSON.stringify(a.inbox)}, b got ${JSON.stringify(b.inbox).slice(0, 200)}`);
      b.none(() => true, `a message acted on as its NUL-truncated type ${JSON.stringify(type)}`);
      a.none(['joined'], `a join acted on as ${JSON.stringify(type)}`);
    }
  });

  test('malformed JSON and JSON that is not an object → bad_json', T, async () => {
    const a = await peers.connect('a');
    for (const bad of ['{', '{"type":"join","room":"x"', '{"type":"join",}', "{'type':'join'}", 'join', '[]', '[{"type":"join"}]',
      '42', '"join"', 'null', 'true', '{"type":"join"} {"type":"join"}', '{"type":"join","room":"x"}garbage']) {
      a.send(bad);
      await a.error('bad_json', undefined, `message ${JSON.stringify(bad)}`);
    }
    await join(a, uniq('ok'));
  });

  test('a message without a string type → missing_field type', T, async () => {
    const a = await peers.connect('a');
    for (const m of [{}, { room: 'x' }, { type: 7 }, { type: null }, { type: ['join'] }, { type: { t: 'join' } }, { type: true }]) {
      a.send(m);
      const e = await a.error('missing_field', undefined, `message ${JSON.stringify(m)}`);
      assert.equal(e.field, 'type', `field for ${JSON.stringify(m)}: ${JSON.stringify(e)}`);
    }
    await join(a, uniq('ok'));
  });

  test('missing fields → missing_field naming the field, for every message type', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    const check = async (p, msg, field) => {
      p.send(msg);
      const e = await p.error('missing_field', undefined, JSON.stringify(msg));
      assert.equal(e.field, field, `${JSON.stringify(msg)}: field ${JSON.stringify(e.field)}`);
      assert.equal(typeof e.message, 'string');
    };
    await check(a, { type: 'join' }, 'room');
    await check(a, { type: 'join-pin' }, 'pin');
    await check(a, { type: 'hello' }, 'name');
    await room(uniq('mf'), a, b);
    await check(a, { type: 'offer', sdp: SDP_OFFER }, 'target');
    await check(a, { type: 'answer', sdp: SDP_OFFER }, 'target');
    await check(a, { type: 'ice-candidate', candidate: {} }, 'target');
    await check(a, { type: 'chat' }, 'text');
    await hello(a, uniq('Ada'));
    await check(a, { type: 'call' }, 'name');
    await check(a, { type: 'accept' }, 'callId');
    await check(a, { type: 'reject' }, 'callId');
    await check(a, { type: 'cancel' }, 'callId');
    assert.ok(a.open);
    await relays(a, b, { type: 'offer', sdp: SDP_OFFER });
  });

  test('fields of the wrong JSON type → missing_field naming the field', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    const wrong = [5, 0, null, true, [], ['x'], {}, { room: 'x' }, 1.5];
    const check = async (p, base, field) => {
      for (const v of wrong) {
        const msg = { ...base, [field]: v };
        p.send(msg);
        const e = await p.error('missing_field', undefined, JSON.stringify(msg));
        assert.equal(e.field, field, `${JSON.stringify(msg)}: ${JSON.stringify(e)}`);
      }
    };
    await check(a, { type: 'join' }, 'room');
    await check(a, { type: 'hello' }, 'name');
    await room(uniq('wt'), a, b);
    await check(a, { type: 'offer', sdp: SDP_OFFER }, 'target');
    await check(a, { type: 'ice-candidate', candidate: {} }, 'target');
    await check(a, { type: 'chat' }, 'text');
    await hello(a, uniq('Ada'));
    await check(a, { type: 'call' }, 'name');
    await check(a, { type: 'accept' }, 'callId');
    await b.barrier();
    b.none(['offer', 'ice-candidate', 'chat'], 'a relay of an invalid message');
    await relays(a, b, { type: 'offer', sdp: SDP_OFFER });
  });

  test('a large relay (60 KB sdp) passes through untouched', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    await room(uniq('big'), a, b);
    let sdp = 'v=0\r\n';
    while (sdp.length < 60000) sdp += `a=candidate:${sdp.length} 1 udp 2122260223 192.0.2.1 ${sdp.length % 65535} typ host\r\n`;
    await relays(a, b, { type: 'offer', sdp: { type: 'offer', sdp } });
    // Multi-byte characters near the limit: the byte count grows when the
    // server adds "from"; it must still arrive.
    const text = '€'.repeat(20000);
    await relays(b, a, { type: 'answer', sdp: { type: 'answer', sdp: text } });
  });

  test('a member relaying 60 KB offers as fast as allowed cannot get a receiver that is slow to read dropped', { timeout: 40000 }, async () => {
    const [a, b] = await peers.many('a', 'b');
    await room(uniq('flood'), a, b);
    let sdp = 'v=0\r\n';
    while (sdp.length < 60000) sdp += `a=candidate:${sdp.length} 1 udp 2122260223 192.0.2.1 ${sdp.length % 65535} typ host\r\n`;
    const offer = JSON.stringify({ type: 'offer', target: b.id, sdp: { type: 'offer', sdp } });
    b.c.ws._socket.pause(); // b reads nothing for a while: the server queues what is relayed to it
    const started = Date.now();
    while (Date.now() - started < 4000) { // under the message rate (200/s): 50 a second for 4 s, 12 MB in all
      for (let i = 0; i < 5; i++) a.send(offer);
      await sleep(100);
    }
    await sleep(500);
    a.none(['peer-reconnecting', 'peer-left'], 'b dropped (its output queue overflowed)');
    const e = await a.take((m) => m.type === 'error' && m.code === 'rate_limited', WAIT, 'rate_limited for a');
    assert.ok(e.retryAfter >= 1, `retryAfter ${e.retryAfter}`);
    b.c.ws._socket.resume();
    const got = await b.take('offer', 10000, 'the offers that were let through');
    assert.equal(got.sdp.sdp, sdp);
    await sleep(4500); // the budget refills
    a.inbox.length = 0;
    b.inbox.length = 0;
    await relays(a, b, { type: 'offer', sdp: SDP_OFFER });
    await relays(b, a, { type: 'answer', sdp: { ...SDP_OFFER, type: 'answer' } });
  });

  test('deeply nested JSON is answered with an error (or relayed), not a crash', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    await room(uniq('deep'), a, b);
    const depth = 20000;
    a.send(`{"type":"offer","target":"${b.id}","sdp":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    await a.barrier(8000);
    await b.barrier(8000);
    const errors = a.drain('error');
    const offers = b.drain('offer');
    assert.equal(errors.length + offers.length, 1, `one error or one relayed offer: ${JSON.stringify([...errors, ...offers]).slice(0, 200)}`);
    if (errors.length) assert.equal(errors[0].code, 'bad_json');
    assert.ok(a.open && b.open);
    await relays(a, b, { type: 'offer', sdp: SDP_OFFER });
  });

  test('many messages in one burst are all answered in order', T, async () => {
    const a = await peers.connect('a');
    const rooms = Array.from({ length: 50 }, () => uniq('burst'));
    // One TCP write with 50 frames.
    for (const r of rooms) a.send({ type: 'join', room: r });
    for (let i = 0; i < rooms.length; i++) {
      assert.deepEqual(await a.next(), { type: 'joined', peerId: a.id, peers: [] }, `answer ${i}`);
    }
  });

  test('over 200 messages a second → rate_limited with retryAfter; the connection stays open and recovers', T, async () => {
    const a = await peers.connect('a');
    // 500 in one burst: whatever the window alignment, some are over the limit.
    const n = 500;
    for (let i = 0; i < n; i++) a.send({ type: 'leave' });
    const rl = await a.take((m) => m.type === 'error' && m.code === 'rate_limited', 5000, 'a rate_limited error');
    assert.equal(typeof rl.retryAfter, 'number', `retryAfter: ${JSON.stringify(rl)}`);
    assert.ok(rl.retryAfter > 0 && rl.retryAfter <= 1, `0 < retryAfter <= 1 s: ${rl.retryAfter}`);
    await sleep(1500);
    const codes = [rl.code, ...a.drain('error').map((e) => e.code)];
    assert.ok(codes.every((c) => c === 'not_in_room' || c === 'rate_limited'), `codes: ${[...new Set(codes)]}`);
    assert.ok(codes.length <= n, `at most one answer per message (${codes.length})`);
    const handled = codes.filter((c) => c === 'not_in_room').length;
    assert.ok(handled >= 1 && handled <= 400, `handled ${handled} of ${n} (limit 200/s)`);
    assert.ok(a.open, 'still open');
    await join(a, uniq('after'));
  });
});
