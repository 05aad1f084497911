// The WebSocket opening handshake: version, key, Origin policy and
// --allow-origin.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, rawExchange, buildRequest, securityHeaderProblems } from './net.mjs';
import { rawWs } from './wsraw.mjs';
import { wsClient } from './wsclient.mjs';

const T = { timeout: 15000 };

/** Handshake status for the given header overrides (101 or the error status). */
async function handshakeStatus(port, headers) {
  try {
    const c = await rawWs(port, { headers });
    const first = await c.json();
    c.destroy();
    assert.equal(first.type, 'welcome', 'a 101 is followed by the welcome message');
    return 101;
  } catch (e) {
    if (e.status) return e.status;
    throw e;
  }
}

describe('WebSocket handshake', () => {
  let srv;
  before(async () => { srv = await start(); });
  after(async () => { await srv?.stop(); });

  test('Sec-WebSocket-Version 8 → 426 naming version 13', T, async () => {
    const { res, sock } = await rawExchange(srv.port, buildRequest(srv.port, 'GET', '/ws', {
      Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '8',
    }));
    sock.destroy();
    assert.equal(res.status, 426);
    assert.match(res.headers['sec-websocket-version'] || '', /\b13\b/, 'RFC 6455 4.4: answer lists the supported version');
  });

  test('missing Sec-WebSocket-Key → 400', T, async () => {
    assert.equal(await handshakeStatus(srv.port, { 'Sec-WebSocket-Key': null }), 400);
  });

  test('a Sec-WebSocket-Key that is not 16 base64 bytes → 400', T, async () => {
    assert.equal(await handshakeStatus(srv.port, { 'Sec-WebSocket-Key': 'c2hvcnQ=' }), 400);
  });

  test('missing Upgrade header on /ws → 400 or 426, never 101', T, async () => {
    const s = await handshakeStatus(srv.port, { Upgrade: null, Connection: null });
    assert.ok([400, 426].includes(s), `got ${s}`);
  });

  test('Origin https://evil.example → 403', T, async () => {
    const { res, sock } = await rawExchange(srv.port, buildRequest(srv.port, 'GET', '/ws', {
      Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version': '13', Origin: 'https://evil.example',
    }));
    sock.destroy();
    assert.equal(res.status, 403);
    assert.deepEqual(securityHeaderProblems(res.headers), [], 'security headers on the 403');
  });

  test('an Origin that only looks like the host → 403', T, async () => {
    for (const origin of [`https://127.0.0.1:${srv.port}.evil.example`, `https://evil.example/127.0.0.1:${srv.port}`, 'null']) {
      assert.equal(await handshakeStatus(srv.port, { Origin: origin }), 403, origin);
    }
  });

  test('no Origin → 101', T, async () => {
    assert.equal(await handshakeStatus(srv.port, {}), 101);
  });

  test('Origin matching Host → 101', T, async () => {
    assert.equal(await handshakeStatus(srv.port, { Origin: `https://127.0.0.1:${srv.port}` }), 101);
    assert.equal(await handshakeStatus(srv.port, { Host: `localhost:${srv.port}`, Origin: `https://localhost:${srv.port}` }), 101);
  });

  test('the ws library connects (no Origin) and with a matching origin option', T, async () => {
    const a = await wsClient(srv.port);
    const b = await wsClient(srv.port, { ws: { origin: `https://127.0.0.1:${srv.port}` } });
    try {
      assert.equal((await a.next()).type, 'welcome');
      assert.equal((await b.next()).type, 'welcome');
    } finally {
      a.close();
      b.close();
    }
  });

  test('header names and values are case-insensitive where RFC 6455 says so', T, async () => {
    const s = await handshakeStatus(srv.port, {
      Upgrade: null, Connection: null, upgrade: 'WebSocket', connection: 'keep-alive, Upgrade',
    });
    assert.equal(s, 101);
  });
});

describe('--allow-origin', () => {
  let srv;
  before(async () => { srv = await start({ args: ['--allow-origin', 'https://evil.example', '--allow-origin', 'https://other.example'] }); });
  after(async () => { await srv?.stop(); });

  test('an allowed Origin → 101', T, async () => {
    assert.equal(await handshakeStatus(srv.port, { Origin: 'https://evil.example' }), 101);
    assert.equal(await handshakeStatus(srv.port, { Origin: 'https://other.example' }), 101, 'repeatable option');
  });

  test('other origins are still refused; same-host and no Origin still work', T, async () => {
    assert.equal(await handshakeStatus(srv.port, { Origin: 'https://evil.example.com' }), 403);
    assert.equal(await handshakeStatus(srv.port, { Origin: 'http://evil.example' }), 403, 'scheme is part of the origin');
    assert.equal(await handshakeStatus(srv.port, { Origin: `https://127.0.0.1:${srv.port}` }), 101);
    assert.equal(await handshakeStatus(srv.port, {}), 101);
  });
});
