// Configuration: flags, TINCAN_* environment, --config files, .env in the
// working directory, precedence, --help and --version, and clear startup
// errors.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../lib/server.mjs';
import { wsClient } from './wsclient.mjs';
import {
  spawnTincan, within, request, sleep, tlsConnect, Reader, readResponse, buildRequest,
} from './net.mjs';

const T = { timeout: 20000 };

/** Spawns with TINCAN_* variables of whoever runs the tests removed. */
const run = (args, { env = {}, cwd } = {}) => spawnTincan(args, { env, cwd: cwd || tmp('cwd'), cleanEnv: true });

/** Runs to completion (for --help, --version, bad flags); kills after ms. */
async function runToExit(args, opts = {}, ms = 5000) {
  const p = run(args, opts);
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), ms);
  const res = await p.exited;
  clearTimeout(timer);
  return { ...res, out: p.out(), err: p.err(), all: p.out() + p.err() };
}

let dirs = [];
const tmp = (name) => {
  const d = mkdtempSync(join(tmpdir(), `tincan-${name}-`));
  dirs.push(d);
  return d;
};
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); dirs = []; });

/** Starts with args and waits for `msg=listening`; returns { p, rec }. */
async function startListening(args, opts = {}) {
  const p = run(args, opts);
  try {
    const rec = await p.waitLog((r) => r.msg === 'listening', 15000);
    return { p, rec };
  } catch (e) {
    await p.kill();
    throw e;
  }
}

describe('command line', () => {
  test('--port abc exits non-zero and names the port option', T, async () => {
    const r = await runToExit(['--port', 'abc', '--data-dir', tmp('bad')]);
    assert.notEqual(r.code, 0, `exit code ${r.code} (signal ${r.signal})`);
    assert.equal(r.signal, null, 'exited by itself, not killed');
    assert.match(r.all, /port/i);
    assert.doesNotMatch(r.all, /msg=listening/);
  });

  for (const [args, word] of [
    [['--port', '70000'], /port/i],
    [['--port', '-1'], /port/i],
    [['--port', '8443x'], /port/i],
    [['--log-level', 'loud'], /log-level|log_level/i],
    [['--no-such-option'], /no-such-option/],
    [['--ws-max-message', 'lots'], /ws-max-message|ws_max_message/i],
    [['--header-timeout', '-5'], /header-timeout|header_timeout/i],
    [['--port'], /port/i],
  ]) {
    test(`${args.join(' ')} exits non-zero with a message naming it`, T, async () => {
      const r = await runToExit([...args, '--bind', '127.0.0.1', '--data-dir', tmp('bad')]);
      assert.notEqual(r.code, 0, `exit code ${r.code} (signal ${r.signal}); output: ${r.all}`);
      assert.equal(r.signal, null, 'exited by itself, not killed');
      assert.match(r.all, word);
    });
  }

  test('--help lists every option and exits 0', T, async () => {
    const r = await runToExit(['--help']);
    assert.equal(r.code, 0);
    const options = ['--port', '--bind', '--cert', '--key', '--data-dir', '--web-root', '--log-level', '--san',
      '--allow-origin', '--max-conns-per-ip', '--ws-max-message', '--header-timeout', '--keepalive-timeout',
      '--tls-timeout', '--ws-ping-interval', '--config', '--help', '--version'];
    const missing = options.filter((o) => !new RegExp(`${o}(?![\\w-])`).test(r.all));
    assert.deepEqual(missing, [], `--help output:\n${r.all}`);
    assert.ok(r.out.length > 0, '--help prints to stdout');
  });

  test('--version prints a version and exits 0; /health reports the same', T, async () => {
    const r = await runToExit(['--version']);
    assert.equal(r.code, 0);
    const m = /\b(\d+\.\d+\.\d+)\b/.exec(r.out);
    assert.ok(m, `--version stdout: ${JSON.stringify(r.out)}`);
    const port = await freePort();
    const { p } = await startListening(['--port', String(port), '--bind', '127.0.0.1', '--data-dir', tmp('ver')]);
    try {
      const h = JSON.parse((await request(port, 'GET', '/health')).body.toString());
      assert.equal(h.version, m[1], '--version and /health agree');
    } finally {
      await p.kill();
    }
  });

  test('a port already in use is a clear startup error', T, async () => {
    const blocker = net.createServer();
    await new Promise((ok) => blocker.listen(0, '127.0.0.1', ok));
    const { port } = blocker.address();
    try {
      const r = await runToExit(['--port', String(port), '--bind', '127.0.0.1', '--data-dir', tmp('inuse')], {}, 8000);
      assert.notEqual(r.code, 0, `exit code ${r.code} (signal ${r.signal})`);
      assert.equal(r.signal, null, 'exited by itself');
      assert.match(r.all, /in use|EADDRINUSE|bind/i);
    } finally {
      blocker.close();
    }
  });

  test('a missing --cert file is a clear startup error', T, async () => {
    const d = tmp('nocert');
    const r = await runToExit(['--port', String(await freePort()), '--bind', '127.0.0.1', '--data-dir', d,
      '--cert', join(d, 'missing-cert.pem'), '--key', join(d, 'missing-key.pem')]);
    assert.notEqual(r.code, 0);
    assert.equal(r.signal, null);
    assert.match(r.all, /missing-cert\.pem|cert/i);
  });
});

describe('environment and files', () => {
  const procs = [];
  after(async () => { for (const p of procs) await p.kill(); });

  test('TINCAN_PORT is honoured', T, async () => {
    const port = await freePort();
    const { p, rec } = await startListening(['--bind', '127.0.0.1', '--data-dir', tmp('env')], { env: { TINCAN_PORT: String(port) } });
    procs.push(p);
    assert.equal(Number(rec.port), port, 'listening log line names the port');
    assert.equal((await request(port, 'GET', '/health')).status, 200);
    await p.kill();
  });

  test('TINCAN_WS_MAX_MESSAGE style names (dashes → underscores) work', T, async () => {
    const port = await freePort();
    const { p } = await startListening([], {
      env: { TINCAN_PORT: String(port), TINCAN_BIND: '127.0.0.1', TINCAN_DATA_DIR: tmp('env2'), TINCAN_MAX_CONNS_PER_IP: '1' },
    });
    procs.push(p);
    assert.equal((await request(port, 'GET', '/health')).status, 200, 'TINCAN_BIND/TINCAN_DATA_DIR accepted');
    const held = await tlsConnect(port);
    try {
      const rd = new Reader(held);
      held.write(buildRequest(port, 'GET', '/health'));
      assert.equal((await readResponse(rd)).status, 200);
      let second;
      try {
        second = await within(request(port, 'GET', '/health'), 4000, 'second connection');
      } catch { second = null; }
      assert.notEqual(second?.status, 200, 'TINCAN_MAX_CONNS_PER_IP=1 allowed a second connection');
    } finally {
      held.destroy();
      await p.kill();
    }
  });

  test('--config file with port = N (comments and blank lines allowed)', T, async () => {
    const d = tmp('conf');
    const port = await freePort();
    const file = join(d, 'tincan.conf');
    writeFileSync(file, `# tincan test config\n\nport = ${port}\n  bind=127.0.0.1  \n# data-dir = /nonexistent\ndata-dir = ${join(d, 'data')}\n`);
    const { p, rec } = await startListening(['--config', file]);
    procs.push(p);
    assert.equal(Number(rec.port), port);
    assert.equal((await request(port, 'GET', '/health')).status, 200);
    await p.kill();
  });

  test('--config with an unknown key or bad value fails naming it', T, async () => {
    const d = tmp('conf-bad');
    const file = join(d, 'tincan.conf');
    writeFileSync(file, 'port = notaport\n');
    const r = await runToExit(['--config', file, '--data-dir', d]);
    assert.notEqual(r.code, 0);
    assert.match(r.all, /port/i);
    writeFileSync(file, `port = ${await freePort()}\nfrobnicate = yes\n`);
    const r2 = await runToExit(['--config', file, '--data-dir', d, '--bind', '127.0.0.1']);
    assert.notEqual(r2.code, 0, `unknown config key accepted; output: ${r2.all}`);
    assert.match(r2.all, /frobnicate/);
  });

  test('a missing --config file is a startup error', T, async () => {
    const d = tmp('conf-missing');
    const r = await runToExit(['--config', join(d, 'nope.conf'), '--data-dir', d]);
    assert.notEqual(r.code, 0);
    assert.match(r.all, /nope\.conf|config/i);
  });

  test('.env in the working directory sets the port', T, async () => {
    const cwd = tmp('dotenv');
    const port = await freePort();
    writeFileSync(join(cwd, '.env'), `# comment\nTINCAN_PORT=${port}\nTINCAN_BIND=127.0.0.1\n`);
    const { p, rec } = await startListening(['--data-dir', join(cwd, 'data')], { cwd });
    procs.push(p);
    assert.equal(Number(rec.port), port);
    assert.equal((await request(port, 'GET', '/health')).status, 200);
    await p.kill();
  });

  test('.env TINCAN_LOG_LEVEL=warn silences info lines', T, async () => {
    const cwd = tmp('dotenv-log');
    const port = await freePort();
    writeFileSync(join(cwd, '.env'), `TINCAN_LOG_LEVEL=warn\nTINCAN_PORT=${port}\n`);
    const p = run(['--bind', '127.0.0.1', '--data-dir', join(cwd, 'data')], { cwd });
    procs.push(p);
    let ok = false;
    for (let i = 0; i < 50 && !ok && p.proc.exitCode === null; i++) {
      await sleep(200);
      try { ok = (await request(port, 'GET', '/health', {}, { timeout: 1000 })).status === 200; } catch { /* not up yet */ }
    }
    assert.ok(ok, `server did not come up on ${port}; stderr:\n${p.err()}`);
    const chatty = p.err().split('\n').filter((l) => /\blevel=(info|debug)\b/.test(l));
    assert.deepEqual(chatty, [], 'info/debug lines printed at log level warn');
    await p.kill();
  });

  test('quoted .env values are understood', T, async () => {
    const cwd = tmp('dotenv-quote');
    const port = await freePort();
    writeFileSync(join(cwd, '.env'), `TINCAN_PORT="${port}"\nTINCAN_BIND='127.0.0.1'\n`);
    const { p, rec } = await startListening(['--data-dir', join(cwd, 'data')], { cwd });
    procs.push(p);
    assert.equal(Number(rec.port), port);
    await p.kill();
  });

  test('precedence: flag beats environment, environment beats .env', T, async () => {
    const cwd = tmp('prec');
    const [a, b, c] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(join(cwd, '.env'), `TINCAN_PORT=${c}\n`);
    const one = await startListening(['--port', String(a), '--bind', '127.0.0.1', '--data-dir', join(cwd, 'd1')],
      { cwd, env: { TINCAN_PORT: String(b) } });
    procs.push(one.p);
    assert.equal(Number(one.rec.port), a, 'flag --port wins over TINCAN_PORT and .env');
    await one.p.kill();
    const two = await startListening(['--bind', '127.0.0.1', '--data-dir', join(cwd, 'd2')],
      { cwd, env: { TINCAN_PORT: String(b) } });
    procs.push(two.p);
    assert.equal(Number(two.rec.port), b, 'real environment wins over .env');
    await two.p.kill();
  });

  test('unrelated TINCAN_* variables (e.g. TINCAN_BIN) do not stop the server', T, async () => {
    const port = await freePort();
    const { p } = await startListening(['--port', String(port), '--bind', '127.0.0.1', '--data-dir', tmp('extra')],
      { env: { TINCAN_BIN: '/some/path/tincan', TINCAN_TEST_VERBOSE: '1' } });
    procs.push(p);
    assert.equal((await request(port, 'GET', '/health')).status, 200);
    await p.kill();
  });
});

describe('listening addresses', () => {
  test('without --bind the port answers on both 127.0.0.1 and ::1', T, async () => {
    const port = await freePort();
    const { p } = await startListening(['--port', String(port), '--data-dir', tmp('bind-all')]);
    try {
      assert.equal((await request(port, 'GET', '/health')).status, 200, 'IPv4 loopback');
      const v6 = await tlsConnect(port, { host: '::1' });
      const r = new Reader(v6);
      v6.write(buildRequest(port, 'GET', '/health'));
      assert.equal((await readResponse(r)).status, 200, 'IPv6 loopback');
      v6.destroy();
    } finally {
      await p.kill();
    }
  });

  test('--bind ::1 serves IPv6 only', T, async () => {
    const port = await freePort();
    const { p } = await startListening(['--port', String(port), '--bind', '::1', '--data-dir', tmp('bind-v6')]);
    try {
      const v6 = await tlsConnect(port, { host: '::1' });
      const r = new Reader(v6);
      v6.write(buildRequest(port, 'GET', '/health'));
      assert.equal((await readResponse(r)).status, 200);
      v6.destroy();
      await assert.rejects(tlsConnect(port), /ECONNREFUSED/, '127.0.0.1 must not be served with --bind ::1');
    } finally {
      await p.kill();
    }
  });
});

describe('logging', () => {
  test('startup logs are logfmt with ts, level, msg and the fingerprint', T, async () => {
    const port = await freePort();
    const { p } = await startListening(['--port', String(port), '--bind', '127.0.0.1', '--data-dir', tmp('log')]);
    try {
      const lines = p.err().split('\n').filter(Boolean);
      for (const l of lines) {
        assert.match(l, /^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z level=(debug|info|warn|error) msg=/, `not logfmt: ${l}`);
      }
      assert.ok(lines.some((l) => /msg=certificate .*sha256=([0-9A-F]{2}:){31}[0-9A-F]{2}\b/i.test(l)), 'certificate fingerprint logged');
    } finally {
      await p.kill();
    }
  });

  test('at the default level, client addresses are not logged (privacy)', T, async () => {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--data-dir', tmp('privacy')];
    const p = run(args);
    try {
      await p.waitLog((r) => r.msg === 'listening', 15000);
      const clientPorts = [];
      for (const path of ['/', '/health', '/nope']) {
        const sock = await tlsConnect(port);
        clientPorts.push(sock.localPort);
        const r = new Reader(sock);
        sock.write(buildRequest(port, 'GET', path));
        await readResponse(r);
        sock.destroy();
      }
      const c = await wsClient(port);
      clientPorts.push(c.ws._socket.localPort);
      await c.next();
      c.send({ type: 'nope' });
      await c.next();
      c.ws.close(1000);
      await c.closed;
      await sleep(300);
      const leaks = p.err().split('\n').filter((l) => clientPorts.some((cp) => new RegExp(`(^|[^0-9a-fA-F])${cp}([^0-9a-fA-F]|$)`).test(l)));
      assert.deepEqual(leaks, [], `log lines naming a client's address (client ports ${clientPorts.join(',')})`);
    } finally {
      await p.kill();
    }
  });
});
