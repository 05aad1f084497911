// A TURN-over-TCP client that stops reading while a permitted peer floods
// its relay port: the server's output queue for it overflows, the client is
// closed and its allocation ends — in the middle of the relay socket's read
// loop. That must not touch freed memory (run against the ASan build: the
// server's stop() fails on a sanitizer report) and the server must go on
// serving everyone else.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { start, sleep } from './net.mjs';
import { scrape } from './prom.mjs';
import { TurnClient, expectSuccess, udpRange, turnArgs, Bag, UdpPeer } from './stun-client.mjs';

const T = { timeout: 60000 };
const ALICE = { user: 'alice', pass: 'wonderland' };
const MAX_PACKETS = 60000; // 72 MB at most; the client is gone long before

describe('a TCP client that stops reading while its peer floods', () => {
  let srv;
  const bag = new Bag();
  before(async () => {
    const range = await udpRange(21740, 4);
    srv = await start({
      args: turnArgs(range, '--turn-user', `${ALICE.user}:${ALICE.pass}`, '--allow-loopback-peers', '--turn-bandwidth', '0'),
    });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  for (const channel of [false, true]) {
    test(`is closed, its allocation ends, the server lives on (${channel ? 'ChannelData' : 'Data indications'})`, T, async () => {
      const peer = bag.add(await UdpPeer.open());
      const t = bag.add(await TurnClient.connect('tcp', srv.port, ALICE));
      expectSuccess(await t.allocate(), 'Allocate');
      expectSuccess(await t.createPermission(peer.addr), 'CreatePermission');
      if (channel) expectSuccess(await t.channelBind(0x4567, peer.addr), 'ChannelBind');
      t.c.sock.pause(); // reads nothing more
      const payload = Buffer.alloc(1200, 0x5a);
      const tcpAllocations = async () => (await scrape(srv.port)).m.get('tincan_turn_allocations', { transport: 'tcp' });
      let sent = 0;
      let gone = false;
      while (sent < MAX_PACKETS && !gone) {
        for (let i = 0; i < 200; i++, sent++) peer.send(t.relayed, payload);
        await sleep(2);
        if (sent % 4000 === 0) gone = (await tcpAllocations()) === 0;
      }
      for (let i = 0; i < 20 && !gone; i++) {
        await sleep(100);
        gone = (await tcpAllocations()) === 0;
      }
      assert.ok(gone, `the slow client's allocation ended (after ${sent} datagrams)`);
      // Everyone else is still served.
      const u = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
      expectSuccess(await u.allocate(), 'Allocate after the flood');
    });
  }
});
