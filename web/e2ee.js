// End-to-end encryption of a room's media (docs/e2ee.md): the keys.
//
// Everything starts from a room secret the server never sees: the `#k=…`
// fragment of the room's link (random, 144 bits) or a passphrase everyone
// types (PBKDF2-SHA256, 600 000 iterations, salted with the room name).
// HKDF turns it into a wrap key and a safety code everyone can compare.
// Each member makes its own random AES-256-GCM media key with a random
// 32-bit key id, seals it with the wrap key (bound to the room and to the
// sender's peer id) and sends it to the room as an `e2ee-key` message; the
// server relays it without being able to open or forge it. When someone
// leaves, everyone makes a new key, sends it, and encrypts with it about a
// second later; the worker keeps each member's last two keys for frames in
// flight. The frames themselves are encrypted in e2ee-worker.js.
//
// Use: `const e = await E2ee.create({room, secret | passphrase})`, then
// e.bind({send, label}), and give it to the Call as its transform (it
// attaches an RTCRtpScriptTransform to every sender and receiver). Room
// messages go through e.observe(msg). The SFU client attaches its own
// senders and receivers with attachE2ee(senderOrReceiver, kind, peerId?)
// below. E2ee is an EventTarget: 'change' whenever the warning may differ.

export const PBKDF2_ITERATIONS = 600_000;
const SWITCH_MS = 1000; // a new key is used this long after it was sent
const FAIL_MS = 3000; // frames failing this long, none good: a warning
const SECRET_BYTES = 18;

const enc = new TextEncoder();

/** Whether this browser can encrypt media frames (RTCRtpScriptTransform). */
export function e2eeSupported() {
  return typeof globalThis.RTCRtpScriptTransform === 'function' && typeof Worker === 'function';
}

export function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function unb64url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url');
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** A fresh room secret for a link's `#k=` (base64url of 144 random bits). */
export function newSecret() {
  return b64url(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/**
 * The room secret in a link's fragment: {secret} for `#k=<22+ base64url>`,
 * {bad: true} for a `k=` that is not one, null for none.
 */
export function linkSecret(hash = location.hash) {
  const m = /(?:^#|&)k=([^&]*)/.exec(hash || '');
  if (!m) return null;
  return /^[A-Za-z0-9_-]{22,86}$/.test(m[1]) ? { secret: m[1] } : { bad: true };
}

/** 12 digits from 8 bytes, in groups of four: "1234 5678 9012". */
function safetyDigits(bytes) {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return (n % 10n ** 12n).toString().padStart(12, '0').replace(/(\d{4})(?=\d)/g, '$1 ');
}

/** The HKDF base key of a room: from the link secret, or the passphrase through PBKDF2. */
async function roomKeyMaterial({ room, secret, passphrase }) {
  let ikm;
  if (secret) {
    ikm = unb64url(secret);
  } else {
    const pw = await crypto.subtle.importKey('raw', enc.encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveBits']);
    ikm = new Uint8Array(await crypto.subtle.deriveBits({
      name: 'PBKDF2', hash: 'SHA-256', salt: enc.encode(`tincan-e2ee room ${room}`), iterations: PBKDF2_ITERATIONS,
    }, pw, 256));
  }
  return crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveKey', 'deriveBits']);
}

const hkdf = (room, info) => ({ name: 'HKDF', hash: 'SHA-256', salt: enc.encode(`tincan-e2ee ${room}`), info: enc.encode(info) });

function randomKey() {
  return {
    keyId: crypto.getRandomValues(new Uint32Array(1))[0],
    raw: crypto.getRandomValues(new Uint8Array(32)),
  };
}

let active = null; // the E2ee of the current call, for attachE2ee()

/**
 * For the SFU client (web/sfu-call.js): attaches the current call's
 * encryption to one RTCRtpSender or RTCRtpReceiver before media flows.
 * kind: 'audio' | 'video'; peerId: whose media a receiver carries, if
 * known (it names the member in warnings). Returns false when the call is
 * not encrypted (nothing to do); throws if it is and the browser cannot.
 */
export function attachE2ee(senderOrReceiver, kind, peerId = '') {
  if (!active) return false;
  active.attach(senderOrReceiver, kind, peerId);
  return true;
}

export class E2ee extends EventTarget {
  /** Derives the room's keys: {room, secret} (a link's #k=) or {room, passphrase}. */
  static async create({ room, secret = null, passphrase = null }) {
    if (!e2eeSupported()) throw new Error('This browser cannot encrypt calls end to end.');
    const base = await roomKeyMaterial({ room, secret, passphrase });
    const wrapKey = await crypto.subtle.deriveKey(hkdf(room, 'tincan e2ee wrap v1'), base,
      { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const code = new Uint8Array(await crypto.subtle.deriveBits(hkdf(room, 'tincan e2ee safety code v1'), base, 64));
    return new E2ee({ room, wrapKey, safetyCode: safetyDigits(code), fragment: secret ? `#k=${secret}` : '' });
  }

  #wrapKey;
  #worker;
  #own = randomKey();
  #next = null; // a key sent but not used yet (rotation)
  #switchTimer = null;
  #attached = new WeakSet();
  #unseal = Promise.resolve();
  #departed = new Set();
  /** peerId → {keyIds: [newest first], mismatch, okAt, badSince} */
  peers = new Map();
  tx = { keyId: null, frames: 0 };

  constructor({ room, wrapKey, safetyCode, fragment }) {
    super();
    Object.assign(this, { room, safetyCode, fragment, selfId: null, send: () => false, label: (id) => id });
    this.#wrapKey = wrapKey;
    this.#worker = new Worker('/e2ee-worker.js', { name: 'tincan-e2ee' });
    this.#worker.onmessage = ({ data }) => this.#onReport(data);
    this.#use(this.#own);
    active = this;
  }

  /** send(msg): a signaling message out; label(peerId): the name shown for a member. */
  bind({ send, label }) {
    this.send = send;
    this.label = label;
  }

  /** The key id we encrypt with now. */
  get keyId() {
    return this.#own.keyId;
  }

  /** Watches the room's messages (the session passes each one). */
  observe(msg, selfId) {
    if (selfId) this.selfId = selfId;
    switch (msg.type) {
      case 'joined':
        if (typeof msg.peerId === 'string') this.selfId = msg.peerId;
        this.#sendKeys();
        break;
      case 'welcome':
        if (msg.resumed === true) this.#sendKeys(); // keys relayed while away were dropped
        break;
      case 'peer-joined':
        if (typeof msg.peerId === 'string') this.#sendKeys(msg.peerId);
        break;
      case 'peer-left':
        if (typeof msg.peerId === 'string') this.#left(msg.peerId);
        break;
      case 'e2ee-key':
        if (typeof msg.from === 'string' && typeof msg.key === 'string') {
          this.#unseal = this.#unseal.then(() => this.#onKey(msg.from, msg.key)).catch(() => {});
        }
        break;
      default:
    }
  }

  /** The Call's hook: encrypts every sender and decrypts every receiver of a mesh connection. */
  attachAll(pc, peerId) {
    for (const t of pc.getTransceivers()) {
      if (t.stopped || t.currentDirection === 'stopped') continue;
      const kind = t.receiver.track.kind;
      if (kind === 'video') preferVp8(t);
      this.attach(t.sender, kind);
      this.attach(t.receiver, kind, peerId);
    }
  }

  /** Puts our transform on one RTCRtpSender or RTCRtpReceiver (once). */
  attach(end, kind, peerId = '') {
    if (this.#attached.has(end)) return;
    const role = end instanceof RTCRtpSender ? 'send' : 'recv';
    end.transform = new RTCRtpScriptTransform(this.#worker, { role, kind, peerId });
    this.#attached.add(end);
  }

  /** Members whose media cannot be decrypted: [{id, why: 'mismatch' | 'undecryptable'}]. */
  problems(now = Date.now()) {
    const out = [];
    for (const [id, p] of this.peers) {
      if (p.mismatch) out.push({ id, why: 'mismatch' });
      else if (p.badSince && now - p.badSince >= FAIL_MS && !(p.okAt > p.badSince)) out.push({ id, why: 'undecryptable' });
    }
    return out;
  }

  /** For tincanDebug and tests: what the keys look like now. */
  status() {
    const peers = {};
    for (const [id, p] of this.peers) {
      peers[id] = { keyIds: [...p.keyIds], rxKeyId: p.rxKeyId ?? null, mismatch: !!p.mismatch, okAt: p.okAt || 0 };
    }
    return {
      safetyCode: this.safetyCode, keyId: this.#own.keyId, sentKeyId: this.tx.keyId, peers,
      problems: this.problems().map((x) => ({ ...x, name: this.label(x.id) })),
    };
  }

  close() {
    clearTimeout(this.#switchTimer);
    this.#worker.terminate();
    if (active === this) active = null;
  }

  #peer(id) {
    let p = this.peers.get(id);
    if (!p) {
      p = { keyIds: [], mismatch: false, okAt: 0, badSince: 0, rxKeyId: null };
      this.peers.set(id, p);
    }
    return p;
  }

  /** Sends our key (and the next one, during a rotation) to one member or the room. */
  async #sendKeys(target = null) {
    for (const k of [this.#own, this.#next].filter(Boolean)) {
      const key = await this.#seal(k);
      this.send(target ? { type: 'e2ee-key', target, key } : { type: 'e2ee-key', key });
    }
  }

  #aad(fromId) {
    return enc.encode(`tincan-e2ee key v1|${this.room}|${fromId}`);
  }

  async #seal({ keyId, raw }) {
    const plain = new Uint8Array(36);
    new DataView(plain.buffer).setUint32(0, keyId);
    plain.set(raw, 4);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: this.#aad(this.selfId) },
      this.#wrapKey, plain);
    const out = new Uint8Array(12 + sealed.byteLength);
    out.set(iv);
    out.set(new Uint8Array(sealed), 12);
    return b64url(out);
  }

  /** A member's sealed key: opened with the wrap key, or the member is marked as not matching. */
  async #onKey(from, text) {
    this.#departed.delete(from);
    const p = this.#peer(from);
    let plain;
    try {
      const bytes = unb64url(text);
      plain = new Uint8Array(await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: bytes.subarray(0, 12), additionalData: this.#aad(from) },
        this.#wrapKey, bytes.subarray(12)));
      if (plain.length !== 36) throw new Error('bad key length');
    } catch {
      p.mismatch = true;
      this.#changed();
      return;
    }
    const keyId = new DataView(plain.buffer).getUint32(0);
    p.mismatch = false;
    p.keyIds = [keyId, ...p.keyIds.filter((id) => id !== keyId)].slice(0, 2);
    this.#worker.postMessage({ op: 'peer', peerId: from, keyId, raw: plain.slice(4) });
    this.#changed();
  }

  /** Someone left: forget their keys, and rotate ours so they cannot read what follows. */
  #left(id) {
    this.peers.delete(id);
    this.#departed.add(id);
    this.#worker.postMessage({ op: 'forget', peerId: id });
    this.#changed();
    if (this.#next) this.#use(this.#next); // a rotation under way is overtaken
    this.#next = randomKey();
    this.#sendKeys();
    clearTimeout(this.#switchTimer);
    this.#switchTimer = setTimeout(() => {
      this.#use(this.#next);
      this.#next = null;
    }, SWITCH_MS);
  }

  /** Encrypts with key k from now on. */
  #use(k) {
    this.#own = k;
    this.#worker.postMessage({ op: 'own', keyId: k.keyId, raw: k.raw });
  }

  #onReport(data) {
    if (!data || data.op !== 'report') return;
    if (data.tx && data.tx.keyId !== null) this.tx = data.tx;
    const now = Date.now();
    for (const [id, r] of Object.entries(data.rx || {})) {
      if (!id || this.#departed.has(id)) continue; // a report in flight about someone gone
      const p = this.#peer(id);
      if (r.ok > 0) {
        p.okAt = now;
        p.badSince = 0;
        p.rxKeyId = r.keyId;
      } else if (r.bad > 0 && !p.badSince) {
        p.badSince = now;
      }
    }
    this.#changed();
  }

  #changed() {
    this.dispatchEvent(new Event('change'));
  }
}

/** Puts VP8 first and leaves out codecs whose packetizer reads the payload (H.264, AV1). */
function preferVp8(transceiver) {
  if (typeof transceiver.setCodecPreferences !== 'function' || !globalThis.RTCRtpReceiver?.getCapabilities) return;
  const caps = RTCRtpReceiver.getCapabilities('video');
  if (!caps) return;
  const vp8 = caps.codecs.filter((c) => /\/vp8$/i.test(c.mimeType));
  const helpers = caps.codecs.filter((c) => /\/(rtx|red|ulpfec|flexfec-03)$/i.test(c.mimeType));
  if (vp8.length === 0) return;
  try {
    transceiver.setCodecPreferences([...vp8, ...helpers]);
  } catch {
    // a browser that rejects the list keeps its defaults; VP8 is still offered
  }
}
