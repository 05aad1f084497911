// The join-code REST API of seed 003 against the real binary over HTTPS:
// the documented curl session, every status code and error string, expiry,
// purge counts, persistence across a clean restart and across kill -9, the
// concurrent-accept race, --no-rest-api, the rate limit and a database that
// cannot be opened.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../lib/server.mjs';
import { start, spawnTincan, tlsConnect, Reader, readResponse, buildRequest, ROOT_DIR } from './net.mjs';

const T = { timeout: 30000 };
const FUTURE = '2030-01-01T00:00:00Z';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * One HTTPS request on its own connection (agent: false), as a mobile
 * client would send it. body: an object (sent as JSON) or a string.
 * Returns { status, headers, text, json }.
 */
function api(port, method, path, body, headers = {}) {
  return new Promise((ok, fail) => {
    const data = body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body);
    const req = https.request({
      host: '127.0.0.1', port, method, path, agent: false, rejectUnauthorized: false,
      headers: { ...(data !== null ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}), ...headers },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
        ok({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', fail);
    if (data !== null) req.write(data);
    req.end();
  });
}

const create = (port, joinid, client1, exp = FUTURE) => api(port, 'POST', '/api/rooms', { joinid, exp, client1 });
const accept = (port, joinid, client2) => api(port, 'POST', '/api/rooms/accept', { joinid, client2 });
const check = (port, joinid, client1) => api(port, 'POST', '/api/rooms/check', { joinid, client1 });

function expectError(res, status, error) {
  assert.equal(res.status, status, `status of ${res.text}`);
  assert.deepEqual(res.json, { error });
  assert.match(res.headers['content-type'] || '', /^application\/json/);
  assert.equal(res.headers['access-control-allow-origin'], '*');
}

/** Runs a shell command line (curl) and resolves with its stdout. */
function sh(cmd, env) {
  return new Promise((ok, fail) => {
    execFile('/bin/sh', ['-c', cmd], { env: { ...process.env, ...env }, timeout: 10000 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${cmd}: ${err.message} ${stderr}`));
      else ok(stdout);
    });
  });
}

/** The curl commands of docs/rest-api.md's example session with the lines that follow them. */
function docExamples() {
  const doc = readFileSync(join(ROOT_DIR, 'docs', 'rest-api.md'), 'utf8');
  const block = /## Example session[\s\S]*?```sh\n([\s\S]*?)```/.exec(doc)[1];
  const steps = [];
  let cmd = '';
  for (const line of block.split('\n')) {
    const m = /^# → (\d{3})(?: (.*))?$/.exec(line);
    if (m) {
      steps.push({ cmd, status: Number(m[1]), body: m[2] || '' });
      cmd = '';
    } else if (line.trim()) {
      cmd += line.endsWith('\\') ? line.slice(0, -1) : line + ' ';
    }
  }
  return steps;
}

describe('REST API on one server', () => {
  let srv;
  before(async () => { srv = await start({ args: ['--rest-rate', '0'] }); });
  after(async () => { await srv?.stop(); });

  test('the example session of docs/rest-api.md, run with curl, answers as documented', T, async () => {
    const steps = docExamples();
    assert.ok(steps.length >= 10, `found ${steps.length} documented commands`);
    const env = { TINCAN: srv.url, ROOMID: '' };
    for (const s of steps) {
      const out = await sh(`${s.cmd} -w '\\n%{http_code}'`, env);
      const nl = out.lastIndexOf('\n');
      const body = out.slice(0, nl);
      const status = Number(out.slice(nl + 1));
      assert.equal(status, s.status, `${s.cmd} → ${out}`);
      if (s.body.includes('<ROOMID>') && !env.ROOMID) {
        env.ROOMID = JSON.parse(body).roomid;
        assert.match(env.ROOMID, UUID);
      }
      assert.equal(body, s.body.replaceAll('<ROOMID>', env.ROOMID), s.cmd);
    }
  });

  test('pairing: create 201, check 204, accept 200 {roomid}, check 200 {roomid}, get, delete', T, async () => {
    const r1 = await create(srv.port, 'PAIR01', 'a');
    assert.equal(r1.status, 201);
    assert.deepEqual(r1.json, { ok: true });
    const waiting = await check(srv.port, 'PAIR01', 'a');
    assert.equal(waiting.status, 204);
    assert.equal(waiting.text, '');
    const acc = await accept(srv.port, 'PAIR01', 'b');
    assert.equal(acc.status, 200);
    assert.deepEqual(Object.keys(acc.json), ['roomid']);
    assert.match(acc.json.roomid, UUID);
    const got = await check(srv.port, 'PAIR01', 'a');
    assert.equal(got.status, 200);
    assert.deepEqual(got.json, { roomid: acc.json.roomid });
    expectError(await check(srv.port, 'PAIR01', 'a'), 404, 'not_found_or_expired');
    const room = await api(srv.port, 'GET', `/api/rooms?roomid=${encodeURIComponent(acc.json.roomid)}`);
    assert.equal(room.status, 200);
    assert.deepEqual(room.json, { roomid: acc.json.roomid, client1: 'a', client2: 'b' });
    assert.equal(room.headers['cache-control'], 'no-store');
    const del = await api(srv.port, 'DELETE', '/api/rooms', { roomid: acc.json.roomid });
    assert.equal(del.status, 200);
    assert.equal((await api(srv.port, 'DELETE', '/api/rooms', { roomid: acc.json.roomid })).status, 200, 'idempotent');
    expectError(await api(srv.port, 'GET', `/api/rooms?roomid=${acc.json.roomid}`), 404, 'not_found');
  });

  test('error statuses and strings: 400 missing_field / invalid_json / invalid_field, 404, 409', T, async () => {
    expectError(await api(srv.port, 'POST', '/api/rooms', { joinid: 'X', client1: 'a' }), 400, 'missing_field');
    expectError(await api(srv.port, 'POST', '/api/rooms', { joinid: '', exp: FUTURE, client1: 'a' }), 400, 'missing_field');
    expectError(await api(srv.port, 'POST', '/api/rooms', { joinid: 0, exp: FUTURE, client1: 'a' }), 400, 'missing_field');
    // A numeric code is its decimal text, as the original stored it.
    assert.equal((await api(srv.port, 'POST', '/api/rooms', { joinid: 730418, exp: FUTURE, client1: 'n1' })).status, 201);
    assert.equal((await api(srv.port, 'POST', '/api/rooms/accept', { joinid: '730418', client2: 'n2' })).status, 200);
    expectError(await api(srv.port, 'POST', '/api/rooms'), 400, 'missing_field');
    expectError(await api(srv.port, 'POST', '/api/rooms/accept', { joinid: 'X' }), 400, 'missing_field');
    expectError(await api(srv.port, 'POST', '/api/rooms/check', { client1: 'a' }), 400, 'missing_field');
    expectError(await api(srv.port, 'DELETE', '/api/rooms', {}), 400, 'missing_field');
    expectError(await api(srv.port, 'POST', '/api/user/purge', { device: 'a' }), 400, 'missing_field');
    expectError(await api(srv.port, 'GET', '/api/rooms'), 400, 'missing_field');
    expectError(await api(srv.port, 'POST', '/api/rooms', '{"joinid":'), 400, 'invalid_json');
    expectError(await api(srv.port, 'POST', '/api/rooms/accept', '["joinid"]'), 400, 'invalid_json');
    expectError(await api(srv.port, 'POST', '/api/rooms', { joinid: 'X', exp: 'next week', client1: 'a' }), 400, 'invalid_field');
    expectError(await api(srv.port, 'POST', '/api/rooms', { joinid: 'x'.repeat(257), exp: FUTURE, client1: 'a' }), 400, 'invalid_field');
    expectError(await accept(srv.port, 'NEVER-MADE', 'b'), 404, 'not_found_or_expired');
    expectError(await check(srv.port, 'NEVER-MADE', 'a'), 404, 'not_found_or_expired');
    assert.equal((await create(srv.port, 'DUP01', 'a')).status, 201);
    expectError(await create(srv.port, 'DUP01', 'z'), 409, 'conflict');
    assert.equal((await accept(srv.port, 'DUP01', 'b')).status, 200);
    expectError(await accept(srv.port, 'DUP01', 'c'), 409, 'conflict');
    expectError(await check(srv.port, 'DUP01', 'not-a'), 404, 'not_found_or_expired');
  });

  test('405 with Allow, OPTIONS preflight with CORS headers, HEAD without a body', T, async () => {
    const put = await api(srv.port, 'PUT', '/api/rooms', {});
    expectError(put, 405, 'method_not_allowed');
    assert.equal(put.headers.allow, 'GET, HEAD, POST, DELETE, OPTIONS');
    const get = await api(srv.port, 'GET', '/api/rooms/accept');
    expectError(get, 405, 'method_not_allowed');
    assert.equal(get.headers.allow, 'POST, OPTIONS');
    const pre = await api(srv.port, 'OPTIONS', '/api/rooms/check', undefined, {
      Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type, authorization, x-requested-with',
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], '*');
    assert.match(pre.headers['access-control-allow-methods'], /\bPOST\b/);
    assert.equal(pre.headers['access-control-allow-headers'], 'content-type, authorization, x-requested-with',
      'the headers the page asked for are allowed');
    const odd = await api(srv.port, 'OPTIONS', '/api/rooms', undefined, { 'Access-Control-Request-Headers': 'x;y=1' });
    assert.equal(odd.headers['access-control-allow-headers'], 'Content-Type', 'anything but a list of names: Content-Type');
    assert.equal((await create(srv.port, 'HEAD01', 'a')).status, 201);
    const room = await accept(srv.port, 'HEAD01', 'b');
    const head = await api(srv.port, 'HEAD', `/api/rooms?roomid=${room.json.roomid}`);
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.ok(Number(head.headers['content-length']) > 0);
  });

  test('a chunked body (Node\'s https.request without Content-Length) is read; bad framings are refused', T, async () => {
    // Node sends Transfer-Encoding: chunked, one chunk per write.
    const chunkedApi = (path, pieces) => new Promise((ok, fail) => {
      const req = https.request({
        host: '127.0.0.1', port: srv.port, method: 'POST', path, agent: false, rejectUnauthorized: false,
        headers: { 'Content-Type': 'application/json' },
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
      });
      req.on('error', fail);
      assert.equal(req.getHeader('content-length'), undefined);
      for (const p of pieces) req.write(p);
      req.end();
    });
    const body = JSON.stringify({ joinid: 'CHUNK1', exp: FUTURE, client1: 'a' });
    assert.deepEqual(await chunkedApi('/api/rooms', [body.slice(0, 10), body.slice(10, 25), body.slice(25)]),
      { status: 201, text: '{"ok":true}' });
    assert.equal((await accept(srv.port, 'CHUNK1', 'b')).status, 200, 'the chunked create was stored');
    const big = JSON.stringify({ joinid: 'CHUNK2', exp: FUTURE, client1: 'x'.repeat(17000) });
    const tooBig = await chunkedApi('/api/rooms', [big.slice(0, 9000), big.slice(9000)]);
    assert.equal(tooBig.status, 413);
    assert.deepEqual(JSON.parse(tooBig.text), { error: 'payload_too_large' });

    const raw = async (headers, rawBody) => {
      const sock = await tlsConnect(srv.port);
      const reader = new Reader(sock);
      sock.write(buildRequest(srv.port, 'POST', '/api/rooms', headers, rawBody));
      const res = await readResponse(reader);
      sock.destroy();
      return res.status;
    };
    const json = '{"joinid":"CHUNK3","exp":"2030-01-01T00:00:00Z","client1":"a"}';
    const framed = `${json.length.toString(16)}\r\n${json}\r\n0\r\n\r\n`;
    assert.equal(await raw({ 'Transfer-Encoding': 'chunked', 'Content-Length': framed.length }, framed), 400,
      'both Transfer-Encoding and Content-Length: refused (request smuggling)');
    assert.equal(await raw({ 'Transfer-Encoding': 'gzip, chunked' }, framed), 501, 'codings other than chunked');
    assert.equal(await raw({ 'Transfer-Encoding': 'chunked' }, `${json.length.toString(16)}\n${json}\n0\n\n`), 400,
      'bare LF line ends');
    assert.equal(await raw({ 'Transfer-Encoding': 'chunked' }, framed), 201, 'a well-framed one by hand');
  });

  test('413 payload_too_large as JSON for a body over 16 KiB; keep-alive requests before it are answered', T, async () => {
    const sock = await tlsConnect(srv.port);
    const reader = new Reader(sock);
    try {
      const ok = JSON.stringify({ deviceId: 'nobody', pad: 'x'.repeat(16000) });
      sock.write(buildRequest(srv.port, 'POST', '/api/user/purge', { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(ok) }, ok));
      const first = await readResponse(reader);
      assert.equal(first.status, 200, 'a 16 000-byte body is fine');
      const big = JSON.stringify({ deviceId: 'x', pad: 'x'.repeat(17000) });
      sock.write(buildRequest(srv.port, 'POST', '/api/user/purge', { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(big) }, big));
      const res = await readResponse(reader);
      assert.equal(res.status, 413);
      assert.deepEqual(JSON.parse(res.body.toString()), { error: 'payload_too_large' });
      assert.equal(res.headers['access-control-allow-origin'], '*');
    } finally {
      sock.destroy();
    }
  });

  test('expiry: a pending whose exp has passed is 404 on accept and check', T, async () => {
    const past = new Date(Date.now() - 1000).toISOString();
    assert.equal((await create(srv.port, 'OLD01', 'a', past)).status, 201);
    expectError(await accept(srv.port, 'OLD01', 'b'), 404, 'not_found_or_expired');
    expectError(await check(srv.port, 'OLD01', 'a'), 404, 'not_found_or_expired');
    // Expiring a second from now: accepted now, gone after it passes.
    const soon = new Date(Date.now() + 1500).toISOString().replace('Z', '+00:00');
    assert.equal((await create(srv.port, 'SOON01', 'a', soon)).status, 201);
    assert.equal((await check(srv.port, 'SOON01', 'a')).status, 204);
    await new Promise((r) => setTimeout(r, 1700));
    expectError(await accept(srv.port, 'SOON01', 'b'), 404, 'not_found_or_expired');
  });

  test('purge: counts the rooms and pendings that name the device on either side', T, async () => {
    assert.equal((await create(srv.port, 'PG1', 'dev-p')).status, 201);
    assert.equal((await accept(srv.port, 'PG1', 'dev-q')).status, 200);
    assert.equal((await create(srv.port, 'PG2', 'dev-r')).status, 201);
    const kept = await accept(srv.port, 'PG2', 'dev-p');
    assert.equal(kept.status, 200);
    assert.equal((await create(srv.port, 'PG3', 'dev-p')).status, 201);
    const res = await api(srv.port, 'POST', '/api/user/purge', { deviceId: 'dev-p' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { ok: true, roomsDeleted: 2, pendingsDeleted: 3 });
    const again = await api(srv.port, 'POST', '/api/user/purge', { deviceId: 'dev-p' });
    assert.deepEqual(again.json, { ok: true, roomsDeleted: 0, pendingsDeleted: 0 });
    expectError(await api(srv.port, 'GET', `/api/rooms?roomid=${kept.json.roomid}`), 404, 'not_found');
  });

  test('the database file is private and in WAL mode', T, async () => {
    const db = join(srv.dataDir, 'tincan.db');
    assert.equal(statSync(db).mode & 0o777, 0o600);
    const mode = await sh(`sqlite3 '${db}' 'PRAGMA journal_mode'`, {});
    assert.equal(mode.trim(), 'wal');
    const version = await sh(`sqlite3 '${db}' 'PRAGMA user_version'`, {});
    assert.equal(version.trim(), '4');
  });

  test('an exp years away is accepted (201) but kept for a day at most', T, async () => {
    const db = join(srv.dataDir, 'tincan.db');
    const before = Date.now();
    for (const [id, exp] of [['far-9999', '9999-12-31T23:59:59Z'], ['far-2030', FUTURE]]) {
      const res = await create(srv.port, id, 'dev-far', exp);
      assert.equal(res.status, 201, res.text);
      const stored = (await sh(`sqlite3 '${db}' "SELECT exp FROM pendings WHERE joinid = '${id}'"`, {})).trim();
      const ms = Date.parse(stored);
      assert.ok(ms >= before + 86400000 - 1000 && ms <= Date.now() + 86400000 + 1000, `${exp} stored as ${stored}: a day from now`);
    }
    const soon = new Date(Date.now() + 600000).toISOString();
    assert.equal((await create(srv.port, 'near', 'dev-far', soon)).status, 201);
    const kept = (await sh(`sqlite3 '${db}' "SELECT exp FROM pendings WHERE joinid = 'near'"`, {})).trim();
    assert.equal(Date.parse(kept), Date.parse(soon), 'an exp within the day is kept as it is');
    await check(srv.port, 'far-9999', 'dev-far'); // still usable
  });

  test('one client holds at most 20 pending join codes: more get 429 too_many_pendings; others are not affected', T, async () => {
    const statuses = [];
    for (let i = 0; i < 22; i++) statuses.push((await create(srv.port, `many-${i}`, 'dev-many')).status);
    assert.deepEqual(statuses.slice(0, 20), Array(20).fill(201));
    expectError(await create(srv.port, 'many-x', 'dev-many'), 429, 'too_many_pendings');
    assert.equal((await create(srv.port, 'many-other', 'dev-other')).status, 201);
    // Accepting one frees a place once client1 has seen the room.
    assert.equal((await accept(srv.port, 'many-0', 'dev-b')).status, 200);
    assert.equal((await check(srv.port, 'many-0', 'dev-many')).status, 200);
    assert.equal((await create(srv.port, 'many-y', 'dev-many')).status, 201);
    const m = await api(srv.port, 'GET', '/metrics');
    assert.match(m.text, /^tincan_rate_limited_total\{limit="rest_pendings_per_client"\} [1-9]/m);
  });
});

describe('REST API durability and concurrency', () => {
  test('an acknowledged create and accept survive a clean restart', T, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tincan-rest-'));
    try {
      let srv = await start({ dataDir });
      assert.equal((await create(srv.port, 'KEEP01', 'a')).status, 201);
      const acc = await accept(srv.port, 'KEEP01', 'b');
      assert.equal(acc.status, 200);
      assert.equal((await create(srv.port, 'KEEP02', 'c')).status, 201);
      assert.deepEqual(await srv.stop('SIGTERM'), { code: 0, signal: null });
      srv = await start({ dataDir });
      try {
        assert.deepEqual((await check(srv.port, 'KEEP01', 'a')).json, { roomid: acc.json.roomid });
        assert.equal((await check(srv.port, 'KEEP02', 'c')).status, 204);
      } finally {
        await srv.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('an acknowledged create and accept survive kill -9', T, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tincan-rest-'));
    try {
      let srv = await start({ dataDir });
      assert.equal((await create(srv.port, 'KILL01', 'a')).status, 201);
      const acc = await accept(srv.port, 'KILL01', 'b');
      assert.equal(acc.status, 200);
      assert.equal((await create(srv.port, 'KILL02', 'c')).status, 201);
      // Killed the moment the last answer arrived: no shutdown, no checkpoint.
      srv.proc.kill('SIGKILL');
      assert.equal((await srv.exited).signal, 'SIGKILL');
      assert.ok(existsSync(join(dataDir, 'tincan.db-wal')), 'the WAL file is left behind by the kill');
      srv = await start({ dataDir });
      try {
        assert.deepEqual((await check(srv.port, 'KILL01', 'a')).json, { roomid: acc.json.roomid });
        assert.equal((await check(srv.port, 'KILL02', 'c')).status, 204);
        const room = await api(srv.port, 'GET', `/api/rooms?roomid=${acc.json.roomid}`);
        assert.deepEqual(room.json, { roomid: acc.json.roomid, client1: 'a', client2: 'b' });
      } finally {
        await srv.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('50 concurrent accepts of one code over 50 connections: exactly one 200, 49 × 409', T, async () => {
    const srv = await start();
    try {
      assert.equal((await create(srv.port, 'RACE01', 'host')).status, 201);
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => accept(srv.port, 'RACE01', `guest-${i}`)));
      const wins = results.filter((r) => r.status === 200);
      const conflicts = results.filter((r) => r.status === 409);
      assert.equal(wins.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
      assert.equal(conflicts.length, 49);
      for (const c of conflicts) assert.deepEqual(c.json, { error: 'conflict' });
      const winner = `guest-${results.indexOf(wins[0])}`;
      const room = await api(srv.port, 'GET', `/api/rooms?roomid=${wins[0].json.roomid}`);
      assert.deepEqual(room.json, { roomid: wins[0].json.roomid, client1: 'host', client2: winner });
      assert.deepEqual((await check(srv.port, 'RACE01', 'host')).json, { roomid: wins[0].json.roomid });
    } finally {
      await srv.stop();
    }
  });
});

describe('REST API options', () => {
  test('--no-rest-api: the API paths answer 404 and no database is created', T, async () => {
    const srv = await start({ args: ['--no-rest-api'] });
    try {
      expectError(await create(srv.port, 'OFF01', 'a'), 404, 'not_found');
      expectError(await api(srv.port, 'GET', '/api/rooms?roomid=x'), 404, 'not_found');
      assert.equal(existsSync(join(srv.dataDir, 'tincan.db')), false);
      assert.equal((await api(srv.port, 'GET', '/health')).status, 200, 'the rest of the server is up');
    } finally {
      await srv.stop();
    }
  });

  test('--rest-rate: past the burst, 429 rate_limited with Retry-After', T, async () => {
    const srv = await start({ args: ['--rest-rate', '2'] });
    try {
      const statuses = [];
      let limited = null;
      for (let i = 0; i < 10; i++) {
        const r = await api(srv.port, 'GET', '/api/rooms?roomid=nope');
        statuses.push(r.status);
        if (r.status === 429) limited = r;
      }
      assert.deepEqual(statuses.slice(0, 4), [404, 404, 404, 404], 'a burst of twice the rate passes');
      assert.ok(limited, `statuses: ${statuses}`);
      expectError(limited, 429, 'rate_limited');
      assert.ok(Number(limited.headers['retry-after']) >= 1);
      // Other endpoints share the bucket; after the wait it works again.
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await create(srv.port, 'RATE01', 'a')).status, 201);
    } finally {
      await srv.stop();
    }
  });

  test('--db adopts a database of the original backend: rows kept, migrated, expired codes swept at start', T, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tincan-rest-'));
    const db = join(dir, 'chat.db');
    try {
      // The original's scripts/init-db.sql schema, filled by its clients.
      await sh(`sqlite3 '${db}' "
        CREATE TABLE pendings (joinid TEXT PRIMARY KEY NOT NULL, client1 TEXT NOT NULL, exp DATETIME NOT NULL, client2 TEXT NULL);
        CREATE TABLE rooms (roomid TEXT PRIMARY KEY NOT NULL, client1 TEXT NOT NULL, client2 TEXT NOT NULL);
        CREATE INDEX idx_pendings_client1 ON pendings(client1);
        CREATE INDEX idx_pendings_exp ON pendings(exp);
        CREATE INDEX idx_rooms_client1 ON rooms(client1);
        CREATE INDEX idx_rooms_client2 ON rooms(client2);
        INSERT INTO pendings VALUES ('OLDWAIT', 'a', '2030-01-01T00:00:00Z', NULL);
        INSERT INTO pendings VALUES ('EMPTYC2', 'f', '2030-01-01T00:00:00Z', '');
        INSERT INTO pendings VALUES ('OLDDONE', 'c', '2030-01-01T00:00:00Z', 'd');
        INSERT INTO pendings VALUES ('STALE', 'e', '2001-01-01T00:00:00Z', NULL);
        INSERT INTO rooms VALUES ('legacy-room', 'c', 'd');"`, {});
      const srv = await start({ dataDir: dir, args: ['--db', db] });
      try {
        assert.ok(srv.logs.some((l) => /msg=store_migrated version=2/.test(l)), 'migrated to version 2');
        assert.equal((await check(srv.port, 'OLDWAIT', 'a')).status, 204);
        assert.deepEqual((await check(srv.port, 'OLDDONE', 'c')).json, { roomid: 'legacy-room' });
        assert.deepEqual((await api(srv.port, 'GET', '/api/rooms?roomid=legacy-room')).json,
          { roomid: 'legacy-room', client1: 'c', client2: 'd' });
        // "client2 is empty until accepted": an empty text counts as not accepted.
        assert.equal((await check(srv.port, 'EMPTYC2', 'f')).status, 204);
        const acc = await accept(srv.port, 'EMPTYC2', 'g');
        assert.equal(acc.status, 200, JSON.stringify(acc.json));
        assert.deepEqual((await check(srv.port, 'EMPTYC2', 'f')).json, { roomid: acc.json.roomid });
        assert.ok(srv.logs.some((l) => /msg=pendings_expired deleted=1\b/.test(l)), srv.logs.join('\n'));
        const left = await sh(`sqlite3 '${db}' 'SELECT joinid, exp FROM pendings ORDER BY joinid'`, {});
        assert.equal(left.trim(), 'OLDWAIT|2030-01-01T00:00:00.000Z');
      } finally {
        await srv.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--db takes a path; a database that cannot be opened stops the start with a clear message', T, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tincan-rest-'));
    try {
      const p = spawnTincan(['--port', String(await freePort()), '--bind', '127.0.0.1', '--data-dir', dir, '--db', join(dir, 'no', 'such', 'dir', 'x.db')], { cleanEnv: true });
      const { code } = await p.exited;
      assert.notEqual(code, 0);
      assert.match(p.err(), /msg=store_failed error="cannot open [^"]*x\.db/);
      const srv = await start({ dataDir: dir, args: ['--db', join(dir, 'other.db')] });
      try {
        assert.equal((await create(srv.port, 'DB01', 'a')).status, 201);
        assert.ok(existsSync(join(dir, 'other.db')));
        assert.equal(existsSync(join(dir, 'tincan.db')), false);
      } finally {
        await srv.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
