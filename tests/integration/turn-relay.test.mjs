// Relaying data (RFC 8656 §10-12) with --allow-loopback-peers, to a UDP
// echo peer on 127.0.0.1, over UDP, TCP and TLS: Send → Data indications,
// ChannelBind and ChannelData both ways, the channel-number rules, the
// ChannelData padding on streams, and packets from peers without a
// permission being dropped. Everything runs twice: with relay sends through
// io_uring (the default where the kernel allows it) and with
// TINCAN_IO_URING=0, the sendto fallback that runs where a seccomp filter
// (the systemd unit's) refuses io_uring.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { start, sleep } from './net.mjs';
import {
  TurnClient, METHOD, CLASS, ATTR, expectSuccess, expectError, udpRange, turnArgs, Bag, hostPort, UdpPeer,
  encodeMessage, encodeChannelData, isData,
} from './stun-client.mjs';

const T = { timeout: 20000 };
const TRANSPORTS = ['udp', 'tcp', 'tls'];
const ALICE = { user: 'alice', pass: 'wonderland' };

for (const sends of ['io_uring', 'sendto']) describe(`relay with --allow-loopback-peers, sends to peers with ${sends}`, () => {
  let srv;
  let range;
  const bag = new Bag();
  before(async () => {
    range = await udpRange(sends === 'io_uring' ? 21800 : 21840, 30);
    srv = await start({
      args: turnArgs(range, '--turn-user', `${ALICE.user}:${ALICE.pass}`, '--allow-loopback-peers'),
      env: sends === 'sendto' ? { TINCAN_IO_URING: '0' } : {},
    });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  test(`relay sends use ${sends}`, T, (t) => {
    const line = srv.logs.find((l) => /msg=relay_sends/.test(l));
    assert.ok(line, `a relay_sends line in:\n${srv.logs.join('\n')}`);
    const mode = /mode=(\S+)/.exec(line)[1];
    if (sends === 'io_uring' && mode !== 'io_uring') t.skip(`this kernel refuses io_uring: ${line}`);
    else assert.equal(mode, sends);
  });

  test('--allow-loopback-peers logs a warning', T, () => {
    const warn = srv.logs.find((l) => /level=warn/.test(l) && /loopback/i.test(l));
    assert.ok(warn, `a level=warn line about loopback peers in:\n${srv.logs.join('\n')}`);
  });

  /** An allocation over tr with an echo peer it has a permission for. */
  async function allocated(tr, { permit = true, echo = true } = {}) {
    const peer = bag.add(await UdpPeer.open({ echo }));
    const t = bag.add(await TurnClient.connect(tr, srv.port, ALICE));
    expectSuccess(await t.allocate(), `Allocate over ${tr}`);
    if (permit) expectSuccess(await t.createPermission(peer.addr), `CreatePermission ${hostPort(peer.addr)} over ${tr}`);
    return { t, peer };
  }

  for (const tr of TRANSPORTS) {
    test(`${tr}: Send indication → the echo comes back as a Data indication`, T, async () => {
      const { t, peer } = await allocated(tr);
      const payload = Buffer.from(`hello over ${tr}`);
      t.send(peer.addr, payload);
      const got = await peer.next(undefined, 5000, 'the Send indication at the peer');
      assert.ok(got.data.equals(payload), 'the peer receives exactly the DATA');
      assert.equal(hostPort(got.from), hostPort(t.relayed), 'the peer sees the relayed address as the source');
      const d = await t.data(payload);
      assert.equal(hostPort(d.peer), hostPort(peer.addr), 'XOR-PEER-ADDRESS of the Data indication is the peer');
      assert.equal(d.msg.fingerprint() !== 'bad', true, 'FINGERPRINT, if present, is valid');
      // Several in a row, different sizes (odd ones test stream padding).
      const sizes = [1, 2, 3, 5, 100, 1001, 1200];
      for (const n of sizes) t.send(peer.addr, Buffer.alloc(n, n & 0xff));
      for (const n of sizes) {
        const e = await t.data(Buffer.alloc(n, n & 0xff));
        assert.equal(e.data.length, n);
      }
    });

    test(`${tr}: ChannelBind 0x4000, then ChannelData both ways`, T, async () => {
      const { t, peer } = await allocated(tr);
      expectSuccess(await t.channelBind(0x4000, peer.addr), `ChannelBind over ${tr}`);
      for (const n of [1, 4, 5, 7, 100, 1203]) {
        const payload = Buffer.alloc(n, 0x30 + (n % 10));
        t.sendChannel(0x4000, payload);
        const atPeer = await peer.next((r) => r.data.equals(payload), 5000, `ChannelData of ${n} bytes at the peer`);
        assert.equal(hostPort(atPeer.from), hostPort(t.relayed));
        const back = await t.channelData(0x4000, payload);
        assert.equal(back.data.length, n);
      }
      // With a channel bound, data from that peer comes as ChannelData, not as a Data indication.
      t.send(peer.addr, Buffer.from('via Send'));
      await t.channelData(0x4000, Buffer.from('via Send'));
      assert.equal(t.c.inbox.filter(isData).length, 0, 'no Data indication while the channel is bound');
      // Refreshing the binding (same number, same peer) is allowed.
      expectSuccess(await t.channelBind(0x4000, peer.addr), 'ChannelBind again with the same number and peer');
    });

    test(`${tr}: channel numbers 0x3FFF, 0x8000, 0xFFFF → 400; one number for two peers or two numbers for one peer → 400`, T, async () => {
      const { t, peer } = await allocated(tr);
      const other = bag.add(await UdpPeer.open());
      expectError(await t.channelBind(0x3fff, peer.addr), 400, 'ChannelBind 0x3FFF');
      expectError(await t.channelBind(0x8000, peer.addr), 400, 'ChannelBind 0x8000');
      expectError(await t.channelBind(0xffff, peer.addr), 400, 'ChannelBind 0xFFFF');
      expectSuccess(await t.channelBind(0x4fff, peer.addr), 'ChannelBind 0x4FFF (the last valid number)');
      expectError(await t.channelBind(0x4fff, other.addr), 400, 'ChannelBind 0x4FFF to a second peer');
      expectError(await t.channelBind(0x4001, peer.addr), 400, 'ChannelBind 0x4001 to the peer already on 0x4FFF');
    });
  }

  // RFC 8656 §12 narrowed channels to 0x4000-0x4FFF; RFC 5766 allowed
  // 0x4000-0x7FFF, and coturn (server and turnutils_uclient) still uses
  // that range, so tincan accepts it as coturn does (see turn-coturn.test.mjs).
  test('channel numbers 0x5000 and 0x7FFF (RFC 5766\'s range) relay both ways', T, async () => {
    const { t, peer } = await allocated('udp');
    const other = bag.add(await UdpPeer.open());
    expectSuccess(await t.createPermission(other.addr), 'CreatePermission for the second peer');
    expectSuccess(await t.channelBind(0x5000, peer.addr), 'ChannelBind 0x5000');
    expectSuccess(await t.channelBind(0x7fff, other.addr), 'ChannelBind 0x7FFF');
    t.sendChannel(0x7fff, Buffer.from('to 7fff'));
    const got = await other.next(undefined, 5000, 'ChannelData 0x7FFF at the peer');
    assert.equal(got.data.toString(), 'to 7fff');
    other.send(t.relayed, Buffer.from('from 7fff'));
    await t.channelData(0x7fff, Buffer.from('from 7fff'));
    peer.send(t.relayed, Buffer.from('from 5000'));
    await t.channelData(0x5000, Buffer.from('from 5000'));
  });

  for (const tr of ['tcp', 'tls']) {
    test(`${tr}: ChannelData padding on the stream, both directions`, T, async () => {
      const { t, peer } = await allocated(tr);
      expectSuccess(await t.channelBind(0x4001, peer.addr), 'ChannelBind');
      // Client → server: 5 bytes of data padded to 8, then a STUN request in the
      // same write. A server that ignored the padding would read the
      // request 3 bytes off and lose it.
      const payload = Buffer.from('abcde');
      const req = encodeMessage({ method: METHOD.BINDING });
      const answer = t.c.next((it) => it.kind === 'stun' && it.msg.txid.equals(req.txid), 5000, 'Binding answer after padded ChannelData');
      t.c.sendRaw(Buffer.concat([encodeChannelData(0x4001, payload, true), req.buf]));
      assert.ok((await peer.next(undefined, 5000, 'padded ChannelData at the peer')).data.equals(payload),
        'the peer gets the 5 bytes without the padding');
      assert.equal((await answer).msg.cls, CLASS.SUCCESS, 'the Binding after the padded ChannelData is answered');
      // Server → client: the echo (5 bytes) comes padded to 8; the client's
      // framing assumes the padding, so a missing one loses the stream.
      const back = await t.channelData(0x4001, payload);
      assert.equal(back.frameLen, 12, 'ChannelData of 5 bytes takes 4 + 8 bytes on the stream');
      for (const n of [1, 2, 3, 6, 9, 10, 11]) {
        const p = Buffer.alloc(n, 0x41 + n);
        t.sendChannel(0x4001, p);
        const e = await t.channelData(0x4001, p);
        assert.equal(e.frameLen, 4 + ((n + 3) & ~3), `ChannelData of ${n} bytes is padded to a multiple of 4`);
      }
      const after = await t.c.request(METHOD.BINDING);
      assert.equal(after.cls, CLASS.SUCCESS, 'the stream is still in step after padded frames both ways');
      assert.equal(t.c.framingLost, undefined, 'client framing never lost');
    });
  }

  for (const tr of TRANSPORTS) {
    test(`${tr}: a packet from a peer without a permission is dropped`, T, async () => {
      const { t, peer } = await allocated(tr, { permit: false, echo: false });
      peer.send(t.relayed, Buffer.from('before permission'));
      assert.ok(await t.c.none(isData, 700), 'nothing reaches the client before CreatePermission');
      expectSuccess(await t.createPermission(peer.addr), 'CreatePermission');
      peer.send(t.relayed, Buffer.from('after permission'));
      const d = await t.data(Buffer.from('after permission'));
      assert.equal(hostPort(d.peer), hostPort(peer.addr));
      assert.equal(t.c.inbox.filter(isData).length, 0, 'the packet from before the permission never arrives');
    });
  }

  test('a Send indication without a permission is not relayed', T, async () => {
    const { t, peer } = await allocated('udp', { permit: false });
    t.send(peer.addr, Buffer.from('no permission'));
    await sleep(700);
    assert.equal(peer.received.length, 0, 'the peer receives nothing');
  });

  test('ChannelData on an unbound channel is dropped; the allocation keeps working', T, async () => {
    const { t, peer } = await allocated('udp');
    t.sendChannel(0x4123, Buffer.from('unbound'));
    await sleep(500);
    assert.equal(peer.received.length, 0, 'nothing relayed for an unbound channel');
    t.send(peer.addr, Buffer.from('still fine'));
    await t.data(Buffer.from('still fine'));
  });

  test('DONT-FRAGMENT in Allocate is accepted', T, async () => {
    const t = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectSuccess(await t.allocate({ dontFragment: true }), 'Allocate with DONT-FRAGMENT');
    const peer = bag.add(await UdpPeer.open({ echo: true }));
    expectSuccess(await t.createPermission(peer.addr), 'CreatePermission');
    t.send(peer.addr, Buffer.from('df'), [[ATTR.DONT_FRAGMENT, Buffer.alloc(0)]]);
    await t.data(Buffer.from('df'));
  });

  test('another client (another 5-tuple) cannot use the allocation', T, async () => {
    const { t, peer } = await allocated('udp');
    const other = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectError(await other.createPermission(peer.addr), 437, 'CreatePermission from another 5-tuple');
    other.send(peer.addr, Buffer.from('not mine'));
    await sleep(500);
    assert.equal(peer.received.length, 0, 'a Send from another 5-tuple is not relayed');
    assert.ok(t.relayed);
  });

  test('a datagram over 1500 bytes to the UDP port is dropped; smaller ones pass', T, async () => {
    const { t, peer } = await allocated('udp');
    t.send(peer.addr, Buffer.alloc(1600, 1));
    await sleep(500);
    assert.equal(peer.received.length, 0, 'a 1600-byte Send indication is not relayed');
    t.send(peer.addr, Buffer.alloc(1400, 2));
    await t.data(Buffer.alloc(1400, 2));
  });
});
