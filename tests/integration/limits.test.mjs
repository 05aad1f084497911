// Resource limits: many concurrent WebSockets, the per-IP connection cap,
// slow clients (slowloris, stalled TLS handshakes) and idle keep-alive.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  start, sleep, within, tlsConnect, tcpConnect, Reader, readResponse, request, buildRequest,
} from './net.mjs';
import { wsClient } from './wsclient.mjs';

/** Runs fn(i) for i in [0, n) with at most `limit` in flight; returns results. */
async function pool(n, limit, fn) {
  const out = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

describe('1,000 concurrent WebSocket connections', () => {
  let srv;
  before(async () => { srv = await start({ args: ['--max-conns-per-ip', '2000'] }); });
  after(async () => { await srv?.stop(); });

  test('each gets a welcome and an answer to one message', { timeout: 120000 }, async () => {
    const N = 1000;
    const clients = [];
    try {
      const failures = [];
      await pool(N, 100, async (i) => {
        try {
          const c = await wsClient(srv.port, { handshakeTimeout: 30000 });
          clients.push(c);
          const w = await c.next(20000);
          if (w.type !== 'welcome') failures.push(`#${i}: first message ${JSON.stringify(w)}`);
          return c;
        } catch (e) {
          failures.push(`#${i}: ${e.message}`);
          return null;
        }
      });
      assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${N} failed to connect or get a welcome`);
      assert.equal(clients.length, N);
      assert.equal(clients.filter((c) => c.ws.readyState === 1).length, N, 'all still open');

      // All 1000 are open at once now; each asks one question.
      const answers = await within(Promise.all(clients.map(async (c, i) => {
        c.send({ type: 'nope', n: i });
        const m = await c.next(30000);
        return m;
      })), 60000, 'answers from 1000 clients');
      const wrong = answers.filter((m) => m.type !== 'error' || m.code !== 'unknown_type');
      assert.equal(wrong.length, 0, `wrong answers: ${JSON.stringify(wrong.slice(0, 3))}`);

      const health = await request(srv.port, 'GET', '/health');
      assert.equal(health.status, 200, 'server still answers HTTP while 1000 WebSockets are open');
      const h = JSON.parse(health.body.toString());
      assert.ok(h.connections >= N, `/health connections ${h.connections} while ${N} WebSockets are open`);
    } finally {
      for (const c of clients) c.close();
    }
    // The server notices the 1000 closes and frees them.
    let h;
    for (let i = 0; i < 50; i++) {
      await sleep(200);
      h = JSON.parse((await request(srv.port, 'GET', '/health')).body.toString());
      if (h.connections <= 2) break;
    }
    assert.ok(h.connections <= 2, `/health connections ${h.connections} after all clients closed`);
  });
});

/** True if a fresh connection can get GET /health → 200 within ms. */
async function canServe(port, ms = 3000) {
  try {
    return await within((async () => {
      const sock = await tlsConnect(port);
      const reader = new Reader(sock);
      try {
        sock.write(buildRequest(port, 'GET', '/health'));
        const res = await readResponse(reader, { timeout: ms });
        return res.status === 200;
      } finally {
        sock.destroy();
      }
    })(), ms, 'canServe');
  } catch {
    return false;
  }
}

/**
 * True if a new connection is shut out within ms: the TCP connection is
 * refused or closed, the TLS handshake fails, or the server answers with an
 * error status and closes. False if it is served or left hanging.
 */
async function refusedWithin(port, ms) {
  const t0 = Date.now();
  let sock;
  try {
    sock = await tlsConnect(port, { timeout: ms });
  } catch (e) {
    return !/timed out/.test(e.message) && Date.now() - t0 < ms;
  }
  const reader = new Reader(sock);
  try {
    sock.write(buildRequest(port, 'GET', '/health'));
    const closed = await reader.closesWithin(Math.max(1, ms - (Date.now() - t0)));
    if (!closed) return false;
    const text = reader.buf.toString('latin1');
    return !/^HTTP\/1\.1 200/.test(text);
  } finally {
    sock.destroy();
  }
}

describe('--max-conns-per-ip 5', () => {
  let srv;
  before(async () => { srv = await start({ args: ['--max-conns-per-ip', '5'] }); });
  after(async () => { await srv?.stop(); });

  test('the 6th concurrent connection is refused; the first 5 stay usable', { timeout: 30000 }, async () => {
    const held = [];
    try {
      for (let i = 0; i < 5; i++) {
        const sock = await tlsConnect(srv.port);
        const reader = new Reader(sock);
        sock.write(buildRequest(srv.port, 'GET', '/health'));
        const res = await readResponse(reader);
        assert.equal(res.status, 200, `connection ${i + 1} served`);
        held.push({ sock, reader });
      }
      assert.equal(await refusedWithin(srv.port, 3000), true, 'the 6th connection from the same IP was not closed within 3 s');

      for (const [i, { sock, reader }] of held.entries()) {
        assert.equal(reader.closed, false, `connection ${i + 1} still open`);
        sock.write(buildRequest(srv.port, 'GET', '/health'));
        const res = await readResponse(reader);
        assert.equal(res.status, 200, `connection ${i + 1} still served after the 6th was refused`);
      }

      // Freeing one slot lets a new connection in.
      held.shift().sock.destroy();
      let ok = false;
      for (let i = 0; i < 20 && !ok; i++) {
        await sleep(100);
        ok = await canServe(srv.port);
      }
      assert.ok(ok, 'after one of the 5 closed, a new connection is accepted');
    } finally {
      for (const { sock } of held) sock.destroy();
    }
  });

  test('refused connections do not leak slots', { timeout: 30000 }, async () => {
    // Hammer with 30 refused attempts while 5 are held, then release all.
    const held = [];
    for (let i = 0; i < 5; i++) held.push(await tlsConnect(srv.port));
    await Promise.all(Array.from({ length: 30 }, () => canServe(srv.port, 2000)));
    for (const s of held) s.destroy();
    await sleep(300);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await tlsConnect(srv.port));
    try {
      const served = await Promise.all(results.map(async (sock) => {
        const reader = new Reader(sock);
        sock.write(buildRequest(srv.port, 'GET', '/health'));
        return (await readResponse(reader)).status;
      }));
      assert.deepEqual(served, [200, 200, 200, 200, 200]);
    } finally {
      for (const s of results) s.destroy();
    }
  });
});

describe('slow and idle clients', () => {
  let srv;
  before(async () => {
    srv = await start({ args: ['--header-timeout', '2', '--tls-timeout', '2', '--keepalive-timeout', '2'] });
  });
  after(async () => { await srv?.stop(); });

  test('slowloris over TLS is cut off while another client is served', { timeout: 20000 }, async () => {
    const t0 = Date.now();
    const sock = await tlsConnect(srv.port);
    const reader = new Reader(sock);
    const req = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'s'.repeat(200)}\r\n\r\n`;
    let sent = 0;
    const drip = setInterval(() => {
      if (!reader.closed && sent < req.length) sock.write(req[sent++]);
    }, 500);
    const served = [];
    try {
      // Meanwhile a normal client keeps getting answers quickly.
      while (!reader.closed && Date.now() - t0 < 6000) {
        const s = Date.now();
        const res = await request(srv.port, 'GET', '/health', {}, { timeout: 2000 });
        served.push({ status: res.status, ms: Date.now() - s });
        await sleep(300);
      }
      const closed = await reader.closesWithin(Math.max(0, 6000 - (Date.now() - t0)));
      const dt = Date.now() - t0;
      assert.ok(closed, `slow client still connected after ${dt} ms (header-timeout 2)`);
      assert.ok(reader.closedAt - t0 >= 1500, `closed after only ${reader.closedAt - t0} ms`);
      assert.ok(!reader.buf.toString('latin1').startsWith('HTTP/1.1 200'), 'the slow request was not served');
    } finally {
      clearInterval(drip);
      sock.destroy();
    }
    assert.ok(served.length >= 3, `normal client served ${served.length} times meanwhile`);
    assert.ok(served.every((r) => r.status === 200 && r.ms < 1500), `normal client: ${JSON.stringify(served)}`);
  });

  test('slowloris over plain HTTP is cut off too', { timeout: 20000 }, async () => {
    const t0 = Date.now();
    const sock = await tcpConnect(srv.port);
    const reader = new Reader(sock);
    const req = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'s'.repeat(200)}\r\n\r\n`;
    let sent = 0;
    const drip = setInterval(() => {
      if (!reader.closed && sent < req.length) sock.write(req[sent++]);
    }, 500);
    try {
      assert.ok(await reader.closesWithin(6000), 'plain slow client still connected after 6 s');
      assert.ok(reader.closedAt - t0 >= 1500, `closed after only ${reader.closedAt - t0} ms`);
    } finally {
      clearInterval(drip);
      sock.destroy();
    }
  });

  test('a TCP connection that never starts TLS is closed (--tls-timeout 2)', { timeout: 20000 }, async () => {
    const t0 = Date.now();
    const silent = await tcpConnect(srv.port);
    const r1 = new Reader(silent);
    const partial = await tcpConnect(srv.port);
    const r2 = new Reader(partial);
    // A TLS record header promising a 512-byte ClientHello that never comes.
    partial.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    try {
      const [a, b] = await Promise.all([r1.closesWithin(6000), r2.closesWithin(6000)]);
      assert.ok(a, 'silent TCP connection still open after 6 s');
      assert.ok(b, 'stalled TLS handshake still open after 6 s');
      assert.ok(Math.min(r1.closedAt, r2.closedAt) - t0 >= 1500, 'closed too early');
    } finally {
      silent.destroy();
      partial.destroy();
    }
  });

  test('a TLS connection that sends no request is closed', { timeout: 20000 }, async () => {
    const sock = await tlsConnect(srv.port);
    const reader = new Reader(sock);
    try {
      assert.ok(await reader.closesWithin(6000), 'idle TLS connection with no request still open after 6 s');
    } finally {
      sock.destroy();
    }
  });

  test('an idle keep-alive connection is closed after --keepalive-timeout', { timeout: 20000 }, async () => {
    const sock = await tlsConnect(srv.port);
    const reader = new Reader(sock);
    try {
      sock.write(buildRequest(srv.port, 'GET', '/health'));
      assert.equal((await readResponse(reader)).status, 200);
      const t0 = Date.now();
      await sleep(1000);
      assert.equal(reader.closed, false, 'closed within 1 s of the response although keepalive-timeout is 2');
      sock.write(buildRequest(srv.port, 'GET', '/health'));
      assert.equal((await readResponse(reader)).status, 200, 'second request within the keep-alive window served');
      assert.ok(await reader.closesWithin(6000), `idle keep-alive connection still open ${Date.now() - t0} ms later`);
    } finally {
      sock.destroy();
    }
  });

  test('a WebSocket is not subject to the header or keep-alive timeout', { timeout: 20000 }, async () => {
    const c = await wsClient(srv.port);
    try {
      assert.equal((await c.next()).type, 'welcome');
      await sleep(4500);
      assert.equal(c.ws.readyState, 1, 'WebSocket closed by an HTTP timeout');
      c.send({ type: 'nope' });
      assert.equal((await c.next()).code, 'unknown_type');
    } finally {
      c.close();
    }
  });
});
