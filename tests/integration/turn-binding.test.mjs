// STUN Binding on the main port over UDP, TCP and TLS (RFC 8489): the
// XOR-MAPPED-ADDRESS is the client's own address, answers end with a valid
// FINGERPRINT, SOFTWARE appears only with --software; stream framing
// (several requests in one write, one request split over writes); broken
// requests are dropped and the server keeps answering, HTTPS included.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { start, request, sleep } from './net.mjs';
import { scrape } from './prom.mjs';
import {
  StunClient, METHOD, CLASS, ATTR, encodeMessage, expectSuccess, Bag, hostPort,
} from './stun-client.mjs';

const T = { timeout: 20000 };
const TRANSPORTS = ['udp', 'tcp', 'tls'];

/** Checks a Binding success answer for client c. */
function checkBinding(res, c, what) {
  expectSuccess(res, what);
  assert.equal(res.method, METHOD.BINDING, `${what}: answer method`);
  const xma = res.xorAddr(ATTR.XOR_MAPPED_ADDRESS);
  assert.ok(xma, `${what}: XOR-MAPPED-ADDRESS present (${res.describe()})`);
  assert.equal(hostPort(xma), `127.0.0.1:${c.local.port}`, `${what}: XOR-MAPPED-ADDRESS is the client's address`);
  assert.equal(xma.family, 1, `${what}: IPv4 family`);
  assert.equal(res.fingerprint(), 'ok', `${what}: FINGERPRINT of the answer`);
}

describe('STUN Binding on the main port', () => {
  let srv;
  const bag = new Bag();
  before(async () => { srv = await start(); });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  for (const tr of TRANSPORTS) {
    test(`Binding over ${tr}: XOR-MAPPED-ADDRESS, FINGERPRINT, no SOFTWARE`, T, async () => {
      const c = bag.add(await StunClient.connect(tr, srv.port));
      const res = await c.request(METHOD.BINDING);
      checkBinding(res, c, `Binding over ${tr}`);
      assert.equal(res.has(ATTR.SOFTWARE), false, `no SOFTWARE attribute by default (${res.describe()})`);
      // The transaction id is echoed.
      const again = await c.request(METHOD.BINDING);
      checkBinding(again, c, `second Binding over ${tr}`);
    });
  }

  test('unknown comprehension-required attribute → 420 with UNKNOWN-ATTRIBUTES; unknown optional one is ignored', T, async () => {
    const c = bag.add(await StunClient.connect('udp', srv.port));
    const res = await c.request(METHOD.BINDING, { attrs: [[0x7ffe, Buffer.from('x')]] });
    assert.equal(res.cls === CLASS.ERROR ? res.error?.code : res.describe(), 420, `Binding with attribute 0x7FFE: ${res.describe()}`);
    const unknown = res.get(ATTR.UNKNOWN_ATTRIBUTES);
    assert.ok(unknown && unknown.length >= 2 && unknown.readUInt16BE(0) === 0x7ffe, `UNKNOWN-ATTRIBUTES lists 0x7FFE (${res.describe()})`);
    checkBinding(await c.request(METHOD.BINDING, { attrs: [[0xc0fe, Buffer.from('optional')]] }), c, 'Binding with optional attribute 0xC0FE');
  });

  test('Binding without FINGERPRINT in the request is answered too', T, async () => {
    const c = bag.add(await StunClient.connect('udp', srv.port));
    checkBinding(await c.request(METHOD.BINDING, { fingerprint: false }), c, 'Binding without FINGERPRINT');
  });

  for (const tr of ['tcp', 'tls']) {
    test(`${tr}: three requests in one write, then one split across writes`, T, async () => {
      const c = bag.add(await StunClient.connect(tr, srv.port));
      const msgs = [0, 1, 2].map(() => encodeMessage({ method: METHOD.BINDING }));
      const answers = msgs.map(({ txid }) => c.next(
        (it) => it.kind === 'stun' && it.msg.txid.equals(txid), 5000, `answer to pipelined Binding ${txid.toString('hex')}`));
      c.sendRaw(Buffer.concat(msgs.map((m) => m.buf)));
      for (const a of await Promise.all(answers)) checkBinding(a.msg, c, `pipelined Binding over ${tr}`);

      const split = encodeMessage({ method: METHOD.BINDING });
      const answer = c.next((it) => it.kind === 'stun' && it.msg.txid.equals(split.txid), 5000, 'answer to the split Binding');
      c.sendRaw(split.buf.subarray(0, 3));
      await new Promise((ok) => setTimeout(ok, 150));
      c.sendRaw(split.buf.subarray(3, 25));
      await new Promise((ok) => setTimeout(ok, 150));
      c.sendRaw(split.buf.subarray(25));
      checkBinding((await answer).msg, c, `split Binding over ${tr}`);
    });
  }

  test('a Binding request with a wrong FINGERPRINT gets no success answer; the server goes on', T, async () => {
    const c = bag.add(await StunClient.connect('udp', srv.port));
    const { buf, txid } = encodeMessage({ method: METHOD.BINDING });
    buf[buf.length - 1] ^= 0xff;
    c.sendRaw(buf);
    assert.ok(await c.none((it) => it.kind === 'stun' && it.msg.txid.equals(txid) && it.msg.cls === CLASS.SUCCESS, 800),
      'a request with a bad FINGERPRINT must not be answered with success');
    checkBinding(await c.request(METHOD.BINDING), c, 'Binding after the bad one');
  });

  test('answers to unverified sources are limited: Binding flood, 420 flood; unknown methods are not answered', T, async () => {
    const c = bag.add(await StunClient.connect('udp', srv.port));
    const base = (await scrape(srv.port)).m;
    // 20 bytes in, 40+ out: no amplifier for a spoofed source.
    for (let i = 0; i < 300; i++) c.sendRaw(encodeMessage({ method: METHOD.BINDING, fingerprint: false }).buf);
    for (let i = 0; i < 60; i++) c.sendRaw(encodeMessage({ method: METHOD.BINDING, attrs: [[0x7ffe, 'abcd']] }).buf);
    for (let i = 0; i < 20; i++) c.sendRaw(encodeMessage({ method: 0x00b }).buf);
    await sleep(1000);
    const got = c.inbox.filter((x) => x.kind === 'stun');
    const ok = got.filter((x) => x.msg.cls === CLASS.SUCCESS).length;
    const e420 = got.filter((x) => x.msg.error?.code === 420).length;
    const other = got.filter((x) => x.msg.cls === CLASS.ERROR && x.msg.error?.code !== 420).length;
    assert.ok(ok >= 100 && ok < 300, `Binding answers limited, but generous (${ok} of 300)`);
    assert.ok(e420 >= 20 && e420 < 60, `420 answers limited (${e420} of 60)`);
    assert.equal(other, 0, 'no answer to an unknown method');
    const m = (await scrape(srv.port)).m;
    const d = (name, labels) => m.get(name, labels) - base.get(name, labels);
    assert.equal(d('tincan_rate_limited_total', { limit: 'turn_binding' }), 300 - ok, 'limited Bindings counted');
    assert.equal(d('tincan_rate_limited_total', { limit: 'turn_unauthenticated' }), 60 - e420, 'limited 420s counted');
    assert.equal(d('tincan_turn_refused_total', { reason: 'unknown_method' }), 20, 'unknown methods counted');
  });

  test('garbage datagrams and a truncated request do not stop the UDP port', T, async () => {
    const c = bag.add(await StunClient.connect('udp', srv.port));
    const good = encodeMessage({ method: METHOD.BINDING }).buf;
    const junk = [
      Buffer.alloc(0), Buffer.from([0]), good.subarray(0, 19), good.subarray(0, good.length - 4),
      Buffer.concat([good, Buffer.from([0, 0, 0, 0])]), Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      Buffer.alloc(1600, 0x00), Buffer.from([0x40, 0x00, 0xff, 0xff, 1, 2, 3]),
    ];
    for (const j of junk) c.sendRaw(j);
    checkBinding(await c.request(METHOD.BINDING), c, 'Binding after garbage');
    const health = await request(srv.port, 'GET', '/health');
    assert.equal(health.status, 200, 'HTTPS on the same port still answers');
  });

  test('a Binding answer over TCP leaves the connection open; HTTPS on the port still works', T, async () => {
    const c = bag.add(await StunClient.connect('tcp', srv.port));
    checkBinding(await c.request(METHOD.BINDING), c, 'Binding over tcp');
    await new Promise((ok) => setTimeout(ok, 300));
    assert.equal(c.closed, false, 'the TCP connection stays open after a Binding answer');
    checkBinding(await c.request(METHOD.BINDING), c, 'second Binding on the same TCP connection');
    const health = await request(srv.port, 'GET', '/health');
    assert.equal(health.status, 200);
  });
});

describe('STUN Binding with --software', () => {
  let srv;
  const bag = new Bag();
  const SOFTWARE = 'tincan-test/1.0 (integration)';
  before(async () => { srv = await start({ args: ['--software', SOFTWARE] }); });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  for (const tr of TRANSPORTS) {
    test(`SOFTWARE attribute over ${tr}`, T, async () => {
      const c = bag.add(await StunClient.connect(tr, srv.port));
      const res = await c.request(METHOD.BINDING);
      checkBinding(res, c, `Binding over ${tr} with --software`);
      assert.equal(res.str(ATTR.SOFTWARE), SOFTWARE, `SOFTWARE attribute (${res.describe()})`);
    });
  }
});
