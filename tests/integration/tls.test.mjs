// The self-signed certificate: fingerprint printed at start, SANs, P-256,
// stored in the data directory and reused on restart; --cert/--key and --san.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, tlsConnect, request } from './net.mjs';

const T = { timeout: 30000 };

async function peerCert(port) {
  const sock = await tlsConnect(port);
  try {
    return { cert: sock.getPeerCertificate(), protocol: sock.getProtocol() };
  } finally {
    sock.destroy();
  }
}

const sameFp = (a, b) => String(a).toUpperCase() === String(b).toUpperCase();

describe('generated certificate', () => {
  let srv;
  before(async () => { srv = await start(); });
  after(async () => { await srv?.stop(); });

  test('the served certificate matches the fingerprint in the log', T, async () => {
    assert.ok(srv.fingerprint, 'msg=certificate sha256=... logged at start');
    assert.match(srv.fingerprint, /^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/, 'fingerprint is 32 colon-separated hex bytes');
    const { cert, protocol } = await peerCert(srv.port);
    assert.ok(sameFp(cert.fingerprint256, srv.fingerprint), `served ${cert.fingerprint256} vs logged ${srv.fingerprint}`);
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(protocol), `protocol ${protocol}`);
  });

  test('SANs include localhost and 127.0.0.1; key is ECDSA P-256', T, async () => {
    const { cert } = await peerCert(srv.port);
    const sans = (cert.subjectaltname || '').split(/,\s*/);
    assert.ok(sans.includes('DNS:localhost'), `SANs ${cert.subjectaltname}`);
    assert.ok(sans.includes('IP Address:127.0.0.1'), `SANs ${cert.subjectaltname}`);
    assert.equal(cert.asn1Curve, 'prime256v1', 'ECDSA P-256 key');
    assert.ok(new Date(cert.valid_to) > new Date(), 'not expired');
    assert.ok(new Date(cert.valid_from) <= new Date(Date.now() + 60000), 'already valid');
  });

  test('cert.pem and key.pem are in the data dir; the key is not world-readable', T, async () => {
    const certPath = join(srv.dataDir, 'cert.pem');
    const keyPath = join(srv.dataDir, 'key.pem');
    assert.ok(existsSync(certPath), 'cert.pem exists');
    assert.ok(existsSync(keyPath), 'key.pem exists');
    const x = new X509Certificate(readFileSync(certPath));
    assert.ok(sameFp(x.fingerprint256, srv.fingerprint), 'cert.pem is the served certificate');
    assert.equal(statSync(keyPath).mode & 0o077, 0, `key.pem mode ${(statSync(keyPath).mode & 0o777).toString(8)} must be 0600`);
  });
});

describe('certificate persistence', () => {
  test('restarting with the same data dir reuses the same certificate', T, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tincan-persist-'));
    let a;
    let b;
    try {
      a = await start({ dataDir });
      const first = (await peerCert(a.port)).cert.fingerprint256;
      await a.stop();
      b = await start({ dataDir });
      assert.ok(sameFp(b.fingerprint, a.fingerprint), `logged fingerprint changed: ${a.fingerprint} → ${b.fingerprint}`);
      const second = (await peerCert(b.port)).cert.fingerprint256;
      assert.ok(sameFp(first, second), `served fingerprint changed: ${first} → ${second}`);
    } finally {
      await a?.stop();
      await b?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a fresh data dir gets a different certificate', T, async () => {
    let a;
    let b;
    try {
      a = await start();
      b = await start();
      assert.ok(!sameFp(a.fingerprint, b.fingerprint), 'two data dirs share a key');
    } finally {
      await a?.stop();
      await b?.stop();
    }
  });
});

describe('--san', () => {
  let srv;
  before(async () => { srv = await start({ args: ['--san', 'call.example.test', '--san', '10.1.2.3'] }); });
  after(async () => { await srv?.stop(); });

  test('extra names appear as SANs next to the defaults', T, async () => {
    const { cert } = await peerCert(srv.port);
    const sans = (cert.subjectaltname || '').split(/,\s*/);
    assert.ok(sans.includes('DNS:call.example.test'), `SANs ${cert.subjectaltname}`);
    assert.ok(sans.includes('IP Address:10.1.2.3'), `an IP given to --san is an IP SAN: ${cert.subjectaltname}`);
    assert.ok(sans.includes('DNS:localhost'), `SANs ${cert.subjectaltname}`);
  });
});

describe('--cert/--key', () => {
  let srv;
  let dir;
  let own;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tincan-owncert-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=own.test',
      '-addext', 'subjectAltName=DNS:own.test'], { stdio: 'ignore' });
    own = new X509Certificate(readFileSync(join(dir, 'c.pem')));
    srv = await start({ args: ['--cert', join(dir, 'c.pem'), '--key', join(dir, 'k.pem')] });
  });
  after(async () => {
    await srv?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the given certificate is served and its fingerprint logged', T, async () => {
    const { cert } = await peerCert(srv.port);
    assert.ok(sameFp(cert.fingerprint256, own.fingerprint256), 'served certificate is the one from --cert');
    assert.ok(sameFp(srv.fingerprint, own.fingerprint256), 'logged fingerprint is the one of --cert');
    const h = await request(srv.port, 'GET', '/health');
    assert.equal(h.status, 200);
  });
});

/** Runs `openssl s_client` offering TLS 1.2 and only the given cipher;
 * returns the cipher the server chose, or null if the handshake failed. */
function handshakeWith(port, cipher) {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_2', '-cipher', cipher,
    '-servername', 'localhost'], { input: '', encoding: 'utf8', timeout: 10000 });
  const m = /Cipher is (\S+)/.exec(r.stdout);
  return m && m[1] !== '(NONE)' ? m[1] : null;
}

describe('TLS 1.2 cipher suites: ECDHE with AES-GCM or ChaCha20-Poly1305 only', () => {
  const good = { ecdsa: ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
    rsa: ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305'] };
  const bad = { ecdsa: ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ECDSA-AES128-CCM'],
    rsa: ['AES128-GCM-SHA256', 'AES256-SHA', 'DHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA256', 'DHE-RSA-CHACHA20-POLY1305'] };
  let dir;
  const servers = {};
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tincan-ciphers-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'),
      '-out', join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    servers.ecdsa = await start();
    servers.rsa = await start({ args: ['--cert', join(dir, 'c.pem'), '--key', join(dir, 'k.pem')] });
  });
  after(async () => {
    await servers.ecdsa?.stop();
    await servers.rsa?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const key of ['ecdsa', 'rsa']) {
    test(`${key} certificate: the allowed suites are negotiated`, T, () => {
      for (const c of good[key]) assert.equal(handshakeWith(servers[key].port, c), c, `${c} is accepted`);
    });
    test(`${key} certificate: RSA key exchange, DHE, CBC, CCM and SHA-1 suites are refused`, T, () => {
      for (const c of bad[key]) assert.equal(handshakeWith(servers[key].port, c), null, `${c} is refused`);
    });
  }

  test('TLS 1.3 still works', T, async () => {
    const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${servers.ecdsa.port}`, '-tls1_3'],
      { input: '', encoding: 'utf8', timeout: 10000 });
    assert.match(r.stdout, /TLSv1\.3, Cipher is TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)/);
  });
});
