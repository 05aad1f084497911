// SIGHUP reloads the certificate and key without dropping connections; a
// broken file on reload keeps the certificate that works.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, tlsConnect, sleep } from './net.mjs';
import { wsClient } from './wsclient.mjs';

const T = { timeout: 30000 };

function makeCert(dir, name) {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}

async function servedFingerprint(port) {
  const sock = await tlsConnect(port);
  try {
    return sock.getPeerCertificate().fingerprint256;
  } finally {
    sock.destroy();
  }
}

/** Waits until the server logs a line with msg=<msg> after index from. */
async function waitLog(srv, msg, from) {
  for (let i = 0; i < 100; i++) {
    if (srv.logs.slice(from).some((l) => l.includes(`msg=${msg}`))) return;
    await sleep(50);
  }
  throw new Error(`no msg=${msg} in the log:\n${srv.logs.join('\n')}`);
}

describe('SIGHUP reload', () => {
  let dir, live, first, second, srv;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tincan-reload-'));
    first = makeCert(dir, 'first');
    second = makeCert(dir, 'second');
    live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    copyFileSync(first.cert, live.cert);
    copyFileSync(first.key, live.key);
    srv = await start({ args: ['--cert', live.cert, '--key', live.key] });
  });
  after(async () => {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('new connections get the new certificate, an open WebSocket stays up', T, async () => {
    const before = await servedFingerprint(srv.port);
    const ws = await wsClient(srv.port);
    assert.equal((await ws.next()).type, 'welcome');

    copyFileSync(second.cert, live.cert);
    copyFileSync(second.key, live.key);
    const mark = srv.logs.length;
    srv.proc.kill('SIGHUP');
    await waitLog(srv, 'certificate', mark);

    const after = await servedFingerprint(srv.port);
    assert.notEqual(after, before, 'the reloaded certificate is served');
    ws.send({ type: 'still-there' });
    const reply = await ws.next();
    assert.equal(reply.code, 'unknown_type', 'the WebSocket opened before the reload still works');
    ws.ws.close(1000);
    await ws.closed;
  });

  test('a broken certificate on reload keeps the working one', T, async () => {
    const before = await servedFingerprint(srv.port);
    writeFileSync(live.cert, 'not a certificate\n');
    const mark = srv.logs.length;
    srv.proc.kill('SIGHUP');
    await waitLog(srv, 'reload_failed', mark);
    assert.equal(await servedFingerprint(srv.port), before, 'still serving the previous certificate');
    assert.equal(srv.proc.exitCode, null, 'the server is still running');
  });
});
