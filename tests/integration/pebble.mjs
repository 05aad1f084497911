// Starts Let's Encrypt's test CA for a test: pebble-challtestsrv as the DNS
// server (every name resolves to 127.0.0.1) and pebble, both on loopback,
// with full challenge validation. pebble validates by connecting to the
// ports given (tlsPort for TLS-ALPN-01, httpPort for HTTP-01), which the
// test points at tincan.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../lib/server.mjs';

/** Makes a CA and a certificate for 127.0.0.1/localhost signed by it. */
function makePebbleCert(dir) {
  const run = (args) => execFileSync('openssl', args, { stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-days', '2',
    '-subj', '/CN=tincan test CA for pebble']);
  run(['req', ...ec, '-keyout', join(dir, 'pebble.key'), '-out', join(dir, 'pebble.csr'), '-subj', '/CN=localhost']);
  writeFileSync(join(dir, 'ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run(['x509', '-req', '-in', join(dir, 'pebble.csr'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'),
    '-CAcreateserial', '-out', join(dir, 'pebble.pem'), '-days', '2', '-extfile', join(dir, 'ext')]);
}

/** Spawns cmd and resolves once a line of its output matches ready. */
function spawnUntil(cmd, args, env, ready, logs) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${cmd} did not start:\n${logs.join('\n')}`)), 20000);
    const onData = (chunk) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        logs.push(line);
        if (process.env.TINCAN_TEST_VERBOSE) process.stderr.write(`[${cmd}] ${line}\n`);
        if (ready.test(line)) { clearTimeout(timer); ok(proc); }
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('error', (e) => { clearTimeout(timer); fail(e); });
    proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`${cmd} exited (${code}):\n${logs.join('\n')}`)); });
  });
}

function stopProc(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  const gone = new Promise((ok) => proc.once('exit', ok));
  proc.kill('SIGKILL');
  return gone;
}

/**
 * Starts challtestsrv and pebble. opts.tlsPort / opts.httpPort: where pebble
 * validates challenges; opts.validitySeconds: lifetime of the certificates
 * it issues (pebble's default is 5 years). Returns { directory, caFile, logs, root(), intermediate(),
 * stop() }.
 */
export async function startPebble(opts) {
  const dir = mkdtempSync(join(tmpdir(), 'tincan-pebble-'));
  makePebbleCert(dir);
  const [dnsPort, challMgmt, acmePort, mgmtPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dir, 'pebble.json'), JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: join(dir, 'pebble.pem'), privateKey: join(dir, 'pebble.key'),
      httpPort: opts.httpPort, tlsPort: opts.tlsPort, ocspResponderURL: '', externalAccountBindingRequired: false,
      ...(opts.validitySeconds ? { certificateValidityPeriod: opts.validitySeconds } : {}),
    },
  }));
  const logs = [];
  const procs = [];
  try {
    procs.push(await spawnUntil('pebble-challtestsrv', ['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '',
      '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${challMgmt}`, '-defaultIPv4', '127.0.0.1',
      '-defaultIPv6', ''], {}, /Starting management server/, logs));
    // Full validation: no PEBBLE_VA_ALWAYS_VALID. No sleeps, no spurious
    // nonce rejections, and no reuse of earlier authorizations, so every
    // order is validated against tincan again.
    procs.push(await spawnUntil('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`],
      { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' }, /Listening on/, logs));
  } catch (e) {
    await Promise.all(procs.map(stopProc));
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const caFile = join(dir, 'ca.pem');
  const ca = readFileSync(caFile);
  const mgmt = (path) => new Promise((ok, fail) => {
    https.get({ host: '127.0.0.1', port: mgmtPort, path, ca, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => (res.statusCode === 200 ? ok(body) : fail(new Error(`${path}: ${res.statusCode}`))));
    }).on('error', fail);
  });
  return {
    directory: `https://127.0.0.1:${acmePort}/dir`,
    caFile,
    logs,
    /** pebble's root and intermediate (PEM), from its management API. */
    root: () => mgmt('/roots/0'),
    intermediate: () => mgmt('/intermediates/0'),
    /** Kills pebble only (the CA goes away; DNS stays). */
    killCA: () => stopProc(procs[1]),
    stop: async () => {
      await Promise.all(procs.map(stopProc));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
