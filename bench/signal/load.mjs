// Load generator for bench/signal: N WebSocket-over-TLS clients in 2-person
// rooms exchange offer / answer / ice-candidate messages through a signaling
// server (the rooms part of docs/protocol.md) at a fixed aggregate rate, and
// report the relay latency and the server's CPU time per message.
//
// This is the Node version of the generator, kept to cross-check load.c
// (run.sh uses load.c unless SIGNAL_GEN=node): it measures the same things
// the same way, but costs about as much CPU per message as the servers it
// measures and its event loop lags by milliseconds, which blurs the p99 on
// a two-core machine. Usable on its own against any server that speaks the
// protocol:
//
//   node load.mjs --port P [--pid SERVER_PID] [--clients 1000] [--rate 10000]
//                 [--duration 10] [--warmup 3] [--workers 1]
//                 [--offer-bytes 2000] [--answer-bytes 1500] [--ice-bytes 300]
//
// How it works:
// - The clients are split into pairs; pair k joins room `sb<run>-<k>` (A
//   first, then B, so B gets `joined` with A in `peers` and A gets
//   `peer-joined`). The pairs are divided between --workers threads; both
//   ends of a pair live in the same thread, so one clock measures a message.
// - Each pair repeats a negotiation: A sends an offer, B the answer, then
//   both trickle ICE candidates (4 each) — 10 messages, 5 per side. The
//   threads send open-loop on a 1 ms tick at --rate messages per second in
//   total, taking the pairs in turn, so each client sends rate/clients per
//   second (tincan allows 200 per second per connection).
// - Every message carries its send time (units of 100 ns on the monotonic
//   clock): in the SDP's `o=` line (session id) for offer/answer, in the
//   candidate's foundation for ICE. The receiver subtracts it from the time
//   the TLS data arrived: latency = client write → server → client read,
//   including both clients' TLS and the generator's own event-loop delays.
// - WebSocket framing is hand-written on raw TLS sockets (the `ws` client
//   costs several times more CPU per message). Each frame is built from a
//   masked template; only the 16 timestamp digits change per message, so
//   every connection uses one masking key for all its frames (the server
//   unmasks every byte either way, so its cost is unchanged).
// - After --warmup seconds, a measurement window of --duration seconds:
//   messages received in the window give the achieved rate; messages sent in
//   it give the latencies (received up to 5 s after the window); the
//   server's utime+stime from /proc/PID/stat across the window, divided by
//   the messages, gives its CPU time per message. The generator's own CPU
//   (all threads) over the window is reported too: near 100 % per core means
//   the generator, not the server, may be the limit.
// - Integrity: the first messages of each kind on each connection, and every
//   512th after, are parsed and compared with what was sent (target removed,
//   from = the partner's id, everything else the same). Error messages,
//   unexpected messages, closes and lost messages are counted.
//
// Prints a summary on stderr and one `RESULT {json}` line on stdout.
import tls from 'node:tls';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const TS_DIGITS = 16;
const TS_PLACEHOLDER = '0'.repeat(TS_DIGITS);
// Latency histogram: 0.1 µs resolution below 10 ms, then 0.1 % wide buckets.
const LIN_BUCKETS = 100000; // 0.1 µs each → 10 ms
const LOG_BUCKETS = 12000; // × 1.001 each → ~1.6e5 × 10 ms
const LOG_STEP = Math.log(1.001);

/** Monotonic time in µs (process.hrtime is the same clock in every thread). */
function nowUs() {
  const t = process.hrtime();
  return t[0] * 1e6 + t[1] / 1e3;
}

function bucketOf(us) {
  if (us < 0) us = 0;
  const lin = Math.floor(us * 10);
  if (lin < LIN_BUCKETS) return lin;
  return LIN_BUCKETS + Math.min(LOG_BUCKETS - 1, Math.floor(Math.log(us / 1e4) / LOG_STEP));
}

function bucketValue(i) {
  if (i < LIN_BUCKETS) return (i + 0.5) / 10;
  return 1e4 * Math.exp((i - LIN_BUCKETS + 0.5) * LOG_STEP);
}

function percentile(hist, total, p) {
  if (!total) return null;
  const want = Math.ceil(total * p);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen >= want) return bucketValue(i);
  }
  return null;
}

// --- message templates ---------------------------------------------------------
// Realistic WebRTC payloads: an SDP offer/answer (audio + video + data
// channel, trimmed or padded with ssrc/extmap lines to the wanted size) and a
// host ICE candidate. The timestamp placeholder sits where a real client has
// a random number: the o= session id and the candidate foundation.

const SDP_HEAD = [
  'v=0', `o=- ${TS_PLACEHOLDER} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0', 'a=group:BUNDLE 0 1 2',
  'a=extmap-allow-mixed', 'a=msid-semantic: WMS 7f3c9d2e-5b1a-4c8e-9f0d-1a2b3c4d5e6f',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Xk3v', 'a=ice-pwd:9bH2kL0pQwErTyUiOpAsDfGh', 'a=ice-options:trickle',
  'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF',
  'a=setup:actpass', 'a=mid:0', 'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', 'a=sendrecv',
  'a=msid:7f3c9d2e-5b1a-4c8e-9f0d-1a2b3c4d5e6f 0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f', 'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107', 'c=IN IP4 0.0.0.0', 'a=mid:1',
  'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 goog-remb', 'a=rtcp-fb:96 transport-cc', 'a=rtcp-fb:96 ccm fir',
  'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000', 'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
];
const SDP_FILL = [
  'a=ssrc-group:FID 2231627014 632943048', 'a=ssrc:2231627014 cname:4TOk42mSjXCkVIa6',
  'a=ssrc:632943048 cname:4TOk42mSjXCkVIa6', 'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid', 'a=rtcp-fb:102 nack pli', 'a=rtpmap:103 rtx/90000',
];

/** Builds an offer/answer object whose JSON (as sent, with target) is about `bytes` long. */
function sdpMessage(type, target, bytes) {
  const lines = [...SDP_HEAD];
  const make = () => ({ type, target, sdp: { type, sdp: lines.join('\r\n') + '\r\n' } });
  while (JSON.stringify(make()).length > bytes && lines.length > 4) lines.pop();
  for (let i = 0; JSON.stringify(make()).length < bytes; i++) {
    const next = SDP_FILL[i % SDP_FILL.length];
    const room = bytes - JSON.stringify(make()).length;
    lines.push(room > next.length + 4 ? next : 'a=x-pad:' + 'p'.repeat(Math.max(0, room - 13)));
    if (room <= next.length + 4) break;
  }
  return make();
}

/** Builds an ice-candidate object about `bytes` long (as sent). */
function iceMessage(target, bytes, n) {
  const make = (pad) => ({
    type: 'ice-candidate', target,
    candidate: {
      candidate: `candidate:${TS_PLACEHOLDER} 1 udp 2122260223 192.168.1.${20 + n} ${50000 + n} typ host ` +
        `generation 0 ufrag Xk3v network-id 1 network-cost 10${pad}`,
      sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'Xk3v',
    },
  });
  const base = JSON.stringify(make('')).length;
  return make(bytes > base ? ' x' + 'x'.repeat(Math.max(0, bytes - base - 2)) : '');
}

// The negotiation each pair repeats: who sends what.
const SCRIPT = [
  ['a', 'offer'], ['b', 'answer'],
  ['a', 'ice'], ['b', 'ice'], ['a', 'ice'], ['b', 'ice'],
  ['a', 'ice'], ['b', 'ice'], ['a', 'ice'], ['b', 'ice'],
];

// =============================================================================
// worker thread: a share of the pairs
// =============================================================================

function workerMain() {
  const cfg = workerData;
  const secureContext = tls.createSecureContext({});
  const stats = {
    sent: 0, sentWindow: 0, recvWindow: 0, recvTotal: 0, latCount: 0, latSum: 0, latMax: 0,
    errors: 0, errorSamples: [], unexpected: 0, checked: 0, mismatches: 0, mismatchSamples: [],
    closed: 0, pings: 0, behind: 0, skipped: 0,
  };
  const hist = new Uint32Array(LIN_BUCKETS + LOG_BUCKETS);
  let tStart = Infinity; // measurement window [tStart, tEnd) in µs
  let tEnd = Infinity;
  let sending = false;

  const note = (arr, s) => { if (arr.length < 5) arr.push(s); };

  /** One WebSocket client. onMessage(payload Buffer, opcode, arrivalUs). */
  class Client {
    constructor() {
      this.id = null;
      this.partner = null;
      this.sent = 0;
      this.received = 0;
      this.mask = randomBytes(4);
      this.pending = null; // leftover bytes of an incomplete frame
      this.state = 'connecting';
      this.waiters = [];
      this.inbox = []; // setup phase: messages nobody waited for yet
      this.setup = true;
      this.checkedKinds = new Map();
    }

    open() {
      return new Promise((ok, fail) => {
        const key = randomBytes(16).toString('base64');
        const accept = createHash('sha1').update(key + GUID).digest('base64');
        const sock = tls.connect({ host: cfg.host, port: cfg.port, secureContext, rejectUnauthorized: false });
        this.sock = sock;
        let head = Buffer.alloc(0);
        sock.setNoDelay(true);
        sock.setTimeout(30000, () => sock.destroy(new Error('timeout during connect')));
        sock.on('secureConnect', () => {
          sock.write(`GET /ws HTTP/1.1\r\nHost: ${cfg.host}:${cfg.port}\r\nUpgrade: websocket\r\n` +
            `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
        });
        sock.on('data', (chunk) => {
          if (this.state !== 'connecting') return this.onData(chunk);
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          const status = head.subarray(0, end).toString('latin1');
          if (!status.startsWith('HTTP/1.1 101')) return sock.destroy(new Error(`upgrade refused: ${status.split('\r\n')[0]}`));
          const m = status.match(/^sec-websocket-accept:\s*(\S+)/im);
          if (!m || m[1] !== accept) return sock.destroy(new Error('bad Sec-WebSocket-Accept'));
          this.state = 'open';
          sock.setTimeout(0);
          ok();
          const rest = head.subarray(end + 4);
          head = null;
          if (rest.length) this.onData(rest);
        });
        sock.on('error', (e) => { if (this.state === 'connecting') fail(e); else this.lastError = e.message; });
        sock.on('close', () => {
          if (this.state === 'connecting') fail(new Error('closed during handshake'));
          if (this.state === 'open') stats.closed++;
          this.state = 'closed';
          for (const w of this.waiters.splice(0)) w.fail(new Error('connection closed'));
        });
      });
    }

    /** Sends a text message (masked); for setup messages, not the hot path. */
    sendText(str) {
      const payload = Buffer.from(str);
      this.sock.write(Client.frame(payload, this.mask));
    }

    static frame(payload, mask, opcode = 0x1) {
      const len = payload.length;
      const hl = len < 126 ? 2 : len < 65536 ? 4 : 10;
      const f = Buffer.allocUnsafe(hl + 4 + len);
      f[0] = 0x80 | opcode;
      if (hl === 2) f[1] = 0x80 | len;
      else if (hl === 4) { f[1] = 0x80 | 126; f.writeUInt16BE(len, 2); }
      else { f[1] = 0x80 | 127; f.writeBigUInt64BE(BigInt(len), 2); }
      mask.copy(f, hl);
      for (let i = 0; i < len; i++) f[hl + 4 + i] = payload[i] ^ mask[i & 3];
      return f;
    }

    /** Resolves with the next text message as an object (setup phase only). */
    next(timeoutMs = 20000) {
      if (this.inbox.length) return Promise.resolve(this.inbox.shift());
      return new Promise((ok, fail) => {
        const w = { ok, fail };
        w.timer = setTimeout(() => { this.waiters.splice(this.waiters.indexOf(w), 1); fail(new Error('timed out waiting for a message')); }, timeoutMs);
        this.waiters.push(w);
      });
    }

    onData(chunk) {
      const now = nowUs();
      let buf = chunk;
      if (this.pending) { buf = Buffer.concat([this.pending, chunk]); this.pending = null; }
      let off = 0;
      while (buf.length - off >= 2) {
        const b1 = buf[off + 1];
        let len = b1 & 0x7f;
        let hl = 2;
        if (len === 126) { if (buf.length - off < 4) break; len = buf.readUInt16BE(off + 2); hl = 4; }
        else if (len === 127) { if (buf.length - off < 10) break; len = Number(buf.readBigUInt64BE(off + 2)); hl = 10; }
        if (b1 & 0x80) { stats.unexpected++; note(stats.errorSamples, 'masked frame from server'); }
        if (buf.length - off < hl + len) break;
        const op = buf[off] & 0x0f;
        const payload = buf.subarray(off + hl, off + hl + len);
        off += hl + len;
        if (op === 0x1) this.onText(payload, now);
        else if (op === 0x9) { stats.pings++; this.sock.write(Client.frame(payload, this.mask, 0xA)); }
        else if (op === 0x8) {
          const code = payload.length >= 2 ? payload.readUInt16BE(0) : 0;
          note(stats.errorSamples, `server closed with ${code} ${payload.subarray(2).toString()}`);
          this.state = 'closing';
          this.sock.end();
        } else if (op !== 0xA) { stats.unexpected++; note(stats.errorSamples, `frame opcode ${op}`); }
      }
      if (off < buf.length) this.pending = Buffer.from(buf.subarray(off));
    }

    onText(payload, now) {
      if (this.setup) {
        let msg;
        try { msg = JSON.parse(payload.toString('utf8')); } catch { msg = { type: 'bad JSON from server' }; }
        if (!this.waiters.length) return this.inbox.push(msg);
        const w = this.waiters.shift();
        clearTimeout(w.timer);
        w.ok(msg);
        return;
      }
      // Hot path: find the timestamp without parsing the JSON.
      let at = payload.indexOf('o=- ');
      let kind = 'sdp';
      if (at >= 0) at += 4;
      else {
        at = payload.indexOf('candidate:');
        kind = 'ice';
        if (at >= 0) at += 10;
      }
      if (at < 0 || at + TS_DIGITS > payload.length) {
        const text = payload.toString('utf8');
        if (text.includes('"type":"error"')) { stats.errors++; note(stats.errorSamples, text.slice(0, 200)); }
        else { stats.unexpected++; note(stats.errorSamples, text.slice(0, 200)); }
        return;
      }
      let ts = 0;
      for (let i = 0; i < TS_DIGITS; i++) ts = ts * 10 + (payload[at + i] - 48);
      const sentAt = ts / 10;
      this.received++;
      stats.recvTotal++;
      if (now >= tStart && now < tEnd) stats.recvWindow++;
      if (sentAt >= tStart && sentAt < tEnd) {
        const lat = now - sentAt;
        hist[bucketOf(lat)]++;
        stats.latCount++;
        stats.latSum += lat;
        if (lat > stats.latMax) stats.latMax = lat;
      }
      const seen = this.checkedKinds.get(kind) || 0;
      if (seen < 3 || this.received % 512 === 0) {
        this.checkedKinds.set(kind, seen + 1);
        this.check(payload, at);
      }
    }

    /** Compares a relayed message with what the partner sent. */
    check(payload, at) {
      stats.checked++;
      let got;
      try { got = JSON.parse(payload.toString('utf8')); } catch { got = null; }
      const fail = (why) => { stats.mismatches++; note(stats.mismatchSamples, why); };
      if (!got) return fail(`not JSON: ${payload.toString('utf8').slice(0, 120)}`);
      const tsText = payload.toString('latin1', at, at + TS_DIGITS);
      const tmpl = this.partner.sentObjects[got.type];
      if (!tmpl) return fail(`unexpected type ${got.type}`);
      const want = JSON.parse(JSON.stringify(tmpl).replace(TS_PLACEHOLDER, tsText));
      delete want.target;
      want.from = this.partner.id;
      if ('target' in got) return fail(`relayed ${got.type} still has target`);
      if (!deepEqual(got, want)) return fail(`relayed ${got.type} differs: ${JSON.stringify(got).slice(0, 160)}`);
    }
  }

  function deepEqual(a, b) {
    if (a === b) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || !a || !b) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }

  /**
   * A masked frame template for one message: the frame bytes and the offset
   * of the timestamp digits, with the mask index they start at.
   */
  function template(client, obj) {
    const json = JSON.stringify(obj);
    const payload = Buffer.from(json);
    const frame = Client.frame(payload, client.mask);
    const hl = frame.length - payload.length;
    const at = payload.indexOf(TS_PLACEHOLDER);
    return { frame, tsAt: hl + at, maskAt: at };
  }

  function sendFrom(client, tmpl) {
    const f = Buffer.allocUnsafe(tmpl.frame.length);
    tmpl.frame.copy(f);
    let ts = Math.round(nowUs() * 10);
    const m = client.mask;
    for (let i = TS_DIGITS - 1; i >= 0; i--) {
      const d = ts % 10;
      ts = (ts - d) / 10;
      f[tmpl.tsAt + i] = (48 + d) ^ m[(tmpl.maskAt + i) & 3];
    }
    client.sock.write(f);
    client.sent++;
  }

  const pairs = [];

  async function setupPair(k) {
    const a = new Client();
    const b = new Client();
    await a.open();
    await b.open();
    const wa = await a.next();
    const wb = await b.next();
    if (wa.type !== 'welcome' || wb.type !== 'welcome') throw new Error(`expected welcome, got ${wa.type}/${wb.type}`);
    a.id = wa.id;
    b.id = wb.id;
    const room = `${cfg.roomPrefix}-${k}`;
    a.sendText(JSON.stringify({ type: 'join', room }));
    const ja = await a.next();
    if (ja.type !== 'joined' || ja.peerId !== a.id || ja.peers.length !== 0) throw new Error(`A join: ${JSON.stringify(ja)}`);
    b.sendText(JSON.stringify({ type: 'join', room }));
    const jb = await b.next();
    if (jb.type !== 'joined' || jb.peerId !== b.id || jb.peers.length !== 1 || jb.peers[0] !== a.id) throw new Error(`B join: ${JSON.stringify(jb)}`);
    const pj = await a.next();
    if (pj.type !== 'peer-joined' || pj.peerId !== b.id) throw new Error(`A peer-joined: ${JSON.stringify(pj)}`);
    a.partner = b;
    b.partner = a;
    for (const c of [a, b]) {
      if (c.inbox.length) throw new Error(`unexpected message after join: ${JSON.stringify(c.inbox[0])}`);
      c.setup = false;
    }
    for (const [me, other] of [[a, b], [b, a]]) {
      const objs = {
        offer: sdpMessage('offer', other.id, cfg.offerBytes),
        answer: sdpMessage('answer', other.id, cfg.answerBytes),
        'ice-candidate': iceMessage(other.id, cfg.iceBytes, k % 200),
      };
      me.sentObjects = objs;
      me.tmpl = { offer: template(me, objs.offer), answer: template(me, objs.answer), ice: template(me, objs['ice-candidate']) };
    }
    pairs.push({ a, b, step: k % SCRIPT.length });
  }

  async function setup() {
    const ks = [];
    for (let k = cfg.firstPair; k < cfg.firstPair + cfg.pairs; k++) ks.push(k);
    let next = 0;
    const runner = async () => {
      while (next < ks.length) await setupPair(ks[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(32, ks.length) }, runner));
  }

  // How late the generator's own event loop runs: if its p99 is near the
  // measured latency's, the generator, not the server, set the latency.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });

  function run(t0) {
    const perUs = cfg.rate / 1e6;
    const maxBurst = Math.max(1, Math.ceil(cfg.rate * 0.05)); // 50 ms worth
    let rr = 0;
    let scheduled = 0; // messages due so far, sent or skipped
    sending = true;
    const tick = () => {
      const now = nowUs();
      if (now >= tStart && !loopDelay.started) { loopDelay.enable(); loopDelay.started = true; }
      if (now >= tEnd) {
        sending = false;
        loopDelay.disable();
        stats.loopDelayP99 = loopDelay.count ? loopDelay.percentile(99) / 1e3 : 0;
        stats.loopDelayMax = loopDelay.count ? loopDelay.max / 1e3 : 0;
        return drain();
      }
      let due = Math.floor((now - t0) * perUs) - scheduled;
      // A generator that stalled (GC, a busy CPU) does not fire a huge burst
      // afterwards: what is over 50 ms worth is skipped and counted.
      if (due > maxBurst) { stats.behind += due - maxBurst; scheduled += due - maxBurst; due = maxBurst; }
      scheduled += due;
      for (let i = 0; i < due; i++) {
        const pair = pairs[rr];
        rr = rr + 1 === pairs.length ? 0 : rr + 1;
        const [who, what] = SCRIPT[pair.step];
        pair.step = pair.step + 1 === SCRIPT.length ? 0 : pair.step + 1;
        const c = who === 'a' ? pair.a : pair.b;
        if (c.state !== 'open') { stats.skipped++; continue; }
        sendFrom(c, c.tmpl[what]);
        stats.sent++;
        if (now >= tStart) stats.sentWindow++;
      }
      setTimeout(tick, 1);
    };
    const wait = t0 - nowUs();
    setTimeout(tick, Math.max(0, wait / 1000));
  }

  function drain() {
    const started = Date.now();
    const poll = () => {
      let sent = 0;
      let recv = 0;
      for (const p of pairs) { sent += p.a.sent + p.b.sent; recv += p.a.received + p.b.received; }
      if (recv >= sent || Date.now() - started > 5000) {
        stats.lost = sent - recv;
        parentPort.postMessage({ type: 'done', stats, hist }, [hist.buffer]);
        for (const p of pairs) { p.a.sock.destroy(); p.b.sock.destroy(); }
        return;
      }
      setTimeout(poll, 20);
    };
    poll();
  }

  parentPort.on('message', (m) => {
    if (m.type === 'go') {
      tStart = m.tStart;
      tEnd = m.tEnd;
      run(m.t0);
    }
  });
  setup().then(
    () => parentPort.postMessage({ type: 'ready', clients: pairs.length * 2 }),
    (e) => parentPort.postMessage({ type: 'failed', error: e.message }),
  );
}

// =============================================================================
// main thread
// =============================================================================

/** [utime, stime] of a process (fields 14 and 15 of /proc/PID/stat, all threads), in clock ticks. */
function cpuTicksOf(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]), Number(f[12])];
}

function clkTck() {
  return Number(process.env.CLK_TCK || 100);
}

async function main() {
  const { values: opt } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      pid: { type: 'string', default: '' },
      clients: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '10000' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      workers: { type: 'string', default: '1' },
      'offer-bytes': { type: 'string', default: '2000' },
      'answer-bytes': { type: 'string', default: '1500' },
      'ice-bytes': { type: 'string', default: '300' },
      label: { type: 'string', default: '' },
    },
  });
  const port = Number(opt.port);
  const clients = Number(opt.clients);
  const rate = Number(opt.rate);
  const duration = Number(opt.duration);
  const warmup = Number(opt.warmup);
  const nworkers = Math.max(1, Math.min(Number(opt.workers), clients / 2));
  const pid = opt.pid ? Number(opt.pid) : 0;
  if (!port || clients < 2 || clients % 2 || !(rate > 0) || !(duration > 0)) {
    console.error('usage: node load.mjs --port P [--pid PID] [--clients even N>=2] [--rate R] [--duration S] [--warmup S] [--workers K]');
    process.exit(2);
  }
  const tag = opt.label ? `signal/${opt.label}` : 'signal';
  const perClient = rate / clients;
  if (perClient > 150) console.error(`${tag}: warning: ${perClient.toFixed(0)} messages/s per client; tincan allows 200/s per connection`);
  const npairs = clients / 2;
  const roomPrefix = `sb${randomBytes(3).toString('hex')}`;

  const workers = [];
  let firstPair = 0;
  const t0setup = Date.now();
  for (let w = 0; w < nworkers; w++) {
    const pairsHere = Math.floor(npairs / nworkers) + (w < npairs % nworkers ? 1 : 0);
    const share = rate * pairsHere / npairs;
    const worker = new Worker(fileURLToPath(import.meta.url), {
      workerData: {
        host: opt.host, port, firstPair, pairs: pairsHere, rate: share, roomPrefix,
        offerBytes: Number(opt['offer-bytes']), answerBytes: Number(opt['answer-bytes']), iceBytes: Number(opt['ice-bytes']),
      },
    });
    firstPair += pairsHere;
    workers.push(worker);
  }
  const msgs = (type) => Promise.all(workers.map((w) => new Promise((ok, fail) => {
    const h = (m) => {
      if (m.type === type) { w.off('message', h); ok(m); }
      else if (m.type === 'failed') { w.off('message', h); fail(new Error(m.error)); }
    };
    w.on('message', h);
    w.once('error', fail);
  })));

  await msgs('ready');
  const setupS = (Date.now() - t0setup) / 1000;
  console.error(`${tag}: ${clients} clients in ${npairs} rooms ready in ${setupS.toFixed(1)} s; ` +
    `${rate} msg/s for ${warmup} s warm-up + ${duration} s`);

  const t0 = nowUs() + 50e3;
  const tStart = t0 + warmup * 1e6;
  const tEnd = tStart + duration * 1e6;
  const done = msgs('done');
  for (const w of workers) w.postMessage({ type: 'go', t0, tStart, tEnd });

  const sleepUntil = (t) => new Promise((r) => setTimeout(r, Math.max(0, (t - nowUs()) / 1000)));
  await sleepUntil(tStart);
  const c0 = pid ? cpuTicksOf(pid) : [0, 0];
  const g0 = process.cpuUsage();
  const w0 = nowUs();
  await sleepUntil(tEnd);
  const c1 = pid ? cpuTicksOf(pid) : [0, 0];
  const g1 = process.cpuUsage(g0);
  const windowS = (nowUs() - w0) / 1e6;

  const results = await done;
  for (const w of workers) w.terminate();
  const hist = new Uint32Array(LIN_BUCKETS + LOG_BUCKETS);
  const sum = {};
  const samples = { errorSamples: [], mismatchSamples: [] };
  for (const r of results) {
    const h = new Uint32Array(r.hist.buffer || r.hist);
    for (let i = 0; i < hist.length; i++) hist[i] += h[i];
    for (const [k, v] of Object.entries(r.stats)) {
      if (Array.isArray(v)) samples[k].push(...v);
      else if (k === 'latMax' || k === 'loopDelayP99' || k === 'loopDelayMax') sum[k] = Math.max(sum[k] || 0, v);
      else sum[k] = (sum[k] || 0) + v;
    }
  }
  const serverUserS = (c1[0] - c0[0]) / clkTck();
  const serverSysS = (c1[1] - c0[1]) / clkTck();
  const serverCpuS = pid ? serverUserS + serverSysS : null;
  const genCpuS = (g1.user + g1.system) / 1e6;
  const received = sum.recvWindow;
  const res = {
    label: opt.label, clients, rooms: npairs, workers: nworkers, rate_target: rate, window_s: +windowS.toFixed(3),
    sent: sum.sentWindow, received, achieved_rate: Math.round(received / windowS),
    p50_us: round1(percentile(hist, sum.latCount, 0.5)), p90_us: round1(percentile(hist, sum.latCount, 0.9)),
    p99_us: round1(percentile(hist, sum.latCount, 0.99)), p999_us: round1(percentile(hist, sum.latCount, 0.999)),
    max_us: round1(sum.latMax), mean_us: round1(sum.latCount ? sum.latSum / sum.latCount : null),
    latency_samples: sum.latCount,
    server_cpu_s: serverCpuS, server_user_s: pid ? serverUserS : null, server_sys_s: pid ? serverSysS : null, server_cpu_pct: pid ? +(100 * serverCpuS / windowS).toFixed(1) : null,
    server_cpu_us_per_msg: pid && received ? +(serverCpuS * 1e6 / received).toFixed(2) : null,
    msgs_per_server_cpu_s: pid && serverCpuS ? Math.round(received / serverCpuS) : null,
    gen_cpu_s: +genCpuS.toFixed(3), gen_cpu_pct: +(100 * genCpuS / windowS).toFixed(1),
    gen_loop_delay_p99_us: round1(sum.loopDelayP99), gen_loop_delay_max_us: round1(sum.loopDelayMax),
    lost: sum.lost, errors: sum.errors, unexpected: sum.unexpected, closed: sum.closed,
    checked: sum.checked, mismatches: sum.mismatches, behind: sum.behind, skipped: sum.skipped, pings: sum.pings,
    samples: [...samples.errorSamples, ...samples.mismatchSamples].slice(0, 6),
    bytes: { offer: Number(opt['offer-bytes']), answer: Number(opt['answer-bytes']), ice: Number(opt['ice-bytes']) },
  };
  const f = (v) => (v === null || v === undefined ? '-' : v);
  console.error(`${tag}: ${res.achieved_rate} msg/s received (target ${rate}), latency p50 ${f(res.p50_us)} µs ` +
    `p99 ${f(res.p99_us)} µs p99.9 ${f(res.p999_us)} µs max ${f(res.max_us)} µs; ` +
    `server CPU ${f(res.server_cpu_pct)} % (${f(res.server_cpu_us_per_msg)} µs/msg, user ${f(res.server_user_s)} s sys ${f(res.server_sys_s)} s), generator CPU ${res.gen_cpu_pct} %, ` +
    `its event-loop delay p99 ${f(res.gen_loop_delay_p99_us)} µs max ${f(res.gen_loop_delay_max_us)} µs`);
  if (res.lost || res.errors || res.unexpected || res.closed || res.mismatches || res.behind) {
    console.error(`${tag}: PROBLEMS lost=${res.lost} errors=${res.errors} unexpected=${res.unexpected} ` +
      `closed=${res.closed} mismatches=${res.mismatches} behind=${res.behind}`);
    for (const s of res.samples) console.error(`${tag}:   ${s}`);
  }
  console.log(`RESULT ${JSON.stringify(res)}`);
  process.exit(0);
}

function round1(v) {
  return v === null || v === undefined ? null : Math.round(v * 10) / 10;
}

if (isMainThread) main().catch((e) => { console.error(`signal: ${e.message}`); process.exit(1); });
else workerMain();
