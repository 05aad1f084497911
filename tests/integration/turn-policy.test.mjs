// The peer policy (defaults, without --allow-loopback-peers): CreatePermission
// and ChannelBind for special-purpose addresses → 403 over UDP, TCP and TLS,
// IPv4-mapped IPv6 forms included (cf. CVE-2026-27624); the server's own
// relay addresses are always allowed; --allow-peer and --deny-peer adjust
// the rest. No test sends a packet anywhere but 127.0.0.1: a permission
// for a public address sends nothing.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { start } from './net.mjs';
import {
  TurnClient, expectSuccess, expectError, udpRange, turnArgs, Bag, hostPort, UdpPeer, isData,
} from './stun-client.mjs';

const T = { timeout: 30000 };
const ALICE = { user: 'alice', pass: 'wonderland' };

// The brief's list: loopback, private, link-local (cloud metadata), "this
// network", IPv6 loopback and the IPv4-mapped loopback. The IPv6 forms are
// sent with the IPv6 family, on an IPv4 allocation: the issue wants 403
// for them too (RFC 8656 would also allow 443 Peer Address Family
// Mismatch), so that no spelling of a refused address gets a different
// answer.
const REFUSED_V4 = ['127.0.0.1', '10.0.0.1', '192.168.1.1', '169.254.169.254', '0.0.0.0'];
const REFUSED_V6 = ['::1', '::ffff:127.0.0.1'];
// Every other IANA special-purpose range the issue lists.
const MORE_V4 = [
  '127.255.255.254', '10.255.255.255', '100.64.0.1', '100.127.255.254', '172.16.0.1', '172.31.255.254',
  '192.0.0.1', '192.0.2.1', '192.168.255.255', '198.18.0.1', '198.19.255.254', '198.51.100.7', '203.0.113.9',
  '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255', '0.1.2.3',
];
const MORE_V6 = [
  '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '64:ff9b::7f00:1', '100::1', '2001:db8::1', '2002:7f00:1::1',
  '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::ffff:192.168.1.1', '::ffff:0.0.0.0', '::ffff:100.64.0.1',
  '2001::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2', 'fec0::1', '64:ff9b:1::7f00:1', '::ffff:0:7f00:1', '2001:2::1',
  '5f00::1', '3fff::1',
];
const SUBSET_V4 = ['127.0.0.1', '169.254.169.254', '10.0.0.1'];
const SUBSET_V6 = ['::1', '::ffff:127.0.0.1'];

/** A peer address for ip; IPv6 text gets family 2 (so ::ffff:a.b.c.d is sent mapped). */
const peer = (ip, port = 3478) => ({ ip, port });

describe('peer policy: defaults', () => {
  let srv;
  let range;
  const bag = new Bag();
  before(async () => {
    range = await udpRange(21600, 20);
    srv = await start({ args: turnArgs(range, '--turn-user', `${ALICE.user}:${ALICE.pass}`) });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  /** CreatePermission for each address; returns the answers that are not 403. */
  async function not403(t, ips) {
    const wrong = [];
    for (const ip of ips) {
      const res = await t.createPermission(peer(ip));
      if (res.error?.code !== 403) wrong.push(`${ip}: ${res.describe()}`);
    }
    return wrong;
  }

  for (const [what, ips] of [
    ['the brief\'s IPv4 addresses', REFUSED_V4],
    ['the brief\'s IPv6 addresses (::1, ::ffff:127.0.0.1)', REFUSED_V6],
    ['the other IANA special-purpose IPv4 ranges', MORE_V4],
    ['the other IANA special-purpose IPv6 ranges and IPv4-mapped forms', MORE_V6],
  ]) {
    test(`udp: CreatePermission for ${what} → 403`, T, async () => {
      const t = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
      expectSuccess(await t.allocate(), 'Allocate');
      assert.deepEqual(await not403(t, ips), [], 'CreatePermission must answer 403 for each');
    });
  }

  for (const tr of ['tcp', 'tls']) {
    for (const ips of [SUBSET_V4, SUBSET_V6]) {
      test(`${tr}: CreatePermission for ${ips.join(', ')} → 403`, T, async () => {
        const t = bag.add(await TurnClient.connect(tr, srv.port, ALICE));
        expectSuccess(await t.allocate(), `Allocate over ${tr}`);
        assert.deepEqual(await not403(t, ips), [], `CreatePermission over ${tr} must answer 403 for each`);
      });
    }
  }

  for (const tr of ['udp', 'tcp', 'tls']) {
    for (const ips of [['127.0.0.1', '169.254.169.254'], ['::ffff:127.0.0.1', '::1']]) {
      test(`${tr}: ChannelBind to ${ips.join(', ')} → 403`, T, async () => {
        const t = bag.add(await TurnClient.connect(tr, srv.port, ALICE));
        expectSuccess(await t.allocate(), `Allocate over ${tr}`);
        let ch = 0x4000;
        const wrong = [];
        for (const ip of ips) {
          const res = await t.channelBind(ch++, peer(ip, 5000));
          if (res.error?.code !== 403) wrong.push(`${ip}: ${res.describe()}`);
        }
        assert.deepEqual(wrong, [], `ChannelBind over ${tr} must answer 403 for each`);
      });
    }
  }

  test('one refused peer in a CreatePermission with several → 403, and no permission is made', T, async () => {
    const t = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectSuccess(await t.allocate(), 'Allocate');
    expectError(await t.createPermission([peer('8.8.8.8'), peer('127.0.0.1')]), 403,
      'CreatePermission for 8.8.8.8 and 127.0.0.1 together');
  });

  test('a Send indication to a loopback peer is not relayed', T, async () => {
    const echo = bag.add(await UdpPeer.open());
    const t = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectSuccess(await t.allocate(), 'Allocate');
    expectError(await t.createPermission(echo.addr), 403, 'CreatePermission to the local peer');
    t.send(echo.addr, Buffer.from('should not arrive'));
    await new Promise((ok) => setTimeout(ok, 700));
    assert.equal(echo.received.length, 0, 'the loopback peer received nothing');
  });

  test('a public address is allowed (the policy refuses ranges, not everything)', T, async () => {
    const t = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectSuccess(await t.allocate(), 'Allocate');
    // Only a permission: nothing is sent to it.
    expectSuccess(await t.createPermission(peer('8.8.8.8')), 'CreatePermission 8.8.8.8');
  });

  for (const [ta, tb] of [['udp', 'udp'], ['tcp', 'tls']]) {
    test(`the server's own relay address is allowed as a peer (${ta} → ${tb} allocation)`, T, async () => {
      const a = bag.add(await TurnClient.connect(ta, srv.port, ALICE));
      const b = bag.add(await TurnClient.connect(tb, srv.port, ALICE));
      expectSuccess(await a.allocate(), 'Allocate A');
      expectSuccess(await b.allocate(), 'Allocate B');
      assert.equal(b.relayed.ip, '127.0.0.1', 'the relayed address is loopback, which the policy refuses otherwise');
      expectSuccess(await a.createPermission(b.relayed), `CreatePermission to the other allocation's relayed address ${hostPort(b.relayed)}`);
      expectSuccess(await a.channelBind(0x4abc, b.relayed), `ChannelBind to ${hostPort(b.relayed)}`);
    });
  }

  test('a permission for its own relayed address opens no other port of 127.0.0.1', T, async () => {
    // The simplest form of the hole: one allocation, one permission for
    // its own relayed address (always allowed), then a Send indication to
    // a loopback service on the same IP.
    const echo = bag.add(await UdpPeer.open({ echo: true }));
    const a = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectSuccess(await a.allocate(), 'Allocate');
    expectSuccess(await a.createPermission(a.relayed), 'CreatePermission for the own relayed address');
    a.send(echo.addr, Buffer.from('to a loopback service'));
    await new Promise((ok) => setTimeout(ok, 700));
    assert.deepEqual(echo.received.map((r) => r.data.toString()), [],
      `the loopback service ${hostPort(echo.addr)} must receive nothing from the relay`);
    assert.ok(await a.c.none(isData, 10), 'and nothing comes back as a Data indication');
  });

  test('a permission for another allocation\'s relayed address opens no other port of 127.0.0.1', T, async () => {
    // Permissions are per IP address (RFC 8656 §9), and the relay address
    // is loopback here: A's permission for B's relayed address must not let
    // A reach some other loopback service.
    const echo = bag.add(await UdpPeer.open({ echo: true }));
    const a = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    const b = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectSuccess(await a.allocate(), 'Allocate A');
    expectSuccess(await b.allocate(), 'Allocate B');
    expectSuccess(await a.createPermission(b.relayed), 'A permits B\'s relayed address');
    a.send(echo.addr, Buffer.from('to a loopback service'));
    expectError(await a.channelBind(0x4001, echo.addr), 403, `ChannelBind to the loopback service ${hostPort(echo.addr)}`);
    a.sendChannel(0x4001, Buffer.from('via an unbound channel'));
    await new Promise((ok) => setTimeout(ok, 700));
    assert.deepEqual(echo.received.map((r) => r.data.toString()), [],
      `the loopback service ${hostPort(echo.addr)} must receive nothing from A's relay`);
  });
});

describe('peer policy: --allow-peer and --deny-peer', () => {
  let srv;
  let range;
  const bag = new Bag();
  before(async () => {
    range = await udpRange(21650, 5);
    srv = await start({
      args: turnArgs(range, '--turn-user', `${ALICE.user}:${ALICE.pass}`,
        '--allow-peer', '10.1.0.0/16', '--deny-peer', '8.8.8.0/24'),
    });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  test('--allow-peer opens a private range, --deny-peer closes a public one', T, async () => {
    const t = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectSuccess(await t.allocate(), 'Allocate');
    expectSuccess(await t.createPermission(peer('10.1.2.3')), 'CreatePermission 10.1.2.3 (--allow-peer 10.1.0.0/16)');
    expectError(await t.createPermission(peer('10.2.0.1')), 403, 'CreatePermission 10.2.0.1 (outside the allowed /16)');
    expectError(await t.createPermission(peer('8.8.8.8')), 403, 'CreatePermission 8.8.8.8 (--deny-peer 8.8.8.0/24)');
    expectSuccess(await t.createPermission(peer('8.8.4.4')), 'CreatePermission 8.8.4.4 (not denied)');
    expectError(await t.createPermission(peer('127.0.0.1')), 403, 'loopback still refused');
  });
});
