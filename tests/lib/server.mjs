// Starts a real tincan binary for a test and stops it again.
//
// The binary is $TINCAN_BIN or ./tincan. Each server gets a fresh data
// directory and a free port on 127.0.0.1. startServer() resolves once the
// server has logged `msg=listening`, with the port, the SHA-256 fingerprint
// of its certificate (from the `msg=certificate` line) and the child process.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const BIN = resolve(ROOT, process.env.TINCAN_BIN || 'tincan');

/** Returns a TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** Parses one logfmt line into an object ("a=1 b=\"x y\"" → {a:'1', b:'x y'}). */
export function parseLogfmt(line) {
  const out = {};
  const re = /(\w[\w.-]*)=("((?:[^"\\]|\\.)*)"|\S*)/g;
  let m;
  while ((m = re.exec(line))) out[m[1]] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2];
  return out;
}

/**
 * Starts tincan. opts.args: extra command-line arguments; opts.env: extra
 * environment; opts.dataDir: reuse a data directory; opts.cwd; opts.wrap:
 * a command and its arguments that run the binary (e.g. prlimit).
 * Returns { port, url, fingerprint, proc, dataDir, logs, stop(signal) }.
 */
export async function startServer(opts = {}) {
  const port = opts.port || await freePort();
  const dataDir = opts.dataDir || mkdtempSync(join(tmpdir(), 'tincan-test-'));
  const ownData = !opts.dataDir;
  // opts.bind null: no --bind, every address (only inside a network namespace of the test's own).
  const bind = opts.bind === null ? [] : ['--bind', opts.bind || '127.0.0.1'];
  const args = ['--port', String(port), ...bind, '--data-dir', dataDir,
    '--log-level', opts.logLevel || 'info', ...(opts.args || [])];
  // opts.wrap: an argv prefix that execs the binary (e.g. `ip netns exec NAME`,
  // which keeps the PID, so stop() still signals tincan itself).
  const wrap = opts.wrap || [];
  const proc = spawn(wrap[0] || BIN, wrap.length ? [...wrap.slice(1), BIN, ...args] : args, {
    cwd: opts.cwd || dataDir,
    env: { ...process.env, ...(opts.env || {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  let fingerprint = null;
  const exited = new Promise((ok) => proc.on('exit', (code, signal) => ok({ code, signal })));
  const spawnFailed = new Promise((ok) => proc.on('error', ok));
  await new Promise((ok, fail) => {
    let pending = '';
    const timer = setTimeout(() => fail(new Error('tincan did not start:\n' + logs.join('\n'))), 15000);
    proc.stderr.on('data', (chunk) => {
      pending += chunk.toString();
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        logs.push(line);
        if (process.env.TINCAN_TEST_VERBOSE) process.stderr.write(`[tincan] ${line}\n`);
        const rec = parseLogfmt(line);
        if (rec.msg === 'certificate' && rec.sha256) fingerprint = rec.sha256;
        if (rec.msg === 'listening') { clearTimeout(timer); ok(); }
      }
    });
    proc.stdout.resume();
    spawnFailed.then((err) => {
      clearTimeout(timer);
      fail(new Error(`cannot start ${BIN}: ${err.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      fail(new Error(`tincan exited (${code ?? signal}) before listening:\n${logs.join('\n')}`));
    });
  });
  let stopped = null;
  const stop = (signal = 'SIGTERM') => {
    if (!stopped) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      stopped = exited.then((res) => {
        if (ownData) rmSync(dataDir, { recursive: true, force: true });
        return res;
      });
    }
    return stopped;
  };
  return { port, url: `https://127.0.0.1:${port}`, fingerprint, proc, dataDir, logs, exited, stop };
}
