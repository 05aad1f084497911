// WebSocket signaling endpoint: welcome, error replies, RFC 6455 framing
// rules (fragments, control frames, masking, UTF-8, size limit, closing
// handshake) and server pings.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, sleep, request } from './net.mjs';
import { rawWs, OP, encodeFrame } from './wsraw.mjs';
import { wsClient } from './wsclient.mjs';

const T = { timeout: 15000 };

/** Opens a raw WS and consumes the welcome message. */
async function rawAfterWelcome(port) {
  const c = await rawWs(port);
  const w = await c.json();
  assert.equal(w.type, 'welcome');
  return c;
}

/** Asserts the server sends a close frame with code and then ends TCP. */
async function expectClose(c, code, what) {
  const f = await c.closeFrame(5000);
  assert.equal(f.code, code, `${what}: close code ${f.code} (${f.reason}), expected ${code}`);
  assert.ok(await c.closesWithin(3000), `${what}: server ends the TCP connection after the close frame`);
}

describe('WebSocket messages', () => {
  let srv;
  before(async () => { srv = await start(); });
  after(async () => { await srv?.stop(); });

  test('welcome message with an id on connect', T, async () => {
    const a = await wsClient(srv.port);
    const b = await wsClient(srv.port);
    try {
      const wa = await a.next();
      const wb = await b.next();
      assert.equal(wa.type, 'welcome');
      assert.equal(typeof wa.id, 'string');
      assert.match(wa.id, /^[0-9a-f]+$/i, 'id is hex');
      assert.ok(wa.id.length >= 8, 'id is long enough not to be guessed');
      assert.notEqual(wa.id, wb.id, 'two connections get different ids');
    } finally {
      a.close();
      b.close();
    }
  });

  test('unknown type → error unknown_type, and the connection stays open', T, async () => {
    const c = await wsClient(srv.port);
    try {
      await c.next();
      c.send({ type: 'nope' });
      const e1 = await c.next();
      assert.equal(e1.type, 'error');
      assert.equal(e1.code, 'unknown_type');
      assert.equal(typeof e1.message, 'string');
      c.send({ type: 'still-nope', x: [1, 2, { y: null }] });
      const e2 = await c.next();
      assert.equal(e2.type, 'error');
      assert.equal(e2.code, 'unknown_type');
      assert.equal(c.ws.readyState, 1, 'still OPEN');
    } finally {
      c.close();
    }
  });

  test('invalid JSON → error bad_json, connection stays open', T, async () => {
    const c = await wsClient(srv.port);
    try {
      await c.next();
      for (const bad of ['{nope', '', '{"type":"x",}', 'null garbage', '\u0000']) {
        c.send(bad);
        const e = await c.next();
        assert.equal(e.type, 'error', `reply to ${JSON.stringify(bad)}`);
        assert.equal(e.code, 'bad_json', `reply to ${JSON.stringify(bad)}`);
      }
      c.send({ type: 'nope' });
      assert.equal((await c.next()).code, 'unknown_type');
    } finally {
      c.close();
    }
  });

  test('JSON that is not an object with a string type is answered, not fatal', T, async () => {
    const c = await wsClient(srv.port);
    try {
      await c.next();
      for (const m of ['[]', '42', '"type"', '{"type":7}', '{}']) {
        c.send(m);
        const e = await c.next();
        assert.equal(e.type, 'error', `reply to ${m}`);
        assert.equal(typeof e.code, 'string', `reply to ${m} has a code`);
      }
      assert.equal(c.ws.readyState, 1);
    } finally {
      c.close();
    }
  });

  test('invalid UTF-8 in a text frame → close 1007', T, async () => {
    const c = await rawAfterWelcome(srv.port);
    try {
      c.send({ opcode: OP.TEXT, payload: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) });
      await expectClose(c, 1007, 'invalid UTF-8');
    } finally {
      c.destroy();
    }
  });

  test('overlong UTF-8 and UTF-16 surrogates are invalid too → 1007', T, async () => {
    for (const bytes of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
      const c = await rawAfterWelcome(srv.port);
      try {
        c.send({ opcode: OP.TEXT, payload: Buffer.from(bytes) });
        await expectClose(c, 1007, `bytes ${Buffer.from(bytes).toString('hex')}`);
      } finally {
        c.destroy();
      }
    }
  });

  test('an unmasked client frame → close 1002', T, async () => {
    const c = await rawAfterWelcome(srv.port);
    try {
      c.send({ opcode: OP.TEXT, payload: '{"type":"nope"}', mask: false });
      await expectClose(c, 1002, 'unmasked frame');
    } finally {
      c.destroy();
    }
  });

  test('a fragmented text message is answered as one message', T, async () => {
    const c = await rawAfterWelcome(srv.port);
    try {
      c.send({ opcode: OP.TEXT, fin: false, payload: '{"type":' });
      c.send({ opcode: OP.CONT, fin: true, payload: '"nope"}' });
      const e = await c.json();
      assert.equal(e.type, 'error');
      assert.equal(e.code, 'unknown_type', 'fragments were joined into valid JSON');
      // Exactly one reply: an extra frame (a fragment answered on its own)
      // would arrive before the answer to this marker.
      c.sendText('{marker');
      const m = await c.json();
      assert.equal(m.code, 'bad_json', 'next reply is the one to the marker');
    } finally {
      c.destroy();
    }
  });

  test('fragments arriving in one TCP write are joined and answered', T, async () => {
    const c = await rawAfterWelcome(srv.port);
    try {
      c.sock.write(Buffer.concat([
        encodeFrame({ opcode: OP.TEXT, fin: false, payload: '{"type":' }),
        encodeFrame({ opcode: OP.CONT, fin: false, payload: '"no' }),
        encodeFrame({ opcode: OP.CONT, fin: true, payload: 'pe"}' }),
        encodeFrame({ opcode: OP.TEXT, payload: '{bad' }),
      ]));
      assert.equal((await c.json()).code, 'unknown_type', 'the joined message');
      assert.equal((await c.json()).code, 'bad_json', 'the message after it');
    } finally {
      c.destroy();
    }
  });

  test('two whole messages in one TCP write get two answers', T, async () => {
    const c = await rawAfterWelcome(srv.port);
    try {
      c.sock.write(Buffer.concat([
        encodeFrame({ opcode: OP.TEXT, payload: '{"type":"a"}' }),
        encodeFrame({ opcode: OP.TEXT, payload: '{b' }),
      ]));
      assert.equal((await c.json()).code, 'unknown_type');
      assert.equal((await c.json()).code, 'bad_json');
    } finally {
      c.destroy();
    }
  });

  test('a ping between fragments is answered, then the message', T, async () => {
    const c = await rawAfterWelcome(srv.port);
    try {
      c.send({ opcode: OP.TEXT, fin: false, payload: '{"ty' });
      c.send({ opcode: OP.PING, payload: 'mid' });
      c.send({ opcode: OP.CONT, fin: false, payload: 'pe":"n' });
      c.send({ opcode: OP.CONT, fin: true, payload: 'ope"}' });
      const pong = await c.nextNonPing();
      assert.equal(pong.opcode, OP.PONG);
      assert.equal(pong.payload.toString(), 'mid');
      const e = await c.json();
      assert.equal(e.code, 'unknown_type');
    } finally {
      c.destroy();
    }
  });

  test('a UTF-8 character split across fragments is valid', T, async () => {
    const c = await rawAfterWelcome(srv.port);
    try {
      const whole = Buffer.from('{"type":"caf\u00e9"}');
      const cut = whole.indexOf(0xc3) + 1; // in the middle of the two-byte é
      c.send({ opcode: OP.TEXT, fin: false, payload: whole.subarray(0, cut) });
      c.send({ opcode: OP.CONT, fin: true, payload: whole.subarray(cut) });
      const e = await c.json();
      assert.equal(e.code, 'unknown_type');
    } finally {
      c.destroy();
    }
  });

  test('ping → pong with the same payload', T, async () => {
    const c = await wsClient(srv.port);
    try {
      await c.next();
      const payload = Buffer.from('tincan-ping-\u00e9-123');
      const got = new Promise((ok) => c.ws.once('pong', ok));
      c.ws.ping(payload);
      const pong = await Promise.race([got, sleep(3000).then(() => null)]);
      assert.ok(pong, 'pong received');
      assert.ok(pong.equals(payload), `pong payload ${pong}`);
      const empty = new Promise((ok) => c.ws.once('pong', ok));
      c.ws.ping();
      assert.equal((await Promise.race([empty, sleep(3000).then(() => null)]))?.length, 0, 'empty ping → empty pong');
    } finally {
      c.close();
    }
  });

  test('client close 1000 → server answers close and ends TCP', T, async () => {
    const c = await rawAfterWelcome(srv.port);
    try {
      const body = Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye')]);
      c.send({ opcode: OP.CLOSE, payload: body });
      const f = await c.closeFrame();
      assert.equal(f.code, 1000, 'close echoed with 1000');
      assert.ok(await c.closesWithin(3000), 'server ends TCP after the closing handshake');
    } finally {
      c.destroy();
    }
  });

  test('ws library close(1000) completes cleanly', T, async () => {
    const c = await wsClient(srv.port);
    await c.next();
    c.ws.close(1000, 'done');
    const { code } = await Promise.race([c.closed, sleep(5000).then(() => ({ code: 'timeout' }))]);
    assert.equal(code, 1000);
  });

  const protocolErrors = [
    ['reserved opcode 3', [{ opcode: 3, payload: 'x' }]],
    ['reserved opcode 0xB (control)', [{ opcode: 0xb, payload: 'x' }]],
    ['RSV1 set without an extension', [{ opcode: OP.TEXT, rsv: 4, payload: '{}' }]],
    ['continuation with nothing to continue', [{ opcode: OP.CONT, payload: 'x' }]],
    ['new text frame while a fragmented one is open', [
      { opcode: OP.TEXT, fin: false, payload: '{"a":' }, { opcode: OP.TEXT, payload: '1}' }]],
    ['fragmented ping', [{ opcode: OP.PING, fin: false, payload: 'x' }]],
    ['ping payload over 125 bytes', [{ opcode: OP.PING, payload: Buffer.alloc(126, 0x61) }]],
    ['close with a 1-byte payload', [{ opcode: OP.CLOSE, payload: Buffer.from([3]) }]],
    ['close with reserved code 1005', [{ opcode: OP.CLOSE, payload: Buffer.from([0x03, 0xed]) }]],
    ['close with code 999', [{ opcode: OP.CLOSE, payload: Buffer.from([0x03, 0xe7]) }]],
  ];
  for (const [name, frames] of protocolErrors) {
    test(`protocol error: ${name} → close 1002`, T, async () => {
      const c = await rawAfterWelcome(srv.port);
      try {
        for (const f of frames) c.send(f);
        await expectClose(c, 1002, name);
      } finally {
        c.destroy();
      }
    });
  }

  test('the server is still healthy after all of this', T, async () => {
    const res = await request(srv.port, 'GET', '/health');
    assert.equal(res.status, 200);
    const c = await wsClient(srv.port);
    try {
      assert.equal((await c.next()).type, 'welcome');
    } finally {
      c.close();
    }
  });
});

describe('--ws-max-message', () => {
  let srv;
  before(async () => { srv = await start({ args: ['--ws-max-message', '1024'] }); });
  after(async () => { await srv?.stop(); });

  test('a 2000-byte message over a 1024-byte limit → close 1009', T, async () => {
    const c = await rawAfterWelcome(srv.port);
    try {
      c.sendText(JSON.stringify({ type: 'nope', pad: 'p'.repeat(2000 - 24) }).slice(0, 2000));
      await expectClose(c, 1009, 'message over limit');
    } finally {
      c.destroy();
    }
  });

  test('the ws library sees 1009 too', T, async () => {
    const c = await wsClient(srv.port);
    await c.next();
    c.send('x'.repeat(2000));
    const { code } = await Promise.race([c.closed, sleep(5000).then(() => ({ code: 'timeout' }))]);
    assert.equal(code, 1009);
  });

  test('exactly 1024 bytes is allowed, 1025 is not', T, async () => {
    const exact = JSON.stringify({ type: 'nope', pad: '' });
    const msg = (n) => JSON.stringify({ type: 'nope', pad: 'q'.repeat(n - exact.length) });
    assert.equal(Buffer.byteLength(msg(1024)), 1024);
    const c = await rawAfterWelcome(srv.port);
    try {
      c.sendText(msg(1024));
      assert.equal((await c.json()).code, 'unknown_type', 'a 1024-byte message is within --ws-max-message 1024');
      c.sendText(msg(1025));
      await expectClose(c, 1009, '1025-byte message');
    } finally {
      c.destroy();
    }
  });

  test('a message under the limit is answered', T, async () => {
    const c = await rawAfterWelcome(srv.port);
    try {
      c.sendText(JSON.stringify({ type: 'nope', pad: 'p'.repeat(900) }));
      assert.equal((await c.json()).code, 'unknown_type');
    } finally {
      c.destroy();
    }
  });

  test('fragments that add up to more than the limit → close 1009', T, async () => {
    const c = await rawAfterWelcome(srv.port);
    try {
      c.send({ opcode: OP.TEXT, fin: false, payload: 'a'.repeat(600) });
      c.send({ opcode: OP.CONT, fin: false, payload: 'a'.repeat(600) });
      c.send({ opcode: OP.CONT, fin: true, payload: 'a'.repeat(600) });
      await expectClose(c, 1009, 'fragmented message over limit');
    } finally {
      c.destroy();
    }
  });

  test('a frame header announcing 2^40 bytes → 1009 at once', T, async () => {
    const c = await rawAfterWelcome(srv.port);
    try {
      const head = Buffer.alloc(14);
      head[0] = 0x81;
      head[1] = 0x80 | 127;
      head.writeBigUInt64BE(1n << 40n, 2);
      c.sock.write(head);
      await expectClose(c, 1009, 'huge frame length');
    } finally {
      c.destroy();
    }
  });
});

describe('--ws-ping-interval', () => {
  let srv;
  before(async () => { srv = await start({ args: ['--ws-ping-interval', '1'] }); });
  after(async () => { await srv?.stop(); });

  test('the server pings, and a client that answers stays connected', { timeout: 20000 }, async () => {
    const c = await wsClient(srv.port);
    try {
      await c.next();
      let pings = 0;
      c.ws.on('ping', () => { pings++; });
      await sleep(4500);
      assert.ok(pings >= 2, `got ${pings} pings in 4.5 s with --ws-ping-interval 1`);
      assert.equal(c.ws.readyState, 1, 'a client that answers pings is kept');
      c.send({ type: 'nope' });
      assert.equal((await c.next()).code, 'unknown_type');
    } finally {
      c.close();
    }
  });

  test('a silent peer is dropped after about twice the interval', { timeout: 20000 }, async () => {
    const c = await rawAfterWelcome(srv.port);
    try {
      const t0 = Date.now();
      assert.ok(await c.closesWithin(6000), 'silent peer not dropped within 6 s (interval 1 s)');
      const dt = Date.now() - t0;
      assert.ok(dt >= 1000, `dropped after only ${dt} ms`);
    } finally {
      c.destroy();
    }
  });
});
