// Relay to relay: two allocations on the same server talk to each other
// (the path of two browsers that both relay through tincan, which the issue
// wants in process), with the default peer policy — no
// --allow-loopback-peers — and the same permission and channel checks as
// towards any other peer.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { start, sleep } from './net.mjs';
import {
  TurnClient, expectSuccess, udpRange, turnArgs, Bag, hostPort, isData, isChannel,
} from './stun-client.mjs';

const T = { timeout: 20000 };
const ALICE = { user: 'alice', pass: 'wonderland' };
const BOB = { user: 'bob', pass: 'builder' };

describe('relay to relay (default policy)', () => {
  let srv;
  let range;
  const bag = new Bag();
  before(async () => {
    range = await udpRange(22000, 30);
    srv = await start({
      args: turnArgs(range, '--turn-user', `${ALICE.user}:${ALICE.pass}`, '--turn-user', `${BOB.user}:${BOB.pass}`),
    });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  /** Two allocations, A over ta and B over tb. */
  async function pair(ta, tb) {
    const a = bag.add(await TurnClient.connect(ta, srv.port, ALICE));
    const b = bag.add(await TurnClient.connect(tb, srv.port, BOB));
    expectSuccess(await a.allocate(), `Allocate A over ${ta}`);
    expectSuccess(await b.allocate(), `Allocate B over ${tb}`);
    assert.notEqual(hostPort(a.relayed), hostPort(b.relayed));
    return { a, b };
  }

  for (const [ta, tb] of [['udp', 'udp'], ['tcp', 'tls'], ['udp', 'tls']]) {
    test(`${ta} ↔ ${tb}: Send/Data indications both ways with mutual permissions`, T, async () => {
      const { a, b } = await pair(ta, tb);
      expectSuccess(await a.createPermission(b.relayed), 'A permits B');
      expectSuccess(await b.createPermission(a.relayed), 'B permits A');
      a.send(b.relayed, Buffer.from('A to B'));
      const atB = await b.data(Buffer.from('A to B'));
      assert.equal(hostPort(atB.peer), hostPort(a.relayed), 'B sees the data coming from A\'s relayed address');
      b.send(a.relayed, Buffer.from('B to A'));
      const atA = await a.data(Buffer.from('B to A'));
      assert.equal(hostPort(atA.peer), hostPort(b.relayed), 'A sees the data coming from B\'s relayed address');
      // A burst, in order is not required but all must arrive.
      const N = 50;
      for (let i = 0; i < N; i++) a.send(b.relayed, Buffer.from(`burst ${i}`));
      for (let i = 0; i < N; i++) await b.data(Buffer.from(`burst ${i}`));
    });

    test(`${ta} ↔ ${tb}: ChannelData both ways through channels`, T, async () => {
      const { a, b } = await pair(ta, tb);
      expectSuccess(await a.channelBind(0x4001, b.relayed), 'A binds 0x4001 to B');
      expectSuccess(await b.channelBind(0x4abc, a.relayed), 'B binds 0x4ABC to A');
      for (const n of [1, 5, 64, 999]) {
        const ab = Buffer.alloc(n, 0x61);
        a.sendChannel(0x4001, ab);
        const atB = await b.channelData(0x4abc, ab);
        assert.equal(atB.data.length, n, 'B receives on its own channel number for A');
        const ba = Buffer.alloc(n, 0x62);
        b.sendChannel(0x4abc, ba);
        await a.channelData(0x4001, ba);
      }
      // Send indications still work and arrive as ChannelData (the channel is bound).
      a.send(b.relayed, Buffer.from('send on a bound pair'));
      await b.channelData(0x4abc, Buffer.from('send on a bound pair'));
    });
  }

  test('A → B is dropped while B has no permission for A', T, async () => {
    const { a, b } = await pair('udp', 'udp');
    expectSuccess(await a.createPermission(b.relayed), 'A permits B (B does not permit A)');
    a.send(b.relayed, Buffer.from('unpermitted'));
    expectSuccess(await a.channelBind(0x4002, b.relayed), 'A binds a channel to B');
    a.sendChannel(0x4002, Buffer.from('unpermitted channel'));
    assert.ok(await b.c.none((it) => isData(it) || isChannel()(it), 800), 'B receives nothing without a permission for A');
    // Once B permits A, the same path works.
    expectSuccess(await b.createPermission(a.relayed), 'B permits A');
    a.send(b.relayed, Buffer.from('now permitted'));
    const d = await b.data(Buffer.from('now permitted'));
    assert.equal(hostPort(d.peer), hostPort(a.relayed));
    assert.equal(b.c.inbox.length, 0, 'the earlier packets were dropped, not queued');
  });

  test('A → B is dropped while A has no permission for B', T, async () => {
    const { a, b } = await pair('udp', 'tcp');
    expectSuccess(await b.createPermission(a.relayed), 'B permits A (A does not permit B)');
    a.send(b.relayed, Buffer.from('no permission at A'));
    assert.ok(await b.c.none(isData, 800), 'nothing leaves A\'s relay without A\'s permission');
  });

  test('after B deletes its allocation, A\'s data to B\'s old relayed address goes nowhere', T, async () => {
    const { a, b } = await pair('udp', 'udp');
    expectSuccess(await a.createPermission(b.relayed), 'A permits B');
    expectSuccess(await b.createPermission(a.relayed), 'B permits A');
    expectSuccess(await b.refresh(0), 'B deletes its allocation');
    a.send(b.relayed, Buffer.from('to a dead allocation'));
    await sleep(500);
    assert.equal(b.c.inbox.filter(isData).length, 0, 'B gets nothing after deleting its allocation');
    // And the server is fine: A still works with a new allocation C.
    const c = bag.add(await TurnClient.connect('udp', srv.port, BOB));
    expectSuccess(await c.allocate(), 'Allocate C');
    expectSuccess(await a.createPermission(c.relayed), 'A permits C');
    expectSuccess(await c.createPermission(a.relayed), 'C permits A');
    a.send(c.relayed, Buffer.from('to C'));
    await c.data(Buffer.from('to C'));
  });
});
