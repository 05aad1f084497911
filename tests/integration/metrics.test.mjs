// GET /metrics against the real binary: the text parses as Prometheus
// exposition format, its values move with real traffic (WebSocket peers in
// rooms, the lobby and calls; TURN allocations and relayed datagrams; bad
// TURN credentials; floods that hit each limit) and come back down, and who
// may read it (loopback, --metrics-token, --metrics-loopback=false, proxies).
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import dgram from 'node:dgram';
import { start, request, tlsConnect, rawExchange, tcpConnect, sleep } from './net.mjs';
import { Peers, uniq, room } from './signal-client.mjs';
import { TurnClient, UdpPeer, Bag, udpRange, turnArgs, expectSuccess, expectError, METHOD, ATTR, requestedTransport, encodeMessage } from './stun-client.mjs';
import { parse, scrape, until } from './prom.mjs';

const T = { timeout: 30000 };
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const ALICE = { user: 'alice', pass: 'wonderland' };
// Label names and the words their values may take: nothing personal.
const LABEL_VALUES = {
  kind: ['http', 'ws', 'turn_tcp', 'turn_tls', 'room', 'pin', 'call', 'joincode', 'stun', 'ice', 'dtls', 'channeldata', 'rtp', 'other',
    'audio', 'video', 'transport-cc', 'remb'],
  dir: ['up', 'down'],
  le: ['100000', '300000', '1000000', '3000000', '10000000', '+Inf'], // tincan_sfu_subscriber_estimate_bps
  state: ['connected', 'resumable', 'ringing', 'active'],
  transport: ['udp', 'tcp', 'tls'],
  direction: ['to_peer', 'to_client'],
  reason: ['bad_credentials', 'stale_nonce', 'unrouted', 'oversized', 'send_failed', 'own_address', 'peer_policy', 'unknown_method',
    'csrf', 'unauthenticated', 'forbidden', 'no_session', 'srtp_auth', 'bad_rtp', 'not_ready',
    'bad_dtls', 'bad_rtcp', 'unknown_ssrc', 'nack_storm', 'stale', 'overload'],
  thread: Array.from({ length: 64 }, (_, i) => String(i)), // tincan_sfu_thread_*: media thread numbers
  // The limits are the ones docs/deploy.md lists (and every one of them is served: see below).
  limit: documentedLimits(),
};

/** The words docs/deploy.md gives for the limit label of tincan_rate_limited_total. */
function documentedLimits() {
  const doc = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
  const row = /^\| `tincan_rate_limited_total` \| `limit`: ([a-z_, ]+) \|/m.exec(doc);
  return row ? row[1].split(/,\s*/) : [];
}

describe('/metrics: format and values that follow traffic', () => {
  let srv;
  let range;
  const peers = new Peers();
  const bag = new Bag();
  before(async () => {
    range = await udpRange(23000, 20);
    srv = await start({ args: turnArgs(range, '--turn-user', `${ALICE.user}:${ALICE.pass}`, '--allow-loopback-peers', '--resume-grace', '1') });
    peers.port = srv.port;
  });
  afterEach(async () => { peers.closeAll(); await bag.closeAll(); });
  after(async () => { await srv?.stop(); });

  test('200 with the 0.0.4 content type; every line parses, families have HELP and TYPE, labels are fixed words', T, async () => {
    const res = await request(srv.port, 'GET', '/metrics');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], CONTENT_TYPE);
    assert.equal(res.headers['cache-control'], 'no-store');
    const m = parse(res.body.toString('utf8'));
    for (const name of ['tincan_build_info', 'tincan_process_start_time_seconds', 'tincan_tls_cert_expiry_timestamp_seconds',
      'tincan_acme_certificate_expiry_timestamp_seconds', 'tincan_acme_last_success_timestamp_seconds', 'tincan_acme_failures_total',
      'tincan_connections', 'tincan_connections_opened_total', 'tincan_tcp_connections_accepted_total', 'tincan_signal_peers',
      'tincan_rooms', 'tincan_room_participants', 'tincan_lobby_users', 'tincan_calls', 'tincan_turn_allocations',
      'tincan_turn_allocations_total', 'tincan_turn_relayed_packets_total', 'tincan_turn_relayed_bytes_total',
      'tincan_turn_auth_failures_total', 'tincan_turn_refused_total', 'tincan_rate_limited_total', 'tincan_udp_packets_total',
      'tincan_udp_sent_packets_total', 'tincan_udp_dropped_total', 'tincan_sfu_sessions', 'tincan_sfu_rooms',
      'tincan_sfu_forwarded_packets_total', 'tincan_sfu_forwarded_bytes_total', 'tincan_sfu_keyframe_requests_total',
      'tincan_sfu_dropped_total', 'tincan_sfu_tracks']) {
      assert.ok(m.families.has(name), `family ${name} present`);
    }
    for (const [name, f] of m.families) {
      for (const s of f.samples) {
        for (const [k, v] of Object.entries(s.labels)) {
          if (k === 'version') continue;
          assert.ok(LABEL_VALUES[k]?.includes(v), `${name}: label ${k}="${v}" is one of the fixed words`);
        }
      }
    }
    const version = (await request(srv.port, 'GET', '/health')).body.toString();
    assert.equal(m.get('tincan_build_info', { version: JSON.parse(version).version }), 1, 'build_info carries the /health version');
    const started = m.get('tincan_process_start_time_seconds');
    const now = Date.now() / 1000;
    assert.ok(started <= now + 1 && started > now - 120, `start time ${started} is within the test's run (now ${now})`);
    // HEAD: the same head, no body.
    const head = await request(srv.port, 'HEAD', '/metrics');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  test('docs/deploy.md lists exactly the metric families the server serves', T, async () => {
    const doc = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `(tincan_[a-z_]+)`(?:, `(tincan_[a-z_]+)`)?/gm)].flatMap((m) => [m[1], m[2]]).filter(Boolean));
    const { m } = await scrape(srv.port);
    assert.deepEqual([...m.families.keys()].sort(), [...documented].sort());
    const served = m.families.get('tincan_rate_limited_total').samples.map((x) => x.labels.limit);
    assert.deepEqual(served.sort(), documentedLimits().sort(), 'the limit label takes exactly the documented words');
  });

  test('certificate expiry is the notAfter of the certificate being served', T, async () => {
    const sock = await tlsConnect(srv.port);
    const notAfter = Date.parse(sock.getPeerCertificate().valid_to) / 1000;
    sock.destroy();
    const { m } = await scrape(srv.port);
    assert.equal(m.get('tincan_tls_cert_expiry_timestamp_seconds'), notAfter);
    assert.equal(m.get('tincan_acme_certificate_expiry_timestamp_seconds'), 0, 'ACME is off: 0');
    assert.equal(m.get('tincan_acme_failures_total'), 0);
  });

  test('WebSocket peers, a room, the lobby and a call move the gauges up and back down', T, async () => {
    const base = (await scrape(srv.port)).m;
    const ws0 = base.get('tincan_connections', { kind: 'ws' });
    const opened0 = base.get('tincan_connections_opened_total', { kind: 'ws' });
    const [a, b] = await peers.many('a', 'b');
    await room(uniq('metrics'), a, b);
    let m = await until(srv.port, (x) => x.get('tincan_room_participants') === 2, 'two participants');
    assert.equal(m.get('tincan_rooms', { kind: 'room' }), 1, 'one named room');
    assert.equal(m.get('tincan_connections', { kind: 'ws' }), ws0 + 2, 'two more WebSocket connections');
    assert.equal(m.get('tincan_connections_opened_total', { kind: 'ws' }), opened0 + 2, 'two more upgrades counted');
    assert.equal(m.get('tincan_signal_peers', { state: 'connected' }), 2);

    // The lobby: c and d say hello, c calls d (ringing), d accepts (active, a call room).
    const [c, d] = await peers.many('c', 'd');
    c.send({ type: 'hello', name: uniq('Cy') });
    const dName = uniq('Di');
    d.send({ type: 'hello', name: dName });
    await c.take('lobby');
    await d.take('lobby');
    m = await until(srv.port, (x) => x.get('tincan_lobby_users') === 2, 'two in the lobby');
    c.send({ type: 'call', name: dName });
    const incoming = await d.take('incoming');
    m = await until(srv.port, (x) => x.get('tincan_calls', { state: 'ringing' }) === 1, 'a ringing call');
    assert.equal(m.get('tincan_calls', { state: 'active' }), 0);
    d.send({ type: 'accept', callId: incoming.callId });
    await c.take('call-started');
    m = await until(srv.port, (x) => x.get('tincan_calls', { state: 'active' }) === 1, 'an active call');
    assert.equal(m.get('tincan_calls', { state: 'ringing' }), 0);
    assert.equal(m.get('tincan_rooms', { kind: 'call' }), 1, 'the call has its room');
    assert.equal(m.get('tincan_room_participants'), 4, 'two in the named room, two in the call');

    // A PIN holder waits in a PIN room of one.
    const e = await peers.connect('e');
    e.send({ type: 'join-pin', pin: '493817' });
    await e.take('pin-waiting');
    m = await until(srv.port, (x) => x.get('tincan_rooms', { kind: 'pin' }) === 1, 'a PIN room');

    // Two clients of the join-code dialect share a room of their own kind.
    const [f, g] = await Promise.all([peers.connect('f', { path: '/' }), peers.connect('g', { path: '/' })]);
    const roomId = uniq('code');
    for (const p of [f, g]) {
      p.send({ type: 'join_room', roomId });
      await p.take('room_joined');
    }
    m = await until(srv.port, (x) => x.get('tincan_rooms', { kind: 'joincode' }) === 1, 'a join-code room');
    assert.equal(m.get('tincan_room_participants'), 7, 'named 2 + call 2 + PIN 1 + join-code 2');

    // Everyone says goodbye (close frames): all back to nothing.
    peers.closeAll();
    m = await until(srv.port, (x) => x.get('tincan_room_participants') === 0 && x.get('tincan_signal_peers', { state: 'connected' }) === 0
      && x.get('tincan_connections', { kind: 'ws' }) === ws0, 'everything back down');
    for (const kind of ['room', 'pin', 'call', 'joincode']) assert.equal(m.get('tincan_rooms', { kind }), 0, `no ${kind} rooms left`);
    assert.equal(m.get('tincan_lobby_users'), 0);
    assert.equal(m.get('tincan_calls', { state: 'active' }), 0);
    assert.equal(m.get('tincan_connections_opened_total', { kind: 'ws' }), opened0 + 7, 'counters do not go down');
  });

  test('a TURN allocation over UDP and relayed datagrams in both directions', T, async () => {
    const base = (await scrape(srv.port)).m;
    const get0 = (n, l) => base.get(n, l);
    const echo = bag.add(await UdpPeer.open({ echo: true }));
    const t = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectSuccess(await t.allocate(), 'Allocate over UDP');
    let m = await until(srv.port, (x) => x.get('tincan_turn_allocations', { transport: 'udp' }) === 1, 'one UDP allocation');
    assert.equal(m.get('tincan_turn_allocations_total'), get0('tincan_turn_allocations_total') + 1);
    expectSuccess(await t.createPermission(echo.addr), 'CreatePermission');
    const payload = Buffer.from('metrics-relay-1234');
    t.send(echo.addr, payload);
    await t.data(payload); // the echo came back through the relay
    m = await until(srv.port, (x) => x.get('tincan_turn_relayed_packets_total', { direction: 'to_client' }) >= get0('tincan_turn_relayed_packets_total', { direction: 'to_client' }) + 1, 'relayed to the client');
    assert.equal(m.get('tincan_turn_relayed_packets_total', { direction: 'to_peer' }), get0('tincan_turn_relayed_packets_total', { direction: 'to_peer' }) + 1);
    assert.equal(m.get('tincan_turn_relayed_bytes_total', { direction: 'to_peer' }), get0('tincan_turn_relayed_bytes_total', { direction: 'to_peer' }) + payload.length);
    assert.equal(m.get('tincan_turn_relayed_bytes_total', { direction: 'to_client' }), get0('tincan_turn_relayed_bytes_total', { direction: 'to_client' }) + payload.length);
    await t.release();
    await until(srv.port, (x) => x.get('tincan_turn_allocations', { transport: 'udp' }) === 0, 'the allocation is gone');
  });

  test('the main UDP port counts datagrams by kind; ICE checks, DTLS and RTP of no SFU session are dropped by the SFU and not answered', T, async () => {
    const base = (await scrape(srv.port)).m;
    const get0 = (n, l) => base.get(n, l);
    const sock = dgram.createSocket('udp4');
    await new Promise((ok) => sock.bind({ address: '127.0.0.1', port: 0 }, ok));
    const answers = [];
    sock.on('message', (d) => answers.push(d));
    // An ICE connectivity check (Binding with USERNAME): someone else's, not the STUN server's to answer.
    const check = encodeMessage({ method: METHOD.BINDING, attrs: [[ATTR.USERNAME, 'sfuufrag:browserufrag'], [ATTR.PRIORITY, Buffer.from([0, 0, 0, 1])]] });
    const send = (buf) => new Promise((ok) => sock.send(buf, srv.port, '127.0.0.1', ok));
    await send(check.buf);
    await send(Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])); // a DTLS record
    await send(Buffer.from([0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]));         // an RTP header
    await send(Buffer.from([0xc8]));                                            // nothing of ours
    await send(encodeMessage({ method: METHOD.BINDING }).buf);                  // a plain Binding: answered
    const m = await until(srv.port, (x) => x.get('tincan_udp_packets_total', { kind: 'stun' }) >= get0('tincan_udp_packets_total', { kind: 'stun' }) + 1
      && x.get('tincan_udp_packets_total', { kind: 'other' }) >= get0('tincan_udp_packets_total', { kind: 'other' }) + 1, 'the datagrams counted');
    for (const kind of ['ice', 'dtls', 'rtp', 'other']) {
      assert.equal(m.get('tincan_udp_packets_total', { kind }), get0('tincan_udp_packets_total', { kind }) + 1, `one ${kind} datagram`);
    }
    assert.equal(m.get('tincan_udp_dropped_total', { reason: 'unrouted' }), get0('tincan_udp_dropped_total', { reason: 'unrouted' }) + 1,
      'the unknown datagram is dropped for want of a handler');
    assert.equal(m.get('tincan_sfu_dropped_total', { reason: 'no_session' }), get0('tincan_sfu_dropped_total', { reason: 'no_session' }) + 3,
      'the SFU drops the ICE check (no such ufrag), the DTLS record and the RTP (no such address)');
    await sleep(200);
    assert.equal(answers.length, 1, 'only the plain Binding is answered');
    assert.ok(!answers[0].subarray(8, 20).equals(check.txid), 'the answer is not to the ICE check');
    assert.ok(m.get('tincan_udp_sent_packets_total') >= get0('tincan_udp_sent_packets_total') + 1, 'the answer is counted as sent');
    sock.close();
  });

  test('TURN over TCP and TLS: connections by kind and allocations by transport', T, async () => {
    const tcp = bag.add(await TurnClient.connect('tcp', srv.port, ALICE));
    const tls = bag.add(await TurnClient.connect('tls', srv.port, ALICE));
    expectSuccess(await tcp.allocate(), 'Allocate over TCP');
    expectSuccess(await tls.allocate(), 'Allocate over TLS');
    const m = await until(srv.port, (x) => x.get('tincan_turn_allocations', { transport: 'tcp' }) === 1
      && x.get('tincan_turn_allocations', { transport: 'tls' }) === 1, 'one TCP and one TLS allocation');
    assert.equal(m.get('tincan_connections', { kind: 'turn_tcp' }), 1);
    assert.equal(m.get('tincan_connections', { kind: 'turn_tls' }), 1);
    tcp.close();
    tls.close();
    await until(srv.port, (x) => x.get('tincan_connections', { kind: 'turn_tcp' }) === 0 && x.get('tincan_connections', { kind: 'turn_tls' }) === 0
      && x.get('tincan_turn_allocations', { transport: 'tcp' }) === 0 && x.get('tincan_turn_allocations', { transport: 'tls' }) === 0,
    'stream allocations end with their connections');
  });

  test('wrong TURN password: bad_credentials goes up by one, the first 401 of a login does not count', T, async () => {
    const base = (await scrape(srv.port)).m.get('tincan_turn_auth_failures_total', { reason: 'bad_credentials' });
    const good = bag.add(await TurnClient.connect('udp', srv.port, ALICE, { fresh: true }));
    expectSuccess(await good.allocate(), 'Allocate with the right password (after the usual 401)');
    let m = (await scrape(srv.port)).m;
    assert.equal(m.get('tincan_turn_auth_failures_total', { reason: 'bad_credentials' }), base, 'a normal login is no failure');
    const bad = bag.add(await TurnClient.connect('udp', srv.port, { user: 'alice', pass: 'wrong' }));
    expectError(await bad.allocate(), 401, 'Allocate with a wrong password');
    m = (await scrape(srv.port)).m;
    assert.equal(m.get('tincan_turn_auth_failures_total', { reason: 'bad_credentials' }), base + 1);
  });

  test('a signaling flood and a chat flood: rate_limited counts exactly the refusals the client saw', T, async () => {
    const base = (await scrape(srv.port)).m;
    const [a, b] = await peers.many('a', 'b');
    await room(uniq('flood'), a, b);
    // Every message gets exactly one answer: unknown_type, or rate_limited.
    const N = 400;
    for (let i = 0; i < N; i++) a.send({ type: 'ping-nothing' });
    const answered = (x) => x.type === 'error' && (x.code === 'rate_limited' || x.code === 'unknown_type');
    const answers = [];
    for (let i = 0; i < N; i++) answers.push(await a.take(answered, 10000, `answer ${i + 1} of ${N}`));
    const limited = answers.filter((x) => x.code === 'rate_limited').length;
    assert.ok(limited > 0, 'the flood was limited');
    let m = (await scrape(srv.port)).m;
    assert.equal(m.get('tincan_rate_limited_total', { limit: 'signal_message' }),
      base.get('tincan_rate_limited_total', { limit: 'signal_message' }) + limited);
    await sleep(1100); // the message bucket refills
    for (let i = 0; i < 30; i++) b.send({ type: 'chat', text: `hi ${i}` });
    await b.barrier(10000);
    const chatLimited = b.inbox.filter((x) => x.type === 'error' && x.code === 'rate_limited').length;
    assert.ok(chatLimited > 0, 'the chat flood was limited');
    m = (await scrape(srv.port)).m;
    assert.equal(m.get('tincan_rate_limited_total', { limit: 'chat' }), base.get('tincan_rate_limited_total', { limit: 'chat' }) + chatLimited);
  });
});

describe('/metrics: PIN and per-address connection limits', () => {
  let srv;
  const peers = new Peers();
  before(async () => {
    srv = await start({ args: ['--pin-rate', '2', '--max-conns-per-ip', '3'] });
    peers.port = srv.port;
  });
  afterEach(() => peers.closeAll());
  after(async () => { await srv?.stop(); });

  test('the third PIN attempt in a minute is limited and counted', T, async () => {
    const p = await peers.connect('p');
    for (const pin of ['111111', '222222', '333333']) p.send({ type: 'join-pin', pin });
    await p.error('rate_limited');
    peers.closeAll();
    const m = await until(srv.port, (x) => x.get('tincan_connections', { kind: 'ws' }) === 0, 'the peer is gone');
    assert.equal(m.get('tincan_rate_limited_total', { limit: 'pin' }), 1);
  });

  test('a fourth connection from one address is refused and counted', T, async () => {
    const held = [await tcpConnect(srv.port), await tcpConnect(srv.port), await tcpConnect(srv.port)];
    const fourth = await tcpConnect(srv.port);
    await new Promise((ok) => { fourth.on('close', ok); fourth.on('end', ok); });
    for (const s of held) s.destroy();
    const m = await until(srv.port, (x) => x.get('tincan_rate_limited_total', { limit: 'connections_per_ip' }) >= 1, 'refusal counted');
    assert.equal(m.get('tincan_rate_limited_total', { limit: 'connections_per_ip' }), 1);
  });
});

describe('/metrics: TURN stale nonces, quota and unauthenticated floods', () => {
  let srv;
  const bag = new Bag();
  before(async () => {
    const range = await udpRange(25000, 10);
    srv = await start({ args: turnArgs(range, '--turn-user', 'u:p', '--turn-nonce-ttl', '1', '--turn-quota', '1') });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  test('a request with an expired nonce (438) counts as stale_nonce', T, async () => {
    const t = bag.add(await TurnClient.connect('udp', srv.port, { user: 'u', pass: 'p' }, { fresh: true }));
    await t.learn();
    await sleep(2500); // --turn-nonce-ttl 1
    expectError(await t.allocate({ staleRetries: 0 }), 438, 'Allocate with a stale nonce');
    const m = (await scrape(srv.port)).m;
    assert.equal(m.get('tincan_turn_auth_failures_total', { reason: 'stale_nonce' }), 1);
    assert.equal(m.get('tincan_turn_auth_failures_total', { reason: 'bad_credentials' }), 0);
  });

  test('a second allocation over the per-user quota (486) counts as turn_quota', T, async () => {
    const a = bag.add(await TurnClient.connect('udp', srv.port, { user: 'u', pass: 'p' }));
    const b = bag.add(await TurnClient.connect('udp', srv.port, { user: 'u', pass: 'p' }));
    expectSuccess(await a.allocate(), 'first allocation');
    expectError(await b.allocate(), 486, 'second allocation of the same user');
    const m = (await scrape(srv.port)).m;
    assert.equal(m.get('tincan_rate_limited_total', { limit: 'turn_quota' }), 1);
  });

  test('unanswered unauthenticated requests of a flood are counted as turn_unauthenticated', T, async () => {
    const t = bag.add(await TurnClient.connect('udp', srv.port, null));
    const N = 60;
    // Sent raw, once each (the client's request() would retransmit unanswered ones).
    for (let i = 0; i < N; i++) t.c.sendRaw(encodeMessage({ method: METHOD.ALLOCATE, attrs: [[ATTR.REQUESTED_TRANSPORT, requestedTransport(17)]] }).buf);
    await sleep(1500);
    const answered = t.c.inbox.filter((x) => x.kind === 'stun' && x.msg.error?.code === 401).length;
    assert.ok(answered < N, `the flood was limited (${answered} of ${N} answered)`);
    const m = (await scrape(srv.port)).m;
    assert.equal(m.get('tincan_rate_limited_total', { limit: 'turn_unauthenticated' }), N - answered);
  });
});

describe('/metrics: the REST API rate limit', () => {
  let srv;
  before(async () => { srv = await start({ args: ['--rest-rate', '1'] }); });
  after(async () => { await srv?.stop(); });

  test('429 answers of the join-code API are counted as limit="rest"', T, async () => {
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      const body = JSON.stringify({ joinid: `metrics-${i}-${Date.now()}`, exp: '2030-01-01T00:00:00Z', client1: 'a' });
      statuses.push((await request(srv.port, 'POST', '/api/rooms', { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, { body })).status);
    }
    const limited = statuses.filter((x) => x === 429).length;
    assert.ok(limited > 0 && statuses.includes(201), `some created, some limited: ${statuses}`);
    const m = (await scrape(srv.port)).m;
    assert.equal(m.get('tincan_rate_limited_total', { limit: 'rest' }), limited);
  });
});

describe('/metrics: who may read it', () => {
  const TOKEN = 'metrics-token-for-the-test-0123456789';
  const servers = [];
  const server = async (...args) => { const s = await start({ args }); servers.push(s); return s; };
  after(async () => { await Promise.all(servers.map((s) => s.stop())); });

  test('default: loopback reads; a request that came through a proxy does not (403)', T, async () => {
    const s = await server();
    assert.equal((await request(s.port, 'GET', '/metrics')).status, 200);
    for (const h of [{ 'X-Forwarded-For': '198.51.100.7' }, { Forwarded: 'for=198.51.100.7' }, { 'X-Real-IP': '198.51.100.7' }]) {
      const res = await request(s.port, 'GET', '/metrics', h);
      assert.equal(res.status, 403, `${Object.keys(h)[0]} makes a loopback request a remote one`);
      assert.ok(!res.body.toString().includes('tincan_'), 'no metrics in the refusal');
    }
    // A bearer token means nothing when none is configured.
    assert.equal((await request(s.port, 'GET', '/metrics', { Authorization: `Bearer ${TOKEN}`, 'X-Forwarded-For': '1.2.3.4' })).status, 403);
  });

  test('plain HTTP on the same port is redirected, never answered with metrics', T, async () => {
    const s = await server();
    const { res, sock } = await rawExchange(s.port, `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n\r\n`, { plain: true });
    sock.destroy();
    assert.equal(res.status, 308);
    assert.equal(res.body.length, 0);
  });

  test('--metrics-token: the right token reads through a proxy, a wrong one gets 401 with WWW-Authenticate: Bearer', T, async () => {
    const s = await server('--metrics-token', TOKEN);
    const proxied = { 'X-Forwarded-For': '198.51.100.7' };
    const ok = await request(s.port, 'GET', '/metrics', { ...proxied, Authorization: `Bearer ${TOKEN}` });
    assert.equal(ok.status, 200);
    parse(ok.body.toString());
    const wrong = await request(s.port, 'GET', '/metrics', { ...proxied, Authorization: `Bearer ${TOKEN}x` });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers['www-authenticate'] || '', /^Bearer\b/);
    const prefix = await request(s.port, 'GET', '/metrics', { ...proxied, Authorization: `Bearer ${TOKEN.slice(0, -1)}` });
    assert.equal(prefix.status, 401, 'a prefix of the token is wrong');
    const basic = await request(s.port, 'GET', '/metrics', { ...proxied, Authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` });
    assert.equal(basic.status, 401, 'only the Bearer scheme');
    const none = await request(s.port, 'GET', '/metrics', proxied);
    assert.equal(none.status, 401);
    assert.match(none.headers['www-authenticate'] || '', /^Bearer\b/);
    // Loopback without a header still reads; with a wrong token it does not.
    assert.equal((await request(s.port, 'GET', '/metrics')).status, 200);
    assert.equal((await request(s.port, 'GET', '/metrics', { Authorization: 'Bearer nope' })).status, 401);
  });

  test('--metrics-loopback=false: loopback is treated like any other address', T, async () => {
    const s = await server('--metrics-token', TOKEN, '--metrics-loopback=false');
    assert.equal((await request(s.port, 'GET', '/metrics')).status, 401);
    assert.equal((await request(s.port, 'GET', '/metrics', { Authorization: `Bearer ${TOKEN}` })).status, 200);
    assert.equal((await request(s.port, 'GET', '/metrics', { Authorization: `bearer ${TOKEN}` })).status, 200, 'the scheme is case-insensitive');
    const noToken = await server('--metrics-loopback=false');
    assert.equal((await request(noToken.port, 'GET', '/metrics')).status, 403, 'no token configured: nobody');
  });

  test('--metrics=false: there is no /metrics', T, async () => {
    const s = await server('--metrics=false');
    assert.equal((await request(s.port, 'GET', '/metrics')).status, 404);
  });
});
