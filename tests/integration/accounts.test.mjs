// Accounts, sessions and team rooms (--accounts) against the real binary
// and a real SQLite file: registration modes and invites, the session
// cookie's flags, logout, "log out everywhere", expiry, an admin disabling
// a user, the CSRF check, owner-only rename and delete, the login and
// registration limits, persistence across a restart and the migration of a
// database of the previous schema (v2); argon2id running off the event
// loop (other clients are answered while logins hash; a client that goes
// away mid-hash is no trouble; past the hash queue's 64 the rest are
// answered 503 busy).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, sleep, BIN, tlsConnect, buildRequest, Reader, readResponse } from './net.mjs';
import { connect, hello, uniq } from './signal-client.mjs';

const T = { timeout: 60000 };
const PW = 'correct horse battery';

/** One HTTPS request. opts: { cookie, origin (default the page's), site, from (local address) }. */
function api(port, method, path, body, opts = {}) {
  const data = body === undefined ? null : JSON.stringify(body);
  const headers = {};
  if (data !== null) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  if (opts.origin !== null) headers.Origin = opts.origin || `https://127.0.0.1:${port}`;
  if (opts.site) headers['Sec-Fetch-Site'] = opts.site;
  if (opts.cookie) headers.Cookie = opts.cookie;
  return new Promise((ok, fail) => {
    const req = https.request({
      host: '127.0.0.1', port, method, path, agent: false, rejectUnauthorized: false, headers,
      localAddress: opts.from,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
        const setCookie = (res.headers['set-cookie'] || [])[0] || '';
        ok({ status: res.statusCode, headers: res.headers, json, setCookie, cookie: setCookie.split(';')[0] });
      });
    });
    req.on('error', fail);
    if (data !== null) req.write(data);
    req.end();
  });
}

// Registrations are limited to 5 an hour per address: unless a test gives
// one, each comes from an address of its own (all of 127.0.0.0/8 is local).
let nextFrom = 0;
const register = (port, username, invite, opts = {}) => api(port, 'POST', '/api/auth/register',
  { username, password: PW, ...(invite ? { invite } : {}) }, { from: `127.0.1.${++nextFrom}`, ...opts });
const login = (port, username, password = PW, opts = {}) => api(port, 'POST', '/api/auth/login', { username, password }, opts);
const me = (port, cookie) => api(port, 'GET', '/api/auth/me', undefined, { cookie });

function expectError(res, status, error) {
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.deepEqual(res.json, { error });
}

/** Starts tincan with --accounts; resolves { srv, invite } (the logged admin invite, if any). */
async function startAccounts(extra = [], dataDir) {
  const srv = await start({ dataDir, args: ['--accounts', ...extra] });
  const line = srv.logs.find((l) => l.includes('msg=accounts_admin_invite'));
  return { srv, invite: line ? /invite=(\S+)/.exec(line)[1] : null };
}

const sql = (db, q) => execFileSync('sqlite3', [db, q], { encoding: 'utf8' }).trim();

describe('accounts and sessions', () => {
  let srv; let port; let admin; let bob;
  before(async () => {
    const s = await startAccounts(['--registration', 'invite']);
    srv = s.srv;
    port = srv.port;
    assert.ok(s.invite, 'a fresh database logs an admin invite');
    const r = await register(port, 'Admin', s.invite);
    assert.equal(r.status, 201);
    assert.deepEqual(r.json.user, { id: 1, name: 'Admin', admin: true });
    admin = r.cookie;
  });
  after(async () => { await srv?.stop(); });

  test('the session cookie is HttpOnly, Secure, SameSite=Strict, 7 days, and only a hash is stored', T, async () => {
    const r = await login(port, 'admin');
    assert.equal(r.status, 200);
    const c = r.setCookie;
    assert.match(c, /^tincan_session=[A-Za-z0-9_-]{43}; /);
    for (const flag of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/', 'Max-Age=604800']) assert.ok(c.split('; ').includes(flag), `${flag} in ${c}`);
    const token = r.cookie.split('=')[1];
    const rows = sql(join(srv.dataDir, 'tincan.db'), 'SELECT token_hash FROM sessions');
    assert.ok(!rows.includes(token), 'the token itself is not in the database');
    const hash = (await import('node:crypto')).createHash('sha256').update(token).digest('hex');
    assert.ok(rows.split('\n').includes(hash));
    assert.match(sql(join(srv.dataDir, 'tincan.db'), 'SELECT pwhash FROM users WHERE id = 1'), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  test('invite mode: no invite, a used invite and a made-up invite are refused; an admin invite works once', T, async () => {
    expectError(await register(port, 'bob'), 403, 'invite_required');
    expectError(await register(port, 'bob', 'made-up-code'), 403, 'invalid_invite');
    expectError(await api(port, 'POST', '/api/auth/invites', {}, {}), 401, 'unauthenticated');
    const inv = await api(port, 'POST', '/api/auth/invites', {}, { cookie: admin });
    assert.equal(inv.status, 201);
    const r = await register(port, 'bob', inv.json.invite);
    assert.equal(r.status, 201);
    assert.equal(r.json.user.admin, false);
    bob = r.cookie;
    expectError(await register(port, 'carol', inv.json.invite), 403, 'invalid_invite');
    const inv2 = await api(port, 'POST', '/api/auth/invites', {}, { cookie: admin });
    expectError(await register(port, 'BOB', inv2.json.invite), 409, 'username_taken');
    expectError(await api(port, 'POST', '/api/auth/invites', {}, { cookie: bob }), 403, 'forbidden');
  });

  test('a wrong password and an unknown user get the same answer', T, async () => {
    const wrong = await login(port, 'admin', 'not the password');
    const unknown = await login(port, 'nobody-here', 'not the password');
    expectError(wrong, 401, 'invalid_credentials');
    expectError(unknown, 401, 'invalid_credentials');
    assert.equal(wrong.setCookie, '');
  });

  test('logout ends the session and clears the cookie', T, async () => {
    const s = (await login(port, 'admin')).cookie;
    assert.equal((await me(port, s)).json.user.name, 'Admin');
    const out = await api(port, 'POST', '/api/auth/logout', undefined, { cookie: s });
    assert.equal(out.status, 204);
    assert.match(out.setCookie, /^tincan_session=; .*Max-Age=0/);
    expectError(await me(port, s), 401, 'unauthenticated');
    expectError(await me(port, undefined), 401, 'unauthenticated');
    expectError(await me(port, 'tincan_session=AAAA'), 401, 'unauthenticated');
  });

  test('log out everywhere ends every session of the account', T, async () => {
    const inv = await api(port, 'POST', '/api/auth/invites', {}, { cookie: admin });
    const a = (await register(port, 'dave', inv.json.invite)).cookie;
    const b = (await login(port, 'dave')).cookie;
    const r = await api(port, 'POST', '/api/auth/logout-all', {}, { cookie: a });
    assert.deepEqual(r.json, { sessions_ended: 2 });
    expectError(await me(port, a), 401, 'unauthenticated');
    expectError(await me(port, b), 401, 'unauthenticated');
    assert.equal((await me(port, admin)).status, 200, 'other accounts keep theirs');
  });

  test('an admin disabling a user ends its sessions and its logins', T, async () => {
    const inv = await api(port, 'POST', '/api/auth/invites', {}, { cookie: admin });
    const e = (await register(port, 'eve', inv.json.invite)).cookie;
    expectError(await api(port, 'POST', '/api/auth/disable', { username: 'admin', disabled: true }, { cookie: e }), 403, 'forbidden');
    assert.equal((await api(port, 'POST', '/api/auth/disable', { username: 'eve', disabled: true }, { cookie: admin })).status, 204);
    expectError(await me(port, e), 401, 'unauthenticated');
    expectError(await login(port, 'eve'), 401, 'invalid_credentials');
    assert.equal((await api(port, 'POST', '/api/auth/disable', { username: 'eve', disabled: false }, { cookie: admin })).status, 204);
    assert.equal((await login(port, 'eve')).status, 200);
  });

  test('CSRF: a state-changing request needs a same-origin Origin or Sec-Fetch-Site', T, async () => {
    const body = { name: 'csrf room' };
    expectError(await api(port, 'POST', '/api/team-rooms', body, { cookie: bob, origin: null }), 403, 'csrf');
    expectError(await api(port, 'POST', '/api/team-rooms', body, { cookie: bob, origin: 'https://evil.example' }), 403, 'csrf');
    expectError(await api(port, 'POST', '/api/team-rooms', body, { cookie: bob, origin: null, site: 'cross-site' }), 403, 'csrf');
    expectError(await api(port, 'POST', '/api/team-rooms', body, { cookie: bob, site: 'same-site' }), 403, 'csrf');
    expectError(await api(port, 'POST', '/api/auth/logout', undefined, { cookie: bob, origin: 'null' }), 403, 'csrf');
    assert.equal((await me(port, bob)).status, 200, 'the refused logout did not end the session');
    const ok = await api(port, 'POST', '/api/team-rooms', body, { cookie: bob, origin: null, site: 'same-origin' });
    assert.equal(ok.status, 201);
    const list = await api(port, 'GET', '/api/team-rooms', undefined, { cookie: bob, origin: null });
    assert.equal(list.status, 200, 'a GET needs no Origin');
  });

  test('team rooms: only the owner or an admin renames and deletes; passwords are checked on enter', T, async () => {
    const inv = await api(port, 'POST', '/api/auth/invites', {}, { cookie: admin });
    const carol = (await register(port, 'carol', inv.json.invite)).cookie;
    const made = await api(port, 'POST', '/api/team-rooms', { name: 'Standup ☕', password: 'room-pass' }, { cookie: bob });
    assert.equal(made.status, 201);
    const room = made.json.room;
    assert.match(room.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual({ ...room, id: 0, created: 0 }, { id: 0, created: 0, name: 'Standup ☕', owner: 'bob', has_password: true, can_manage: true });
    const seen = (await api(port, 'GET', '/api/team-rooms', undefined, { cookie: carol })).json.rooms.find((r) => r.id === room.id);
    assert.equal(seen.can_manage, false);
    expectError(await api(port, 'PATCH', `/api/team-rooms/${room.id}`, { name: 'mine' }, { cookie: carol }), 403, 'forbidden');
    expectError(await api(port, 'DELETE', `/api/team-rooms/${room.id}`, undefined, { cookie: carol }), 403, 'forbidden');
    expectError(await api(port, 'POST', `/api/team-rooms/${room.id}/enter`, { password: 'nope' }, { cookie: carol }), 403, 'wrong_room_password');
    assert.equal((await api(port, 'POST', `/api/team-rooms/${room.id}/enter`, { password: 'room-pass' }, { cookie: carol })).status, 200);
    const renamed = await api(port, 'PATCH', `/api/team-rooms/${room.id}`, { name: 'Daily' }, { cookie: bob });
    assert.equal(renamed.json.room.name, 'Daily');
    expectError(await api(port, 'PATCH', `/api/team-rooms/${room.id}`, { name: '' }, { cookie: bob }), 400, 'invalid_name');
    const other = (await api(port, 'POST', '/api/team-rooms', { name: 'Bob 2' }, { cookie: bob })).json.room;
    assert.equal((await api(port, 'DELETE', `/api/team-rooms/${room.id}`, undefined, { cookie: bob })).status, 204);
    assert.equal((await api(port, 'DELETE', `/api/team-rooms/${other.id}`, undefined, { cookie: admin })).status, 204, 'an admin may delete');
    expectError(await api(port, 'DELETE', `/api/team-rooms/${room.id}`, undefined, { cookie: bob }), 404, 'not_found');
    const ids = (await api(port, 'GET', '/api/team-rooms', undefined, { cookie: bob })).json.rooms.map((r) => r.id);
    assert.ok(!ids.includes(room.id) && !ids.includes(other.id));
    expectError(await api(port, 'GET', '/api/team-rooms', undefined, {}), 401, 'unauthenticated');
    expectError(await api(port, 'PUT', '/api/team-rooms', {}, { cookie: bob }), 405, 'method_not_allowed');
  });

  test('refusals are counted in /metrics', T, async () => {
    const text = await new Promise((ok, fail) => https.get({ host: '127.0.0.1', port, path: '/metrics', rejectUnauthorized: false }, (res) => {
      let t = ''; res.on('data', (d) => { t += d; }); res.on('end', () => ok(t));
    }).on('error', fail));
    const v = (reason) => Number(new RegExp(`^tincan_accounts_refused_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text)[1]);
    assert.ok(v('csrf') >= 5, text);
    assert.ok(v('bad_credentials') >= 3);
    assert.ok(v('unauthenticated') >= 5);
    assert.ok(v('forbidden') >= 4);
  });
});

describe('accounts: limits, expiry, modes', () => {
  test('login: 20 per 15 minutes per address and per account, then 429 rate_limited with Retry-After', T, async () => {
    const { srv } = await startAccounts(['--registration', 'open']);
    try {
      const p = srv.port;
      assert.equal((await register(p, 'victim')).status, 201);
      for (let i = 0; i < 10; i++) expectError(await login(p, 'victim', 'guess', { from: '127.0.0.2' }), 401, 'invalid_credentials');
      for (let i = 0; i < 10; i++) expectError(await login(p, 'victim', 'guess', { from: '127.0.0.3' }), 401, 'invalid_credentials');
      const r = await login(p, 'victim', PW, { from: '127.0.0.4' });
      expectError(r, 429, 'rate_limited');
      assert.ok(Number(r.headers['retry-after']) > 0);
      expectError(await login(p, 'someone-else', 'guess', { from: '127.0.0.4' }), 401, 'invalid_credentials');
      for (let i = 0; i < 20; i++) await login(p, `user${i}`, 'guess', { from: '127.0.0.5' });
      expectError(await login(p, 'fresh', 'guess', { from: '127.0.0.5' }), 429, 'rate_limited');
    } finally { await srv.stop(); }
  });

  test('registration: 5 per hour per address; closed mode refuses all', T, async () => {
    const { srv } = await startAccounts(['--registration', 'open']);
    try {
      for (let i = 0; i < 5; i++) assert.equal((await register(srv.port, `u${i}`, null, { from: '127.0.0.6' })).status, 201);
      expectError(await register(srv.port, 'u5', null, { from: '127.0.0.6' }), 429, 'rate_limited');
      assert.equal((await register(srv.port, 'u5', null, { from: '127.0.0.7' })).status, 201);
    } finally { await srv.stop(); }
    const closed = await startAccounts(['--registration', 'closed']);
    try {
      assert.equal(closed.invite, null, 'no invite is logged when registration is closed');
      expectError(await register(closed.srv.port, 'x'), 403, 'registration_closed');
    } finally { await closed.srv.stop(); }
  });

  test('a session ends at --session-ttl', T, async () => {
    const { srv } = await startAccounts(['--registration', 'open', '--session-ttl', '2']);
    try {
      const r = await register(srv.port, 'brief');
      assert.match(r.setCookie, /Max-Age=2;/);
      assert.equal((await me(srv.port, r.cookie)).status, 200);
      await sleep(2300);
      expectError(await me(srv.port, r.cookie), 401, 'unauthenticated');
    } finally { await srv.stop(); }
  });

  test('without --accounts the API is not served', T, async () => {
    const srv = await start({});
    try {
      assert.equal((await me(srv.port)).status, 404);
      assert.equal((await register(srv.port, 'x')).status, 405);
    } finally { await srv.stop(); }
  });
});

describe('accounts: persistence and migration', () => {
  test('accounts, sessions and rooms survive a restart', T, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tincan-acc-'));
    try {
      let { srv } = await startAccounts(['--registration', 'open'], dataDir);
      const s = (await register(srv.port, 'keeper')).cookie;
      const room = (await api(srv.port, 'POST', '/api/team-rooms', { name: 'Kept' }, { cookie: s })).json.room;
      assert.deepEqual(await srv.stop('SIGTERM'), { code: 0, signal: null });
      ({ srv } = await startAccounts(['--registration', 'open'], dataDir));
      try {
        assert.equal((await me(srv.port, s)).json.user.name, 'keeper');
        const rooms = (await api(srv.port, 'GET', '/api/team-rooms', undefined, { cookie: s })).json.rooms;
        assert.deepEqual(rooms.map((r) => [r.id, r.name, r.owner]), [[room.id, 'Kept', 'keeper']]);
        assert.equal((await login(srv.port, 'keeper')).status, 200);
      } finally { await srv.stop(); }
    } finally { rmSync(dataDir, { recursive: true, force: true }); }
  });

  test('a database of schema v2 (the REST API) migrates to v3 and v4 with its rows', T, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tincan-acc-'));
    const db = join(dataDir, 'tincan.db');
    try {
      sql(db, 'PRAGMA journal_mode=WAL;'
        + 'CREATE TABLE pendings (joinid TEXT PRIMARY KEY NOT NULL, client1 TEXT NOT NULL, exp DATETIME NOT NULL, client2 TEXT NULL, roomid TEXT NULL);'
        + 'CREATE TABLE rooms (roomid TEXT PRIMARY KEY NOT NULL, client1 TEXT NOT NULL, client2 TEXT NOT NULL);'
        + "INSERT INTO rooms VALUES('old-room', 'a', 'b');"
        + "INSERT INTO pendings VALUES('OLD1', 'a', '2030-01-01T00:00:00.000Z', NULL, NULL);"
        + 'PRAGMA user_version = 2;');
      const { srv, invite } = await startAccounts([], dataDir);
      try {
        assert.ok(srv.logs.some((l) => /msg=store_migrated version=3/.test(l)));
        assert.ok(srv.logs.some((l) => /msg=store_migrated version=4/.test(l)));
        assert.ok(!srv.logs.some((l) => /msg=store_migrated version=[12]\b/.test(l)), 'v1 and v2 are not run again');
        assert.equal(sql(db, 'PRAGMA user_version'), '4');
        assert.equal(sql(db, "SELECT client2 FROM rooms WHERE roomid = 'old-room'"), 'b');
        assert.equal((await register(srv.port, 'first', invite)).status, 201);
        const check = await api(srv.port, 'POST', '/api/rooms/check', { joinid: 'OLD1', client1: 'a' }, { origin: null });
        assert.equal(check.status, 204, 'the REST API still reads its rows');
      } finally { await srv.stop(); }
      const again = await startAccounts([], dataDir);
      try {
        assert.ok(!again.srv.logs.some((l) => /store_migrated/.test(l)), 'no migration on the next start');
        assert.equal(again.invite, null, 'an admin exists: no more admin invites');
      } finally { await again.srv.stop(); }
    } finally { rmSync(dataDir, { recursive: true, force: true }); }
  });

  test('tincan user add / invite / user disable work on the database file', T, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tincan-acc-'));
    try {
      const out = execFileSync(BIN, ['user', 'add', 'root', '--admin', '--data-dir', dataDir], { input: `${PW}\n`, encoding: 'utf8' });
      assert.match(out, /added user root \(admin\)/);
      const code = execFileSync(BIN, ['invite', '--data-dir', dataDir], { encoding: 'utf8' }).trim();
      assert.match(code, /^[A-Za-z0-9_-]{43}$/);
      const { srv, invite } = await startAccounts([], dataDir);
      try {
        assert.equal(invite, null);
        const r = await login(srv.port, 'root');
        assert.equal(r.json.user.admin, true);
        assert.equal((await register(srv.port, 'guest', code)).status, 201);
        execFileSync(BIN, ['user', 'disable', 'root', '--data-dir', dataDir]);
        expectError(await me(srv.port, r.cookie), 401, 'unauthenticated');
      } finally { await srv.stop(); }
    } finally { rmSync(dataDir, { recursive: true, force: true }); }
  });
});

/** The tincan_accounts_hashing gauge: account requests waiting for argon2id. */
async function hashing(port) {
  const text = await new Promise((ok, fail) => https.get({ host: '127.0.0.1', port, path: '/metrics', rejectUnauthorized: false, agent: false }, (res) => {
    let t = ''; res.on('data', (d) => { t += d; }); res.on('end', () => ok(t));
  }).on('error', fail));
  return Number(/^tincan_accounts_hashing (\d+)$/m.exec(text)[1]);
}

/** Resolves once a log line of srv matches re. */
function waitLog(srv, re) {
  return new Promise((ok) => {
    const check = () => {
      if (!srv.logs.some((l) => re.test(l))) return false;
      srv.proc.stderr.off('data', check);
      ok();
      return true;
    };
    if (!check()) srv.proc.stderr.on('data', check);
  });
}

/** Sends logins that each cost an argon2id verification (unknown names,
 * each from an address of its own so no limit applies). */
function hashLoad(port, n, tag) {
  return Array.from({ length: n }, (_, i) => login(port, `nobody-${tag}-${i}`, 'not the password', { from: `127.0.${tag}.${i + 1}` }));
}

describe('accounts: argon2id off the event loop', () => {
  let srv; let port;
  before(async () => {
    ({ srv } = await startAccounts(['--registration', 'open']));
    port = srv.port;
    assert.equal((await register(port, 'carol')).status, 201);
  });
  after(async () => { await srv.stop(); });

  // Ordering, not timing: two workers, ten logins queued. A /metrics answer
  // saying hashes are pending is itself a request served while they hash;
  // then a WebSocket round trip, then /metrics again still pending: the
  // WebSocket was answered while logins were waiting for their hash.
  test('while logins hash, /metrics and a WebSocket are answered, and the logins still succeed', T, async () => {
    const ws = await connect(port);
    try {
      const logins = [...hashLoad(port, 9, 20), login(port, 'carol', PW, { from: '127.0.21.1' })];
      let finished = 0;
      for (const l of logins) l.then(() => { finished++; });
      let proof = null;
      while (!proof && finished < logins.length) {
        const before = await hashing(port);
        if (before === 0) continue;
        await hello(ws, uniq('busy'));
        const afterWs = await hashing(port);
        if (afterWs > 0) proof = { before, afterWs };
      }
      assert.ok(proof, 'a /metrics request and a WebSocket hello were answered while logins were hashing');
      const res = await Promise.all(logins);
      for (const r of res.slice(0, -1)) expectError(r, 401, 'invalid_credentials');
      assert.equal(res.at(-1).status, 200);
      assert.equal(res.at(-1).json.user.name, 'carol');
      assert.equal(await hashing(port), 0);
    } finally { ws.c.close(); }
  });

  test('a client that goes away while its login waits for the hash gets no session, and the server goes on', T, async () => {
    const db = join(srv.dataDir, 'tincan.db');
    const sessions = Number(sql(db, 'SELECT count(*) FROM sessions'));
    const body = JSON.stringify({ username: 'carol', password: PW });
    const loginReq = buildRequest(port, 'POST', '/api/auth/login', {
      Origin: `https://127.0.0.1:${port}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body),
    }, body);
    const load = hashLoad(port, 8, 22);
    const sock = await tlsConnect(port, { localAddress: '127.0.23.1' });
    while ((await hashing(port)) < 2) { /* both workers busy: the next login waits its turn */ }
    sock.write(loginReq);
    sock.destroy();
    await waitLog(srv, /msg=accounts_abandoned .*reason=connection_closed/);
    await Promise.all(load);
    assert.equal(Number(sql(db, 'SELECT count(*) FROM sessions')), sessions, 'the abandoned login made no session');
    // A login pipelined ahead of another request on one connection: the
    // answers come in order, the second once the first is out.
    const pipe = await tlsConnect(port, { localAddress: '127.0.23.2' });
    const reader = new Reader(pipe);
    pipe.write(loginReq + buildRequest(port, 'GET', '/health'));
    const first = await readResponse(reader);
    const second = await readResponse(reader);
    pipe.destroy();
    assert.equal(first.status, 200);
    assert.match(first.headers['set-cookie'], /^tincan_session=/);
    assert.equal(second.status, 200);
    assert.equal(Number(sql(db, 'SELECT count(*) FROM sessions')), sessions + 1);
  });

  // At most 64 requests may wait for a hash (HASH_QUEUE in
  // src/server/accounts_glue.c). 120 connections are opened first, each
  // from an address of its own (no limit applies), then every one sends its
  // request in the same instant: half logins of unknown names, half
  // registrations. The two workers finish a hash in tens of milliseconds,
  // far slower than the loop takes requests, so the queue fills and the
  // rest are refused at once; a refused registration makes no account.
  test('past 64 requests waiting for a hash the rest get 503 busy with Retry-After: 1, and the server goes on', T, async () => {
    const db = join(srv.dataDir, 'tincan.db');
    const n = 120;
    const socks = await Promise.all(Array.from({ length: n }, (_, i) => tlsConnect(port, { localAddress: `127.0.24.${i + 1}` })));
    const readers = socks.map((s) => new Reader(s));
    const reqs = socks.map((_, i) => {
      const path = i % 2 ? '/api/auth/register' : '/api/auth/login';
      const body = JSON.stringify({ username: `flood-${i}`, password: PW });
      return buildRequest(port, 'POST', path, {
        Origin: `https://127.0.0.1:${port}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body),
      }, body);
    });
    socks.forEach((s, i) => s.write(reqs[i]));
    const res = await Promise.all(readers.map((r) => readResponse(r, { timeout: 50000 })));
    for (const s of socks) s.destroy();
    const busy = [];
    let served = 0;
    res.forEach((r, i) => {
      const body = JSON.parse(r.body.toString());
      if (r.status === 503) {
        assert.deepEqual(body, { error: 'busy' });
        assert.equal(r.headers['retry-after'], '1');
        busy.push(i);
      } else if (i % 2) {
        assert.equal(r.status, 201, JSON.stringify(body));
        served++;
      } else {
        assert.deepEqual([r.status, body], [401, { error: 'invalid_credentials' }]);
        served++;
      }
    });
    assert.ok(busy.length > 0, 'some requests were refused as busy');
    assert.ok(served >= 64, `the queue took its 64 before refusing (served ${served})`);
    const names = new Set(sql(db, "SELECT name FROM users WHERE name LIKE 'flood-%'").split('\n').filter(Boolean));
    for (let i = 1; i < n; i += 2) assert.equal(names.has(`flood-${i}`), !busy.includes(i), `account flood-${i}`);
    assert.equal(srv.proc.exitCode, null, 'the server is still running');
    assert.equal(await hashing(port), 0);
    const r = await login(port, 'carol', PW, { from: '127.0.25.1' });
    assert.equal(r.status, 200);
    assert.equal(r.json.user.name, 'carol');
  });
});
