// Signaling test client: a peer on /ws that keeps every JSON message the
// server sends in an inbox, so a test can wait for the message it cares
// about (take), insist on the very next one (next), or prove that a message
// did NOT arrive (barrier + none) without sleeping.
//
// It sits on top of wsclient.mjs (connection, JSON decoding) and net.mjs
// (server start/stop); a Peers pool opens peers for one test file and closes
// all of them after each test, so a failing test cannot leave sockets open.
import assert from 'node:assert/strict';
import { before, after, afterEach } from 'node:test';
import { randomBytes } from 'node:crypto';
import { wsClient } from './wsclient.mjs';
import { start } from './net.mjs';

/** Default wait for one expected message (ASan builds are slow, CI is busy). */
export const WAIT = 5000;

let seq = 0;
/** A name no other test uses: prefix + counter + random suffix (letters and digits only). */
export const uniq = (prefix = 'r') => `${prefix}${++seq}${randomBytes(3).toString('hex')}`;

/** Turns a type name, or a list of them, or a predicate into a predicate. */
function matcher(what) {
  if (typeof what === 'function') return what;
  if (Array.isArray(what)) return (m) => what.includes(m.type);
  return (m) => m.type === what;
}

const show = (m) => JSON.stringify(m).slice(0, 300);

export class Peer {
  constructor(c, welcome, label) {
    this.c = c;
    this.welcome = welcome;
    this.id = welcome.id ?? welcome.clientId;
    this.token = welcome.token;
    this.label = label;
    this.inbox = [];
    this.waiters = new Set();
    this.closeInfo = null;
    this.barriers = 0;
    c.closed.then((info) => { this.closeInfo = info; this._poke(); });
    this._pump();
  }

  async _pump() {
    for (;;) {
      let m;
      try {
        // wsClient.next() has no "forever"; the timer is cleared when a
        // message comes or the socket closes.
        m = await this.c.next(0x7fffffff);
      } catch {
        break;
      }
      if (m.type === 'lobby-update') {
        const list = this._lobby(m);
        if (list) this.inbox.push(list);
      } else {
        this._lobby(m);
        this.inbox.push(m);
      }
      this._poke();
    }
    this._poke();
  }

  /**
   * Keeps the lobby list as the web client does: the full `lobby` on
   * entering, then each `lobby-update` applied to it (left first, then
   * users). The raw updates go to this.lobbyUpdates, not the inbox; an
   * update that changes the list is queued as the resulting `lobby` list,
   * so tests wait for "a list in which ..." whichever way it came.
   */
  _lobby(m) {
    if (m.type === 'lobby' && Array.isArray(m.users)) {
      this.lobbyYou = m.you;
      this.lobbyUsers = new Map(m.users.map((u) => [u.name, u]));
      return null;
    }
    if (m.type !== 'lobby-update') return null;
    (this.lobbyUpdates ||= []).push(m);
    if (!this.lobbyUsers) return null;
    const before = JSON.stringify([...this.lobbyUsers.values()]);
    for (const name of m.left || []) this.lobbyUsers.delete(name);
    for (const u of m.users || []) this.lobbyUsers.set(u.name, { name: u.name, busy: u.busy });
    const users = [...this.lobbyUsers.values()];
    return JSON.stringify(users) === before ? null : { type: 'lobby', you: this.lobbyYou, users };
  }

  _poke() {
    for (const w of [...this.waiters]) w();
  }

  /** Sends an object (JSON-encoded) or a raw string. */
  send(m) { this.c.send(m); }

  /** Whether the WebSocket is still open. */
  get open() { return this.c.ws.readyState === 1; }

  /**
   * Waits for the first message in the inbox that matches `what` (a type,
   * a list of types, or a predicate) and removes it; earlier messages that do
   * not match stay where they are.
   */
  take(what, ms = WAIT, desc) {
    const pred = matcher(what);
    const name = desc || (typeof what === 'function' ? 'a matching message' : JSON.stringify(what));
    return new Promise((ok, fail) => {
      const check = () => {
        const i = this.inbox.findIndex(pred);
        if (i >= 0) {
          done();
          ok(this.inbox.splice(i, 1)[0]);
        } else if (this.closeInfo) {
          done();
          fail(new Error(`${this.label}: connection closed (${this.closeInfo.code}) while waiting for ${name}; inbox: ${this.inbox.map(show).join(' | ') || 'empty'}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        fail(new Error(`${this.label}: no ${name} within ${ms} ms; inbox: ${this.inbox.map(show).join(' | ') || 'empty'}`));
      }, ms);
      const done = () => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /**
   * The very next message, skipping (and keeping) those whose type is in
   * skip (e.g. ['lobby'] when lobby lists may interleave).
   */
  next(ms = WAIT, skip = []) {
    return this.take((m, i, all) => !skip.includes(m.type) && all.slice(0, i).every((x) => skip.includes(x.type)),
      ms, `next message${skip.length ? ` (skipping ${skip})` : ''}`);
  }

  /** Waits for {type:'error'} and checks its code; returns it. */
  async error(code, ms = WAIT, why = '') {
    const e = await this.take((m) => m.type === 'error', ms, `error ${code}${why ? ` (${why})` : ''}`);
    assert.equal(e.code, code, `${this.label}: ${why ? `${why}: ` : ''}error code ${show(e)}`);
    assert.equal(typeof e.message, 'string', `${this.label}: error has a message ${show(e)}`);
    return e;
  }

  /**
   * Round trip through the server: sends an unknown type and waits for its
   * unknown_type error. Afterwards, every message the server produced
   * before (for this peer) is in the inbox: the server handles one
   * connection's messages in order and writes each connection's messages in
   * order.
   */
  async barrier(ms = WAIT) {
    const n = ++this.barriers;
    this.send({ type: `x-barrier-${n}` });
    await this.take((m) => m.type === 'error' && m.code === 'unknown_type', ms, `barrier ${n} reply`);
  }

  /** Asserts no message matching `what` is in the inbox (call after barriers). */
  none(what, why = '') {
    const pred = matcher(what);
    const bad = this.inbox.filter(pred);
    assert.equal(bad.length, 0, `${this.label}: unexpected ${why}: ${bad.map(show).join(' | ')}`);
  }

  /** Removes every message matching `what` from the inbox; returns them. */
  drain(what) {
    const pred = matcher(what);
    const out = this.inbox.filter(pred);
    this.inbox = this.inbox.filter((m) => !pred(m));
    return out;
  }

  /** Drops the TCP connection without a closing handshake (a lost network). */
  drop() { this.c.close(); }

  /** Resolves when the connection is closed, with {code, reason}. */
  get closed() { return this.c.closed; }
}

/**
 * Opens a peer and waits for its greeting: the welcome on /ws, the
 * join-code dialect's `connected` on "/" (opts.path). opts: resume (token),
 * localAddress (source address, e.g. 127.0.0.5), host (server address), label, path, origin (the
 * Origin header a browser page would send).
 */
export async function connect(port, opts = {}) {
  const path = opts.path || (opts.resume !== undefined ? `/ws?resume=${encodeURIComponent(opts.resume)}` : '/ws');
  const greeting = path.startsWith('/ws') ? 'welcome' : 'connected';
  const ws = {};
  if (opts.localAddress) ws.localAddress = opts.localAddress;
  if (opts.origin) ws.origin = opts.origin;
  const c = await wsClient(port, { path, ws, host: opts.host });
  let welcome;
  try {
    welcome = await c.next(WAIT);
  } catch (e) {
    c.close();
    throw new Error(`no welcome: ${e.message}`);
  }
  if (welcome.type !== greeting) {
    c.close();
    throw new Error(`first message is not a ${greeting}: ${show(welcome)}`);
  }
  return new Peer(c, welcome, opts.label || `peer ${welcome.id}`);
}

/** Opens peers for one test file and closes them all at once. */
export class Peers {
  constructor() {
    this.port = null;
    this.all = new Set();
  }

  /** connect() on this pool's port; label defaults to a letter. */
  async connect(label, opts = {}) {
    if (typeof label === 'object') { opts = label; label = undefined; }
    const p = await connect(opts.port || this.port, { ...opts, label: label || `peer#${this.all.size + 1}` });
    this.all.add(p);
    return p;
  }

  /** Several peers at once: many('a', 'b') → [a, b]. */
  many(...labels) { return Promise.all(labels.map((l) => this.connect(l))); }

  closeAll() {
    for (const p of this.all) p.drop();
    this.all.clear();
  }
}

/**
 * Sends join and returns the joined message (after checking its shape:
 * the others already in the room and, in an SFU room, sfu:true). opts:
 * sfu (join with sfu:true), sfuRoom (the room is SFU without it, e.g.
 * under --room-mode sfu).
 */
export async function join(p, room, others = [], opts = {}) {
  p.send(opts.sfu ? { type: 'join', room, sfu: true } : { type: 'join', room });
  const j = await p.take(['joined', 'error'], WAIT, `joined for room ${room}`);
  const want = { type: 'joined', peerId: p.id, peers: others.map((o) => o.id).sort() };
  if (opts.sfu || opts.sfuRoom) want.sfu = true;
  assert.deepEqual(j.type === 'joined' ? { ...j, peers: [...j.peers].sort() } : j, want,
    `${p.label}: joined for room ${room}`);
  return j;
}

/**
 * Joins peers one by one (join() with opts); each earlier one must get
 * the newcomer's peer-joined. Returns their joined messages.
 */
export async function joinAll(name, peers, opts = {}) {
  const out = [];
  for (let i = 0; i < peers.length; i++) {
    out.push(await join(peers[i], name, peers.slice(0, i), opts));
    for (const q of peers.slice(0, i)) {
      assert.deepEqual(await q.take('peer-joined'), { type: 'peer-joined', peerId: peers[i].id },
        `${q.label}: peer-joined for ${peers[i].label}`);
    }
  }
  return out;
}

/**
 * Puts peers into one room in order; each newcomer gets joined with the
 * earlier ones and every earlier one gets peer-joined. Returns the joined
 * messages.
 */
export const room = (name, ...peers) => joinAll(name, peers);

/**
 * The same for an SFU room: each joins with sfu:true and its joined says
 * sfu:true (docs/protocol.md, "SFU rooms").
 */
export const joinSfu = (name, ...peers) => joinAll(name, peers, { sfu: true });

/**
 * from sends a relay message to `to` and `to` must receive exactly the same
 * object with target removed and from added.
 */
export async function relays(from, to, msg) {
  const sent = { ...msg, target: to.id };
  from.send(sent);
  const got = await to.take(msg.type, WAIT, `relayed ${msg.type} from ${from.label}`);
  const { target, ...rest } = sent;
  assert.deepEqual(got, { ...rest, from: from.id }, `${to.label}: relayed ${msg.type}`);
  return got;
}

/** Sorts a lobby user list by name for comparison. */
export const byName = (users) => [...users].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** Waits for a lobby list in which pred(users) holds; returns it. */
export function lobbyWhere(p, pred, ms = WAIT, desc = 'a lobby list') {
  return p.take((m) => m.type === 'lobby' && Array.isArray(m.users) && pred(m.users), ms, desc);
}

/** Finds a user in a lobby list by exact name. */
export const userIn = (users, name) => users.find((u) => u.name === name);

/** Sends hello and returns the first lobby answer for this name. */
export async function hello(p, name) {
  p.send({ type: 'hello', name });
  const m = await p.take((x) => (x.type === 'lobby' && x.you === name) || x.type === 'error', WAIT, `lobby for ${name}`);
  assert.equal(m.type, 'lobby', `${p.label}: hello ${name}: ${show(m)}`);
  p.name = name;
  return m;
}

/**
 * a and b say hello with fresh names, a calls b and b accepts; returns
 * the callId once b has joined the call's room and a has seen it.
 */
export async function lobbyCall(a, b) {
  await hello(a, uniq('Ada'));
  await hello(b, uniq('Bob'));
  a.send({ type: 'call', name: b.name });
  const { callId } = await b.take('incoming');
  b.send({ type: 'accept', callId });
  await b.take('joined');
  await a.take('peer-joined');
  return callId;
}

/** A realistic SDP description object, as a browser's RTCSessionDescription.toJSON() gives. */
export const SDP_OFFER = {
  type: 'offer',
  sdp: 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n'
    + 'a=group:BUNDLE 0 1\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS 8f1e\r\n'
    + 'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\n'
    + 'a=ice-ufrag:Zq4f\r\na=ice-pwd:m8VjT1hvR3k0n1eYjK5p3w7Q\r\na=ice-options:trickle\r\n'
    + 'a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\n'
    + 'a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n',
};

/** An ICE candidate object, as RTCIceCandidate.toJSON() gives. */
export const CANDIDATE = {
  candidate: 'candidate:842163049 1 udp 1677729535 192.0.2.3 46154 typ srflx raddr 10.0.0.5 rport 46154 generation 0 ufrag Zq4f network-cost 999',
  sdpMid: '0',
  sdpMLineIndex: 0,
  usernameFragment: 'Zq4f',
};

/** The fingerprint of the test offers below (no DTLS ever uses it). */
export const FP = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':');

/**
 * A browser's sendonly VP8 offer for an SFU room (sfu-publish): msid
 * stream1 track1, SSRC ssrc and, with rtx, nack and RTX (97) on SSRC rtx in
 * an FID group.
 */
export function sfuOffer(ufrag, ssrc, rtx) {
  const repair = rtx ? ['a=rtcp-fb:96 nack pli', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96', `a=ssrc-group:FID ${ssrc} ${rtx}`] : [];
  return ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
    `m=video 9 UDP/TLS/RTP/SAVPF ${rtx ? '96 97' : '96'}`, 'c=IN IP4 0.0.0.0', `a=ice-ufrag:${ufrag}`,
    'a=ice-pwd:abcdefghijklmnopqrstuvwx', `a=fingerprint:sha-256 ${FP}`, 'a=setup:actpass', 'a=mid:0', 'a=sendonly',
    'a=msid:stream1 track1', 'a=rtcp-mux', 'a=rtpmap:96 VP8/90000', ...repair,
    `a=ssrc:${ssrc} cname:c1`, ...(rtx ? [`a=ssrc:${rtx} cname:c1`] : []), ''].join('\r\n');
}

/** The browser's answer to a subscriber offer (sfu-subscribe-answer): recvonly, DTLS client. */
export const sfuAnswerTo = (sdp) => sdp.replace(/a=sendonly/g, 'a=recvonly').replace(/a=ice-lite\r\n/, '')
  .replace(/a=ice-ufrag:\S+/g, 'a=ice-ufrag:subU').replace(/a=setup:(passive|actpass)/g, 'a=setup:active');

/**
 * For a describe block: starts tincan with args before its tests, closes
 * every peer after each test (calling onEach(peers) first, if given) and
 * stops the server at the end. Returns { peers, srv } (srv once started).
 */
export function useServer(args, { onEach } = {}) {
  const env = { peers: new Peers(), srv: null };
  before(async () => {
    env.srv = await start({ args });
    env.peers.port = env.srv.port;
  });
  afterEach(() => {
    if (onEach) onEach(env.peers);
    env.peers.closeAll();
  });
  after(async () => { env.peers.closeAll(); await env.srv?.stop(); });
  return env;
}
