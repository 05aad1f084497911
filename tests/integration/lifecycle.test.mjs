// Graceful shutdown: SIGTERM closes WebSockets with 1001, drops idle HTTP
// connections and exits 0 quickly, even when a peer does not cooperate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start, sleep, within, tlsConnect, tcpConnect, Reader, readResponse, buildRequest } from './net.mjs';
import { rawWs } from './wsraw.mjs';
import { wsClient } from './wsclient.mjs';

test('SIGTERM: 3 WebSocket clients get close 1001 and the process exits 0 within 5 s', { timeout: 30000 }, async () => {
  const srv = await start();
  const clients = [];
  try {
    for (let i = 0; i < 3; i++) {
      const c = await wsClient(srv.port);
      assert.equal((await c.next()).type, 'welcome');
      clients.push(c);
    }
    const t0 = Date.now();
    const exit = srv.stop('SIGTERM');
    const closes = await within(Promise.all(clients.map((c) => c.closed)), 5000, 'WebSocket closes after SIGTERM');
    assert.deepEqual(closes.map((c) => c.code), [1001, 1001, 1001]);
    const res = await within(exit, 5000 - (Date.now() - t0), 'process exit after SIGTERM');
    assert.deepEqual(res, { code: 0, signal: null }, 'clean exit status');
    assert.ok(Date.now() - t0 < 5000, `exit took ${Date.now() - t0} ms`);
  } finally {
    for (const c of clients) c.close();
    await srv.stop('SIGKILL');
  }
});

test('SIGTERM with uncooperative and idle peers still exits 0 within 5 s', { timeout: 30000 }, async () => {
  const srv = await start();
  const socks = [];
  try {
    // A WebSocket that never answers the server's close frame.
    const mute = await rawWs(srv.port);
    socks.push(mute.sock);
    assert.equal((await mute.json()).type, 'welcome');
    // An idle keep-alive HTTPS connection after one request.
    const idle = await tlsConnect(srv.port);
    socks.push(idle);
    const idleReader = new Reader(idle);
    idle.write(buildRequest(srv.port, 'GET', '/health'));
    assert.equal((await readResponse(idleReader)).status, 200);
    // A half-open TCP connection that never starts TLS.
    const raw = await tcpConnect(srv.port);
    socks.push(raw);
    const rawReader = new Reader(raw);
    await sleep(200);

    const t0 = Date.now();
    const exit = srv.stop('SIGTERM');
    const close = await mute.closeFrame(5000);
    assert.equal(close.code, 1001, 'close frame 1001 sent even to a peer that will not answer');
    const res = await within(exit, 5000 - (Date.now() - t0), 'process exit after SIGTERM with a mute peer');
    assert.deepEqual(res, { code: 0, signal: null });
    assert.ok(await idleReader.closesWithin(1000), 'idle HTTP connection closed');
    assert.ok(await rawReader.closesWithin(1000), 'raw TCP connection closed');
  } finally {
    for (const s of socks) s.destroy();
    await srv.stop('SIGKILL');
  }
});

test('after SIGTERM the port stops accepting', { timeout: 20000 }, async () => {
  const srv = await start();
  await srv.stop('SIGTERM');
  await assert.rejects(tcpConnect(srv.port), /ECONNREFUSED/);
});
