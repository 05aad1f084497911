// Opens N idle WebSocket-over-TLS connections to a tincan server and reports
// how much the server's resident memory grew per connection.
//
// Run by bench/ws_idle/run.sh, which starts the server and passes its PID.
// Uses raw tls.connect and a hand-written upgrade request instead of the `ws`
// package: 50,000 `ws` clients cost far more client memory and CPU than this.
//
// Steps: warm the server up with a few connections (closed again), read the
// server's VmRSS, open N connections with a bounded number of handshakes in
// flight, wait until every one has received the server's welcome message,
// let the server settle, read VmRSS again, cross-check with GET /health,
// then close everything and see that the server's count returns to zero.
//
// Usage: node client.mjs --port P --pid PID --n N [--sources 127.0.0.2,...]
//        [--concurrency 256] [--settle-ms 2000] [--per-source 15000]
import tls from 'node:tls';
import https from 'node:https';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    port: { type: 'string' },
    pid: { type: 'string' },
    n: { type: 'string', default: '10000' },
    host: { type: 'string', default: '127.0.0.1' },
    sources: { type: 'string', default: '' },
    'per-source': { type: 'string', default: '15000' },
    concurrency: { type: 'string', default: '256' },
    'settle-ms': { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '16' },
  },
});
const PORT = Number(opt.port);
const PID = Number(opt.pid);
const N = Number(opt.n);
const HOST = opt.host;
const PER_SOURCE = Number(opt['per-source']);
const CONCURRENCY = Number(opt.concurrency);
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
if (!PORT || !PID || !N) {
  console.error('usage: node client.mjs --port P --pid PID --n N [--sources a,b,...]');
  process.exit(2);
}

// One bind address per PER_SOURCE connections: a client socket bound to an
// address before connect() takes its port from that address's ephemeral range
// regardless of destination, so ~28,000 is the most one address can hold.
function sourceFor(i) {
  const given = opt.sources ? opt.sources.split(',') : [];
  const k = Math.floor(i / PER_SOURCE);
  if (k < given.length) return given[k];
  return `127.0.0.${2 + k}`;
}

/** Returns the server's VmRSS (or another /proc status field) in KiB. */
function procStatus(field = 'VmRSS') {
  const m = readFileSync(`/proc/${PID}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!m) throw new Error(`no ${field} for pid ${PID}`);
  return Number(m[1]);
}

/** GET /health on a fresh TLS connection; resolves with the parsed JSON. */
function health() {
  return new Promise((ok, fail) => {
    const req = https.get({ host: HOST, port: PORT, path: '/health', rejectUnauthorized: false, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { body += d; });
        res.on('end', () => { try { ok(JSON.parse(body)); } catch (e) { fail(new Error(`bad /health body: ${body}`)); } });
      });
    req.setTimeout(10000, () => req.destroy(new Error('/health timed out')));
    req.on('error', fail);
  });
}

// One TLS context for every connection: without it tls.connect builds a new
// one (root store included) per call, which caps the client near 300 conn/s.
const secureContext = tls.createSecureContext({});

const sockets = [];
const failures = new Map(); // message -> count
let closedAfterWelcome = 0;
let shuttingDown = false;

function fail(msg) {
  failures.set(msg, (failures.get(msg) || 0) + 1);
}

/**
 * Opens one WSS connection from localAddress; resolves true once the welcome
 * message arrived, false on any failure (counted in `failures`).
 */
function openOne(localAddress, keep) {
  return new Promise((done) => {
    const key = randomBytes(16).toString('base64');
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    let buf = Buffer.alloc(0);
    let state = 'handshake';
    const sock = tls.connect({ host: HOST, port: PORT, localAddress, secureContext, rejectUnauthorized: false });
    const finish = (ok, why) => {
      if (state === 'done') return;
      state = 'done';
      if (!ok) { fail(why); sock.destroy(); }
      buf = null;
      done(ok);
    };
    sock.setTimeout(60000, () => finish(false, 'timeout before welcome'));
    sock.on('secureConnect', () => {
      sock.write(`GET /ws HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    sock.on('data', (chunk) => {
      if (state === 'done') return; // idle from here on: pings (if any) are ignored
      buf = Buffer.concat([buf, chunk]);
      if (state === 'handshake') {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) { if (buf.length > 8192) finish(false, 'response headers too long'); return; }
        const head = buf.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101')) return finish(false, `upgrade refused: ${head.split('\r\n')[0]}`);
        const m = head.match(/^sec-websocket-accept:\s*(\S+)/im);
        if (!m || m[1] !== accept) return finish(false, 'bad Sec-WebSocket-Accept');
        buf = buf.subarray(end + 4);
        state = 'frame';
      }
      if (buf.length < 2) return;
      const op = buf[0] & 0x0f;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) return finish(false, 'welcome frame too long');
      if (buf[1] & 0x80) return finish(false, 'server frame is masked');
      if (buf.length < off + len) return;
      const text = buf.subarray(off, off + len).toString('utf8');
      if (op !== 1 || !text.includes('"welcome"')) return finish(false, `first message not welcome: op=${op} ${text.slice(0, 80)}`);
      sock.setTimeout(0);
      if (keep) sockets.push(sock);
      finish(true);
    });
    sock.on('error', (e) => finish(false, e.code || e.message));
    sock.on('close', () => {
      if (state === 'done') { if (keep && !shuttingDown) closedAfterWelcome++; return; }
      finish(false, 'closed before welcome');
    });
  });
}

/** Opens `count` connections, at most CONCURRENCY handshakes at a time. */
async function openMany(count, keep, firstIndex = 0) {
  let next = 0;
  let ok = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      if (await openOne(sourceFor(firstIndex + i), keep)) ok++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
  return ok;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const kib = (v) => `${v.toLocaleString('en-US')} KiB`;

async function main() {
  // Warm-up: lets the server do its one-time allocations (TLS tables, first
  // buffers) before the baseline is taken; these sockets are closed again.
  const warm = Number(opt.warmup);
  if (warm > 0) {
    const before = sockets.length;
    await openMany(warm, true);
    shuttingDown = true;
    for (const s of sockets.splice(before)) s.destroy();
    await sleep(500);
    shuttingDown = false;
    failures.clear();
  }

  const rssBefore = procStatus();
  const t0 = process.hrtime.bigint();
  let lastReport = Date.now();
  const progress = setInterval(() => {
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      console.error(`ws_idle: ${sockets.length}/${N} open`);
    }
  }, 1000);
  const ok = await openMany(N, true);
  clearInterval(progress);
  const openMs = Number(process.hrtime.bigint() - t0) / 1e6;

  await sleep(Number(opt['settle-ms']));
  const rssAfter = procStatus();
  const hwm = procStatus('VmHWM');
  let h = null;
  try { h = await health(); } catch (e) { fail(`/health: ${e.message}`); }

  const perConn = (rssAfter - rssBefore) / N;
  const res = {
    n: N, welcomed: ok, failed: N - ok, closed_by_server_while_idle: closedAfterWelcome,
    open_ms: Math.round(openMs), conns_per_s: Math.round(ok / (openMs / 1000)),
    rss_before_kib: rssBefore, rss_after_kib: rssAfter, vmhwm_kib: hwm,
    kib_per_conn: Number(perConn.toFixed(2)), health_connections: h ? h.connections : null,
  };

  // Close everything and check that the server forgets the connections.
  shuttingDown = true;
  for (const s of sockets) s.destroy();
  let after = null;
  for (let i = 0; i < 40; i++) {
    await sleep(250);
    try { after = await health(); } catch { after = null; }
    if (after && after.connections <= 1) break;
  }
  res.health_connections_after_close = after ? after.connections : null;
  res.rss_after_close_kib = procStatus();

  console.log(`connections:        ${ok.toLocaleString('en-US')} of ${N.toLocaleString('en-US')} welcomed` +
    (N - ok ? `, ${N - ok} failed` : '') +
    (closedAfterWelcome ? `, ${closedAfterWelcome} closed by the server while idle` : ''));
  console.log(`time to open all:   ${(openMs / 1000).toFixed(2)} s (${res.conns_per_s.toLocaleString('en-US')} conn/s, ${CONCURRENCY} handshakes in flight)`);
  console.log(`server VmRSS:       ${kib(rssBefore)} before, ${kib(rssAfter)} with all open (VmHWM ${kib(hwm)}), ${kib(res.rss_after_close_kib)} after close`);
  console.log(`per connection:     ${perConn.toFixed(2)} KiB  (goal <= 16 KiB: ${perConn <= 16 ? 'met' : 'NOT met'})`);
  console.log(`/health connections: ${res.health_connections} while open, ${res.health_connections_after_close} after close`);
  for (const [msg, count] of failures) console.log(`failure: ${count} x ${msg}`);
  console.log(`RESULT ${JSON.stringify(res)}`);
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
