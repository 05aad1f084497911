// tincan's end-to-end media encryption, frame by frame: the worker behind
// every RTCRtpScriptTransform of an encrypted call (see e2ee.js for the keys
// and docs/e2ee.md for the design).
//
// An encrypted frame is
//
//   clear header | AES-256-GCM ciphertext (+16-byte tag) | IV (12) | keyId (4, big endian) | 0xE1
//
// The clear header is what a forwarding server may need to read (as LiveKit
// does): VP8's payload header, 10 bytes on a key frame and 3 on a delta
// frame; Opus's TOC byte. It is authenticated (GCM additional data), not
// hidden. Other codecs keep nothing in clear. A frame that does not decrypt
// (unknown key id, wrong key, damaged, not encrypted at all) is dropped:
// it never reaches the decoder. A sender without a key drops its frames
// rather than send them in clear.
//
// Messages from the page: {op:'own', keyId, raw} the key we encrypt with;
// {op:'peer', peerId, keyId, raw} a member's key (the last KEEP per member
// are kept, for frames in flight across a rotation); {op:'forget', peerId}.
// To the page, once a second: {op:'report', tx: {keyId, frames}, rx:
// {<peerId>: {ok, bad, keyId}}} for what happened since the last report.
'use strict';

const TRAILER = 0xe1;
const IV_LEN = 12;
const TAIL = IV_LEN + 4 + 1;
const TAG_LEN = 16;
const KEEP = 2;
const REPORT_MS = 1000;

/** keyId → {key: CryptoKey, peerId} for every member's kept keys. */
const keys = new Map();
/** peerId → [keyId, …], newest first. */
const owned = new Map();
let own = null; // {keyId, key}
let tx = { keyId: null, frames: 0 };
let rx = new Map(); // peerId → {ok, bad, keyId}

const importKey = (raw) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);

self.onmessage = async ({ data }) => {
  if (!data || typeof data.op !== 'string') return;
  if (data.op === 'own') {
    own = { keyId: data.keyId >>> 0, key: await importKey(data.raw) };
  } else if (data.op === 'peer') {
    const key = await importKey(data.raw);
    const ids = [data.keyId >>> 0, ...(owned.get(data.peerId) || []).filter((id) => id !== data.keyId >>> 0)];
    for (const old of ids.splice(KEEP)) keys.delete(old);
    owned.set(data.peerId, ids);
    keys.set(data.keyId >>> 0, { key, peerId: data.peerId });
  } else if (data.op === 'forget') {
    for (const id of owned.get(data.peerId) || []) keys.delete(id);
    owned.delete(data.peerId);
  }
};

/** How many leading bytes stay in clear for this frame. */
function clearBytes(kind, data, mime) {
  if (kind === 'audio') return Math.min(1, data.length);
  if (mime && !/vp8/i.test(mime)) return 0;
  // VP8 payload header: bit 0 of the first byte is 0 on a key frame, which
  // carries 7 more bytes (start code, width, height).
  return Math.min((data[0] & 1) === 0 ? 10 : 3, data.length);
}

function mimeOf(frame) {
  try {
    return frame.getMetadata().mimeType || '';
  } catch {
    return '';
  }
}

async function encrypt(frame, controller, kind) {
  const data = new Uint8Array(frame.data);
  if (data.length === 0) {
    controller.enqueue(frame);
    return;
  }
  const k = own;
  if (!k) return; // never in clear
  const hdr = clearBytes(kind, data, mimeOf(frame));
  const iv = crypto.getRandomValues(new Uint8Array(IV_LEN));
  const sealed = new Uint8Array(await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: data.subarray(0, hdr) }, k.key, data.subarray(hdr)));
  const out = new Uint8Array(hdr + sealed.length + TAIL);
  out.set(data.subarray(0, hdr), 0);
  out.set(sealed, hdr);
  out.set(iv, hdr + sealed.length);
  new DataView(out.buffer).setUint32(hdr + sealed.length + IV_LEN, k.keyId);
  out[out.length - 1] = TRAILER;
  frame.data = out.buffer;
  if (tx.keyId !== k.keyId) tx = { keyId: k.keyId, frames: 0 };
  tx.frames++;
  controller.enqueue(frame);
}

/** The plain frame bytes of an encrypted frame, or null when it does not decrypt. */
async function open(data, kind, mime) {
  const hdr = clearBytes(kind, data, mime);
  if (data.length < hdr + TAG_LEN + TAIL || data[data.length - 1] !== TRAILER) return null;
  const tail = data.length - TAIL;
  const keyId = new DataView(data.buffer, data.byteOffset).getUint32(tail + IV_LEN);
  const entry = keys.get(keyId);
  if (!entry) return null;
  try {
    const plain = new Uint8Array(await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: data.subarray(tail, tail + IV_LEN), additionalData: data.subarray(0, hdr) },
      entry.key, data.subarray(hdr, tail)));
    const out = new Uint8Array(hdr + plain.length);
    out.set(data.subarray(0, hdr), 0);
    out.set(plain, hdr);
    return { bytes: out, keyId };
  } catch {
    return null;
  }
}

async function decrypt(frame, controller, kind, peerId) {
  const data = new Uint8Array(frame.data);
  if (data.length === 0) {
    controller.enqueue(frame);
    return;
  }
  const r = rx.get(peerId) || { ok: 0, bad: 0, keyId: null };
  rx.set(peerId, r);
  const plain = await open(data, kind, mimeOf(frame));
  if (!plain) {
    r.bad++;
    return; // dropped: never decoded
  }
  r.ok++;
  r.keyId = plain.keyId;
  frame.data = plain.bytes.buffer;
  controller.enqueue(frame);
}

self.onrtctransform = ({ transformer }) => {
  const { role, kind, peerId } = transformer.options || {};
  const transform = role === 'send'
    ? (frame, controller) => encrypt(frame, controller, kind)
    : (frame, controller) => decrypt(frame, controller, kind, String(peerId || ''));
  transformer.readable
    .pipeThrough(new TransformStream({ transform }))
    .pipeTo(transformer.writable)
    .catch(() => {}); // the sender or receiver went away
};

setInterval(() => {
  const report = { op: 'report', tx: { ...tx }, rx: Object.fromEntries(rx) };
  tx = { keyId: tx.keyId, frames: 0 };
  rx = new Map();
  self.postMessage(report);
}, REPORT_MS);
