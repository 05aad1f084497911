// bench/sfu/drive.mjs — the signaling side of the SFU bench: drives the C
// load generator (sfuload, which plays the browsers' media) against tincan
// (its WebSocket SFU messages, docs/protocol.md "SFU rooms") or Janus's
// videoroom plugin (its HTTP API, long polling), and measures the server.
//
// One run: P publishers join one room and publish Opus + VP8, then S
// subscribers join and receive every publisher's two tracks (--rooms R: R
// such rooms; --mesh 1: P members per room that each publish and receive the
// other P-1, as a small call does) (tincan: one
// subscriber transport per member with every track; Janus 1.x: one
// multistream subscriber handle per member with every feed). Once every
// transport is connected the publishers start sending; after a warm-up the
// server's CPU (utime + stime of /proc/<pid>/stat, all threads) and the
// generator's counters are read at the start and the end of the window.
// Prints one line `RESULT {json}` with the figures.
//
//   node bench/sfu/drive.mjs --server tincan --url wss://127.0.0.1:PORT/ws --pid PID \
//        [--gen "nsenter -t N -n build/rel/sfuload --bind 192.0.2.20"] [--pubs 4] [--subs 20] \
//        [--rooms 1] [--mesh 0|1] [--verify 1] [--warmup 3] [--duration 10] [--srtp both]
//        [--simulcast 0|1]  (publishers send three VP8 layers, rid q/h/f)
//   node bench/sfu/drive.mjs --server janus --url http://127.0.0.1:8088/janus --pid PID --room 1234 …
//
// The functions are exported for tests/integration/sfu-load.test.mjs.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import WebSocket from 'ws';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const SFULOAD = join(ROOT, 'build/rel/sfuload');

/** Races a promise against a deadline. */
function within(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, no) => { t = setTimeout(() => no(new Error(`timed out: ${what}`)), ms); })])
    .finally(() => clearTimeout(t));
}

/** The generator process: commands in, events out (one JSON object a line). */
export class Gen {
  constructor(argv) {
    this.proc = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    this.waiters = [];
    this.connected = new Map(); // id → profile
    this.failed = [];
    this.exited = new Promise((ok) => this.proc.on('exit', (code, sig) => ok({ code, sig })));
    createInterface({ input: this.proc.stdout }).on('line', (line) => this.onLine(line));
  }

  onLine(line) {
    let ev;
    try { ev = JSON.parse(line); } catch { return; }
    if (ev.ev === 'connected') this.connected.set(ev.id, ev.profile);
    if (ev.ev === 'failed' || ev.ev === 'error') this.failed.push(ev);
    this.waiters = this.waiters.filter((w) => !w(ev));
  }

  /** Sends a command and waits for the first event pred accepts. */
  ask(cmd, pred, ms = 10000) {
    const p = new Promise((ok) => this.waiters.push((ev) => (pred(ev) ? (ok(ev), true) : false)));
    this.send(cmd);
    return within(p, ms, `generator: ${cmd.op} ${cmd.id ?? ''}`);
  }

  send(cmd) { this.proc.stdin.write(`${JSON.stringify(cmd)}\n`); }
  offer(id) { return this.ask({ op: 'pub', id }, (e) => e.ev === 'offer' && e.id === id).then((e) => e.sdp); }
  answerTo(id, sdp) { return this.ask({ op: 'offer', id, sdp }, (e) => e.ev === 'answer' && e.id === id).then((e) => e.sdp); }
  stats(detail = false) { return this.ask({ op: 'stats', detail }, (e) => e.ev === 'stats'); }

  /** Waits until every id has completed its DTLS handshake. */
  async allConnected(ids, ms = 20000) {
    const t0 = Date.now();
    while (!ids.every((id) => this.connected.has(id))) {
      if (this.failed.length) throw new Error(`generator: ${JSON.stringify(this.failed[0])}`);
      if (Date.now() - t0 > ms) {
        throw new Error(`transports not connected after ${ms} ms: ${ids.filter((id) => !this.connected.has(id)).join(' ')}`);
      }
      await new Promise((ok) => setTimeout(ok, 50));
    }
  }

  async quit() {
    this.send({ op: 'quit' });
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(t);
  }
}

/* ---------------- tincan: WebSocket SFU messages ---------------- */

class WsPeer {
  constructor(url) {
    this.ws = new WebSocket(url, { rejectUnauthorized: false });
    this.queue = [];
    this.waiters = [];
    this.ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0].ok(m);
      else if (this.onMessage) this.onMessage(m);
      else this.queue.push(m);
    });
    this.closed = new Promise((ok) => this.ws.on('close', ok));
    this.opened = new Promise((ok, no) => { this.ws.on('open', ok); this.ws.on('error', no); });
  }

  take(type, ms = 10000) {
    const i = this.queue.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
    return within(new Promise((ok) => this.waiters.push({ type, ok })), ms, `tincan: ${type}`);
  }

  send(m) { this.ws.send(JSON.stringify(m)); }
}

/**
 * The room shapes: `rooms` rooms, each with `pubs` publishers and `subs`
 * subscribers (members that only receive), or with `mesh`, `pubs` members
 * that each publish and receive the others. Generator ids: publisher
 * transports 1.., subscriber transports SUB_ID0 + 1.. (a mesh member has one
 * of each). Returns [{ room, members: [{ pub, sub }] }].
 */
export const SUB_ID0 = 100000;
/* A subscriber transport of tincan carries at most SDP_MAX_MEDIA (64)
 * m-sections, so the first 32 publishers' audio and video (the generator's
 * SDP parser has the same limit): Janus subscribers take the same 32
 * feeds at most, so that both servers forward the same packets. */
export const FEEDS_MAX = 32;
export function plan({ rooms = 1, pubs, subs, mesh = false, room }) {
  const out = [];
  let p = 0, q = 0;
  for (let r = 0; r < rooms; r++) {
    const members = [];
    for (let i = 0; i < pubs; i++) members.push({ pub: ++p, sub: mesh ? SUB_ID0 + ++q : 0 });
    for (let k = 0; !mesh && k < subs; k++) members.push({ pub: 0, sub: SUB_ID0 + ++q });
    out.push({ room: typeof room === 'number' ? room + r : rooms > 1 ? `${room}-${r}` : room, members });
  }
  return out;
}

const allIds = (rs, k) => rs.flatMap((r) => r.members.map((m) => m[k]).filter(Boolean));

/** Joins a tincan SFU room; publishes as m.pub, answers offers as m.sub. */
async function tincanMember(gen, url, room, m, peers) {
  const label = m.pub ? `publisher ${m.pub}` : `subscriber ${m.sub}`;
  const p = new WsPeer(url);
  peers.push(p);
  await within(p.opened, 10000, 'WebSocket open');
  m.peer = (await p.take('welcome')).id; // its peer id, as the room knows it
  p.send({ type: 'join', room, sfu: true });
  const j = await Promise.race([p.take('joined'), p.take('error').then((e) => { throw new Error(`${label}: ${JSON.stringify(e)}`); })]);
  if (!j.sfu) throw new Error(`${label}: the room is not an SFU room`);
  // Offers are answered in order; tincan has at most one out at a time.
  let chain = Promise.resolve();
  p.onMessage = (msg) => {
    if (msg.type === 'sfu-offer' && m.sub) {
      chain = chain.then(async () => p.send({ type: 'sfu-subscribe-answer', sdp: await gen.answerTo(m.sub, msg.sdp) }));
    } else if (msg.type === 'error') console.error(`tincan error to ${label}: ${JSON.stringify(msg)}`);
  };
  for (const msg of p.queue.splice(0)) p.onMessage(msg);
  if (m.pub) {
    const ans = p.take('sfu-answer');
    p.send({ type: 'sfu-publish', sdp: await gen.offer(m.pub) });
    gen.send({ op: 'answer', id: m.pub, sdp: (await ans).sdp });
  }
}

/**
 * Sets up the tincan rooms (see plan()): every publisher first, then the
 * subscribers; rooms in parallel. Returns { ids, rooms, close } (rooms:
 * plan()'s, each member with its peer id as `peer`).
 */
export async function setupTincan(gen, { url, room, rooms = 1, pubs, subs, mesh = false }) {
  const peers = [];
  const rs = plan({ rooms, pubs, subs, mesh, room });
  await Promise.all(rs.map(async (r) => {
    for (const m of r.members.filter((x) => x.pub)) await tincanMember(gen, url, r.room, m, peers);
  }));
  const ids = { pubs: allIds(rs, 'pub'), subs: allIds(rs, 'sub') };
  await gen.allConnected(ids.pubs, 20000 + 50 * ids.pubs.length);
  await Promise.all(rs.map(async (r) => {
    for (const m of r.members.filter((x) => !x.pub)) await tincanMember(gen, url, r.room, m, peers);
  }));
  await gen.allConnected(ids.subs, 20000 + 50 * ids.subs.length);
  return {
    ids,
    rooms: rs,
    close: async () => { for (const p of peers) p.ws.close(); await Promise.all(peers.map((p) => within(p.closed, 5000, 'close').catch(() => {}))); },
  };
}

/* ---------------- Janus: videoroom over the HTTP API ---------------- */

class JanusSession {
  constructor(base) {
    this.base = base;
    this.pending = new Map(); // transaction → resolve
    this.tx = 0;
    this.live = true;
  }

  async post(path, body) {
    const r = await fetch(`${this.base}${path}`, { method: 'POST', body: JSON.stringify(body) });
    return r.json();
  }

  async create() {
    const r = await this.post('', { janus: 'create', transaction: 'c' });
    this.id = r.data.id;
    this.poller = this.poll();
  }

  async poll() {
    while (this.live) {
      let evs;
      try {
        const r = await fetch(`${this.base}/${this.id}?maxev=50&rid=${Date.now()}`);
        evs = await r.json();
      } catch { if (!this.live) return; await new Promise((ok) => setTimeout(ok, 100)); continue; }
      for (const ev of Array.isArray(evs) ? evs : [evs]) {
        const w = this.pending.get(ev.transaction);
        if (w && ev.janus === 'event') { this.pending.delete(ev.transaction); w(ev); }
        if (ev.janus === 'event' && ev.plugindata?.data?.error) console.error(`janus: ${JSON.stringify(ev.plugindata.data)}`);
      }
    }
  }

  async attach() {
    const r = await this.post(`/${this.id}`, { janus: 'attach', plugin: 'janus.plugin.videoroom', transaction: `a${++this.tx}` });
    return r.data.id;
  }

  /** A plugin message whose answer comes as an asynchronous event. */
  async message(handle, body, jsep) {
    const transaction = `m${++this.tx}`;
    const ev = within(new Promise((ok) => this.pending.set(transaction, ok)), 15000, `janus ${body.request}`);
    const msg = { janus: 'message', transaction, body };
    if (jsep) msg.jsep = jsep;
    const r = await this.post(`/${this.id}/${handle}`, msg);
    if (r.janus === 'success') { this.pending.delete(transaction); return r; }
    if (r.janus !== 'ack') throw new Error(`janus: ${JSON.stringify(r)}`);
    const e = await ev;
    if (e.plugindata?.data?.error) throw new Error(`janus ${body.request}: ${e.plugindata.data.error}`);
    return e;
  }

  async destroy() {
    this.live = false;
    await this.post(`/${this.id}`, { janus: 'destroy', transaction: 'd' }).catch(() => {});
  }
}

/**
 * Sets up the Janus rooms (see plan(); numbered room, room + 1, …, made by
 * bench/sfu/run.sh): per publisher a handle that joins and publishes, per
 * receiving member one multistream subscriber handle with every other feed
 * of its room. Rooms in parallel. Returns { ids, close }.
 */
export async function setupJanus(gen, { url, room, rooms = 1, pubs, subs, mesh = false }) {
  const s = new JanusSession(url);
  await s.create();
  const rs = plan({ rooms, pubs, subs, mesh, room: Number(room) });
  const feeds = new Map(); // publisher id → Janus feed id
  await Promise.all(rs.map(async (r) => {
    for (const m of r.members.filter((x) => x.pub)) {
      const h = await s.attach();
      const j = await s.message(h, { request: 'join', ptype: 'publisher', room: r.room, display: `load${m.pub}` });
      feeds.set(m.pub, j.plugindata.data.id);
      const offer = await gen.offer(m.pub);
      const c = await s.message(h, { request: 'publish', audio: true, video: true }, { type: 'offer', sdp: offer, trickle: false });
      gen.send({ op: 'answer', id: m.pub, sdp: c.jsep.sdp });
    }
  }));
  const ids = { pubs: allIds(rs, 'pub'), subs: allIds(rs, 'sub') };
  await gen.allConnected(ids.pubs, 20000 + 50 * ids.pubs.length);
  await Promise.all(rs.map(async (r) => {
    for (const m of r.members.filter((x) => x.sub)) {
      const streams = r.members.filter((x) => x.pub && x.pub !== m.pub).slice(0, FEEDS_MAX).map((x) => ({ feed: feeds.get(x.pub) }));
      const h = await s.attach();
      const a = await s.message(h, { request: 'join', ptype: 'subscriber', room: r.room, streams });
      const answer = await gen.answerTo(m.sub, a.jsep.sdp);
      await s.message(h, { request: 'start' }, { type: 'answer', sdp: answer, trickle: false });
    }
  }));
  await gen.allConnected(ids.subs, 20000 + 50 * ids.subs.length);
  return { ids, close: () => s.destroy() };
}

/* ---------------- measuring ---------------- */

/** utime + stime of a process (all its threads), in seconds. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // clock ticks; USER_HZ is 100 on Linux
}

/** utime + stime of each thread of a process: Map tid → seconds. */
export function threadSeconds(pid) {
  const out = new Map();
  let tids = [];
  try { tids = readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) / 100);
    } catch { /* the thread ended */ }
  }
  return out;
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/**
 * Publishers send for warmup + duration seconds; returns the window's
 * figures (and the final per-subscriber detail).
 */
export async function measure(gen, { pid, warmup, duration }) {
  gen.send({ op: 'start' });
  await sleep(warmup * 1000);
  const s0 = await gen.stats(true);
  const c0 = pid ? cpuSeconds(pid) : 0;
  const t0 = pid ? threadSeconds(pid) : new Map();
  await sleep(duration * 1000);
  const s1 = await gen.stats(true);
  const c1 = pid ? cpuSeconds(pid) : 0;
  const t1 = pid ? threadSeconds(pid) : new Map();
  gen.send({ op: 'stop' });
  await sleep(500); // what is in flight arrives
  const fin = await gen.stats(true);
  const secs = (s1.t_ms - s0.t_ms) / 1000;
  const d = (k) => s1[k] - s0[k];
  const fwd = d('sub_rtp');
  // Video bytes per subscriber video stream in the window: which layer of
  // a simulcast publisher each server forwarded.
  const vbytes = (s) => s.subs.flatMap((x) => x.tracks.filter((t) => t.video).map((t) => [`${x.id}/${t.ssrc}`, t.bytes]));
  const v0 = new Map(vbytes(s0));
  const v1 = vbytes(s1).filter(([k, b]) => b > (v0.get(k) ?? 0));
  const video_kbps = v1.length ? v1.reduce((n, [k, b]) => n + b - (v0.get(k) ?? 0), 0) * 8 / 1000 / secs / v1.length : 0;
  return {
    video_kbps,
    secs,
    server_cpu: c1 - c0,
    cpu_pct: (100 * (c1 - c0)) / secs,
    // each thread's share of a CPU over the window, busiest first (those over 0.5 %)
    thread_cpu_pct: [...t1].map(([tid, c]) => (100 * (c - (t0.get(tid) ?? 0))) / secs).filter((x) => x > 0.5).sort((a, b) => b - a),
    sent_pps: d('pub_rtp') / secs,
    sent_kbps: (8 * d('pub_bytes')) / secs / 1000,
    fwd,
    fwd_pps: fwd / secs,
    cpu_s_per_mpkt: fwd ? ((c1 - c0) / fwd) * 1e6 : null,
    lost_window: d('lost'),
    loss_pct: d('expected') ? (100 * d('lost')) / d('expected') : 0,
    gen_cpu_pct: (100 * (s1.gen_cpu - s0.gen_cpu)) / secs,
    rtcp_to_subs: d('sub_rtcp'),
    rtcp_to_pubs: d('pub_rtcp'),
    plis: d('plis') + d('firs'),
    nacks: d('nacks'),
    remb: d('remb'),
    sr_rr: d('sr_rr'),
    auth_fail: d('auth_fail'),
    key_frames: d('key_frames'),
    gen_behind: d('behind'), // publishers that fell a second behind: the generator was the bottleneck
    final: fin,
  };
}

function args(argv) {
  const o = { pubs: 4, subs: 20, rooms: 1, mesh: 0, verify: 1, warmup: 3, duration: 10, srtp: 'both', room: null, simulcast: 0 };
  for (let i = 2; i < argv.length; i += 2) o[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const k of ['pubs', 'subs', 'rooms', 'mesh', 'verify', 'warmup', 'duration', 'pid', 'simulcast']) if (o[k] !== undefined) o[k] = Number(o[k]);
  o.mesh = Boolean(o.mesh);
  if (o.mesh) o.subs = 0;
  return o;
}

async function main() {
  const o = args(process.argv);
  const genArgv = (o.gen || SFULOAD).split(' ').filter(Boolean).concat(['--srtp', o.srtp, '--verify', String(o.verify), '--simulcast', String(o.simulcast)]);
  const gen = new Gen(genArgv);
  let run;
  try {
    const setup = o.server === 'janus' ? setupJanus : setupTincan;
    const room = o.server === 'janus' ? Number(o.room || 1234) : (o.room || `bench${process.pid}`);
    run = await setup(gen, { url: o.url, room, rooms: o.rooms, pubs: o.pubs, subs: o.subs, mesh: o.mesh });
    const r = await measure(gen, { pid: o.pid, warmup: o.warmup, duration: o.duration });
    r.profiles = [...new Set(gen.connected.values())];
    const want = 2 * (o.mesh ? o.pubs - 1 : o.pubs);
    r.tracks_min = Math.min(...r.final.subs.map((s) => s.tracks.filter((t) => t.recv > 0).length));
    r.tracks_short = r.final.subs.filter((s) => s.tracks.filter((t) => t.recv > 0).length < want).length;
    r.video_streams = r.final.subs.reduce((n, s) => n + s.tracks.filter((t) => t.video && t.recv > 0).length, 0);
    delete r.final;
    console.log(`RESULT ${JSON.stringify({ server: o.server, srtp: o.srtp, rooms: o.rooms, mesh: o.mesh, pubs: o.pubs, subs: o.subs, verify: o.verify, simulcast: o.simulcast, ...r })}`);
  } finally {
    if (run) await run.close().catch(() => {});
    await gen.quit();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(() => process.exit(0), (e) => { console.error(`bench/sfu/drive: ${e.stack || e}`); process.exit(1); });
}
