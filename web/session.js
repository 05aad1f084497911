// One call on the call screen, however it was reached: a named room, a PIN
// or an accepted lobby call. A Session owns the local media, the Call (the
// peer connections) and the call screen while it lasts, and turns the room
// messages of docs/protocol.md into Call operations.

import { Call } from './call.js';
import * as view from './call-view.js';
import * as chat from './chat.js';
import { showView } from './ui.js';
import { initials } from './lobby-view.js';

const STATS_MS = 2000;

const KIND_TITLE = {
  room: (s) => (s.room === 'default' ? 'Call' : `Room ${s.room}`),
  pin: () => 'PIN call',
  lobby: (s) => `Call with ${s.withName}`,
};

export class Session {
  /**
   * kind: 'room' | 'pin' | 'lobby'; room / pin / callId / withName as fits;
   * media: LocalMedia; signal: Signal; selfId and iceServers from the
   * welcome; onEnd(session, reason, detail): called once when it is over.
   */
  constructor({ kind, room = null, pin = null, callId = null, withName = null, media, signal, selfId, iceServers, onEnd }) {
    Object.assign(this, { kind, room, pin, callId, withName, media, signal, onEnd });
    this.phase = 'joining'; // 'joining' → 'waiting' (PIN, alone) → 'in'
    this.ended = false;
    this.#newCall(selfId, iceServers);
    this.statsTimer = setInterval(() => this.#refreshStats(), STATS_MS);
  }

  get title() {
    return KIND_TITLE[this.kind](this);
  }

  /** Shows the call screen. */
  open() {
    chat.resetChat();
    view.openCallView({ title: this.title, media: this.media, hangupLabel: this.kind === 'lobby' ? 'Hang up' : 'Leave' });
    view.setWaiting(this.kind === 'lobby' ? `Connecting to ${this.withName}…` : 'Joining…');
    showView('call');
  }

  /** Sends the message that puts us in the room (room and PIN sessions). */
  sendJoin() {
    if (this.kind === 'room') return this.signal.send({ type: 'join', room: this.room });
    if (this.kind === 'pin') return this.signal.send({ type: 'join-pin', pin: this.pin });
    return true;
  }

  /** Handles one server message meant for the call; returns true if it was. */
  handle(msg) {
    const call = this.call;
    switch (msg.type) {
      case 'joined':
        this.phase = 'in';
        if (typeof msg.peerId === 'string' && msg.peerId !== call.selfId) call.selfId = msg.peerId;
        for (const id of Array.isArray(msg.peers) ? msg.peers : []) call.addPeer(id, { initiator: true });
        this.#updateWaiting();
        return true;
      case 'pin-waiting':
        this.phase = 'waiting';
        this.#updateWaiting();
        return true;
      case 'peer-joined':
        this.phase = 'in';
        call.addPeer(msg.peerId, { initiator: false });
        this.#updateWaiting();
        return true;
      case 'peer-left':
        call.removePeer(msg.peerId);
        this.#updateWaiting(true);
        return true;
      case 'peer-reconnecting':
      case 'peer-resumed':
        call.setAway(msg.peerId, msg.type === 'peer-reconnecting');
        return true;
      case 'offer':
      case 'answer':
      case 'ice-candidate':
        call.handleSignal(msg);
        return true;
      case 'chat':
        chat.addMessage({ who: msg.name || this.label(msg.from), text: String(msg.text ?? '') });
        return true;
      default:
        return false;
    }
  }

  /**
   * After a reconnect. resumed: the server kept our identity, so the peer
   * connections (which never depended on the socket) carry on and the peer
   * list is reconciled; otherwise the old identity is gone: start over with
   * the new id and join again (a lobby call cannot be rejoined, it ends).
   */
  onWelcome(msg) {
    if (msg.resumed === true) {
      // Peers that came or went while we were away are in the list, not in
      // messages we received.
      const peers = Array.isArray(msg.peers) ? msg.peers : null;
      if (peers && (this.phase !== 'joining' || peers.length > 0)) {
        this.call.syncPeers(peers);
        if (peers.length > 0) this.phase = 'in';
      }
      this.#updateWaiting();
      return;
    }
    if (this.kind === 'lobby') {
      this.end('lost');
      return;
    }
    this.call.close();
    this.#newCall(msg.id, msg.iceServers);
    this.phase = 'joining';
    view.setWaiting('Joining again…');
    this.sendJoin();
  }

  /** Hang up: tell the server, then tear down. */
  hangup() {
    if (this.ended) return;
    this.signal.send(this.kind === 'lobby' ? { type: 'hangup' } : { type: 'leave' });
    this.end('local');
  }

  /**
   * Tears everything down (camera off, connections closed) and reports why;
   * detail is the server message behind it, if any.
   */
  end(reason, detail = {}) {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.statsTimer);
    this.call.close();
    this.media.stop();
    view.closeCallView();
    chat.resetChat();
    this.onEnd(this, reason, detail);
  }

  toggleMute() {
    this.media.setMuted(!this.media.muted);
    view.setControls(this.media);
  }

  toggleCamera() {
    if (this.media.audioOnly) return;
    this.media.setCameraOff(!this.media.cameraOff);
    view.setControls(this.media);
  }

  sendChat(text) {
    return this.signal.send({ type: 'chat', text });
  }

  /** The name shown for a peer id. */
  label(id) {
    if (this.kind === 'lobby' && this.withName) return this.withName;
    return `Guest ${String(id).slice(0, 4)}`;
  }

  /** One or two letters for a peer's tile when there is no video. */
  avatar(id) {
    if (this.kind === 'lobby' && this.withName) return initials(this.withName);
    return String(id).slice(0, 2).toUpperCase();
  }

  /** Numbers for tincanDebug and tests. */
  stats() {
    return this.call.stats();
  }

  #newCall(selfId, iceServers) {
    this.call = new Call({
      selfId,
      media: this.media,
      iceServers,
      send: (msg, opts) => this.signal.send(msg, opts),
    });
    this.call.addEventListener('peer-added', ({ detail: { peer } }) => {
      view.addTile({ id: peer.id, label: this.label(peer.id), avatar: this.avatar(peer.id) });
      view.updateTile(peer);
    });
    this.call.addEventListener('peer-changed', ({ detail: { peer } }) => {
      view.updateTile(peer);
      // Show direct/relayed as soon as a path is chosen, not at the next tick.
      if (peer.state === 'connected') setTimeout(() => this.#refreshStats(), 300);
    });
    this.call.addEventListener('peer-removed', ({ detail: { peer } }) => view.removeTile(peer.id));
  }

  #updateWaiting(someoneLeft = false) {
    if (this.call.peers.size > 0) {
      view.setWaiting(null);
      return;
    }
    if (this.phase === 'joining') return;
    if (this.kind === 'pin') {
      view.setWaiting(someoneLeft ? 'The other person left. Waiting for someone with the PIN…'
        : 'Waiting for the other person to enter the PIN…');
    } else if (this.kind === 'lobby') {
      view.setWaiting(`Waiting for ${this.withName}…`);
    } else {
      view.setWaiting(someoneLeft ? 'Everyone else left. Waiting for others to join…'
        : 'Waiting for others to join…');
    }
  }

  async #refreshStats() {
    if (this.ended || document.hidden) return;
    const stats = await this.call.stats();
    for (const [id, s] of Object.entries(stats)) view.setTileNet(id, s);
  }
}
