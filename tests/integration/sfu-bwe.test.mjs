// A subscriber behind a real bottleneck (issue 12): tincan runs in a
// network namespace of the test's own, an aiortc publisher
// (tests/integration/sfu_aiortc_client.py --noise: about 500 kbit/s of
// VP8) next to it, and an aiortc subscriber in a second namespace joined
// to the first by a veth pair. tc tbf on the server's end of the veth
// limits what tincan sends that subscriber to 300 kbit/s.
//
// aiortc negotiates abs-send-time and goog-remb (no transport-cc), so this
// is the REMB path of tincan's estimator (docs/sfu.md, "Bandwidth
// estimation"): aiortc's receive-side estimate falls when the queue at
// the bottleneck grows, tincan pauses the video that no longer fits and
// keeps sending audio; when the limit is lifted, the stale REMB lets the
// estimate grow on the subscriber's receiver reports and the video comes
// back (with a key frame) within 10 s.
//
// Needs root (ip netns, tc). Run:
//   TINCAN_BIN=build/asan/tincan node --test tests/integration/sfu-bwe.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { start, sleep } from './net.mjs';
import { aiortc } from './aiortc.mjs';
import { canUseNetns } from '../lib/netns.mjs';

const T = { timeout: 180_000 };
const SRV_IP = '10.231.7.1';
const CLI_IP = '10.231.7.2';
const tag = process.pid;
const NS_SRV = `tincan-bwes-${tag}`;
const NS_CLI = `tincan-bwec-${tag}`;
const VETH = `tbw${tag % 100000}`; // the server's end; the client's is VETH + "c"

const inNs = (ns, ...argv) => execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' });

function makeNamespaces() {
  execFileSync('ip', ['netns', 'add', NS_SRV]);
  execFileSync('ip', ['netns', 'add', NS_CLI]);
  execFileSync('ip', ['link', 'add', VETH, 'netns', NS_SRV, 'type', 'veth', 'peer', 'name', `${VETH}c`, 'netns', NS_CLI]);
  inNs(NS_SRV, 'ip', 'link', 'set', 'lo', 'up');
  inNs(NS_SRV, 'ip', 'addr', 'add', `${SRV_IP}/24`, 'dev', VETH);
  inNs(NS_SRV, 'ip', 'link', 'set', VETH, 'up');
  inNs(NS_CLI, 'ip', 'link', 'set', 'lo', 'up');
  inNs(NS_CLI, 'ip', 'addr', 'add', `${CLI_IP}/24`, 'dev', `${VETH}c`);
  inNs(NS_CLI, 'ip', 'link', 'set', `${VETH}c`, 'up');
}

function removeNamespaces() {
  spawnSync('ip', ['netns', 'del', NS_CLI]);
  spawnSync('ip', ['netns', 'del', NS_SRV]);
}

/** What tincan sends towards the subscriber: rate kbit/s, or no limit (null). */
function limit(kbit) {
  spawnSync('ip', ['netns', 'exec', NS_SRV, 'tc', 'qdisc', 'del', 'dev', VETH, 'root']);
  if (kbit) inNs(NS_SRV, 'tc', 'qdisc', 'add', 'dev', VETH, 'root', 'tbf', 'rate', `${kbit}kbit`, 'burst', '8kb', 'latency', '300ms');
}

/** tincan's /metrics, from inside its namespace: name{labels} → value. */
function metrics(port) {
  const text = inNs(NS_SRV, 'curl', '-sk', `https://127.0.0.1:${port}/metrics`);
  const out = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\d+(?:\.\d+)?)$/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** Polls check() every 250 ms until it returns a truthy value or ms pass. */
async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`no ${what} within ${ms} ms`);
    await sleep(250);
  }
}

describe('a subscriber behind a 300 kbit/s bottleneck', { skip: !canUseNetns() && 'needs root for network namespaces' }, () => {
  let srv;
  const clients = [];
  before(async () => {
    makeNamespaces();
    // Every address of its own namespace: the clients come to SRV_IP, /metrics is read on loopback.
    srv = await start({ wrap: ['ip', 'netns', 'exec', NS_SRV], bind: null });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await srv?.stop();
    removeNamespaces();
  });

  test('keeps its audio while the video is paused, and gets the video back within 10 s of the limit going', T, async () => {
    const pub = aiortc(srv.port, 'bwe', [200, 40, 40], { host: SRV_IP, netns: NS_SRV, extra: ['--noise'] });
    clients.push(pub);
    const sub = aiortc(srv.port, 'bwe', [40, 40, 200], { host: SRV_IP, netns: NS_CLI });
    clients.push(sub);
    await until(() => sub.last.video > 30 && sub.last.audio > 100, 60_000, 'video and audio at the subscriber');
    limit(300);
    const limited = Date.now();
    await until(() => metrics(srv.port).get('tincan_sfu_video_paused_total') >= 1, 30_000, 'video paused')
      .catch((e) => {
        const m = metrics(srv.port);
        throw new Error(`${e.message}; estimates ${sub.estimates.slice(-10)}; remb ${m.get('tincan_sfu_bwe_feedback_total{kind="remb"}')}; `
          + `tcc ${m.get('tincan_sfu_bwe_feedback_total{kind="transport-cc"}')}; frames ${JSON.stringify(sub.last)}; `
          + [...m].filter(([k]) => /sfu_(forwarded|video|bwe|tracks)/.test(k)).join(' '));
      });
    const pausedAfter = Date.now() - limited;
    // Audio goes on under the limit: 10 s of it (50 frames/s) while video is held back.
    const a0 = sub.last.audio;
    await sleep(10_000);
    const audio = sub.last.audio - a0;
    assert.ok(audio >= 250, `audio frames in 10 s under the limit: ${audio}`);
    const low = Math.min(...sub.estimates);
    assert.ok(low < 400_000, `the estimate went under the bottleneck's 300 kbit/s (lowest ${low})`);
    // The limit goes: the video is back within 10 s.
    const m = metrics(srv.port);
    const resumed0 = m.get('tincan_sfu_video_resumed_total') || 0;
    limit(null);
    const lifted = Date.now();
    const v0 = sub.last.video;
    await until(() => sub.last.video >= v0 + 15 && metrics(srv.port).get('tincan_sfu_video_resumed_total') > resumed0,
      15_000, 'video back');
    const back = Date.now() - lifted;
    console.log(`# paused ${pausedAfter} ms after the limit; ${audio} audio frames in 10 s under it; `
      + `lowest estimate ${low} bit/s; video back ${back} ms after the limit went`);
    assert.ok(back <= 10_000, `video back after ${back} ms`);
    assert.deepEqual([...pub.events, ...sub.events].filter((e) => e.event === 'error'), []);
  });
});
