// A small STUN/TURN client for the integration tests (RFC 8489, RFC 8656),
// written from the RFCs and independent of src/stun: message encoding and
// decoding, XOR addresses, MESSAGE-INTEGRITY (HMAC-SHA1 with the long-term
// key MD5(user:realm:pass)), FINGERPRINT (CRC-32 XOR 0x5354554e),
// ChannelData, and the TURN REST credential scheme.
//
// StunClient talks over UDP (dgram), TCP (net) or TLS (tls, certificate not
// verified) to 127.0.0.1. Streams are framed as RFC 8656 §12.5 says: a STUN
// message is 20 + its length bytes, a ChannelData message 4 + its length
// padded to a multiple of 4. Everything the server sends that is not the
// answer to a pending request (indications, ChannelData, stray answers)
// lands in an inbox that tests wait on with next() or prove empty with
// none(). TurnClient adds the long-term credential dance (401 → REALM and
// NONCE → signed retry; 438 → retry with the new NONCE) and the TURN
// methods.
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import assert from 'node:assert/strict';

export const COOKIE = 0x2112a442;
export const FINGERPRINT_XOR = 0x5354554e;

export const METHOD = {
  BINDING: 0x001,
  ALLOCATE: 0x003,
  REFRESH: 0x004,
  SEND: 0x006,
  DATA: 0x007,
  CREATE_PERMISSION: 0x008,
  CHANNEL_BIND: 0x009,
};

export const CLASS = { REQUEST: 0, INDICATION: 1, SUCCESS: 2, ERROR: 3 };

export const ATTR = {
  MAPPED_ADDRESS: 0x0001,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  CHANNEL_NUMBER: 0x000c,
  LIFETIME: 0x000d,
  XOR_PEER_ADDRESS: 0x0012,
  DATA: 0x0013,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_ADDRESS_FAMILY: 0x0017,
  EVEN_PORT: 0x0018,
  REQUESTED_TRANSPORT: 0x0019,
  DONT_FRAGMENT: 0x001a,
  MESSAGE_INTEGRITY_SHA256: 0x001c,
  XOR_MAPPED_ADDRESS: 0x0020,
  SOFTWARE: 0x8022,
  FINGERPRINT: 0x8028,
};

const METHOD_NAME = Object.fromEntries(Object.entries(METHOD).map(([k, v]) => [v, k]));
const CLASS_NAME = ['request', 'indication', 'success', 'error'];

/** The 16-bit message type of method m in class c (RFC 8489 §5). */
export function stunType(m, c) {
  return (m & 0x000f) | ((m & 0x0070) << 1) | ((m & 0x0f80) << 2) | ((c & 1) << 4) | ((c & 2) << 7);
}
export const methodOf = (t) => (t & 0x000f) | ((t & 0x00e0) >> 1) | ((t & 0x3e00) >> 2);
export const classOf = (t) => ((t >> 4) & 1) | ((t >> 7) & 2);

/** CRC-32 (ISO-HDLC, as zlib). */
export function crc32(buf) {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(buf) >>> 0;
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Long-term credential key: MD5(user ":" realm ":" pass) (RFC 8489 §9.2.2). */
export function longTermKey(user, realm, pass) {
  return crypto.createHash('md5').update(`${user}:${realm}:${pass}`).digest();
}

/**
 * A TURN REST credential (coturn's use-auth-secret): username
 * "<expiry>:<name>" (or "<expiry>"), password base64(HMAC-SHA1(secret, username)).
 */
export function restCredential(secret, name, expiry = Math.floor(Date.now() / 1000) + 3600) {
  const user = name ? `${expiry}:${name}` : `${expiry}`;
  return { user, pass: restPassword(secret, user) };
}

/** The REST password of any username: base64(HMAC-SHA1(secret, username)). */
export function restPassword(secret, user) {
  return crypto.createHmac('sha1', secret).update(user).digest('base64');
}

// --- addresses ---

/** Parses an IPv6 text address (with an optional dotted IPv4 tail) into 16 bytes. */
export function ipv6Bytes(s) {
  let tail = [];
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (m) {
    tail = m[2].split('.').map(Number);
    const hi = ((tail[0] << 8) | tail[1]).toString(16);
    const lo = ((tail[2] << 8) | tail[3]).toString(16);
    s = `${m[1]}${hi}:${lo}`;
  }
  const [head, rest] = s.split('::');
  const hs = head ? head.split(':') : [];
  const rs = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const fill = rest === undefined ? 0 : 8 - hs.length - rs.length;
  const groups = [...hs, ...Array(fill).fill('0'), ...rs];
  if (groups.length !== 8) throw new Error(`bad IPv6 address ${s}`);
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Formats 16 bytes as a compressed IPv6 address (RFC 5952, mapped IPv4 dotted). */
export function ipv6Text(b) {
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  const g = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Encodes an XOR-*-ADDRESS value. addr: { ip, port, family? (1 or 2) }. */
export function encodeXorAddr(addr, txid) {
  const v6 = addr.family ? addr.family === 2 : net.isIPv6(addr.ip);
  const ip = v6 ? ipv6Bytes(addr.ip) : Buffer.from(addr.ip.split('.').map(Number));
  const out = Buffer.alloc(4 + ip.length);
  out[1] = v6 ? 2 : 1;
  out.writeUInt16BE(addr.port ^ (COOKIE >>> 16), 2);
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(COOKIE, 0);
  txid.copy(mask, 4);
  for (let i = 0; i < ip.length; i++) out[4 + i] = ip[i] ^ mask[i];
  return out;
}

/** Decodes an XOR-*-ADDRESS value into { family, ip, port }. */
export function decodeXorAddr(v, txid) {
  if (v.length < 4) throw new Error(`XOR address of ${v.length} bytes`);
  const family = v[1];
  const port = v.readUInt16BE(2) ^ (COOKIE >>> 16);
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(COOKIE, 0);
  txid.copy(mask, 4);
  const n = family === 1 ? 4 : family === 2 ? 16 : -1;
  if (n < 0 || v.length !== 4 + n) throw new Error(`XOR address family ${family} with ${v.length} bytes`);
  const ip = Buffer.alloc(n);
  for (let i = 0; i < n; i++) ip[i] = v[4 + i] ^ mask[i];
  return { family, port, ip: n === 4 ? [...ip].join('.') : ipv6Text(ip) };
}

// --- attribute values ---

export const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
export const requestedTransport = (proto = 17) => Buffer.from([proto, 0, 0, 0]);
export const channelNumber = (ch) => { const b = Buffer.alloc(4); b.writeUInt16BE(ch); return b; };

// --- messages ---

const pad4 = (n) => (n + 3) & ~3;

/**
 * Encodes a STUN message. opts: { method, cls, txid (12 bytes, random if
 * absent), attrs: [[type, value]] where value is a Buffer, a string or a
 * function of the txid returning a Buffer, key (Buffer: add
 * MESSAGE-INTEGRITY, or MESSAGE-INTEGRITY-SHA256 with sha256: true),
 * fingerprint (default true) }.
 */
export function encodeMessage({ method, cls = CLASS.REQUEST, txid, attrs = [], key, sha256 = false, fingerprint = true }) {
  txid = txid || crypto.randomBytes(12);
  const parts = [];
  let len = 0;
  const push = (type, value) => {
    // XOR addresses depend on the transaction id: a value may be a function of it.
    if (typeof value === 'function') value = value(txid);
    const v = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
    const h = Buffer.alloc(4);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(v.length, 2);
    const padding = Buffer.alloc(pad4(v.length) - v.length);
    parts.push(h, v, padding);
    len += 4 + pad4(v.length);
  };
  const header = () => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(stunType(method, cls), 0);
    h.writeUInt16BE(len, 2);
    h.writeUInt32BE(COOKIE, 4);
    txid.copy(h, 8);
    return h;
  };
  for (const [t, v] of attrs) push(t, v);
  if (key) {
    // The length field covers the integrity attribute itself (§14.5, §14.6).
    const [alg, type, n] = sha256 ? ['sha256', ATTR.MESSAGE_INTEGRITY_SHA256, 36] : ['sha1', ATTR.MESSAGE_INTEGRITY, 24];
    len += n;
    const mac = crypto.createHmac(alg, key).update(Buffer.concat([header(), ...parts])).digest();
    len -= n;
    push(type, mac);
  }
  if (fingerprint) {
    len += 8;
    const crc = (crc32(Buffer.concat([header(), ...parts])) ^ FINGERPRINT_XOR) >>> 0;
    len -= 8;
    push(ATTR.FINGERPRINT, u32(crc));
  }
  return { buf: Buffer.concat([header(), ...parts]), txid };
}

/** A decoded STUN message; attribute values are views into raw. */
export class Message {
  constructor(raw) {
    if (raw.length < 20) throw new Error(`STUN message of ${raw.length} bytes`);
    if (raw[0] & 0xc0) throw new Error('not a STUN message (first two bits set)');
    if (raw.readUInt32BE(4) !== COOKIE) throw new Error('STUN message without the magic cookie');
    const len = raw.readUInt16BE(2);
    if (len % 4 || 20 + len !== raw.length) throw new Error(`STUN length field ${len} for ${raw.length} bytes`);
    this.raw = raw;
    this.type = raw.readUInt16BE(0);
    this.method = methodOf(this.type);
    this.cls = classOf(this.type);
    this.txid = raw.subarray(8, 20);
    this.attrs = [];
    for (let off = 20; off < raw.length;) {
      if (off + 4 > raw.length) throw new Error('truncated attribute header');
      const type = raw.readUInt16BE(off);
      const alen = raw.readUInt16BE(off + 2);
      if (off + 4 + alen > raw.length) throw new Error(`attribute 0x${type.toString(16)} runs past the message`);
      this.attrs.push({ type, offset: off, value: raw.subarray(off + 4, off + 4 + alen) });
      off += 4 + pad4(alen);
    }
  }

  get name() {
    return `${METHOD_NAME[this.method] || `0x${this.method.toString(16)}`} ${CLASS_NAME[this.cls]}`;
  }

  has(type) { return this.attrs.some((a) => a.type === type); }
  get(type) { return this.attrs.find((a) => a.type === type)?.value; }
  str(type) { return this.get(type)?.toString('utf8'); }
  u32(type) { const v = this.get(type); return v && v.length === 4 ? v.readUInt32BE(0) : undefined; }
  xorAddr(type) { const v = this.get(type); return v ? decodeXorAddr(v, this.txid) : undefined; }

  /** ERROR-CODE as { code, reason }, or undefined. */
  get error() {
    const v = this.get(ATTR.ERROR_CODE);
    if (!v || v.length < 4) return undefined;
    return { code: (v[2] & 7) * 100 + v[3], reason: v.subarray(4).toString('utf8') };
  }

  /** 'ok', 'missing' or 'bad': MESSAGE-INTEGRITY (or, with sha256, -SHA256) checked with key. */
  integrity(key, sha256 = false) {
    const a = this.attrs.find((x) => x.type === (sha256 ? ATTR.MESSAGE_INTEGRITY_SHA256 : ATTR.MESSAGE_INTEGRITY));
    if (!a) return 'missing';
    const head = Buffer.from(this.raw.subarray(0, a.offset));
    head.writeUInt16BE(a.offset + 4 + a.value.length - 20, 2);
    const mac = crypto.createHmac(sha256 ? 'sha256' : 'sha1', key).update(head).digest();
    if (sha256) return a.value.length >= 16 && mac.subarray(0, a.value.length).equals(a.value) ? 'ok' : 'bad';
    return a.value.length === 20 && crypto.timingSafeEqual(mac, a.value) ? 'ok' : 'bad';
  }

  /** 'ok', 'missing', 'bad' or 'not-last': the FINGERPRINT attribute. */
  fingerprint() {
    const i = this.attrs.findIndex((x) => x.type === ATTR.FINGERPRINT);
    if (i < 0) return 'missing';
    if (i !== this.attrs.length - 1) return 'not-last';
    const a = this.attrs[i];
    if (a.value.length !== 4) return 'bad';
    const want = (crc32(this.raw.subarray(0, a.offset)) ^ FINGERPRINT_XOR) >>> 0;
    return a.value.readUInt32BE(0) === want ? 'ok' : 'bad';
  }

  /** A one-line description for assertion messages. */
  describe() {
    const e = this.error;
    const names = this.attrs.map((a) => `0x${a.type.toString(16).padStart(4, '0')}`).join(',');
    return `${this.name}${e ? ` ${e.code} ${JSON.stringify(e.reason)}` : ''} [${names}]`;
  }
}

/** A ChannelData message; pad to a multiple of 4 (streams must). */
export function encodeChannelData(channel, data, pad = false) {
  const len = pad ? 4 + pad4(data.length) : 4 + data.length;
  const b = Buffer.alloc(len);
  b.writeUInt16BE(channel, 0);
  b.writeUInt16BE(data.length, 2);
  data.copy(b, 4);
  return b;
}

/**
 * The length of the next frame at the start of a TURN stream: 0 when more
 * bytes are needed; throws when the bytes are neither STUN nor ChannelData.
 */
export function streamFrameLen(buf) {
  if (buf.length < 4) return 0;
  const top = buf[0] >> 6;
  if (top === 0) {
    const len = buf.readUInt16BE(2);
    if (len % 4) throw new Error(`stream: STUN length ${len} is not a multiple of 4`);
    if (buf.length >= 8 && buf.readUInt32BE(4) !== COOKIE) throw new Error('stream: STUN frame without the cookie (framing lost?)');
    return buf.length >= 20 + len ? 20 + len : 0;
  }
  if (top === 1) {
    const n = 4 + pad4(buf.readUInt16BE(2));
    return buf.length >= n ? n : 0;
  }
  throw new Error(`stream: first byte 0x${buf[0].toString(16)} is neither STUN nor ChannelData (framing lost?)`);
}

/** Resolves after ms. */
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/**
 * One STUN/TURN client connection to 127.0.0.1:port.
 * Use StunClient.connect(transport, port) ('udp', 'tcp' or 'tls').
 */
export class StunClient {
  constructor(transport) {
    this.transport = transport;
    this.stream = transport !== 'udp';
    this.pending = new Map(); // hex txid → { ok }
    this.inbox = [];          // { kind: 'stun', msg } | { kind: 'channel', channel, data, frameLen }
    this.waiters = new Set();
    this.errors = [];         // framing errors and socket errors, for assertion messages
    this.closed = false;
    this.rbuf = Buffer.alloc(0);
  }

  static async connect(transport, port, opts = {}) {
    const c = new StunClient(transport);
    const host = opts.host || '127.0.0.1';
    c.server = { address: host, port };
    if (transport === 'udp') {
      const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      await new Promise((ok, fail) => {
        sock.once('error', fail);
        sock.bind({ address: opts.localAddress || host, port: 0 }, () => { sock.off('error', fail); ok(); });
      });
      sock.on('error', (e) => c.errors.push(e.message));
      sock.on('message', (d, rinfo) => {
        if (rinfo.address !== host || rinfo.port !== port) return; // not from the server
        c._datagram(d);
      });
      sock.on('close', () => { c.closed = true; c._poke(); });
      c.sock = sock;
      c.local = { address: sock.address().address, port: sock.address().port };
      return c;
    }
    const sock = await new Promise((ok, fail) => {
      const timer = setTimeout(() => { s.destroy(); fail(new Error(`${transport} connect timed out`)); }, opts.timeout || 10000);
      const s = transport === 'tls'
        ? tls.connect({ host, port, servername: 'localhost', rejectUnauthorized: false, ...(opts.tls || {}) })
        : net.connect({ host, port });
      s.once('error', (e) => { clearTimeout(timer); fail(e); });
      s.once(transport === 'tls' ? 'secureConnect' : 'connect', () => { clearTimeout(timer); ok(s); });
    });
    sock.setNoDelay(true);
    sock.on('error', (e) => c.errors.push(e.code || e.message));
    sock.on('data', (d) => c._streamData(d));
    sock.on('close', () => { c.closed = true; c._poke(); });
    c.sock = sock;
    c.local = { address: sock.localAddress, port: sock.localPort };
    return c;
  }

  _datagram(d) {
    if (d.length === 0) return;
    const top = d[0] >> 6;
    if (top === 1) {
      if (d.length < 4) { this.errors.push('short ChannelData datagram'); return; }
      const len = d.readUInt16BE(2);
      if (4 + len > d.length) { this.errors.push(`ChannelData datagram claims ${len} bytes, has ${d.length - 4}`); return; }
      this._deliver({ kind: 'channel', channel: d.readUInt16BE(0), data: Buffer.from(d.subarray(4, 4 + len)), frameLen: d.length });
      return;
    }
    try {
      this._message(new Message(Buffer.from(d)));
    } catch (e) {
      this.errors.push(`undecodable datagram: ${e.message}`);
    }
  }

  _streamData(d) {
    this.rbuf = Buffer.concat([this.rbuf, d]);
    for (;;) {
      let n;
      try {
        n = streamFrameLen(this.rbuf);
      } catch (e) {
        this.errors.push(e.message);
        this.framingLost = e.message;
        this.rbuf = Buffer.alloc(0);
        this._poke();
        return;
      }
      if (!n) return;
      const frame = this.rbuf.subarray(0, n);
      this.rbuf = this.rbuf.subarray(n);
      if (frame[0] >> 6 === 1) {
        const len = frame.readUInt16BE(2);
        const padding = frame.subarray(4 + len);
        this._deliver({ kind: 'channel', channel: frame.readUInt16BE(0), data: Buffer.from(frame.subarray(4, 4 + len)), frameLen: n, padding: Buffer.from(padding) });
      } else {
        try {
          this._message(new Message(Buffer.from(frame)));
        } catch (e) {
          this.errors.push(`undecodable stream frame: ${e.message}`);
        }
      }
    }
  }

  _message(msg) {
    if (msg.cls === CLASS.SUCCESS || msg.cls === CLASS.ERROR) {
      const p = this.pending.get(msg.txid.toString('hex'));
      if (p) { p.ok(msg); return; }
    }
    this._deliver({ kind: 'stun', msg });
  }

  _deliver(item) {
    this.inbox.push(item);
    this._poke();
  }

  _poke() {
    for (const w of [...this.waiters]) w();
  }

  /** Sends raw bytes (a datagram, or bytes on the stream). */
  sendRaw(buf) {
    if (this.stream) this.sock.write(buf);
    else this.sock.send(buf, this.server.port, this.server.address);
  }

  /**
   * Sends a request and resolves with the answer (success or error
   * Message). Over UDP it retransmits (1 s, 2 s, 4 s, ...) until timeout.
   * opts: { attrs, key, txid, fingerprint, timeout (ms, default 5000) }.
   */
  request(method, opts = {}) {
    const { buf, txid } = encodeMessage({
      method, cls: CLASS.REQUEST, attrs: opts.attrs, key: opts.key, sha256: opts.sha256, txid: opts.txid, fingerprint: opts.fingerprint,
    });
    const id = txid.toString('hex');
    const timeout = opts.timeout || 5000;
    return new Promise((ok, fail) => {
      let rto = 1000;
      let rtx = null;
      const done = () => { clearTimeout(timer); clearTimeout(rtx); this.pending.delete(id); this.waiters.delete(onClose); };
      const timer = setTimeout(() => {
        done();
        fail(new Error(`${METHOD_NAME[method] || method} over ${this.transport}: no answer within ${timeout} ms${this.errors.length ? ` (client errors: ${this.errors.slice(-3).join('; ')})` : ''}`));
      }, timeout);
      const onClose = () => {
        if (this.closed || this.framingLost) {
          done();
          fail(new Error(`${METHOD_NAME[method] || method} over ${this.transport}: ${this.framingLost || 'connection closed'} before an answer`));
        }
      };
      this.pending.set(id, { ok: (m) => { done(); ok(m); } });
      this.waiters.add(onClose);
      this.sendRaw(buf);
      if (!this.stream) {
        const again = () => { this.sendRaw(buf); rto *= 2; rtx = setTimeout(again, rto); };
        rtx = setTimeout(again, rto);
      }
    });
  }

  /** Sends an indication (no answer). */
  indication(method, attrs = []) {
    this.sendRaw(encodeMessage({ method, cls: CLASS.INDICATION, attrs }).buf);
  }

  /** Sends ChannelData; padded by default on streams, unpadded on UDP. */
  sendChannel(channel, data, pad = this.stream) {
    this.sendRaw(encodeChannelData(channel, data, pad));
  }

  /**
   * Waits for (and removes) the first inbox item for which pred(item) is
   * true. Rejects after ms, or when the connection closes first.
   */
  next(pred = () => true, ms = 5000, what = 'message') {
    return new Promise((ok, fail) => {
      const check = () => {
        const i = this.inbox.findIndex(pred);
        if (i >= 0) {
          const [item] = this.inbox.splice(i, 1);
          cleanup();
          ok(item);
        } else if (this.closed || this.framingLost) {
          cleanup();
          fail(new Error(`${what} over ${this.transport}: ${this.framingLost || 'connection closed'} first`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        const seen = this.inbox.map((x) => (x.kind === 'stun' ? x.msg.describe() : `ChannelData 0x${x.channel.toString(16)} (${x.data.length} B)`));
        fail(new Error(`${what} over ${this.transport}: not received within ${ms} ms (inbox: ${seen.join('; ') || 'empty'}${this.errors.length ? `; client errors: ${this.errors.slice(-3).join('; ')}` : ''})`));
      }, ms);
      const cleanup = () => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves true if nothing matching pred arrives within ms (and removes nothing). */
  async none(pred, ms = 700) {
    await sleep(ms);
    return !this.inbox.some(pred);
  }

  close() {
    if (this.closedByUs) return;
    this.closedByUs = true;
    try {
      if (this.stream) this.sock.destroy();
      else this.sock.close();
    } catch { /* already closed */ }
    this.closed = true;
    this._poke();
  }
}

/** Inbox predicates. */
export const isData = (item) => item.kind === 'stun' && item.msg.cls === CLASS.INDICATION && item.msg.method === METHOD.DATA;
export const isChannel = (ch) => (item) => item.kind === 'channel' && (ch === undefined || item.channel === ch);

// REALM and NONCE last seen from each server (by port). tincan binds a
// nonce to the client's IP address, not its port, and rate-limits 401
// answers per source address (20 a second): new clients start with the
// cached nonce instead of spending a 401 each, so that a test file's worth
// of clients on 127.0.0.1 stays under that limit. Over TCP and TLS a 401
// the limiter swallows is never retransmitted.
const authCache = new Map();

/**
 * A TURN client with long-term credentials. creds: { user, pass } or null
 * (requests then go unauthenticated). opts.fresh: ignore the nonce cache
 * (the first request then goes unsigned and earns a 401).
 */
export class TurnClient {
  constructor(client, creds, opts = {}) {
    this.c = client;
    this.creds = creds;
    this.realm = null;
    this.nonce = null;
    this.key = null;
    this.relayed = null; // XOR-RELAYED-ADDRESS of the allocation
    this.mapped = null;  // XOR-MAPPED-ADDRESS from the Allocate answer
    const cached = authCache.get(client.server.port);
    if (creds && cached && !opts.fresh) {
      this.realm = cached.realm;
      this.nonce = cached.nonce;
      this.key = longTermKey(creds.user, this.realm, creds.pass);
    }
  }

  static async connect(transport, port, creds, opts = {}) {
    return new TurnClient(await StunClient.connect(transport, port, opts), creds, opts);
  }

  get transport() { return this.c.transport; }
  get local() { return this.c.local; }

  _authAttrs() {
    return [[ATTR.USERNAME, this.creds.user], [ATTR.REALM, this.realm], [ATTR.NONCE, this.nonce]];
  }

  _learn(res) {
    const realm = res.str(ATTR.REALM);
    const nonce = res.str(ATTR.NONCE);
    if (realm !== undefined) this.realm = realm;
    if (nonce !== undefined) this.nonce = nonce;
    if (realm !== undefined && nonce !== undefined) authCache.set(this.c.server.port, { realm, nonce });
    if (this.creds && this.realm !== null) this.key = longTermKey(this.creds.user, this.realm, this.creds.pass);
  }

  /**
   * Sends a request with long-term credentials. Without a nonce yet it
   * first asks unauthenticated and takes REALM and NONCE from the 401.
   * A 438 is retried with the new NONCE up to opts.staleRetries (default 2)
   * times. opts.sha256 signs with MESSAGE-INTEGRITY-SHA256 instead. Returns
   * the last answer; res.signed tells whether the request carried an
   * integrity attribute, res.integrityCheck the check of the answer's (of
   * the same kind).
   */
  async request(method, attrs = [], opts = {}) {
    let stale = opts.staleRetries ?? 2;
    for (let round = 0; ; round++) {
      const signed = !!(this.creds && this.nonce);
      const res = await this.c.request(method, {
        attrs: signed ? [...attrs, ...this._authAttrs()] : attrs,
        key: signed ? this.key : undefined,
        sha256: !!opts.sha256,
        timeout: opts.timeout,
      });
      res.signed = signed;
      if (signed && res.cls === CLASS.SUCCESS) res.integrityCheck = res.integrity(this.key, !!opts.sha256);
      const code = res.error?.code;
      if (this.creds && !signed && code === 401 && round === 0) { this._learn(res); continue; }
      if (signed && code === 438 && stale-- > 0) { this._learn(res); continue; }
      if (code === 401 || code === 438) this._learn(res);
      return res;
    }
  }

  /**
   * Sends one unauthenticated Allocate to learn REALM and NONCE from the
   * 401 without allocating anything; returns that answer.
   */
  async learn() {
    const res = await this.c.request(METHOD.ALLOCATE, { attrs: [[ATTR.REQUESTED_TRANSPORT, requestedTransport(17)]] });
    this._learn(res);
    return res;
  }

  /** Allocate. opts: { lifetime, transport (17), dontFragment, attrs }. Stores relayed/mapped. */
  async allocate(opts = {}) {
    const attrs = [[ATTR.REQUESTED_TRANSPORT, requestedTransport(opts.transport ?? 17)]];
    if (opts.lifetime !== undefined) attrs.push([ATTR.LIFETIME, u32(opts.lifetime)]);
    if (opts.dontFragment) attrs.push([ATTR.DONT_FRAGMENT, Buffer.alloc(0)]);
    attrs.push(...(opts.attrs || []));
    const res = await this.request(METHOD.ALLOCATE, attrs, opts);
    if (res.cls === CLASS.SUCCESS) {
      this.relayed = res.xorAddr(ATTR.XOR_RELAYED_ADDRESS);
      this.mapped = res.xorAddr(ATTR.XOR_MAPPED_ADDRESS);
    }
    return res;
  }

  refresh(lifetime, opts = {}) {
    const attrs = lifetime === undefined ? [] : [[ATTR.LIFETIME, u32(lifetime)]];
    return this.request(METHOD.REFRESH, attrs, opts);
  }

  /** CreatePermission for one or more peers ({ ip, port, family? }). */
  createPermission(peers, opts = {}) {
    const list = Array.isArray(peers) ? peers : [peers];
    return this.request(METHOD.CREATE_PERMISSION, list.map((p) => [ATTR.XOR_PEER_ADDRESS, (txid) => encodeXorAddr(p, txid)]), opts);
  }

  channelBind(channel, peer, opts = {}) {
    return this.request(METHOD.CHANNEL_BIND, [
      [ATTR.CHANNEL_NUMBER, channelNumber(channel)],
      [ATTR.XOR_PEER_ADDRESS, (txid) => encodeXorAddr(peer, txid)],
    ], opts);
  }

  /** A Send indication with DATA to peer. */
  send(peer, data, extra = []) {
    const txid = crypto.randomBytes(12);
    const { buf } = encodeMessage({
      method: METHOD.SEND, cls: CLASS.INDICATION, txid,
      attrs: [[ATTR.XOR_PEER_ADDRESS, encodeXorAddr(peer, txid)], [ATTR.DATA, data], ...extra],
    });
    this.c.sendRaw(buf);
  }

  sendChannel(channel, data, pad) { this.c.sendChannel(channel, data, pad); }

  /** Waits for a Data indication (optionally with this payload); returns { peer, data, msg }. */
  async data(payload, ms = 5000) {
    const pred = (it) => isData(it) && (!payload || it.msg.get(ATTR.DATA)?.equals(payload));
    const it = await this.c.next(pred, ms, `Data indication${payload ? ` with ${JSON.stringify(payload.toString())}` : ''}`);
    return { peer: it.msg.xorAddr(ATTR.XOR_PEER_ADDRESS), data: it.msg.get(ATTR.DATA), msg: it.msg };
  }

  /** Waits for ChannelData on channel (optionally with this payload). */
  channelData(channel, payload, ms = 5000) {
    const pred = (it) => isChannel(channel)(it) && (!payload || it.data.equals(payload));
    return this.c.next(pred, ms, `ChannelData on 0x${channel.toString(16)}${payload ? ` with ${JSON.stringify(payload.toString())}` : ''}`);
  }

  /**
   * Deletes the allocation (Refresh LIFETIME 0) if there is one and the
   * connection is open, as a well-behaved client does when it leaves; errors
   * and a missing answer are ignored. UDP allocations would otherwise
   * outlive the test and count against quotas and the port range.
   */
  async release(ms = 1000) {
    if (!this.relayed || this.c.closed || this.released) return;
    this.released = true;
    try {
      await this.request(METHOD.REFRESH, [[ATTR.LIFETIME, u32(0)]], { timeout: ms });
    } catch { /* best effort */ }
  }

  close() { this.c.close(); }
}

// --- test helpers ---

/** Asserts that res is a success answer (and, if signed, with valid MESSAGE-INTEGRITY). */
export function expectSuccess(res, what) {
  assert.ok(res, `${what}: no answer`);
  assert.equal(res.cls, CLASS.SUCCESS, `${what}: expected success, got ${res.describe()}`);
  if (res.signed) {
    assert.equal(res.integrityCheck, 'ok', `${what}: MESSAGE-INTEGRITY of the success answer is ${res.integrityCheck} (${res.describe()})`);
  }
  return res;
}

/** Asserts that res is an error answer with this code. */
export function expectError(res, code, what) {
  assert.ok(res, `${what}: no answer`);
  assert.equal(res.cls === CLASS.ERROR ? res.error?.code : res.describe(), code,
    `${what}: expected error ${code}, got ${res.describe()}`);
  return res;
}

/** True if nothing is bound to UDP port on 127.0.0.1 (checked by binding it). */
export function udpPortFree(port, address = '127.0.0.1') {
  return new Promise((ok) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => { s.close(); ok(false); });
    s.bind({ port, address, exclusive: true }, () => s.close(() => ok(true)));
  });
}

/**
 * Finds n consecutive free UDP ports on 127.0.0.1 at or above base (keep
 * base below the kernel's ephemeral range, 32768, so that no client socket
 * takes one by chance, and give each test file its own base). Returns
 * { lo, hi, arg: "lo-hi" }.
 */
export async function udpRange(base, n) {
  for (let lo = base; lo + n < base + 2000; lo++) {
    let ok = true;
    for (let p = lo; p < lo + n; p++) {
      if (!(await udpPortFree(p))) { ok = false; lo = p; break; }
    }
    if (ok) return { lo, hi: lo + n - 1, arg: `${lo}-${lo + n - 1}` };
  }
  throw new Error(`no ${n} free UDP ports from ${base}`);
}

/**
 * The arguments that make a test server relay on loopback: --relay-ip
 * 127.0.0.1 and --relay-ports from range, then extra.
 */
export function turnArgs(range, ...extra) {
  return ['--relay-ip', '127.0.0.1', '--relay-ports', range.arg, ...extra];
}

/**
 * A UDP peer on 127.0.0.1 (the far end of a relay). With echo it sends
 * every datagram back to its sender. Keeps what it received in `received`
 * ({ data, from: { ip, port } }).
 */
export class UdpPeer {
  static async open(opts = {}) {
    const p = new UdpPeer();
    p.echo = !!opts.echo;
    p.received = [];
    p.waiters = new Set();
    p.sock = dgram.createSocket('udp4');
    await new Promise((ok, fail) => {
      p.sock.once('error', fail);
      p.sock.bind({ address: '127.0.0.1', port: opts.port || 0 }, () => { p.sock.off('error', fail); ok(); });
    });
    p.sock.on('error', () => {});
    p.sock.on('message', (data, rinfo) => {
      p.received.push({ data, from: { ip: rinfo.address, port: rinfo.port } });
      if (p.echo) p.sock.send(data, rinfo.port, rinfo.address);
      for (const w of [...p.waiters]) w();
    });
    p.addr = { ip: '127.0.0.1', port: p.sock.address().port };
    return p;
  }

  /** Sends data to addr ({ ip, port }). */
  send(addr, data) { this.sock.send(data, addr.port, addr.ip); }

  /** Waits for a datagram (matching pred) and returns it. */
  next(pred = () => true, ms = 5000, what = 'datagram at the peer') {
    return new Promise((ok, fail) => {
      const check = () => {
        const i = this.received.findIndex(pred);
        if (i >= 0) { cleanup(); ok(this.received.splice(i, 1)[0]); }
      };
      const timer = setTimeout(() => { cleanup(); fail(new Error(`${what}: nothing within ${ms} ms`)); }, ms);
      const cleanup = () => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  close() { try { this.sock.close(); } catch { /* closed */ } }
}

/** The pieces of an address that tests compare. */
export const hostPort = (a) => (a ? `${a.ip}:${a.port}` : String(a));

/**
 * Collects clients and peers of a test so that afterEach can close them
 * all, whatever the test did: bag.add(x) returns x.
 */
export class Bag {
  constructor() { this.items = []; }
  add(x) { this.items.push(x); return x; }
  /** Releases TURN allocations (see TurnClient.release), then closes everything. */
  async closeAll() {
    const items = this.items.splice(0);
    await Promise.all(items.map((x) => (typeof x.release === 'function' ? x.release() : null)));
    for (const x of items) {
      try { x.close(); } catch { /* already closed */ }
    }
  }
}
