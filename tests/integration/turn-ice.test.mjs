// ICE servers for browsers: GET /api/ice and the iceServers of the
// WebSocket welcome — their JSON shape, the host they name (Host header,
// IPv6 in brackets, --public-host), the credential lifetime
// (--turn-credential-ttl), and credentials that really allocate over UDP,
// TCP and TLS.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { start, request } from './net.mjs';
import { wsClient } from './wsclient.mjs';
import {
  TurnClient, expectSuccess, udpRange, turnArgs, Bag, restPassword,
} from './stun-client.mjs';

const T = { timeout: 20000 };
const SECRET = 'ice-test-secret';
const now = () => Math.floor(Date.now() / 1000);

/** Asserts the iceServers array names host:port and returns the TURN entry. */
function checkIceServers(list, host, port, { secret, ttl = 3600 } = {}) {
  assert.ok(Array.isArray(list), `iceServers is an array: ${JSON.stringify(list)}`);
  assert.equal(list.length, 2, `two entries (stun, turn): ${JSON.stringify(list)}`);
  assert.deepEqual(list[0], { urls: [`stun:${host}:${port}`] }, 'the STUN entry');
  const turn = list[1];
  assert.deepEqual(Object.keys(turn).sort(), ['credential', 'urls', 'username'], `TURN entry keys: ${JSON.stringify(turn)}`);
  assert.deepEqual(turn.urls, [
    `turn:${host}:${port}?transport=udp`,
    `turn:${host}:${port}?transport=tcp`,
    `turns:${host}:${port}?transport=tcp`,
  ], 'the TURN URLs');
  const m = /^(\d+):(.+)$/.exec(turn.username);
  assert.ok(m, `username "<expiry>:<id>": ${turn.username}`);
  const expiry = Number(m[1]);
  assert.ok(Math.abs(expiry - (now() + ttl)) <= 30, `expiry ${expiry} is about now + ${ttl} (now ${now()})`);
  assert.equal(typeof turn.credential, 'string');
  if (secret) assert.equal(turn.credential, restPassword(secret, turn.username), 'credential = base64(HMAC-SHA1(secret, username))');
  return turn;
}

/** GET /api/ice with an optional Host header; returns the parsed JSON. */
async function getIce(port, host) {
  const res = await request(port, 'GET', '/api/ice', host ? { Host: host } : {});
  assert.equal(res.status, 200, `GET /api/ice → ${res.status} ${res.body.toString().slice(0, 200)}`);
  assert.match(res.headers['content-type'] || '', /^application\/json/, 'Content-Type');
  return JSON.parse(res.body.toString());
}

describe('ICE servers with --turn-secret', () => {
  let srv;
  let range;
  const bag = new Bag();
  before(async () => {
    range = await udpRange(22200, 20);
    srv = await start({ args: turnArgs(range, '--turn-secret', SECRET) });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  test('GET /api/ice: shape, host from the Host header, ttl 3600', T, async () => {
    const ice = await getIce(srv.port);
    assert.deepEqual(Object.keys(ice).sort(), ['iceServers', 'ttl'], `top-level keys: ${JSON.stringify(ice)}`);
    assert.equal(ice.ttl, 3600);
    checkIceServers(ice.iceServers, '127.0.0.1', srv.port, { secret: SECRET });
  });

  test('the credentials of /api/ice allocate over udp, tcp and tls', T, async () => {
    const turn = (await getIce(srv.port)).iceServers[1];
    for (const tr of ['udp', 'tcp', 'tls']) {
      const t = bag.add(await TurnClient.connect(tr, srv.port, { user: turn.username, pass: turn.credential }));
      expectSuccess(await t.allocate(), `Allocate over ${tr} with the /api/ice credential`);
    }
  });

  test('two requests get different usernames (one id each)', T, async () => {
    // The per-user quota (--turn-quota, 10) counts REST usernames: browsers
    // that share one would share one quota.
    const a = (await getIce(srv.port)).iceServers[1];
    const b = (await getIce(srv.port)).iceServers[1];
    assert.notEqual(a.username, b.username, 'each client gets its own credential');
  });

  test('eleven browsers fetching /api/ice at once can each allocate (default quota 10 per user)', T, async () => {
    const creds = await Promise.all(Array.from({ length: 11 }, () => getIce(srv.port).then((j) => j.iceServers[1])));
    const failures = [];
    for (const [i, turn] of creds.entries()) {
      const t = bag.add(await TurnClient.connect('udp', srv.port, { user: turn.username, pass: turn.credential }));
      const res = await t.allocate();
      if (res.error) failures.push(`#${i} (${turn.username}): ${res.describe()}`);
    }
    assert.deepEqual(failures, [], 'every browser gets its allocation');
  });

  test('Host header: a name, an IPv6 literal in brackets', T, async () => {
    checkIceServers((await getIce(srv.port, `localhost:${srv.port}`)).iceServers, 'localhost', srv.port, { secret: SECRET });
    checkIceServers((await getIce(srv.port, `[::1]:${srv.port}`)).iceServers, '[::1]', srv.port, { secret: SECRET });
  });

  test('the WebSocket welcome carries the same iceServers, with working credentials', T, async () => {
    const c = await wsClient(srv.port);
    try {
      const w = await c.next();
      assert.equal(w.type, 'welcome');
      const turn = checkIceServers(w.iceServers, '127.0.0.1', srv.port, { secret: SECRET });
      const http = (await getIce(srv.port)).iceServers;
      assert.deepEqual(w.iceServers.map((s) => s.urls), http.map((s) => s.urls), 'same URLs as /api/ice');
      const t = bag.add(await TurnClient.connect('udp', srv.port, { user: turn.username, pass: turn.credential }));
      expectSuccess(await t.allocate(), 'Allocate with the welcome credential');
    } finally {
      c.close();
    }
  });

  test('only GET and HEAD on /api/ice', T, async () => {
    const res = await request(srv.port, 'POST', '/api/ice', { 'Content-Length': '0' });
    assert.equal(res.status, 405, `POST /api/ice → ${res.status}`);
  });
});

describe('ICE servers with --public-host and --turn-credential-ttl', () => {
  let srv;
  const bag = new Bag();
  before(async () => {
    srv = await start({
      args: turnArgs(await udpRange(22220, 5), '--turn-secret', SECRET, '--public-host', 'turn.example.org',
        '--turn-credential-ttl', '120'),
    });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  test('URLs name --public-host whatever the Host header; expiry now + 120', T, async () => {
    const ice = await getIce(srv.port, `127.0.0.1:${srv.port}`);
    checkIceServers(ice.iceServers, 'turn.example.org', srv.port, { secret: SECRET, ttl: 120 });
    assert.equal(ice.ttl, 120, 'ttl follows --turn-credential-ttl');
    const c = await wsClient(srv.port);
    try {
      const w = await c.next();
      checkIceServers(w.iceServers, 'turn.example.org', srv.port, { secret: SECRET, ttl: 120 });
    } finally {
      c.close();
    }
  });
});

describe('ICE servers with the secret the server makes itself', () => {
  let srv;
  const bag = new Bag();
  before(async () => { srv = await start({ args: turnArgs(await udpRange(22240, 5)) }); });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  test('credentials are made with <data-dir>/turn-secret and allocate', T, async () => {
    const secret = readFileSync(`${srv.dataDir}/turn-secret`, 'utf8').trim();
    const turn = checkIceServers((await getIce(srv.port)).iceServers, '127.0.0.1', srv.port, { secret });
    const t = bag.add(await TurnClient.connect('tls', srv.port, { user: turn.username, pass: turn.credential }));
    expectSuccess(await t.allocate(), 'Allocate over tls with the /api/ice credential');
  });
});

describe('/api/ice is rate-limited like the REST API (each call mints a TURN user)', () => {
  let srv;
  const bag = new Bag();
  before(async () => {
    const range = await udpRange(21780, 8);
    srv = await start({ args: turnArgs(range, '--turn-secret', SECRET, '--rest-rate', '1', '--turn-source-quota', '2') });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  test('past the burst: 429, counted as limit="rest"; fresh users do not buy allocations past the source quota', T, async () => {
    const statuses = [];
    const users = [];
    for (let i = 0; i < 4; i++) {
      const res = await request(srv.port, 'GET', '/api/ice');
      statuses.push(res.status);
      if (res.status === 200) users.push(JSON.parse(res.body.toString()).iceServers[1]);
    }
    assert.deepEqual(statuses, [200, 200, 429, 429], 'burst of two (--rest-rate 1), then 429');
    const metrics = (await request(srv.port, 'GET', '/metrics')).body.toString();
    assert.match(metrics, /^tincan_rate_limited_total\{limit="rest"\} 2$/m, 'both refusals counted');
    // Each minted user has its own per-user quota; the source quota still holds.
    const cred = (u) => ({ user: u.username, pass: u.credential });
    for (const [i, tr] of ['udp', 'tcp'].entries()) {
      const t = bag.add(await TurnClient.connect(tr, srv.port, cred(users[i])));
      expectSuccess(await t.allocate(), `allocation ${i + 1} from 127.0.0.1`);
    }
    const t = bag.add(await TurnClient.connect('tls', srv.port, cred(users[0])));
    const res = await t.allocate();
    assert.equal(res.error?.code, 486, `the third allocation of one source → 486 (${res.describe()})`);
  });
});
