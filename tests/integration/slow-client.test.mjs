// A client that sends but never reads: the server queues its answers up to
// a bound, then drops it — and nobody else waits meanwhile.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { start, tlsConnect, sleep } from './net.mjs';
import { encodeFrame, OP } from './wsraw.mjs';
import { wsClient } from './wsclient.mjs';

const T = { timeout: 60000 };

/** Opens a WebSocket by hand and returns the TLS socket right after the 101. */
async function upgradedSocket(port) {
  const sock = await tlsConnect(port);
  const key = randomBytes(16).toString('base64');
  sock.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise((ok, fail) => {
    let head = '';
    const onData = (d) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        sock.off('data', onData);
        if (!head.startsWith('HTTP/1.1 101')) fail(new Error(head));
        else ok();
      }
    };
    sock.on('data', onData);
  });
  sock.pause(); // from here on nothing is read
  return sock;
}

describe('slow clients', () => {
  let srv;
  before(async () => { srv = await start({ logLevel: 'debug' }); });
  after(async () => { await srv?.stop(); });

  test('a client that never reads is dropped once its queue is full; others are served', T, async () => {
    const slow = await upgradedSocket(srv.port);
    let closed = false;
    slow.on('close', () => { closed = true; });
    slow.on('error', () => { closed = true; });
    const ping = encodeFrame({ opcode: OP.PING, payload: Buffer.alloc(125, 7) });
    const other = await wsClient(srv.port);
    await other.next(); // welcome
    const started = Date.now();
    let sent = 0;
    // Each ping earns a 127-byte pong that the slow client never reads:
    // kernel buffers fill first, then the server's bounded queue.
    while (!closed && Date.now() - started < 40000 && !srv.logs.some((l) => l.includes('reason=slow_client'))) {
      const chunk = Buffer.concat(Array.from({ length: 256 }, () => ping));
      sent += 256;
      if (!slow.write(chunk)) await Promise.race([new Promise((ok) => slow.once('drain', ok)), sleep(200)]);
      if (sent % 8192 === 0) {
        // Meanwhile another client gets its answers without waiting.
        const t0 = Date.now();
        other.send({ type: 'nope' });
        assert.equal((await other.next(2000)).code, 'unknown_type');
        assert.ok(Date.now() - t0 < 2000, 'the other client was answered promptly');
      }
    }
    assert.ok(srv.logs.some((l) => l.includes('reason=slow_client')),
      `the slow client was dropped (sent ${sent} pings)`);
    other.send({ type: 'still-here' });
    assert.equal((await other.next(2000)).code, 'unknown_type', 'the server keeps serving');
    slow.destroy();
    other.close();
  });
});
