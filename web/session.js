// One call on the call screen, however it was reached: a named room, a PIN
// or an accepted lobby call. A Session owns the local media, the Call (the
// peer connections) and the call screen while it lasts, and turns the room
// messages of docs/protocol.md into Call operations.

import { Call } from './call.js';
import { SfuCall } from './sfu-call.js';
import { screenAudioId, screenTrackId } from './sfu-screen.js';
import * as view from './call-view.js';
import * as chat from './chat.js';
import { showView } from './ui.js';
import { initials } from './lobby-view.js';
import { SpeakerWatch } from './speaker.js';
import { roomLink, shareLink } from './invite.js';
import { showE2ee, showUnencryptedWarning } from './e2ee-view.js';
import { decorateTile, labelTile, showSetting } from './volume.js';
import { captureScreen, askShare, canShare as canShareScreen } from './screenshare.js';
import { teamLink } from './teamrooms.js';

const STATS_MS = 2000;

const KIND_TITLE = {
  room: (s) => (s.team ? s.team.name : s.room === 'default' ? 'Call' : `Room ${s.room}`),
  pin: () => 'PIN call',
  lobby: (s) => `Call with ${s.withName}`,
};

export class Session {
  /**
   * kind: 'room' | 'pin' | 'lobby'; room / pin / callId / withName as fits;
   * media: LocalMedia, or null to listen only; name: the name others see
   * ('' for none; a lobby call shows the lobby name); signal: Signal;
   * selfId and iceServers from the welcome; onEnd(session, reason,
   * detail): called once when it is over; e2ee: the room's E2ee (e2ee.js)
   * for an end-to-end encrypted call, else null.
   */
  constructor({ kind, room = null, pin = null, callId = null, withName = null, media, name = '', myLobbyName = null,
    signal, selfId, iceServers, onEnd, sfu = false, e2ee = null, team = null, password = '', mixer = null,
    iceTransportPolicy = 'all' }) {
    Object.assign(this, { kind, room, pin, callId, withName, media, name, myLobbyName, signal, onEnd, e2ee });
    if (e2ee) e2ee.bind({ send: (msg) => signal.send(msg, { queue: true }), label: (id) => this.label(id) });
    this.sfu = sfu; // ask for an SFU room (/r/<name>?sfu)
    this.mode = 'mesh'; // 'mesh' | 'sfu': how the room carries media (the server says)
    this.iceServers = iceServers;
    this.iceTransportPolicy = iceTransportPolicy; // 'relay' with ?relay: TURN only
    // A team room ({id, name}, docs/rooms.md): joined with the session
    // cookie and the room's password; everyone shows with an account name.
    this.team = team;
    this.password = password;
    this.mixer = mixer; // volume.js: per-person gain
    this.share = null; // our screen share {stream, quality} while it runs
    // In a team room our own speaking goes to presence (state.speaking).
    this.speaking = false;
    this.selfSpeak = team ? new SpeakerWatch((id) => {
      this.speaking = id === 'self';
      this.sendState();
    }) : null;
    this.watchSelf();
    this.phase = 'joining'; // 'joining' → 'waiting' (PIN, alone) → 'in'
    this.ended = false;
    /** @type {Map<string, {name: string|null, muted: boolean, camera: boolean}>} what each peer told us */
    this.looks = new Map();
    // In an SFU room the server names the active speaker (active-speaker);
    // the browser's own measurement is used until it does, and in a mesh.
    this.serverSpeaker = false;
    this.speakers = new SpeakerWatch((id) => {
      if (!(this.mode === 'sfu' && this.serverSpeaker)) view.setSpeaking(id);
    });
    this.#newCall(selfId, iceServers);
    this.statsTimer = setInterval(() => this.#refreshStats(), STATS_MS);
  }

  get title() {
    return KIND_TITLE[this.kind](this);
  }

  /** Shows the call screen. */
  open() {
    chat.resetChat();
    view.openCallView({
      title: this.title, media: this.media, hangupLabel: this.kind === 'lobby' ? 'Hang up' : 'Leave',
      you: this.youLabel(), invite: this.kind === 'room', canShare: canShareScreen() && !!this.media,
    });
    view.setWaiting(this.kind === 'lobby' ? `Connecting to ${this.withName}…` : 'Joining…');
    showE2ee(this.e2ee);
    showView('call');
  }

  /** Sends the message that puts us in the room (room and PIN sessions). */
  sendJoin() {
    this.sendState();
    if (this.kind === 'room' && this.team) {
      const msg = { type: 'join', room: this.team.id, team: true };
      if (this.password) msg.password = this.password;
      if (this.sfu) msg.sfu = true;
      return this.signal.send(msg);
    }
    if (this.kind === 'room') return this.signal.send({ type: 'join', room: this.room, ...(this.sfu ? { sfu: true } : {}) });
    if (this.kind === 'pin') return this.signal.send({ type: 'join-pin', pin: this.pin });
    return true;
  }

  /** Handles one server message meant for the call; returns true if it was. */
  handle(msg) {
    const call = this.call;
    if (this.e2ee) this.e2ee.observe(msg, call.selfId);
    else if (msg.type === 'e2ee-key') showUnencryptedWarning();
    switch (msg.type) {
      case 'e2ee-key':
        return true;
      case 'joined':
        this.phase = 'in';
        if (msg.sfu === true) this.setMode('sfu');
        if (typeof msg.peerId === 'string' && msg.peerId !== call.selfId) call.selfId = msg.peerId;
        view.setYou(this.youLabel());
        for (const id of Array.isArray(msg.peers) ? msg.peers : []) this.call.addPeer(id, { initiator: true });
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
        if (msg.reason === 'lost') call.lose(msg.peerId);
        else call.removePeer(msg.peerId);
        this.looks.delete(msg.peerId);
        this.#updateWaiting(true);
        return true;
      case 'peer-state':
        this.#onPeerState(msg);
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
      case 'room-mode':
        this.setMode(msg.mode === 'sfu' ? 'sfu' : 'mesh');
        return true;
      case 'sfu-offer':
      case 'sfu-answer':
      case 'sfu-reset':
      case 'sfu-closed':
      case 'sfu-estimate':
        if (this.mode === 'sfu') call.handleSignal(msg);
        return true;
      case 'active-speaker':
        if (this.mode === 'sfu' && typeof msg.peer === 'string') {
          this.serverSpeaker = true;
          view.setSpeaking(msg.peer);
        }
        return true;
      case 'chat':
        chat.addMessage({ who: typeof msg.name === 'string' ? msg.name : this.label(msg.from), text: String(msg.text ?? '') });
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
    if (this.e2ee) this.e2ee.observe(msg, msg.id);
    if (msg.resumed === true) {
      if (msg.mode === 'sfu' || this.mode === 'sfu') {
        // The room may have moved while we were away; offers sent meanwhile are lost.
        this.setMode('sfu');
        this.call.reset();
      }
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
    this.looks.clear();
    this.mode = 'mesh';
    view.setMode('mesh');
    this.iceServers = msg.iceServers;
    this.#newCall(msg.id, msg.iceServers);
    if (this.share) this.call.setScreen(this.share.stream, this.share.prefs);
    this.phase = 'joining';
    view.setYou(this.youLabel());
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
    this.speakers.stop();
    if (this.selfSpeak) this.selfSpeak.stop();
    this.#stopShare(false);
    if (this.mixer) this.mixer.clear();
    this.call.close();
    if (this.e2ee) this.e2ee.close();
    showE2ee(null);
    if (this.media) this.media.stop();
    view.closeCallView();
    chat.resetChat();
    this.onEnd(this, reason, detail);
  }

  toggleMute() {
    if (!this.media) return;
    this.media.setMuted(!this.media.muted);
    view.setControls(this.media);
    this.sendState();
  }

  toggleCamera() {
    if (!this.media || this.media.audioOnly) return;
    this.media.setCameraOff(!this.media.cameraOff);
    view.setControls(this.media);
    this.sendState();
  }

  /** A short notice on the call screen. */
  notice(text) {
    view.callNotice(text);
  }

  /** Tells the room our name, mute and camera state (docs/protocol.md, "Names, mute and camera"). */
  sendState() {
    const m = this.media;
    const msg = { type: 'state', muted: !m || m.muted, camera: !!m && !m.audioOnly && !m.cameraOff };
    if (this.kind !== 'lobby') msg.name = this.name || null;
    // A mesh call tells the share's stream id; through the SFU only track ids survive (sfu-screen.js).
    msg.screen = !this.share ? null : this.mode === 'sfu' ? screenTrackId(this.share.stream) : this.share.stream.id;
    if (this.mode === 'sfu') msg.screenAudio = this.share ? screenAudioId(this.share.stream) : null;
    if (this.selfSpeak) msg.speaking = this.speaking && !!m && !m.muted;
    return this.signal.send(msg, { queue: true });
  }

  /** Follows our microphone's level (again after a device switch). */
  watchSelf() {
    if (!this.selfSpeak || !this.media) return;
    this.selfSpeak.forget('self');
    this.selfSpeak.watch('self', new MediaStream(this.media.stream.getAudioTracks()));
  }

  /** Starts sharing the screen (asking quality first), or stops it. */
  async toggleShare() {
    if (this.share) {
      this.#stopShare(true);
      return;
    }
    const choice = await askShare();
    if (!choice || this.ended) return;
    let got;
    try {
      got = await captureScreen(choice.quality, choice.audio);
    } catch (err) {
      view.callNotice(`The screen could not be shared (${err.message || err.name}).`);
      return;
    }
    if (!got) return;
    if (this.ended) {
      for (const t of got.stream.getTracks()) t.stop();
      return;
    }
    this.share = got;
    // The browser's own "Stop sharing" ends the track.
    got.stream.getVideoTracks()[0].addEventListener('ended', () => this.#stopShare(true));
    this.sendState(); // the room learns the stream id before the tracks arrive
    this.call.setScreen(got.stream, got.prefs);
    view.setScreenTile('self', got.stream, 'You');
    view.setSharing(true);
  }

  #stopShare(tell) {
    if (!this.share) return;
    const { stream } = this.share;
    this.share = null;
    for (const t of stream.getTracks()) t.stop();
    this.call.setScreen(null);
    view.setScreenTile('self', null);
    view.setSharing(false);
    if (tell) this.sendState();
  }

  /** The link of this call's room (a team room's, or /r/<name>). */
  link() {
    // An encrypted room's link carries its key (in the fragment, which never reaches the server).
    return this.team ? teamLink(this.team.id) : roomLink(this.room) + (this.e2ee ? this.e2ee.fragment : '');
  }

  /** Copies or shares the link of the room. */
  async invite() {
    if (this.kind !== 'room') return;
    const how = await shareLink(this.link(), this.title);
    const text = how === 'copied' ? 'Link copied. Send it to the people you want to call.'
      : how === 'shared' ? 'Link shared.'
        : how === 'cancelled' ? '' : `Copy this link: ${this.link()}`;
    view.inviteNote(text);
  }

  /** How others see us: our name, or the guest label they make from our id. */
  youLabel() {
    if (this.kind === 'lobby' && this.myLobbyName) return this.myLobbyName;
    if (this.name) return this.name;
    return this.call && this.call.selfId ? `Guest ${String(this.call.selfId).slice(0, 4)}` : 'Guest';
  }

  sendChat(text) {
    return this.signal.send({ type: 'chat', text });
  }

  /** The name shown for a peer id. */
  label(id) {
    const look = this.looks.get(id);
    if (look && look.name) return look.name;
    if (this.kind === 'lobby' && this.withName) return this.withName;
    return `Guest ${String(id).slice(0, 4)}`;
  }

  /** One or two letters for a peer's tile when there is no video. */
  avatar(id) {
    const look = this.looks.get(id);
    if (look && look.name) return initials(look.name);
    if (this.kind === 'lobby' && this.withName) return initials(this.withName);
    return String(id).slice(0, 2).toUpperCase();
  }

  #look(id) {
    const l = this.looks.get(id) || {};
    return { label: this.label(id), avatar: this.avatar(id), muted: l.muted, camera: l.camera };
  }

  #onPeerState(msg) {
    if (typeof msg.peerId !== 'string') return;
    const name = typeof msg.name === 'string' ? msg.name : null;
    this.looks.set(msg.peerId, { name, muted: msg.muted === true, camera: msg.camera !== false });
    if ('screen' in msg) {
      this.call.setScreenId(msg.peerId, typeof msg.screen === 'string' ? msg.screen : null,
        typeof msg.screenAudio === 'string' ? msg.screenAudio : null);
    }
    // Someone whose old connection was lost came back as somebody new:
    // the old tile (kept while its media flowed) goes.
    if (name) {
      for (const p of [...this.call.peers.values()]) {
        if (p.lost && p.id !== msg.peerId && this.looks.get(p.id)?.name === name) this.call.removePeer(p.id);
      }
    }
    const peer = this.call.peers.get(msg.peerId);
    if (peer) this.#showPeer(peer);
  }

  /** Updates a peer's tile, its screen tile and its sound from what we know. */
  #showPeer(peer) {
    const look = this.#look(peer.id);
    view.updateTile(peer, look);
    view.setScreenTile(peer.id, peer.screen, look.label);
    if (!this.mixer) return;
    this.mixer.attach(peer.id, peer.stream, this.looks.get(peer.id)?.name || null);
    const fig = view.tileElement(peer.id);
    const setting = this.mixer.setting(peer.id);
    if (fig) labelTile(fig, look.label);
    if (fig && setting) showSetting(fig, setting);
  }

  /** A volume control moved: {volume} or {mutedForMe}. */
  #onVolume(id, change) {
    if (!this.mixer) return;
    if ('volume' in change) this.mixer.setVolume(id, change.volume);
    if ('mutedForMe' in change) this.mixer.setMutedForMe(id, change.mutedForMe);
    const fig = view.tileElement(id);
    const setting = this.mixer.setting(id);
    if (fig && setting) showSetting(fig, setting);
  }

  /** Numbers for tincanDebug and tests. */
  stats() {
    return this.call.stats();
  }

  /**
   * The room carries media this way now ('sfu' after joined with sfu:true,
   * room-mode or a resumed welcome): the peer connections of the old way
   * close, the tiles stay for the same people, media comes the new way.
   */
  setMode(mode) {
    if (mode === this.mode) return;
    const ids = [...this.call.peers.keys()];
    const selfId = this.call.selfId;
    this.call.close();
    this.mode = mode;
    view.setMode(mode);
    this.#newCall(selfId, this.iceServers);
    for (const id of ids) this.call.addPeer(id, { initiator: true });
    if (this.share) {
      this.call.setScreen(this.share.stream, this.share.prefs);
      this.sendState(); // the share's id differs between mesh and SFU
    }
    if (this.phase === 'in' && ids.length > 0) this.notice('More people joined: the call now goes through the server.');
  }

  #newCall(selfId, iceServers) {
    const Kind = this.mode === 'sfu' ? SfuCall : Call;
    this.call = new Kind({
      selfId,
      media: this.media,
      iceServers,
      iceTransportPolicy: this.iceTransportPolicy,
      send: (msg, opts) => this.signal.send(msg, opts),
      transform: this.e2ee,
    });
    this.call.addEventListener('peer-added', ({ detail: { peer } }) => {
      view.addTile({ id: peer.id, label: this.label(peer.id), avatar: this.avatar(peer.id) });
      const fig = view.tileElement(peer.id);
      if (this.mixer && fig) decorateTile(fig, peer.id, this.label(peer.id), (id, ch) => this.#onVolume(id, ch));
      this.#showPeer(peer);
    });
    this.call.addEventListener('peer-changed', ({ detail: { peer } }) => {
      this.#showPeer(peer);
      this.speakers.watch(peer.id, peer.stream);
      // Show direct/relayed as soon as a path is chosen, not at the next tick.
      if (peer.state === 'connected') setTimeout(() => this.#refreshStats(), 300);
    });
    this.call.addEventListener('peer-removed', ({ detail: { peer } }) => {
      this.speakers.forget(peer.id);
      if (this.mixer) this.mixer.forget(peer.id);
      view.setScreenTile(peer.id, null);
      view.removeTile(peer.id);
      this.#updateWaiting(true);
    });
    if (this.mode === 'sfu') this.call.start();
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
