// TURN must not reach services on the server's own addresses
// (CVE-2020-26262 class). The server runs with --relay-ip 127.0.0.1 and
// --allow-peer 127.0.0.1/32: 127.0.0.1 stands in for a public address that
// the peer policy lets through. Only relay-range ports of an own address
// are peers (delivered in process to the allocation that owns the port);
// the main port is a peer only as the SFU, in process (a browser that can
// reach tincan only through TURN uses an SFU room so): what goes there
// reaches neither the network nor the TURN server itself, so a Binding
// through the relay gets no answer. A local UDP service is unreachable
// unless an --allow-peer rule names its port; every refusal is counted in
// /metrics.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { start, sleep } from './net.mjs';
import { freePort } from '../lib/server.mjs';
import { scrape } from './prom.mjs';
import {
  TurnClient, expectSuccess, expectError, udpRange, turnArgs, Bag, UdpPeer, isData, encodeMessage, METHOD,
} from './stun-client.mjs';

const T = { timeout: 30000 };
const ALICE = { user: 'alice', pass: 'wonderland' };
const binding = () => encodeMessage({ method: METHOD.BINDING }).buf;

describe('own addresses are not peers (--allow-peer 127.0.0.1/32 stands in for a public relay address)', () => {
  let srv;
  const bag = new Bag();
  before(async () => {
    const range = await udpRange(21700, 6);
    srv = await start({ args: turnArgs(range, '--turn-user', `${ALICE.user}:${ALICE.pass}`, '--allow-peer', '127.0.0.1/32') });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  async function two() {
    const a = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    const b = bag.add(await TurnClient.connect('tcp', srv.port, ALICE));
    expectSuccess(await a.allocate(), 'Allocate A');
    expectSuccess(await b.allocate(), 'Allocate B');
    return { a, b };
  }

  for (const tr of ['udp', 'tcp']) {
    test(`${tr}: the main port of the relay address is the SFU, in process only`, T, async () => {
      const m0 = (await scrape(srv.port)).m;
      const t = bag.add(await TurnClient.connect(tr, srv.port, ALICE));
      expectSuccess(await t.allocate(), 'Allocate');
      expectSuccess(await t.createPermission({ ip: '127.0.0.1', port: srv.port }), 'CreatePermission to the main port (the SFU)');
      expectSuccess(await t.channelBind(0x4001, { ip: '127.0.0.1', port: srv.port }), 'ChannelBind to the main port (the SFU)');
      t.send({ ip: '127.0.0.1', port: srv.port }, binding());
      let m;
      for (let i = 0; i < 50; i++) {
        m = (await scrape(srv.port)).m;
        if (m.get('tincan_sfu_from_turn_total') > m0.get('tincan_sfu_from_turn_total')) break;
        await sleep(50);
      }
      assert.equal(m.get('tincan_sfu_from_turn_total'), m0.get('tincan_sfu_from_turn_total') + 1, 'handed to the SFU');
      assert.equal(m.get('tincan_sfu_dropped_total', { reason: 'no_session' }),
        m0.get('tincan_sfu_dropped_total', { reason: 'no_session' }) + 1, 'which has no session for it');
      assert.equal(m.get('tincan_turn_refused_total', { reason: 'own_address' }),
        m0.get('tincan_turn_refused_total', { reason: 'own_address' }), 'nothing refused');
      assert.ok(await t.c.none(isData, 10), 'and the TURN server never saw the Binding: no answer');
    });
  }

  test('a Binding sent through the relay to the main port gets no answer', T, async () => {
    const { a, b } = await two();
    // A permission for B's relayed address is a permission for the IP
    // 127.0.0.1: it must not open the main port.
    expectSuccess(await a.createPermission(b.relayed), 'A permits B');
    for (let i = 0; i < 3; i++) a.send({ ip: '127.0.0.1', port: srv.port }, binding());
    await sleep(700);
    assert.ok(await a.c.none(isData, 10), 'no Data indication (the Binding answer) comes back through the relay');
  });

  test('a UDP service on the relay address is unreachable: 403, and nothing arrives', T, async () => {
    const echo = bag.add(await UdpPeer.open({ echo: true }));
    const { a, b } = await two();
    expectError(await a.createPermission(echo.addr), 403, 'CreatePermission to the local service');
    expectSuccess(await a.createPermission(b.relayed), 'A permits B (the same IP)');
    a.send(echo.addr, Buffer.from('to a local service'));
    // And the service cannot send in either: its datagram at A's relay port is dropped.
    echo.send(a.relayed, Buffer.from('from a local service'));
    await sleep(700);
    assert.deepEqual(echo.received.map((r) => r.data.toString()), [], 'the local service received nothing');
    assert.ok(await a.c.none(isData, 10), 'and A got nothing from it');
  });

  test('two allocations here still talk, in process', T, async () => {
    const { a, b } = await two();
    expectSuccess(await a.createPermission(b.relayed), 'A permits B');
    expectSuccess(await b.createPermission(a.relayed), 'B permits A');
    a.send(b.relayed, Buffer.from('hello B'));
    const got = await b.data(Buffer.from('hello B'));
    assert.deepEqual(got.peer, a.relayed, 'from A\'s relayed address');
    expectSuccess(await b.channelBind(0x4123, a.relayed), 'B binds a channel to A');
    b.sendChannel(0x4123, Buffer.from('hello A'));
    await a.data(Buffer.from('hello A'));
  });
});

describe('--allow-peer with ports opens a port of an own address; the main port stays the SFU\'s', () => {
  let srv;
  let echo;
  const bag = new Bag();
  before(async () => {
    echo = await UdpPeer.open({ echo: true });
    const range = await udpRange(21720, 4);
    const port = await freePort();
    srv = await start({
      port,
      args: turnArgs(range, '--turn-user', `${ALICE.user}:${ALICE.pass}`, '--allow-peer', `127.0.0.1/32@${echo.addr.port}`,
        '--allow-peer', `127.0.0.1@${port - 1}-${port + 1}`),
    });
  });
  afterEach(() => bag.closeAll());
  after(async () => { echo?.close(); await srv?.stop(); });

  test('the named port echoes through the relay; the main port stays the SFU\'s, not the network\'s', T, async () => {
    const t = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectSuccess(await t.allocate(), 'Allocate');
    expectSuccess(await t.createPermission(echo.addr), 'CreatePermission to the opened port');
    t.send(echo.addr, Buffer.from('ping'));
    await t.data(Buffer.from('ping'));
    expectSuccess(await t.createPermission({ ip: '127.0.0.1', port: srv.port }), 'the main port is the SFU, even inside an --allow-peer range');
    t.send({ ip: '127.0.0.1', port: srv.port }, binding());
    await sleep(500);
    assert.ok(await t.c.none((it) => isData(it) && it.msg.xorAddr(0x0012)?.port === srv.port, 10), 'no answer from the main port');
  });
});
