// Automatic certificates against a real ACME CA: Debian's pebble (Let's
// Encrypt's test server) with pebble-challtestsrv as DNS, full validation.
// tincan must get a certificate by TLS-ALPN-01 on its one port and by
// HTTP-01 on --http-port, renew it on demand without a restart (an open
// connection stays up), keep it when the CA is gone, and reuse it after a
// restart without asking the CA. A second pebble issuing 10-day
// certificates checks that a changed CA means a new account and
// certificate (the first CA's stays stored), that short-lived certificates
// are not re-ordered at once, that adding a --domain keeps the stored
// certificate served meanwhile, and that an acme-tls/1 handshake during a
// pending challenge never reaches HTTP.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { freePort } from '../lib/server.mjs';
import { start, sleep, parseLogfmt, request } from './net.mjs';
import { scrape } from './prom.mjs';
import { startPebble } from './pebble.mjs';
import { wsClient } from './wsclient.mjs';

const T = { timeout: 90000 };
const DOMAIN = 'call.tincan.test';

/** Waits until a log line after index from satisfies pred (parsed logfmt). */
async function waitLog(srv, from, pred, ms = 45000) {
  for (let waited = 0; waited < ms; waited += 100) {
    const hit = srv.logs.slice(from).map(parseLogfmt).find(pred);
    if (hit) return hit;
    await sleep(100);
  }
  throw new Error(`log line not found:\n${srv.logs.join('\n')}`);
}

/** Connects with servername and verifies the chain and name against
 * pebble's root only: that succeeds only if tincan also sends the
 * intermediate. */
function served(port, root, servername = DOMAIN) {
  return new Promise((ok, fail) => {
    const sock = tls.connect({ host: '127.0.0.1', port, servername, ca: [root] }, () => {
      const cert = sock.getPeerX509Certificate();
      sock.destroy();
      ok({ cert });
    });
    sock.on('error', fail);
  });
}

function mode(path) {
  return (statSync(path).mode & 0o777).toString(8);
}

/** <data-dir>/acme/<first 16 hex digits of SHA-256 of the directory URL>. */
function caDir(dataDir, directory) {
  return join(dataDir, 'acme', createHash('sha256').update(directory).digest('hex').slice(0, 16));
}

/** A TCP forwarder to port that holds every connection until open() (the
 * CA's validation waits there, so its challenge stays pending). */
async function gate(port) {
  let release;
  let opened = new Promise((ok) => { release = ok; });
  const socks = new Set();
  const server = net.createServer((inbound) => {
    socks.add(inbound);
    inbound.pause();
    opened.then(() => {
      const out = net.connect(port, '127.0.0.1');
      socks.add(out);
      inbound.pipe(out).pipe(inbound);
      inbound.resume();
      out.on('error', () => inbound.destroy());
      inbound.on('error', () => out.destroy());
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    port: server.address().port,
    open: () => release(),
    close: () => { for (const s of socks) s.destroy(); return new Promise((ok) => server.close(ok)); },
  };
}

/** An acme-tls/1 handshake, then an HTTP request: returns the ALPN agreed
 * and every byte that came back before the server closed. */
function alpnThenHttp(port) {
  return new Promise((ok, fail) => {
    const sock = tls.connect({ host: '127.0.0.1', port, servername: DOMAIN, ALPNProtocols: ['acme-tls/1'],
      rejectUnauthorized: false }, () => {
      const alpn = sock.alpnProtocol;
      const cert = sock.getPeerX509Certificate();
      sock.write(`GET / HTTP/1.1\r\nHost: ${DOMAIN}\r\n\r\n`, () => {});
      let got = '';
      sock.on('data', (d) => { got += d; });
      sock.on('close', () => ok({ alpn, cert, got }));
      setTimeout(() => { sock.destroy(); fail(new Error('not closed within 5 s')); }, 5000);
    });
    sock.on('error', (e) => (e.code === 'ECONNRESET' ? null : fail(e)));
  });
}

describe('ACME against pebble', () => {
  let pebble, pebble2, held, port, httpPort, dataDir, srv, root, intermediate;
  const acmeArgs = (ca = pebble) => ['--domain', DOMAIN, '--acme-email', 'admin@tincan.test',
    '--acme-directory', ca.directory, '--acme-ca-cert', ca.caFile];

  before(async () => {
    port = await freePort();
    httpPort = await freePort();
    pebble = await startPebble({ tlsPort: port, httpPort });
    root = await pebble.root();
    intermediate = new X509Certificate(await pebble.intermediate());
    held = await gate(port);
    pebble2 = await startPebble({ tlsPort: held.port, httpPort, validitySeconds: 10 * 86400 });
    dataDir = mkdtempSync(join(tmpdir(), 'tincan-acme-'));
  });
  after(async () => {
    await srv?.stop();
    await pebble?.stop();
    await pebble2?.stop();
    await held?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('first issuance by TLS-ALPN-01: the served certificate chains to pebble and names the domain', T, async () => {
    srv = await start({ port, dataDir, args: acmeArgs() });
    const first = srv.logs.map(parseLogfmt).find((r) => r.msg === 'certificate');
    assert.equal(first.self_signed, 'true', 'the self-signed certificate is served until ACME is done');
    const ch = await waitLog(srv, 0, (r) => r.msg === 'acme_challenge');
    assert.equal(ch.type, 'tls-alpn-01');
    await waitLog(srv, 0, (r) => r.msg === 'certificate' && r.source === 'acme');
    const { cert } = await served(port, root);
    assert.equal(cert.checkHost(DOMAIN), DOMAIN);
    assert.ok(cert.checkIssued(intermediate), 'issued by pebble\'s intermediate');
    assert.ok(pebble.logs.some((l) => /set VALID by completed challenge/.test(l)), 'pebble validated a challenge');
    const dir = caDir(dataDir, pebble.directory);
    for (const f of ['account.key', `${DOMAIN}.pem`]) assert.equal(mode(join(dir, f)), '600', f);
    assert.equal(readFileSync(join(dir, 'directory.url'), 'utf8').trim(), pebble.directory);
    const pem = readFileSync(join(dir, `${DOMAIN}.pem`), 'utf8');
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----/, 'key and chain in one file, key first');
    assert.equal(pem.match(/BEGIN CERTIFICATE/g).length, 2, 'leaf and intermediate');
    const { m } = await scrape(port);
    assert.equal(m.get('tincan_acme_certificate_expiry_timestamp_seconds'), Date.parse(cert.validTo) / 1000);
    assert.ok(m.get('tincan_acme_last_success_timestamp_seconds') > Date.now() / 1000 - 120);
    assert.equal(m.get('tincan_acme_failures_total'), 0);
  });

  test('acme-tls/1 without a pending challenge gets the ordinary certificate', T, async () => {
    const { cert } = await served(port, root);
    const sock = await new Promise((ok, fail) => {
      const s = tls.connect({ host: '127.0.0.1', port, servername: DOMAIN, ALPNProtocols: ['acme-tls/1'], ca: [root] },
        () => ok(s));
      s.on('error', fail);
    });
    assert.equal(sock.alpnProtocol, false, 'acme-tls/1 is not agreed');
    assert.equal(sock.getPeerX509Certificate().serialNumber, cert.serialNumber);
    sock.destroy();
  });

  test('SIGUSR1 renews: a new certificate is served, no restart, an open WebSocket stays up', T, async () => {
    const before = (await served(port, root)).cert;
    const ws = await wsClient(port);
    assert.equal((await ws.next()).type, 'welcome');
    const pid = srv.proc.pid;
    const mark = srv.logs.length;
    srv.proc.kill('SIGUSR1');
    const order = await waitLog(srv, mark, (r) => r.msg === 'acme_order');
    assert.equal(order.reason, 'forced');
    await waitLog(srv, mark, (r) => r.msg === 'certificate' && r.source === 'acme');
    const after = (await served(port, root)).cert;
    assert.notEqual(after.serialNumber, before.serialNumber, 'a new certificate is served');
    assert.equal(srv.proc.pid, pid);
    ws.send({ type: 'still-there' });
    assert.equal((await ws.next()).code, 'unknown_type', 'the WebSocket opened before the renewal still works');
    ws.ws.close(1000);
    await ws.closed;
  });

  test('HTTP-01 on --http-port; everything else there is redirected to https', T, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tincan-acme-http-'));
    const other = await start({ dataDir: dir, args: [...acmeArgs(), '--domain', `www.${DOMAIN}`, '--http-port', String(httpPort),
      '--acme-challenge', 'http-01'] });
    try {
      const chs = [];
      for (const d of [DOMAIN, `www.${DOMAIN}`]) {
        chs.push(await waitLog(other, 0, (r) => r.msg === 'acme_challenge' && r.domain === d));
      }
      assert.deepEqual(chs.map((c) => c.type), ['http-01', 'http-01']);
      await waitLog(other, 0, (r) => r.msg === 'certificate' && r.source === 'acme');
      const { cert } = await served(other.port, root, `www.${DOMAIN}`);
      assert.equal(cert.checkHost(`www.${DOMAIN}`), `www.${DOMAIN}`);
      assert.equal(cert.checkHost(DOMAIN), DOMAIN);
      const res = await request(httpPort, 'GET', '/room/abc?x=1', { Host: DOMAIN }, { plain: true });
      assert.equal(res.status, 308);
      assert.equal(res.headers.location, `https://${DOMAIN}:${other.port}/room/abc?x=1`);
      const miss = await request(httpPort, 'GET', '/.well-known/acme-challenge/nope', { Host: DOMAIN }, { plain: true });
      assert.equal(miss.status, 308, 'no pending challenge: just the redirect');
    } finally {
      await other.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a renewal while the CA is down keeps the current certificate and logs acme_failed', T, async () => {
    const before = (await served(port, root)).cert;
    await pebble.killCA();
    const mark = srv.logs.length;
    srv.proc.kill('SIGUSR1');
    const failed = await waitLog(srv, mark, (r) => r.msg === 'acme_failed');
    assert.equal(failed.level, 'warn');
    assert.match(failed.error, /connect/);
    assert.equal(failed.retry_in, '60', 'retried with backoff');
    const after = (await served(port, root)).cert;
    assert.equal(after.serialNumber, before.serialNumber, 'the certificate in place is still served');
    const { m } = await scrape(port);
    assert.equal(m.get('tincan_acme_failures_total'), 1);
    assert.equal(m.get('tincan_acme_certificate_expiry_timestamp_seconds'), Date.parse(after.validTo) / 1000);
  });

  test('a restart reuses the stored certificate without contacting the CA', T, async () => {
    const before = (await served(port, root)).cert;
    await srv.stop();
    srv = await start({ port, dataDir, args: acmeArgs() });
    const cert = srv.logs.map(parseLogfmt).find((r) => r.msg === 'certificate');
    assert.equal(cert.source, 'acme', 'the stored certificate is served from the start');
    const reused = await waitLog(srv, 0, (r) => r.msg === 'acme_certificate');
    assert.equal(reused.reused, 'true');
    await sleep(1000);
    assert.ok(!srv.logs.some((l) => l.includes('msg=acme_order')), 'no order was started');
    assert.equal((await served(port, root)).cert.serialNumber, before.serialNumber);
  });

  test('another CA: a new account and certificate; a 10-day certificate is not re-ordered at once; acme-tls/1 never reaches HTTP', T, async () => {
    await srv.stop();
    srv = await start({ port, dataDir, args: acmeArgs(pebble2) });
    const first = srv.logs.map(parseLogfmt).find((r) => r.msg === 'certificate');
    assert.equal(first.self_signed, 'true', 'the first CA\'s certificate is not reused for the second');
    const order = await waitLog(srv, 0, (r) => r.msg === 'acme_order');
    assert.equal(order.reason, 'no_certificate');
    assert.equal((await waitLog(srv, 0, (r) => r.msg === 'acme_account')).created, 'true', 'an account at the new CA');
    const ch = await waitLog(srv, 0, (r) => r.msg === 'acme_challenge');
    assert.equal(ch.type, 'tls-alpn-01');
    // pebble's validation connection waits at the gate: the challenge is pending.
    const probe = await alpnThenHttp(port);
    assert.equal(probe.alpn, 'acme-tls/1', 'the challenge certificate was offered');
    assert.equal(probe.got, '', 'no HTTP answer on an acme-tls/1 connection');
    held.open();
    const done = await waitLog(srv, 0, (r) => r.msg === 'certificate' && r.source === 'acme');
    assert.ok(done);
    const root2 = await pebble2.root();
    const { cert } = await served(port, root2);
    assert.ok(cert.checkIssued(new X509Certificate(await pebble2.intermediate())), 'issued by the second CA');
    const life = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 1000;
    assert.ok(life <= 10 * 86400 + 60, `a short-lived certificate (${life} s)`);
    const stored = await waitLog(srv, 0, (r) => r.msg === 'acme_certificate' && r.stored);
    const renewIn = Number(stored.renew_in);
    assert.ok(renewIn > 6 * 86400 && renewIn <= (2 * 10 * 86400) / 3 + 5, `renewal at a third of the lifetime before expiry, not now (${renewIn})`);
    await sleep(3000);
    assert.equal(srv.logs.filter((l) => l.includes('msg=acme_order')).length, 1, 'ordered once');
    assert.ok(existsSync(join(caDir(dataDir, pebble.directory), `${DOMAIN}.pem`)), 'the first CA\'s certificate is kept');
    assert.ok(existsSync(join(caDir(dataDir, pebble2.directory), `${DOMAIN}.pem`)));
  });

  test('adding a --domain keeps serving the stored certificate while one for every name is ordered (TLS-ALPN-01 despite --http-port)', T, async () => {
    const before = (await served(port, await pebble2.root())).cert;
    await srv.stop();
    // --http-port too: with --acme-challenge auto, TLS-ALPN-01 is still preferred.
    srv = await start({ port, dataDir, args: [...acmeArgs(pebble2), '--domain', `www.${DOMAIN}`, '--http-port', String(httpPort)] });
    const first = srv.logs.map(parseLogfmt).find((r) => r.msg === 'certificate');
    assert.equal(first.source, 'acme', 'the stored certificate for the first name is served from the start');
    const order = await waitLog(srv, 0, (r) => r.msg === 'acme_order');
    assert.equal(order.reason, 'domains_changed');
    for (const d of [DOMAIN, `www.${DOMAIN}`]) {
      assert.equal((await waitLog(srv, 0, (r) => r.msg === 'acme_challenge' && r.domain === d)).type, 'tls-alpn-01', d);
    }
    const firstAt = srv.logs.findIndex((l) => l.includes('msg=certificate '));
    await waitLog(srv, firstAt + 1, (r) => r.msg === 'certificate' && r.source === 'acme');
    const { cert } = await served(port, await pebble2.root(), `www.${DOMAIN}`);
    assert.notEqual(cert.serialNumber, before.serialNumber);
    assert.equal(cert.checkHost(`www.${DOMAIN}`), `www.${DOMAIN}`);
    assert.equal(cert.checkHost(DOMAIN), DOMAIN);
  });

  test('back to the first CA: its stored certificate is reused without an order', T, async () => {
    await srv.stop();
    srv = await start({ port, dataDir, args: acmeArgs(pebble) });
    const reused = await waitLog(srv, 0, (r) => r.msg === 'acme_certificate');
    assert.equal(reused.reused, 'true');
    await sleep(1000);
    assert.ok(!srv.logs.some((l) => l.includes('msg=acme_order')), 'no order was started');
    const { cert } = await served(port, root);
    assert.ok(cert.checkIssued(intermediate));
  });
});

describe('ACME with a CA issuing 30-second certificates', () => {
  test('a certificate due for renewal on arrival is served but counts as a failure: one order, then backoff', T, async () => {
    const port = await freePort();
    const ca = await startPebble({ tlsPort: port, httpPort: await freePort(), validitySeconds: 30 });
    let srv;
    try {
      srv = await start({ port, args: ['--domain', DOMAIN, '--acme-directory', ca.directory, '--acme-ca-cert', ca.caFile] });
      const failed = await waitLog(srv, 0, (r) => r.msg === 'acme_failed');
      assert.match(failed.error, /due for renewal at once/);
      assert.equal(failed.retry_in, '60');
      assert.ok(srv.logs.some((l) => /msg=certificate .*source=acme/.test(l)), 'the new certificate is served anyway');
      await sleep(3000);
      assert.equal(srv.logs.filter((l) => l.includes('msg=acme_order')).length, 1, 'no second order before the backoff');
      const { m } = await scrape(port);
      assert.equal(m.get('tincan_acme_failures_total'), 1);
    } finally {
      await srv?.stop();
      await ca.stop();
    }
  });
});

describe('ACME shutdown', () => {
  test('SIGTERM while connecting to a CA that never answers: the worker gives up and exits within 2.5 s', T, async () => {
    // A listener whose accept queue is full: the kernel drops further SYNs,
    // so a connect() to it hangs.
    const py = spawn('python3', ['-c', `
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for _ in range(3):
    c = socket.socket(); c.setblocking(False); c.connect_ex(('127.0.0.1', port)); fill.append(c)
print(port, flush=True)
time.sleep(120)
`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const caPort = await new Promise((ok) => py.stdout.once('data', (d) => ok(Number(String(d).trim()))));
      await sleep(300);
      const srv = await start({ args: ['--domain', DOMAIN, '--acme-directory', `https://127.0.0.1:${caPort}/dir`] });
      await waitLog(srv, 0, (r) => r.msg === 'acme_order');
      await sleep(1500);
      assert.ok(!srv.logs.some((l) => l.includes('msg=acme_failed')), 'still connecting');
      const t0 = Date.now();
      await srv.stop('SIGTERM', 20000);
      const took = Date.now() - t0;
      assert.ok(took < 2500, `exited after ${took} ms`);
      assert.equal(srv.proc.exitCode, 0);
      assert.ok(!srv.logs.some((l) => l.includes('msg=acme_worker_abandoned')), 'the worker noticed the cancel and was joined');
    } finally {
      py.kill('SIGKILL');
    }
  });
});
