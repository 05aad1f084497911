// Low-level helpers for the integration tests: raw TLS and TCP connections,
// a byte reader that waits for a condition with a deadline, a tolerant
// HTTP/1.1 response parser, and a wrapper around tests/lib/server.mjs whose
// stop() can never hang a test run.
//
// Tests talk to the server with hand-written requests on purpose: node's
// https client normalises headers, adds its own, and hides what went over
// the wire, which is exactly what these tests need to see.
import tls from 'node:tls';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, BIN, ROOT, parseLogfmt } from '../lib/server.mjs';

export { BIN, parseLogfmt, ROOT as ROOT_DIR };

/**
 * Starts tincan (see tests/lib/server.mjs). stop() falls back to SIGKILL
 * after graceMs, and rejects if the server printed a sanitizer report
 * (run with TINCAN_BIN=build/asan/tincan to make use of that).
 */
export async function start(opts = {}) {
  // The data dir is made here so that a server that fails to start can be
  // found (by its command line) and killed: startServer() leaves it running,
  // and its open pipes would keep the test file from ever finishing.
  const ownData = !opts.dataDir;
  const dataDir = opts.dataDir || mkdtempSync(join(tmpdir(), 'tincan-test-'));
  let srv;
  try {
    srv = await startServer({ ...opts, dataDir });
  } catch (e) {
    killChildrenWith(dataDir);
    if (ownData) rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  if (ownData) srv.exited.then(() => rmSync(dataDir, { recursive: true, force: true }));
  const softStop = srv.stop;
  const stderrDone = new Promise((ok) => srv.proc.stderr.on('close', ok));
  let checked = null;
  srv.stop = (signal = 'SIGTERM', graceMs = 8000) => {
    const p = softStop(signal);
    let timer;
    const killer = new Promise((ok) => {
      timer = setTimeout(() => { srv.proc.kill('SIGKILL'); ok(); }, graceMs);
    });
    const res = Promise.race([p, killer.then(() => p)]).finally(() => clearTimeout(timer));
    if (!checked) {
      checked = res.then(async (r) => {
        await Promise.race([stderrDone, sleep(1000)]);
        const report = sanitizerReport(srv.logs);
        if (report) throw new Error(`sanitizer report from tincan:\n${report}`);
        return r;
      });
    }
    return checked;
  };
  return srv;
}

/** SIGKILLs child processes of this process whose command line contains needle. */
function killChildrenWith(needle) {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(needle)) process.kill(Number(pid), 'SIGKILL');
    } catch { /* gone already */ }
  }
}

/** The first sanitizer report in log lines, or null. */
export function sanitizerReport(lines) {
  const i = lines.findIndex((l) => /ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer|runtime error:/.test(l));
  return i < 0 ? null : lines.slice(i, i + 40).join('\n');
}

/** Resolves after ms milliseconds. */
export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/**
 * Rejects with an Error(message) after ms unless the promise settles first.
 */
export function within(promise, ms, message) {
  let timer;
  const t = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${message} (timed out after ${ms} ms)`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

/**
 * Wraps a duplex socket: collects every byte received and lets a caller
 * wait until parse(buffer, ended) returns a result { value, consumed }.
 */
export class Reader {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.ended = false; // peer sent FIN (or the socket closed)
    this.closed = false;
    this.error = null;
    this.waiters = [];
    this.closedAt = null;
    this.whenClosed = new Promise((ok) => { this._closedOk = ok; });
    sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this._poke(); });
    sock.on('end', () => { this.ended = true; this._poke(); });
    sock.on('error', (e) => { this.error = e; });
    sock.on('close', () => {
      this.ended = true;
      this.closed = true;
      this.closedAt = Date.now();
      this._closedOk();
      this._poke();
    });
  }

  _poke() {
    for (const w of [...this.waiters]) this._try(w);
  }

  _try(w) {
    let res;
    try {
      res = w.parse(this.buf, this.ended);
    } catch (e) {
      this._done(w);
      w.fail(e);
      return;
    }
    if (res) {
      this.buf = this.buf.subarray(res.consumed);
      this._done(w);
      w.ok(res.value);
    } else if (this.ended) {
      this._done(w);
      const got = this.buf.length ? JSON.stringify(this.buf.subarray(0, 200).toString('latin1')) : 'nothing';
      w.fail(new Error(`${w.what}: connection ended first (buffered: ${got}${this.error ? `, error: ${this.error.code || this.error.message}` : ''})`));
    }
  }

  _done(w) {
    clearTimeout(w.timer);
    this.waiters = this.waiters.filter((x) => x !== w);
  }

  /** Waits until parse() returns a result; rejects on timeout or end. */
  read(parse, timeoutMs = 5000, what = 'read') {
    return new Promise((ok, fail) => {
      const w = { parse, ok, fail, what };
      w.timer = setTimeout(() => {
        this._done(w);
        fail(new Error(`${what}: timed out after ${timeoutMs} ms (buffered ${this.buf.length} bytes: ${JSON.stringify(this.buf.subarray(0, 120).toString('latin1'))})`));
      }, timeoutMs);
      this.waiters.push(w);
      this._try(w);
    });
  }

  /** Resolves with true when the socket closes within ms, else false. */
  async closesWithin(ms) {
    if (this.closed) return true;
    let timer;
    const r = await Promise.race([
      this.whenClosed.then(() => true),
      new Promise((ok) => { timer = setTimeout(() => ok(false), ms); }),
    ]);
    clearTimeout(timer);
    return r;
  }
}

/** Opens a TLS connection to 127.0.0.1:port without verifying the chain. */
export function tlsConnect(port, opts = {}) {
  const { timeout = 10000, ...rest } = opts;
  return new Promise((ok, fail) => {
    const sock = tls.connect({
      host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ...rest,
    });
    const timer = setTimeout(() => { sock.destroy(); fail(new Error('TLS handshake timed out')); }, timeout);
    const onErr = (e) => { clearTimeout(timer); fail(e); };
    const onClose = () => { clearTimeout(timer); fail(new Error('closed during TLS handshake')); };
    sock.once('error', onErr);
    sock.once('close', onClose);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      sock.off('error', onErr);
      sock.off('close', onClose);
      // Errors after the handshake (ECONNRESET when the server drops us)
      // show up as 'close'; a socket without an error listener would crash
      // the test process instead.
      sock.on('error', () => {});
      ok(sock);
    });
  });
}

/** Opens a plain TCP connection to 127.0.0.1:port. */
export function tcpConnect(port) {
  return new Promise((ok, fail) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('error', fail);
    sock.once('connect', () => { sock.off('error', fail); sock.on('error', () => {}); ok(sock); });
  });
}

/**
 * Parses one HTTP/1.x response from buf. Returns null when incomplete.
 * opts.head: the request was HEAD (no body whatever the headers say).
 * The result: { status, reason, headers (lower-case name → value, repeated
 * headers joined with ", "), rawHeaders [[name, value]], body Buffer }.
 */
export function parseResponse(buf, ended, opts = {}) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) {
    if (ended && buf.length) throw new Error(`incomplete response head: ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`);
    return null;
  }
  const head = buf.subarray(0, end).toString('latin1');
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
  const status = Number(m[1]);
  const headers = {};
  const rawHeaders = [];
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) throw new Error(`bad header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    rawHeaders.push([name, value]);
    const k = name.toLowerCase();
    headers[k] = k in headers ? `${headers[k]}, ${value}` : value;
  }
  let pos = end + 4;
  const res = { status, reason: m[2] || '', headers, rawHeaders, body: Buffer.alloc(0) };
  const noBody = opts.head || (status >= 100 && status < 200) || status === 204 || status === 304;
  if (noBody) return { value: res, consumed: pos };
  if (/chunked/i.test(headers['transfer-encoding'] || '')) {
    const parts = [];
    for (;;) {
      const le = buf.indexOf('\r\n', pos);
      if (le < 0) return null;
      const size = parseInt(buf.subarray(pos, le).toString('latin1'), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size');
      if (size === 0) {
        // Trailers (if any) end with an empty line; without them the empty
        // line follows the size line directly.
        const te = buf.indexOf('\r\n\r\n', le);
        if (te < 0) return null;
        pos = te + 4;
        break;
      }
      if (buf.length < le + 2 + size + 2) return null;
      parts.push(buf.subarray(le + 2, le + 2 + size));
      pos = le + 2 + size + 2;
    }
    res.body = Buffer.concat(parts);
    return { value: res, consumed: pos };
  }
  if ('content-length' in headers) {
    const n = Number(headers['content-length']);
    if (buf.length < pos + n) return null;
    res.body = Buffer.from(buf.subarray(pos, pos + n));
    return { value: res, consumed: pos + n };
  }
  // No length: the body runs until the server closes the connection.
  if (!ended) return null;
  res.body = Buffer.from(buf.subarray(pos));
  return { value: res, consumed: buf.length };
}

/** Reads one response from a Reader. */
export function readResponse(reader, opts = {}) {
  return reader.read((b, e) => parseResponse(b, e, opts), opts.timeout || 5000, 'HTTP response');
}

/**
 * Sends one raw request over a fresh TLS connection and reads the response.
 * Returns { res, reader, sock }; the caller ends the socket (or use
 * request() which does).
 */
export async function rawExchange(port, raw, opts = {}) {
  const sock = opts.plain ? await tcpConnect(port) : await tlsConnect(port, opts.connect || {});
  const reader = new Reader(sock);
  sock.write(raw);
  const res = await readResponse(reader, opts);
  return { res, reader, sock };
}

/** Builds a request string. headers: object; Host defaults to 127.0.0.1:port. */
export function buildRequest(port, method, path, headers = {}, body = '') {
  const h = { Host: `127.0.0.1:${port}`, ...headers };
  let s = `${method} ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(h)) if (v !== undefined && v !== null) s += `${k}: ${v}\r\n`;
  return s + '\r\n' + body;
}

/** One request on its own TLS connection; returns the parsed response. */
export async function request(port, method, path, headers = {}, opts = {}) {
  const { res, sock } = await rawExchange(port, buildRequest(port, method, path, headers, opts.body || ''),
    { ...opts, head: method === 'HEAD' });
  sock.destroy();
  return res;
}

/**
 * Spawns the binary directly (no --port/--bind/--data-dir unless given) and
 * collects its output. opts: env, cwd, cleanEnv (drop inherited TINCAN_*).
 * Returns { proc, out(), err(), exited, waitLog(pred, ms), kill() }.
 */
export function spawnTincan(args, opts = {}) {
  const base = { ...process.env };
  if (opts.cleanEnv) for (const k of Object.keys(base)) if (k.startsWith('TINCAN_')) delete base[k];
  const proc = spawn(BIN, args, {
    cwd: opts.cwd || process.cwd(),
    env: { ...base, ...(opts.env || {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const watchers = new Set();
  const exited = new Promise((ok) => proc.on('exit', (code, signal) => ok({ code, signal })));
  const check = () => { for (const w of watchers) w(); };
  proc.stdout.on('data', (d) => { out += d; check(); });
  proc.stderr.on('data', (d) => { err += d; check(); });
  return {
    proc,
    exited,
    out: () => out,
    err: () => err,
    /** Waits until some stderr logfmt line satisfies pred; rejects on exit/timeout. */
    waitLog(pred, ms = 10000) {
      return new Promise((ok, fail) => {
        const w = () => {
          for (const line of err.split('\n')) {
            const rec = parseLogfmt(line);
            if (pred(rec, line)) { cleanup(); ok(rec); return; }
          }
        };
        const timer = setTimeout(() => { cleanup(); fail(new Error(`log line not seen in ${ms} ms; stderr:\n${err}`)); }, ms);
        const cleanup = () => { clearTimeout(timer); watchers.delete(w); };
        watchers.add(w);
        exited.then(({ code, signal }) => { w(); if (watchers.has(w)) { cleanup(); fail(new Error(`tincan exited (${code ?? signal}); stderr:\n${err}`)); } });
        w();
      });
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      return exited;
    },
  };
}

/** The security headers every response must carry; returns a list of problems. */
export function securityHeaderProblems(headers) {
  const problems = [];
  const need = (name, test, what) => {
    const v = headers[name];
    if (v === undefined) problems.push(`missing ${name}`);
    else if (!test(v)) problems.push(`${name}: ${JSON.stringify(v)} is not ${what}`);
  };
  need('strict-transport-security', (v) => /max-age=\d+/i.test(v) && Number(/max-age=(\d+)/i.exec(v)[1]) > 0, 'max-age > 0');
  need('content-security-policy', (v) => /(^|;)\s*default-src 'self'(\s*;|\s*$)/.test(v), "containing default-src 'self'");
  need('content-security-policy', (v) => /connect-src [^;]*'self'/.test(v), "containing connect-src 'self'");
  need('x-content-type-options', (v) => v.toLowerCase() === 'nosniff', 'nosniff');
  need('x-frame-options', (v) => v.toUpperCase() === 'DENY', 'DENY');
  need('referrer-policy', (v) => v.toLowerCase() === 'no-referrer', 'no-referrer');
  need('permissions-policy', (v) => /camera=\(self\)/.test(v) && /microphone=\(self\)/.test(v) && /display-capture=\(self\)/.test(v),
    'camera=(self), microphone=(self), display-capture=(self)');
  return problems;
}
