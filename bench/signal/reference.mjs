// A small reference signaling server for bench/signal: the 004 "Video Call
// PWA" signaling server as its spec describes it (Node, the `ws` package, a
// Map of rooms to sets of peers, relay with `from`), speaking the rooms part
// of tincan's protocol (docs/protocol.md, "Rooms") over TLS, so that the same
// load generator can drive both servers and both pay for TLS.
//
// It lives in bench/ only; it is what tincan's signaling is measured against,
// not a product. Implemented: welcome (id, token, iceServers, version),
// join → joined / peer-joined, offer / answer / ice-candidate relayed to
// `target` with `target` removed and `from` added, leave and disconnect →
// peer-left, room names and room size (--max-room, 8), the error codes the
// rooms part can produce (bad_json, unknown_type, missing_field, bad_room,
// room_full, not_in_room, unknown_target), a ping every 30 s as in 004, and
// GET /health for readiness. Not implemented: PIN, lobby, chat, resume, rate
// limits (none of these are on the benchmark's path).
//
// Peer ids are 16 hex digits like tincan's (004 used UUIDs), so relayed
// messages have the same size from both servers.
//
// Usage: node reference.mjs --port P [--bind 127.0.0.1] --cert C --key K
//        [--max-room 8] [--ping-interval 30]
// Logs `listening port=P` on stderr once it accepts connections; SIGTERM or
// SIGINT closes every connection with 1001 and exits.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values: opt } = parseArgs({
  options: {
    port: { type: 'string', default: '8443' },
    bind: { type: 'string', default: '127.0.0.1' },
    cert: { type: 'string' },
    key: { type: 'string' },
    'max-room': { type: 'string', default: '8' },
    'ping-interval': { type: 'string', default: '30' },
  },
});
if (!opt.cert || !opt.key) {
  console.error('usage: node reference.mjs --port P --cert cert.pem --key key.pem');
  process.exit(2);
}
const MAX_ROOM = Number(opt['max-room']);
const ROOM_RE = /^[A-Za-z0-9_-]{1,64}$/;
const RELAYED = new Set(['offer', 'answer', 'ice-candidate']);

/** room name -> Set of peers; a peer is { id, ws, room }. */
const rooms = new Map();
/** peer id -> peer, for relaying to `target`. */
const peers = new Map();

const send = (peer, obj) => peer.ws.send(JSON.stringify(obj));
const error = (peer, code, message, extra) => send(peer, { type: 'error', code, message, ...extra });

/** Takes the peer out of its room (if any) and tells the others. */
function leaveRoom(peer) {
  const name = peer.room;
  const set = rooms.get(name);
  peer.room = null;
  if (!set) return;
  set.delete(peer);
  if (set.size === 0) rooms.delete(name);
  for (const other of set) send(other, { type: 'peer-left', peerId: peer.id });
}

function join(peer, msg) {
  if (typeof msg.room !== 'string') return error(peer, 'missing_field', "'room' must be a string", { field: 'room' });
  if (!ROOM_RE.test(msg.room)) return error(peer, 'bad_room', 'room name must be 1-64 of A-Z a-z 0-9 _ -');
  if (peer.room) leaveRoom(peer);
  let set = rooms.get(msg.room);
  if (set && set.size >= MAX_ROOM) return error(peer, 'room_full', `room '${msg.room}' is full`);
  if (!set) rooms.set(msg.room, (set = new Set()));
  send(peer, { type: 'joined', peerId: peer.id, peers: [...set].map((p) => p.id) });
  for (const other of set) send(other, { type: 'peer-joined', peerId: peer.id });
  set.add(peer);
  peer.room = msg.room;
}

/** offer / answer / ice-candidate: the sender's object, `target` removed, `from` added. */
function relay(peer, msg) {
  if (typeof msg.target !== 'string') return error(peer, 'missing_field', "'target' must be a string", { field: 'target' });
  if (!peer.room) return error(peer, 'not_in_room', `${msg.type} outside a room`);
  const to = peers.get(msg.target);
  if (!to || to === peer || to.room !== peer.room) return error(peer, 'unknown_target', `no peer '${msg.target}' in your room`);
  const { target, ...rest } = msg;
  rest.from = peer.id;
  send(to, rest);
}

function onMessage(peer, data, isBinary) {
  let msg;
  try {
    msg = JSON.parse(isBinary ? data.toString('utf8') : data);
  } catch {
    return error(peer, 'bad_json', 'message is not JSON');
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return error(peer, 'bad_json', 'message is not a JSON object');
  if (typeof msg.type !== 'string') return error(peer, 'missing_field', "'type' must be a string", { field: 'type' });
  if (RELAYED.has(msg.type)) return relay(peer, msg);
  if (msg.type === 'join') return join(peer, msg);
  if (msg.type === 'leave') {
    if (!peer.room) return error(peer, 'not_in_room', 'leave outside a room');
    return leaveRoom(peer);
  }
  return error(peer, 'unknown_type', `unknown message type '${msg.type}'`);
}

const server = https.createServer({ cert: readFileSync(opt.cert), key: readFileSync(opt.key) }, (req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', connections: peers.size }));
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});
const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 65536 });

wss.on('connection', (ws) => {
  const peer = { id: randomBytes(8).toString('hex'), ws, room: null, alive: true };
  ws.peer = peer;
  peers.set(peer.id, peer);
  ws.on('pong', () => { peer.alive = true; });
  ws.on('message', (data, isBinary) => onMessage(peer, data, isBinary));
  ws.on('close', () => {
    peers.delete(peer.id);
    leaveRoom(peer);
  });
  ws.on('error', () => {});
  send(peer, { type: 'welcome', id: peer.id, token: randomBytes(32).toString('hex'), iceServers: [], version: '0.1.0' });
});

// Heartbeat as in 004: ping everyone; whoever did not answer the last one is gone.
const heartbeat = setInterval(() => {
  for (const ws of wss.clients) {
    if (!ws.peer.alive) { ws.terminate(); continue; }
    ws.peer.alive = false;
    ws.ping();
  }
}, Number(opt['ping-interval']) * 1000);

server.listen(Number(opt.port), opt.bind, () => {
  console.error(`level=info msg=listening port=${server.address().port} pid=${process.pid}`);
});

function shutdown() {
  clearInterval(heartbeat);
  for (const ws of wss.clients) ws.close(1001, 'server shutting down');
  server.close();
  setTimeout(() => process.exit(0), 200).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
