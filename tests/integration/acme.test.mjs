// Automatic certificates against a real ACME CA: Debian's pebble (Let's
// Encrypt's test server) with pebble-challtestsrv as DNS, full validation.
// tincan must get a certificate by TLS-ALPN-01 on its one port and by
// HTTP-01 on --http-port, renew it on demand without a restart (an open
// connection stays up), keep it when the CA is gone, and reuse it after a
// restart without asking the CA.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { freePort } from '../lib/server.mjs';
import { start, sleep, parseLogfmt, request } from './net.mjs';
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

describe('ACME against pebble', () => {
  let pebble, port, httpPort, dataDir, srv, root, intermediate;
  const acmeArgs = () => ['--domain', DOMAIN, '--acme-email', 'admin@tincan.test',
    '--acme-directory', pebble.directory, '--acme-ca-cert', pebble.caFile];

  before(async () => {
    port = await freePort();
    httpPort = await freePort();
    pebble = await startPebble({ tlsPort: port, httpPort });
    root = await pebble.root();
    intermediate = new X509Certificate(await pebble.intermediate());
    dataDir = mkdtempSync(join(tmpdir(), 'tincan-acme-'));
  });
  after(async () => {
    await srv?.stop();
    await pebble?.stop();
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
    for (const f of ['account.key', `${DOMAIN}.crt`, `${DOMAIN}.key`]) assert.equal(mode(join(dataDir, 'acme', f)), '600', f);
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
    const other = await start({ dataDir: dir, args: [...acmeArgs(), '--domain', `www.${DOMAIN}`, '--http-port', String(httpPort)] });
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
});
