// Who may open a connection: WebSockets and other connections counted apart
// per source, the total cap below the open-file limit, and what the server
// does when it runs out of descriptors anyway (pauses accepting instead of
// spinning; logs once; serves again once connections close).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { start, sleep, tlsConnect, Reader, readResponse, buildRequest, parseLogfmt } from './net.mjs';
import { wsClient } from './wsclient.mjs';
import { scrape } from './prom.mjs';

const T = { timeout: 60000 };
const TICK = 100; // clock ticks per second of /proc/<pid>/stat

/** CPU seconds (user + system) used so far by pid. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}

/** Opens n plain TCP connections that send nothing; resolves when all are connected. */
async function holdTcp(port, n) {
  const socks = [];
  await Promise.all(Array.from({ length: n }, () => new Promise((ok) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    s.once('connect', ok);
    s.once('close', ok);
    socks.push(s);
  })));
  return socks;
}

/** GET /health on a fresh connection; true if answered 200 within ms. */
async function healthy(port, ms = 2000) {
  try {
    const sock = await tlsConnect(port, { timeout: ms });
    const reader = new Reader(sock);
    sock.write(buildRequest(port, 'GET', '/health'));
    const res = await readResponse(reader, {}).finally(() => sock.destroy());
    return res.status === 200;
  } catch {
    return false;
  }
}

async function eventually(fn, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(100);
  }
  assert.fail(`${what} within ${ms} ms`);
}

describe('WebSockets and other connections are counted apart (--max-conns-per-ip 3 --max-ws-per-ip 5)', () => {
  let srv;
  before(async () => { srv = await start({ args: ['--max-conns-per-ip', '3', '--max-ws-per-ip', '5'] }); });
  after(async () => { await srv?.stop(); });

  test('five WebSockets and three HTTP connections at once; the 6th WebSocket gets 503, the 4th HTTP is closed', T, async () => {
    const ws = [];
    const held = [];
    try {
      for (let i = 0; i < 5; i++) {
        const c = await wsClient(srv.port);
        assert.equal((await c.next()).type, 'welcome', `WebSocket ${i + 1}`);
        ws.push(c);
      }
      for (let i = 0; i < 3; i++) {
        const sock = await tlsConnect(srv.port);
        const reader = new Reader(sock);
        sock.write(buildRequest(srv.port, 'GET', '/health'));
        assert.equal((await readResponse(reader)).status, 200, `HTTP connection ${i + 1} next to 5 WebSockets`);
        held.push(sock);
      }
      assert.equal(await healthy(srv.port, 1500), false, 'a 4th HTTP connection is refused');
      held.pop().destroy();
      await eventually(() => healthy(srv.port), 3000, 'a slot freed by a closed HTTP connection is usable');
      await assert.rejects(wsClient(srv.port), /503/, 'the 6th WebSocket upgrade is answered 503');
      for (const c of ws) assert.equal(c.ws.readyState, 1, 'the five WebSockets stay open');
      ws.pop().close();
      await eventually(async () => {
        try { const c = await wsClient(srv.port); ws.push(c); return true; } catch { return false; }
      }, 3000, 'a WebSocket slot is free again after one closed');
      const { m } = await scrape(srv.port);
      assert.ok(m.get('tincan_rate_limited_total', { limit: 'ws_per_ip' }) >= 1, 'ws_per_ip counted');
      assert.ok(m.get('tincan_rate_limited_total', { limit: 'connections_per_ip' }) >= 1, 'connections_per_ip counted');
    } finally {
      for (const c of ws) c.close();
      for (const s of held) s.destroy();
    }
  });
});

describe('the total connection cap follows the open-file limit (prlimit --nofile=128)', () => {
  let srv;
  before(async () => {
    srv = await start({ wrap: ['prlimit', '--nofile=128:128', '--'], args: ['--max-conns-per-ip', '1000'] });
  });
  after(async () => { await srv?.stop(); });

  test('the cap is logged; connections past it are closed and counted; the server serves once they go', T, async () => {
    const line = srv.logs.map(parseLogfmt).find((r) => r.msg === 'listening' && r.max_connections);
    assert.ok(line, 'msg=listening carries max_connections');
    const cap = Number(line.max_connections);
    assert.ok(cap >= 16 && cap < 128, `cap ${cap} is below the open-file limit`);
    const socks = await holdTcp(srv.port, cap + 20);
    try {
      await sleep(500);
      assert.equal(await healthy(srv.port, 1500), false, 'over the cap a new connection is not served');
    } finally {
      for (const s of socks) s.destroy();
    }
    await eventually(() => healthy(srv.port), 5000, 'served again after the connections closed');
    const { m } = await scrape(srv.port);
    assert.ok(m.get('tincan_rate_limited_total', { limit: 'max_connections' }) >= 20, 'refusals counted');
  });
});

describe('out of descriptors (prlimit --nofile=64, --max-connections above it)', () => {
  let srv;
  before(async () => {
    srv = await start({
      wrap: ['prlimit', '--nofile=64:64', '--'],
      args: ['--max-connections', '1000', '--max-conns-per-ip', '1000'],
    });
  });
  after(async () => { await srv?.stop(); });

  test('accept pauses instead of spinning: bounded CPU and log lines; serves again once connections close', T, async () => {
    const logs0 = srv.logs.length;
    const socks = await holdTcp(srv.port, 120); // more than the process can hold
    let cpu;
    let lines;
    try {
      await sleep(300);
      const c0 = cpuSeconds(srv.proc.pid);
      await sleep(3000);
      cpu = cpuSeconds(srv.proc.pid) - c0;
      lines = srv.logs.slice(logs0).filter((l) => /accept_failed/.test(l));
    } finally {
      for (const s of socks) s.destroy();
    }
    assert.ok(cpu < 0.5, `CPU over 3 s with the descriptors exhausted: ${cpu.toFixed(2)} s`);
    assert.ok(lines.length >= 1 && lines.length <= 2, `accept_failed logged ${lines.length} times in 3 s`);
    assert.match(lines[0], /Too many open files/);
    await eventually(() => healthy(srv.port), 5000, 'served again after the connections closed');
    const { m } = await scrape(srv.port);
    assert.ok(m.get('tincan_rate_limited_total', { limit: 'accept_paused' }) >= 1, 'pauses counted');
  });
});

