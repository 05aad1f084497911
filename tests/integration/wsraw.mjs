// A raw WebSocket client over TLS for tests that need hand-made frames:
// unmasked frames, fragments, invalid UTF-8, control frames between
// fragments. It does the RFC 6455 opening handshake itself, checks
// Sec-WebSocket-Accept, and parses every frame the server sends (the server
// must not mask them).
import { createHash, randomBytes } from 'node:crypto';
import { Reader, tlsConnect, parseResponse } from './net.mjs';

export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 };
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The Sec-WebSocket-Accept value for a key (RFC 6455 section 4.2.2). */
export const acceptFor = (key) => createHash('sha1').update(key + GUID).digest('base64');

/**
 * Encodes one frame. payload: Buffer or string. mask: true (random key),
 * false (unmasked, illegal from a client), or a 4-byte Buffer.
 */
export function encodeFrame({ opcode, payload = Buffer.alloc(0), fin = true, mask = true, rsv = 0 }) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = data.length;
  const key = mask === true ? randomBytes(4) : (Buffer.isBuffer(mask) ? mask : null);
  let head;
  if (len < 126) {
    head = Buffer.alloc(2);
    head[1] = len;
  } else if (len < 65536) {
    head = Buffer.alloc(4);
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  head[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f);
  if (!key) return Buffer.concat([head, data]);
  head[1] |= 0x80;
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = data[i] ^ key[i & 3];
  return Buffer.concat([head, key, body]);
}

/** Parses one frame from buf; null when incomplete. Throws on a masked server frame. */
export function parseFrame(buf) {
  if (buf.length < 2) return null;
  const fin = (buf[0] & 0x80) !== 0;
  const rsv = (buf[0] >> 4) & 7;
  const opcode = buf[0] & 0x0f;
  const masked = (buf[1] & 0x80) !== 0;
  let len = buf[1] & 0x7f;
  let pos = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    pos = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    len = Number(buf.readBigUInt64BE(2));
    pos = 10;
  }
  if (masked) throw new Error('server sent a masked frame (RFC 6455 5.1 forbids it)');
  if (buf.length < pos + len) return null;
  const payload = Buffer.from(buf.subarray(pos, pos + len));
  const frame = { fin, rsv, opcode, payload };
  if (opcode === OP.CLOSE) {
    frame.code = len >= 2 ? payload.readUInt16BE(0) : null;
    frame.reason = len > 2 ? payload.subarray(2).toString() : '';
  }
  return { value: frame, consumed: pos + len };
}

/**
 * Connects and upgrades. opts.headers: extra/overriding request headers
 * (a value of null drops a default header). Returns a RawWs.
 * Rejects if the server does not answer 101 with the right accept key.
 */
export async function rawWs(port, opts = {}) {
  const sock = await tlsConnect(port);
  const reader = new Reader(sock);
  const key = randomBytes(16).toString('base64');
  const h = {
    Host: `127.0.0.1:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
    ...(opts.headers || {}),
  };
  let req = `GET ${opts.path || '/ws'} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(h)) if (v !== null && v !== undefined) req += `${k}: ${v}\r\n`;
  sock.write(req + '\r\n');
  // Read only the head: a 101 has no body, and frames may follow at once.
  const res = await reader.read((b, e) => parseResponse(b, e, { head: true }), 5000, 'WebSocket handshake');
  if (res.status !== 101) {
    sock.destroy();
    const err = new Error(`handshake answered ${res.status}`);
    err.status = res.status;
    throw err;
  }
  if (res.headers['sec-websocket-accept'] !== acceptFor(key)) {
    sock.destroy();
    throw new Error(`bad Sec-WebSocket-Accept ${res.headers['sec-websocket-accept']}`);
  }
  return new RawWs(sock, reader, res);
}

export class RawWs {
  constructor(sock, reader, res) {
    this.sock = sock;
    this.reader = reader;
    this.response = res;
  }

  /** Writes a frame (see encodeFrame); masked unless mask:false. */
  send(frame) { this.sock.write(encodeFrame(frame)); }

  sendText(text) { this.send({ opcode: OP.TEXT, payload: text }); }

  /** Next frame from the server. */
  frame(timeoutMs = 5000) { return this.reader.read((b) => parseFrame(b), timeoutMs, 'WebSocket frame'); }

  /** Next frame that is not a PING (pings from the server are skipped). */
  async nextNonPing(timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.frame(Math.max(1, deadline - Date.now()));
      if (f.opcode !== OP.PING) return f;
    }
  }

  /** Next text message parsed as JSON (fails on any other frame type). */
  async json(timeoutMs = 5000) {
    const f = await this.nextNonPing(timeoutMs);
    if (f.opcode !== OP.TEXT) throw new Error(`expected a text frame, got opcode ${f.opcode}${f.code ? ` (close ${f.code} ${f.reason})` : ''}`);
    return JSON.parse(f.payload.toString());
  }

  /** Reads frames until a CLOSE arrives; returns it. */
  async closeFrame(timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.frame(Math.max(1, deadline - Date.now()));
      if (f.opcode === OP.CLOSE) return f;
    }
  }

  /** Resolves true when the TCP connection closes within ms. */
  closesWithin(ms) { return this.reader.closesWithin(ms); }

  destroy() { this.sock.destroy(); }
}
