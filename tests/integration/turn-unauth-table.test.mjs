// The table of sources that have not authenticated yet holds 4,096
// entries. A flood from that many addresses (here 127.x.y.z, standing in
// for spoofed ones) must not silence TURN logins for everyone else until
// the next sweep: idle entries make room, and a source the table has no
// room for shares an overflow bucket instead of getting nothing.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { start, sleep } from './net.mjs';
import { StunClient, METHOD, ATTR, encodeMessage, requestedTransport } from './stun-client.mjs';

const T = { timeout: 60000 };
const allocate = () => encodeMessage({ method: METHOD.ALLOCATE, attrs: [[ATTR.REQUESTED_TRANSPORT, requestedTransport(17)]] }).buf;

/** Sends one unauthenticated Allocate from address ip (a fresh socket). */
function sendFrom(ip, port) {
  return new Promise((ok, fail) => {
    const s = dgram.createSocket('udp4');
    s.once('error', fail);
    s.bind({ address: ip, port: 0 }, () => s.send(allocate(), port, '127.0.0.1', (e) => { s.close(); if (e) fail(e); else ok(); }));
  });
}

describe('a full table of unauthenticated sources', () => {
  let srv;
  before(async () => { srv = await start(); });
  after(async () => { await srv?.stop(); });

  test('4,200 sources each send a request; a newcomer is still answered at once', T, async () => {
    for (let i = 0; i < 4200; i++) await sendFrom(`127.1.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`, srv.port);
    await sleep(200);
    const c = await StunClient.connect('udp', srv.port, { localAddress: '127.2.0.1' });
    try {
      const res = await c.request(METHOD.ALLOCATE, { attrs: [[ATTR.REQUESTED_TRANSPORT, requestedTransport(17)]], timeout: 1500 });
      assert.equal(res?.error?.code, 401, `the newcomer gets its 401 (${res?.describe?.()})`);
    } finally {
      c.close();
    }
  });
});
