// Per-source limits count an IPv6 source by its /64: the connection limit,
// PIN attempts and the REST API limiter. IPv6 addresses other than ::1 only
// exist on this machine inside a network namespace, so this file re-runs
// itself under `unshare --net` (root only): there it brings lo up with a few
// addresses of two /64s (documentation prefix 2001:db8::/32), and every
// connection goes from one of them to another, on lo.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { start, tlsConnect, Reader, readResponse, buildRequest, request, sleep } from './net.mjs';
import { Peers } from './signal-client.mjs';

const T = { timeout: 60000 };
const SELF = fileURLToPath(import.meta.url);
const INSIDE = process.env.TINCAN_NETNS === '1';
const NET_A = '2001:db8:a:1'; // one /64: several hosts (or one host's privacy addresses)
const NET_B = '2001:db8:b:1'; // another /64
const SERVER = `${NET_B}::ffff`;
const addrs = [...[1, 2, 3, 4, 5, 6].map((i) => `${NET_A}::${i}`), `${NET_A}:1234:5678:9abc:def0`, `${NET_B}::1`, `${NET_B}::2`, SERVER];

function canUnshare() {
  if (process.getuid?.() !== 0) return 'needs root for a network namespace';
  const r = spawnSync('unshare', ['--net', 'true']);
  return r.status === 0 ? false : `unshare --net failed: ${r.stderr}`;
}

if (!INSIDE) {
  test('per-source limits by IPv6 /64, run inside a network namespace', { timeout: 240000, skip: canUnshare() }, () => {
    const r = spawnSync('unshare', ['--net', process.execPath, '--test', SELF], {
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), TINCAN_NETNS: '1' }, encoding: 'utf8', timeout: 230000,
    });
    assert.equal(r.status, 0, `inside the namespace:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^# pass [1-9]/m);
    assert.match(r.stdout, /^# fail 0$/m);
  });
} else {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  for (const a of addrs) execFileSync('ip', ['-6', 'addr', 'add', `${a}/64`, 'dev', 'lo', 'nodad']);

  /** GET /health from src; resolves to the status, or 0 if the connection was refused. */
  const health = async (port, src) => {
    try {
      const sock = await tlsConnect(port, { host: SERVER, localAddress: src, timeout: 3000 });
      const reader = new Reader(sock);
      sock.write(buildRequest(port, 'GET', '/health'));
      const res = await readResponse(reader).finally(() => sock.destroy());
      return res.status;
    } catch {
      return 0;
    }
  };

  describe('connections per source (--max-conns-per-ip 3)', () => {
    let srv;
    before(async () => { srv = await start({ args: ['--bind', '::', '--max-conns-per-ip', '3'] }); });
    after(async () => { await srv?.stop(); });

    test('three addresses of one /64 fill its limit; a fourth address of it is refused; another /64 is not', T, async () => {
      const held = [];
      try {
        for (const src of addrs.slice(0, 3)) {
          const sock = await tlsConnect(srv.port, { host: SERVER, localAddress: src });
          held.push(sock);
        }
        await sleep(200);
        assert.equal(await health(srv.port, `${NET_A}::4`), 0, 'a 4th connection from the same /64 is refused');
        assert.equal(await health(srv.port, `${NET_A}:1234:5678:9abc:def0`), 0, 'also from an address that differs in all its low 64 bits');
        assert.equal(await health(srv.port, `${NET_B}::1`), 200, 'another /64 has its own limit');
      } finally {
        for (const s of held) s.destroy();
      }
      await sleep(300);
      assert.equal(await health(srv.port, `${NET_A}::5`), 200, 'the /64 is served again once its connections closed');
    });
  });

  describe('PIN attempts per source (--pin-rate 2)', () => {
    let srv;
    const peers = new Peers();
    before(async () => { srv = await start({ args: ['--bind', '::', '--pin-rate', '2'] }); peers.port = srv.port; });
    after(async () => { peers.closeAll(); await srv?.stop(); });

    test('attempts from different addresses of one /64 share one budget', T, async () => {
      const answers = [];
      for (const [i, src] of addrs.slice(0, 3).entries()) {
        const p = await peers.connect(`p${i}`, { host: SERVER, localAddress: src });
        p.send({ type: 'join-pin', pin: String(100000 + i) });
        answers.push(await p.take(['pin-waiting', 'error']));
      }
      assert.deepEqual(answers.map((a) => a.type), ['pin-waiting', 'pin-waiting', 'error'], JSON.stringify(answers));
      assert.equal(answers[2].code, 'rate_limited');
      const other = await peers.connect('other', { host: SERVER, localAddress: `${NET_B}::2` });
      other.send({ type: 'join-pin', pin: '200000' });
      assert.equal((await other.take(['pin-waiting', 'error'])).type, 'pin-waiting', 'another /64 has its own budget');
    });
  });

  describe('REST API requests per source (--rest-rate 1: bursts of 2)', () => {
    let srv;
    before(async () => { srv = await start({ args: ['--bind', '::', '--rest-rate', '1'] }); });
    after(async () => { await srv?.stop(); });

    test('requests from different addresses of one /64 share one bucket', T, async () => {
      const statuses = [];
      for (const src of addrs.slice(0, 4)) {
        const res = await request(srv.port, 'GET', '/api/rooms?roomid=nosuchroom', {}, { connect: { host: SERVER, localAddress: src } });
        statuses.push(res.status);
      }
      assert.ok(statuses.slice(2).every((s) => s === 429), `the 3rd and 4th are limited: ${statuses}`);
      const other = await request(srv.port, 'GET', '/api/rooms?roomid=nosuchroom', {}, { connect: { host: SERVER, localAddress: `${NET_B}::1` } });
      assert.notEqual(other.status, 429, 'another /64 has its own bucket');
    });
  });
}
