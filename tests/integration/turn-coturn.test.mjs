// Interop with a TURN client nobody here wrote: coturn's turnutils_uclient,
// with turnutils_peer as the UDP echo peer (Debian package coturn), against
// tincan over UDP, TCP and TLS, with a static user (-u -w) and with the
// REST secret (-W). Each run must echo every message with 0 % loss.
//
// uclient runs with -c (no RTCP allocation): without it, uclient asks for
// the RTP allocation with EVEN-PORT and its R bit and then allocates RTCP
// with a RESERVATION-TOKEN, which tincan does not offer (508); browsers use
// neither. Every transport runs twice: with channels (uclient's default:
// ChannelBind with numbers from RFC 5766's 0x4000-0x7FFF, which tincan
// accepts as coturn does, then ChannelData both ways) and with Send and
// Data indications (-s).
//
// TURN_INTEROP_REFERENCE=1 also runs the same matrix against coturn's own
// turnserver, to tell a broken tool setup from a tincan bug.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, sleep } from './net.mjs';
import { udpRange, turnArgs } from './stun-client.mjs';
import { freePort } from '../lib/server.mjs';

const SECRET = 'interop-secret';
const STATIC = ['-u', 'alice', '-w', 'wonderland'];
const REST = ['-u', 'bob', '-W', SECRET];
const N = 50; // messages per client
const M = 2;  // clients
const RUN_MS = 60000;
const T = { timeout: RUN_MS + 10000 };

const have = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const TOOLS = have('turnutils_uclient') && have('turnutils_peer');
const NO_TOOLS = 'turnutils_uclient/turnutils_peer not installed (Debian package coturn, scripts/deps.sh)';

/** Spawns a long-running helper; returns { proc, out(), stop() }. */
function daemon(cmd, args) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; if (out.length > 1e6) out = out.slice(-5e5); });
  proc.stderr.on('data', (d) => { out += d; if (out.length > 1e6) out = out.slice(-5e5); });
  const exited = new Promise((ok) => proc.on('exit', (code, signal) => ok({ code, signal })));
  proc.on('error', () => {});
  return {
    proc,
    out: () => out,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** Runs turnutils_uclient to completion (bounded); returns { code, out, summary }. */
async function uclient(args) {
  const d = daemon('turnutils_uclient', args);
  const timer = setTimeout(() => d.proc.kill('SIGKILL'), RUN_MS);
  const { code, signal } = await d.exited;
  clearTimeout(timer);
  const out = d.out();
  return { code: code ?? signal, out, summary: parseSummary(out) };
}

/**
 * Reads uclient's closing lines:
 *   start_mclient: tot_send_msgs=100, tot_recv_msgs=100
 *   Total lost packets 0 (0.000000%), total send dropped 0 (0.000000%)
 */
function parseSummary(out) {
  const totals = [...out.matchAll(/start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/g)].pop();
  const lost = /Total lost packets (\d+) \(([\d.]+)%\), total send dropped (\d+)/.exec(out);
  if (!totals || !lost) return null;
  return { sent: Number(totals[1]), received: Number(totals[2]), lost: Number(lost[1]), lostPct: Number(lost[2]), dropped: Number(lost[3]) };
}

/** Asserts a uclient run echoed all N*M messages. */
function checkRun(run, what) {
  const tail = run.out.split('\n').filter((l) => l.trim()).slice(-25).join('\n');
  assert.ok(run.summary, `${what}: no summary from turnutils_uclient (exit ${run.code}); its output ends:\n${tail}`);
  const s = run.summary;
  assert.equal(s.sent, N * M, `${what}: messages sent (exit ${run.code})\n${tail}`);
  assert.equal(s.received, s.sent, `${what}: every message echoed\n${tail}`);
  assert.equal(s.lost, 0, `${what}: lost packets\n${tail}`);
  assert.equal(s.lostPct, 0, `${what}: loss %`);
  assert.equal(s.dropped, 0, `${what}: send dropped\n${tail}`);
}

const MATRIX = [
  ['udp', []],
  ['tcp', ['-t']],
  ['tls', ['-t', '-S']],
];

/**
 * Defines the interop tests against a server. target() returns
 * { port(transport, rest), peerPort }.
 */
// -v makes uclient print each ChannelBind and its answer ("success: 0x7444").
const MODES = [['channels', ['-v']], ['Send indications', ['-s']]];

function interopTests(label, target) {
  for (const [tr, flags] of MATRIX) {
    for (const [mode, modeFlags] of MODES) {
      for (const [cred, credArgs] of [['static user', STATIC], ['REST secret', REST]]) {
        const rest = credArgs === REST;
        test(`${label}: ${tr}, ${mode}, ${cred}: ${N}×${M} messages echoed, 0 % loss`, T, async (t) => {
          if (!TOOLS) assert.fail(NO_TOOLS);
          const { port, peerPort } = target();
          const run = await uclient([...flags, ...modeFlags, '-c', '-X', '-e', '127.0.0.1', '-r', String(peerPort), '-n',
            String(N), '-m', String(M), '-l', '120', ...credArgs, '-p', String(port(tr, rest)), '127.0.0.1']);
          t.diagnostic(`${tr}/${mode}/${cred}: ${JSON.stringify(run.summary)}`);
          checkRun(run, `uclient ${tr} ${mode} ${cred}`);
          if (mode === 'channels') {
            const binds = (run.out.match(/channel bind sent/g) || []).length;
            const bound = [...run.out.matchAll(/success: 0x([0-9a-f]{4})/g)].map((m) => parseInt(m[1], 16));
            assert.ok(binds >= M, `uclient sent ChannelBind (${binds})`);
            assert.equal(bound.length, binds, 'every ChannelBind succeeded');
            assert.ok(bound.every((n) => n >= 0x4000 && n <= 0x7fff), `channels in 0x4000-0x7FFF: ${bound.map((n) => n.toString(16))}`);
          }
        });
      }
    }
  }
  // DONT-FRAGMENT (-g) on the relay socket.
  for (const [what, flags] of [
    ['udp, DONT-FRAGMENT (-g)', ['-g', '-s']],
  ]) {
    test(`${label}: ${what}: all echoed, 0 % loss`, T, async () => {
      if (!TOOLS) assert.fail(NO_TOOLS);
      const { port, peerPort } = target();
      const tr = flags.includes('-S') ? 'tls' : flags.includes('-t') ? 'tcp' : 'udp';
      const run = await uclient([...flags, '-c', '-X', '-e', '127.0.0.1', '-r', String(peerPort), '-n', String(N),
        '-m', String(M), '-l', '120', ...STATIC, '-p', String(port(tr, false)), '127.0.0.1']);
      checkRun(run, `uclient ${what}`);
    });
  }
}

/** Starts turnutils_peer on two free consecutive UDP ports (uclient uses port and port+1). */
async function startPeer(base) {
  const r = await udpRange(base, 2);
  const peer = daemon('turnutils_peer', ['-L', '127.0.0.1', '-p', String(r.lo)]);
  await sleep(300);
  if (peer.proc.exitCode !== null) throw new Error(`turnutils_peer exited: ${peer.out()}`);
  return { peer, port: r.lo };
}

// The runs are independent (each its own allocations to the one echo peer)
// and mostly wait on uclient's own pacing, so they run side by side.
describe('coturn turnutils_uclient against tincan', { concurrency: 5 }, () => {
  let srv;
  let peer;
  let peerPort;
  before(async () => {
    if (!TOOLS) return;
    ({ peer, port: peerPort } = await startPeer(22400));
    srv = await start({
      args: turnArgs(await udpRange(22420, 60), '--turn-user', 'alice:wonderland', '--turn-secret', SECRET,
        '--allow-loopback-peers', '--turn-quota', '100'),
    });
  });
  after(async () => {
    await peer?.stop();
    await srv?.stop();
  });

  interopTests('tincan', () => ({ port: () => srv.port, peerPort }));
});

/** Starts a coturn turnserver on loopback: REST (use-auth-secret) or static users, not both (coturn takes one). */
async function coturn(dir, rest, base) {
  const ports = { plain: await freePort(), tls: await freePort() };
  const range = await udpRange(base, 30);
  const auth = rest ? ['--use-auth-secret', '--static-auth-secret', SECRET] : ['--lt-cred-mech', '--user', 'alice:wonderland'];
  const d = daemon('turnserver', ['-n', '--no-cli', '--listening-ip', '127.0.0.1',
    '--listening-port', String(ports.plain), '--tls-listening-port', String(ports.tls),
    '--relay-ip', '127.0.0.1', '--min-port', String(range.lo), '--max-port', String(range.hi), ...auth,
    '--realm', 'tincan', '--allow-loopback-peers', '--cert', join(dir, 'cert.pem'), '--pkey', join(dir, 'key.pem'),
    '--db', join(dir, `turndb-${rest ? 'rest' : 'static'}`), '--log-file', 'stdout', '--simple-log', '--no-dtls']);
  d.ports = ports;
  return d;
}

describe('reference: the same runs against coturn\'s turnserver', { skip: !process.env.TURN_INTEROP_REFERENCE }, () => {
  let servers = [];
  let peer;
  let peerPort;
  let dir;
  before(async () => {
    ({ peer, port: peerPort } = await startPeer(22500));
    dir = mkdtempSync(join(tmpdir(), 'coturn-ref-'));
    spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=localhost']);
    servers = [await coturn(dir, false, 22520), await coturn(dir, true, 22560)];
    await sleep(1000);
    for (const s of servers) if (s.proc.exitCode !== null) throw new Error(`turnserver exited: ${s.out()}`);
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await peer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  interopTests('coturn', () => ({
    port: (tr, rest) => servers[rest ? 1 : 0].ports[tr === 'tls' ? 'tls' : 'plain'],
    peerPort,
  }));
});
