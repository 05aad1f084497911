// Live presence and team rooms over the signaling WebSocket (--accounts):
// the session cookie on /ws signs a connection in; it hears who is online,
// in which team room, muted, speaking or sharing, pushed on every change;
// team rooms are joined with join {team:true} (cookie and room password
// checked); the caps (3 connections per account, --presence-max in all)
// and the place a leaving connection frees going to the one that waited;
// logout, "log out everywhere" and an admin disabling the account push
// signed-out. Real binary, real sockets, real SQLite.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { start } from './net.mjs';
import { wsClient } from './wsclient.mjs';
import { Peer, WAIT } from './signal-client.mjs';

const T = { timeout: 60000 };
// Session checks and argon2id logins under ASan on a busy machine: a longer wait where they pile up.
const LONG = 15000;
const PW = 'correct horse battery';

function api(port, method, path, body, cookie) {
  const data = body === undefined ? null : JSON.stringify(body);
  const headers = { Origin: `https://127.0.0.1:${port}` };
  if (data !== null) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  if (cookie) headers.Cookie = cookie;
  return new Promise((ok, fail) => {
    const req = https.request({ host: '127.0.0.1', port, method, path, agent: false, rejectUnauthorized: false, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const setCookie = (res.headers['set-cookie'] || [])[0] || '';
        ok({ status: res.statusCode, json: text ? JSON.parse(text) : null, cookie: setCookie.split(';')[0] });
      });
    });
    req.on('error', fail);
    if (data !== null) req.write(data);
    req.end();
  });
}

/** Opens /ws (with a session cookie if given); resolves a Peer whose welcome is taken. */
async function open(port, label, cookie, all) {
  const headers = { Origin: `https://127.0.0.1:${port}` };
  if (cookie) headers.Cookie = cookie;
  const c = await wsClient(port, { ws: { headers } });
  const welcome = await c.next(WAIT);
  assert.equal(welcome.type, 'welcome');
  const p = new Peer(c, welcome, label);
  all.add(p);
  return p;
}

/** Keeps a presence list as a client would: the full list, then each update applied. */
function track(p) {
  p.online = null;
  const orig = p._poke.bind(p);
  p._poke = () => {
    for (const m of p.inbox) {
      if (m._seen) continue;
      m._seen = true;
      if (m.type === 'presence' && Array.isArray(m.online)) p.online = new Map(m.online.map((e) => [e.id, e]));
      if (m.type === 'presence-update' && p.online) {
        for (const id of m.gone) p.online.delete(id);
        for (const e of m.set) p.online.set(e.id, e);
      }
    }
    orig();
  };
  p._poke();
  return p;
}

/** Waits until p's list satisfies pred(list Map); returns the list. */
function listWhere(p, pred, desc, ms = WAIT) {
  return new Promise((ok, fail) => {
    const check = () => {
      if (p.online && pred(p.online)) { done(); ok(p.online); }
    };
    const timer = setTimeout(() => { done(); fail(new Error(`${p.label}: no presence list with ${desc}; have ${JSON.stringify([...(p.online || new Map()).values()])}`)); }, ms);
    const done = () => { clearTimeout(timer); p.waiters.delete(check); };
    p.waiters.add(check);
    check();
  });
}

describe('presence and team rooms', () => {
  let srv; let port; let invite;
  const cookies = {};
  const all = new Set();
  before(async () => {
    srv = await start({ args: ['--accounts', '--registration', 'open', '--resume-grace', '2', '--max-room', '4'] });
    port = srv.port;
    invite = /invite=(\S+)/.exec(srv.logs.find((l) => l.includes('msg=accounts_admin_invite')))[1];
    for (const name of ['admin', 'alice', 'bob', 'carol']) {
      const r = await api(port, 'POST', '/api/auth/register', { username: name, password: PW, ...(name === 'admin' ? { invite } : {}) });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      cookies[name] = r.cookie;
    }
  });
  afterEach(() => { for (const p of all) p.drop(); all.clear(); });
  after(async () => { await srv?.stop(); });

  test('a signed-in connection gets the list with itself; an anonymous one gets none', T, async () => {
    const anon = await open(port, 'anon', null, all);
    const a = track(await open(port, 'alice', cookies.alice, all));
    const first = await a.take('presence');
    assert.deepEqual(first.you, { id: 2, name: 'alice' });
    assert.deepEqual(first.online.find((e) => e.id === a.id),
      { id: a.id, user: 'alice', room: null, muted: true, camera: false, speaking: false, sharing: false });
    await anon.barrier();
    anon.none(['presence', 'presence-update']);
    const forged = await open(port, 'forged', 'tincan_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', all);
    await forged.barrier();
    forged.none('presence', 'a made-up session');
  });

  test('join, state, leave and disconnect of a team room reach everyone signed in, once per change', T, async () => {
    const a = track(await open(port, 'alice', cookies.alice, all));
    const b = track(await open(port, 'bob', cookies.bob, all));
    await listWhere(a, (l) => l.get(b.id)?.user === 'bob' && l.get(b.id).room === null, 'bob online, in no room');
    const room = await api(port, 'POST', '/api/team-rooms', { name: 'Standup' }, cookies.alice);
    assert.equal(room.status, 201);
    const id = room.json.room.id;
    await a.take('rooms-changed');
    await b.take('rooms-changed');

    b.send({ type: 'state', name: 'Not Bob', muted: false, camera: true });
    b.send({ type: 'join', room: id, team: true });
    const joined = await b.take('joined');
    assert.deepEqual(joined.peers, []);
    await listWhere(a, (l) => l.get(b.id)?.room === id && l.get(b.id).muted === false && l.get(b.id).camera === true, 'bob in Standup, unmuted');

    a.send({ type: 'state', muted: true, camera: false });
    a.send({ type: 'join', room: id, team: true });
    await a.take('joined');
    const ps = await a.take('peer-state');
    assert.equal(ps.name, 'bob', 'in a team room the name is the account name, not the one a client claims');
    b.send({ type: 'state', speaking: true, screen: '{0a1b2c3d-aaaa-bbbb-cccc-0123456789ab}' });
    await listWhere(a, (l) => l.get(b.id)?.speaking === true && l.get(b.id).sharing === true, 'bob speaking and sharing');
    const st = await a.take((m) => m.type === 'peer-state' && m.screen);
    assert.equal(st.screen, '{0a1b2c3d-aaaa-bbbb-cccc-0123456789ab}');
    assert.equal(st.screenAudio, null);
    b.send({ type: 'state', screen: 'no spaces allowed' });
    await b.error('missing_field');
    // SFU rooms name the share's video and sound tracks; ending the share ends both.
    b.send({ type: 'state', screen: 'video-track-1', screenAudio: 'audio-track-2' });
    const both = await a.take((m) => m.type === 'peer-state' && m.screen === 'video-track-1');
    assert.equal(both.screenAudio, 'audio-track-2');
    b.send({ type: 'state', screenAudio: 'bad id!' });
    await b.error('missing_field');
    b.send({ type: 'state', screen: null });
    const none = await a.take((m) => m.type === 'peer-state' && m.screen === null);
    assert.equal(none.screenAudio, null);

    b.send({ type: 'leave' });
    await listWhere(a, (l) => l.get(b.id)?.room === null, 'bob out of the room');
    b.drop(); // no close frame: gone after the 2 s resume grace
    await listWhere(a, (l) => !l.has(b.id), 'bob gone after the grace', 6000);

    const c = track(await open(port, 'carol', cookies.carol, all));
    await listWhere(a, (l) => l.has(c.id), 'carol online');
    c.c.ws.close(1000); // a goodbye: gone at once
    await listWhere(a, (l) => !l.has(c.id), 'carol gone', 1500);
  });

  test('team joins need a session, an existing room and its password; team and public rooms never mix', T, async () => {
    const pw = await api(port, 'POST', '/api/team-rooms', { name: 'Locked', password: 'sesame!!' }, cookies.bob);
    const id = pw.json.room.id;
    const anon = await open(port, 'anon', null, all);
    anon.send({ type: 'join', room: id, team: true });
    await anon.error('unauthenticated');
    const a = await open(port, 'alice', cookies.alice, all);
    a.send({ type: 'join', room: '00000000-0000-4000-8000-000000000000', team: true });
    await a.error('not_found');
    a.send({ type: 'join', room: id, team: true });
    await a.error('wrong_room_password');
    a.send({ type: 'join', room: id, team: true, password: 'wrong' });
    await a.error('wrong_room_password');
    // The password is verified on a worker thread; while it is, this
    // connection's next message waits for nothing: a chat to nobody is
    // refused at once, before the joined.
    a.send({ type: 'join', room: id, team: true, password: 'sesame!!' });
    a.send({ type: 'x-probe' });
    const first = await a.take((m) => m.type === 'joined' || m.type === 'error');
    assert.equal(first.type, 'error', 'the probe is answered while the password hashes');
    assert.deepEqual((await a.take('joined')).peers, []);
    // A second connection's join: the password verified once, so it is
    // known now and no hash is needed: joined at once.
    const a2 = await open(port, 'alice2', cookies.alice, all);
    a2.send({ type: 'join', room: id, team: true, password: 'sesame!!' });
    assert.equal((await a2.take('joined')).peers.length, 1);
    await a.take('peer-joined');
    a2.send({ type: 'leave' });
    await a.take('peer-left');
    anon.send({ type: 'join', room: id }); // the same name as a public room is another room
    assert.deepEqual((await anon.take('joined')).peers, []);
    await a.barrier();
    a.none('peer-joined');
    anon.send({ type: 'join', room: `team:${id}` });
    await anon.error('bad_room');
  });

  test('at most 3 connections of one account hear presence; the 4th is told it is limited until one of the 3 leaves', T, async () => {
    const cs = [];
    for (let i = 0; i < 3; i++) {
      const p = await open(port, `carol${i}`, cookies.carol, all);
      assert.ok(Array.isArray((await p.take('presence')).online));
      cs.push(p);
    }
    const fourth = await open(port, 'carol3', cookies.carol, all);
    const m = await fourth.take('presence');
    assert.equal(m.limited, 'account');
    assert.equal(m.online, undefined);
    // Still listed for the others, and it may still join team rooms.
    const a = track(await open(port, 'alice', cookies.alice, all));
    await listWhere(a, (l) => [...l.values()].filter((e) => e.user === 'carol').length === 4, 'four carol connections');
    fourth.send({ type: 'state', muted: true });
    await listWhere(a, (l) => l.get(fourth.id)?.muted === true, 'the limited one updates too');
    await fourth.barrier();
    fourth.none('presence-update', 'a limited connection hears no updates');
    // A fifth waits too; when one of the three leaves, the one that has
    // waited longest (the fourth) gets the place, with the whole list.
    const fifth = await open(port, 'carol4', cookies.carol, all);
    assert.equal((await fifth.take('presence')).limited, 'account');
    cs[0].c.ws.close(1000);
    const promoted = await fourth.take('presence');
    assert.equal(promoted.limited, undefined);
    assert.ok(promoted.online.some((e) => e.id === fifth.id) && !promoted.online.some((e) => e.id === cs[0].id),
      'the whole list, without the one that left');
    await listWhere(a, (l) => !l.has(cs[0].id), 'one carol gone');
    cs[1].send({ type: 'state', muted: true });
    await fourth.take((m) => m.type === 'presence-update' && m.set.some((e) => e.id === cs[1].id && e.muted));
    await fifth.barrier();
    fifth.none('presence', 'the fifth still waits');
    fifth.none('presence-update', 'and hears no updates');
    fifth.c.ws.close(1000);
    fourth.c.ws.close(1000);
    await listWhere(a, (l) => !l.has(fourth.id) && !l.has(fifth.id), 'both gone');
  });

  test('logout, log out everywhere and a disabled account push signed-out and end the team call', T, async () => {
    const s1 = (await api(port, 'POST', '/api/auth/login', { username: 'bob', password: PW })).cookie;
    const s2 = (await api(port, 'POST', '/api/auth/login', { username: 'bob', password: PW })).cookie;
    const room = await api(port, 'POST', '/api/team-rooms', { name: 'Ops' }, cookies.alice);
    const id = room.json.room.id;
    const b1 = await open(port, 'bob1', s1, all);
    const b2 = await open(port, 'bob2', s2, all);
    // The watcher is the admin: alice's connections from the test before
    // still hold her 3 places for the 2 s resume grace.
    const a = track(await open(port, 'admin', cookies.admin, all));
    a.send({ type: 'join', room: id, team: true });
    await a.take('joined', LONG);
    b1.send({ type: 'join', room: id, team: true });
    await b1.take('joined', LONG);
    await a.take('peer-joined', LONG);

    assert.equal((await api(port, 'POST', '/api/auth/logout', {}, s1)).status, 204);
    assert.deepEqual(await b1.take('signed-out', LONG), { type: 'signed-out', reason: 'session_ended' });
    assert.equal((await a.take('peer-left', LONG)).peerId, b1.id, 'a signed-out member leaves the team room');
    await listWhere(a, (l) => !l.has(b1.id) && l.has(b2.id), 'bob1 gone, bob2 still online', LONG);
    await b2.barrier();
    b2.none('signed-out', 'another session of the same account');
    b1.send({ type: 'join', room: id, team: true });
    await b1.error('unauthenticated');

    const r = await api(port, 'POST', '/api/auth/logout-all', {}, s2);
    assert.equal(r.json.sessions_ended >= 1, true);
    await b2.take('signed-out', LONG);
    await listWhere(a, (l) => !l.has(b2.id), 'bob2 gone', LONG);

    const c = await open(port, 'carol', cookies.carol, all);
    await c.take('presence', LONG);
    const admin = cookies.admin;
    assert.equal((await api(port, 'POST', '/api/auth/disable', { username: 'carol', disabled: true }, admin)).status, 204);
    await c.take('signed-out', LONG);
    assert.equal((await api(port, 'POST', '/api/auth/disable', { username: 'carol', disabled: false }, admin)).status, 204);
  });

  test('rename and delete push rooms-changed; entering a room does not', T, async () => {
    const a = await open(port, 'alice', cookies.alice, all);
    const room = await api(port, 'POST', '/api/team-rooms', { name: 'Temp' }, cookies.alice);
    await a.take('rooms-changed');
    const id = room.json.room.id;
    assert.equal((await api(port, 'POST', `/api/team-rooms/${id}/enter`, {}, cookies.alice)).status, 200);
    await a.barrier();
    a.none('rooms-changed', 'enter changes nothing');
    assert.equal((await api(port, 'PATCH', `/api/team-rooms/${id}`, { name: 'Temp 2' }, cookies.alice)).status, 200);
    await a.take('rooms-changed');
    assert.equal((await api(port, 'DELETE', `/api/team-rooms/${id}`, undefined, cookies.alice)).status, 204);
    await a.take('rooms-changed');
  });
});

describe('the global presence cap', () => {
  let srv;
  const all = new Set();
  before(async () => { srv = await start({ args: ['--accounts', '--registration', 'open', '--presence-max', '2'] }); });
  after(async () => { for (const p of all) p.drop(); await srv?.stop(); });

  test('past --presence-max a signed-in connection is told the server is full', T, async () => {
    const port = srv.port;
    const cookie = [];
    for (const name of ['dan', 'eve', 'fay']) {
      cookie.push((await api(port, 'POST', '/api/auth/register', { username: name, password: PW })).cookie);
    }
    const d = await open(port, 'dan', cookie[0], all);
    assert.ok((await d.take('presence')).online);
    const e = await open(port, 'eve', cookie[1], all);
    assert.ok((await e.take('presence')).online);
    const f = await open(port, 'fay', cookie[2], all);
    assert.equal((await f.take('presence')).limited, 'server');
    d.c.ws.close(1000);
    const got = await f.take('presence');
    assert.equal(got.limited, undefined, 'a freed place goes to the connection that waited for it');
    assert.deepEqual(got.online.map((x) => x.user).sort(), ['eve', 'fay']);
    await e.take((m) => m.type === 'presence-update' && m.gone.includes(d.id));
    const f2 = await open(port, 'fay2', cookie[2], all);
    assert.equal((await f2.take('presence')).limited, 'server', 'the next one finds the server full again');
    f.c.ws.close(1000);
    assert.ok((await f2.take('presence')).online, 'and gets the place when it frees up');
  });
});

describe('room passwords can change', () => {
  let srv;
  before(async () => { srv = await start({ args: ['--accounts', '--registration', 'open'] }); });
  after(async () => { await srv?.stop(); });

  test('PATCH with password sets it, with "" removes it, with a name only keeps it', T, async () => {
    const port = srv.port;
    const cookie = (await api(port, 'POST', '/api/auth/register', { username: 'gus', password: PW })).cookie;
    const id = (await api(port, 'POST', '/api/team-rooms', { name: 'Open' }, cookie)).json.room.id;
    let r = await api(port, 'PATCH', `/api/team-rooms/${id}`, { password: 'letmein!' }, cookie);
    assert.equal(r.status, 200);
    assert.equal(r.json.room.has_password, true);
    assert.equal(r.json.room.name, 'Open');
    assert.equal((await api(port, 'POST', `/api/team-rooms/${id}/enter`, {}, cookie)).status, 403);
    assert.equal((await api(port, 'POST', `/api/team-rooms/${id}/enter`, { password: 'letmein!' }, cookie)).status, 200);
    r = await api(port, 'PATCH', `/api/team-rooms/${id}`, { name: 'Closed' }, cookie);
    assert.deepEqual([r.json.room.name, r.json.room.has_password], ['Closed', true]);
    r = await api(port, 'PATCH', `/api/team-rooms/${id}`, { password: '' }, cookie);
    assert.equal(r.json.room.has_password, false);
    assert.equal((await api(port, 'POST', `/api/team-rooms/${id}/enter`, {}, cookie)).status, 200);
    r = await api(port, 'PATCH', `/api/team-rooms/${id}`, {}, cookie);
    assert.equal(r.status, 400);
  });
});
