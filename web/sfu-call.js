// The media side of a call in an SFU room (docs/protocol.md, "SFU rooms"):
// two RTCPeerConnections to tincan itself instead of one per remote peer.
//
//   publisher   we add our camera and microphone (sendonly) and offer
//               (sfu-publish); tincan answers (sfu-answer).
//   subscriber  tincan offers every other member's tracks (sfu-offer), again
//               whenever tracks come or go; we answer (sfu-subscribe-answer).
//
// Each forwarded track carries a=msid:<publisher's peerId> <track id>, so the
// stream id of a received track names the peer whose tile it belongs to.
// tincan is ICE-lite and needs none of our candidates: nothing trickles.
// tincan's own address is the candidate that matters, so the connections
// start without ICE servers (with tincan's TURN servers Chromium often
// settles on a relay pair though the direct one works). A network that lets
// only TCP 443 through reaches tincan through its TURN relay (turns:),
// which hands the traffic to the SFU in process: after a fresh start for a
// transport that failed, and from the start with ?relay (relay only), the
// connections get the welcome's ICE servers, as a mesh call does.
//
// Reconnecting: a transport that fails (or stays disconnected), and any
// resumed signaling connection (offers sent while we were away are lost),
// lead to a fresh start of the media side: both connections are closed,
// {"type":"sfu-reset"} goes to tincan, and new ones are made when tincan
// echoes it (what came before the echo was for the old ones); the room
// hears nothing of it. Each fresh start has a number (epoch) that goes
// with sfu-reset; tincan's sfu-offer, sfu-answer and sfu-closed carry the
// epoch of the transports they are for, and those of another are dropped,
// whenever they arrive. A
// short network cut needs none of this: ICE carries on by itself.
//
// Simulcast: the camera goes out as three encodings (rids q, h, f at 1/4,
// 1/2 and full resolution); tincan forwards each of us one of them per
// remote member, the smallest that fits the tile we show it in, which
// ViewReporter (sfu-view.js) tells it, and none for tiles nobody sees.
//
// SfuCall has the interface of Call (call.js) that Session uses: peers,
// addPeer, removePeer, handleSignal, setAway, lose, syncPeers, stats, close,
// and the events 'peer-added', 'peer-removed', 'peer-changed'; setScreen and
// the sorting of received tracks into camera and screen are sfu-screen.js's.

import { addScreen, dropScreen, msidTrackOf, sameTracks, sortTracks } from './sfu-screen.js';

import { ViewReporter } from './sfu-view.js';

// A transport that stays 'disconnected' this long is started afresh (a busy
// machine may miss consent checks for a while: that needs no reset).
const DISCONNECTED_RESET_MS = 30000;
// Fresh starts in a row without a connection in between, at most.
const MAX_RESETS = 5;
// The camera's simulcast encodings, lowest first (docs/sfu.md, "Simulcast").
const SIMULCAST = [
  { rid: 'q', scaleResolutionDownBy: 4 },
  { rid: 'h', scaleResolutionDownBy: 2 },
  { rid: 'f', scaleResolutionDownBy: 1 },
];

export class SfuCall extends EventTarget {
  /** @type {Map<string, SfuPeer>} */
  peers = new Map();
  pub = null;
  sub = null;
  closed = false;
  resets = 0;
  #subChain = Promise.resolve();
  #disconnectTimer = null;
  #generation = 0;
  #waitReset = false;
  screen = null; // our screen share (a MediaStream) while it runs
  screenPrefs = null;
  #screenTx = []; // its transceivers on the publisher connection
  #republish = false; // the share changed while an offer was out
  #offering = false;
  #epoch = 0; // of our transports, as sfu-reset told tincan (0 from the join)

  /**
   * selfId: our peer id; media: LocalMedia or null (receive only);
   * send(msg, opts): sends one signaling message; iceServers: from the
   * welcome (tincan's TURN), for networks where UDP does not get through;
   * iceTransportPolicy: 'all', or 'relay' to use TURN only.
   */
  constructor({ selfId, media, send, transform = null, iceServers = [], iceTransportPolicy = 'all' }) {
    super();
    this.iceServers = Array.isArray(iceServers) ? iceServers : [];
    this.relayOnly = iceTransportPolicy === 'relay';
    this.withTurn = this.relayOnly; // the TURN servers too (after a failure, or relay only)
    this.selfId = selfId;
    this.media = media;
    this.send = send;
    // null, or the room's E2ee (e2ee.js): every sender and receiver gets its
    // transform before media flows, so an encrypted room stays encrypted
    // when it moves to the SFU (the codec header bytes stay in clear).
    this.transform = transform;
    this.views = new ViewReporter((msg) => this.send(msg, { queue: true }));
  }

  /** The <video> element of peer id's tile, if the page shows one. */
  static tileVideo(id) {
    if (typeof document === 'undefined') return null;
    for (const fig of document.querySelectorAll('figure.tile')) {
      if (fig.dataset.peerId === id) return fig.querySelector('video');
    }
    return null;
  }

  /** Opens both transports and publishes our tracks. */
  start() {
    if (this.closed) return;
    const gen = ++this.#generation;
    this.#republish = false;
    this.#offering = false;
    this.pub = this.#transport('publisher', gen);
    this.sub = this.#transport('subscriber', gen);
    this.sub.addEventListener('track', (ev) => this.#onTrack(ev));
    this.#publish(gen).catch((err) => this.#warn('publish', err));
  }

  /**
   * Which of a member's tracks are its screen share (peer-state `screen`
   * and `screenAudio`: in an SFU room the track ids of the share's video
   * and sound, see sfu-screen.js).
   */
  setScreenId(id, streamId, audioId = null) {
    const peer = this.peers.get(id);
    if (!peer) return;
    peer.screenId = streamId;
    peer.screenAudioId = streamId ? audioId : null;
    peer.regroup();
  }

  /** Starts (stream) or stops (null) publishing our screen share (sfu-screen.js). */
  setScreen(stream, prefs = null) {
    this.screen = stream;
    this.screenPrefs = prefs;
    if (!this.pub || this.closed || this.#waitReset) return;
    if (this.#offering || this.pub.signalingState !== 'stable') {
      this.#republish = true; // after the answer to the offer that is out
      return;
    }
    dropScreen(this.#screenTx);
    this.#screenTx = addScreen(this.pub, stream, prefs, this.transform);
    this.#offerPub(this.#generation).catch((err) => this.#warn('publish', err));
  }

  /**
   * Closes both transports and asks tincan for new ones; starts again when
   * tincan echoes sfu-reset (what it sent before the echo was for the old
   * transports and is dropped).
   */
  reset() {
    if (this.closed) return;
    this.#closeTransports();
    for (const peer of this.peers.values()) {
      peer.received = [];
      peer.regroup(true);
    }
    this.#waitReset = true;
    this.#epoch++;
    this.send({ type: 'sfu-reset', epoch: this.#epoch }, { queue: true });
  }

  #transport(role, gen) {
    // The default bundle policy: an offer whose m-sections are all rejected has no BUNDLE group.
    const pc = new RTCPeerConnection(this.withTurn
      ? { iceServers: this.iceServers, iceTransportPolicy: this.relayOnly ? 'relay' : 'all' } : {});
    pc.addEventListener('connectionstatechange', () => {
      if (gen === this.#generation) this.#onState(role, pc);
    });
    return pc;
  }

  async #publish(gen) {
    const media = this.media;
    const tracks = media ? media.stream.getTracks().filter((t) => t.readyState === 'live') : [];
    for (const track of tracks) {
      const init = { direction: 'sendonly', streams: [media.stream] };
      if (track.kind === 'video') init.sendEncodings = SIMULCAST.map((e) => ({ ...e }));
      const t = this.pub.addTransceiver(track, init);
      if (this.transform) this.transform.attach(t.sender, track.kind);
    }
    this.#screenTx = addScreen(this.pub, this.screen, this.screenPrefs, this.transform);
    if (this.pub.getTransceivers().length === 0) return; // listening only: nothing to publish
    await this.#offerPub(gen);
  }

  async #offerPub(gen) {
    this.#offering = true; // stable until setLocalDescription: setScreen must wait too
    try {
      const offer = await this.pub.createOffer();
      if (gen !== this.#generation) return;
      await this.pub.setLocalDescription(offer);
      this.send({ type: 'sfu-publish', sdp: offer.sdp }, { queue: true });
    } finally {
      if (gen === this.#generation) this.#offering = false;
    }
  }

  /**
   * Handles sfu-answer, sfu-offer, the echo of sfu-reset and sfu-closed
   * (tincan ended a transport: both start anew, as after a failure).
   */
  handleSignal(msg) {
    if (this.closed) return;
    if (msg.type === 'sfu-estimate') {
      // tincan's estimate of the bandwidth it has to us, shown with the stats
      if (typeof msg.bps === 'number' && msg.bps >= 0) this.estimateBps = msg.bps;
      return;
    }
    // Meant for transports we have replaced (sent before tincan saw our
    // sfu-reset, or echoes of an earlier one): dropped.
    if ((Number.isInteger(msg.epoch) ? msg.epoch : 0) !== this.#epoch) return;
    if (msg.type === 'sfu-closed') {
      if (!this.#waitReset) this.reset();
      return;
    }
    if (msg.type === 'sfu-reset') {
      if (this.#waitReset) {
        this.#waitReset = false;
        this.start();
        this.views.resend(); // the server forgot what we reported
      }
      return;
    }
    if (this.#waitReset || typeof msg.sdp !== 'string') return;
    if (msg.type === 'sfu-answer') {
      const pc = this.pub;
      if (pc.signalingState !== 'have-local-offer') return;
      pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp }).then(() => {
        if (!this.#republish || pc !== this.pub) return;
        this.#republish = false;
        this.setScreen(this.screen, this.screenPrefs);
      }).catch((err) => this.#warn('answer', err));
    } else if (msg.type === 'sfu-offer') {
      const pc = this.sub;
      this.#subChain = this.#subChain.then(async () => {
        if (pc !== this.sub) return;
        await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        this.send({ type: 'sfu-subscribe-answer', sdp: answer.sdp }, { queue: true });
        this.#pruneEnded();
      }).catch((err) => {
        // tincan waits for an answer that will not come: start afresh.
        this.#warn('offer', err);
        if (pc === this.sub) this.reset();
      });
    }
  }

  #onTrack({ track, streams, receiver, transceiver }) {
    const id = streams && streams[0] ? streams[0].id : null;
    if (this.transform) this.transform.attach(receiver, track.kind, id || ''); // before its first frame
    if (!id || id === this.selfId) return;
    const peer = this.addPeer(id);
    if (!peer) return;
    peer.received.push({ track, tid: msidTrackOf(this.sub, transceiver && transceiver.mid) });
    const changed = () => this.changed(peer);
    track.addEventListener('unmute', changed);
    track.addEventListener('mute', changed);
    track.addEventListener('ended', () => peer.regroup());
    peer.regroup(true);
    this.views.watch(id, SfuCall.tileVideo(id)); // a tile made after the peer was added
  }

  /** Drops tracks whose m-section tincan rejected (their publisher left). */
  #pruneEnded() {
    const live = new Set(this.sub.getTransceivers()
      .filter((t) => !t.stopped && t.currentDirection !== 'inactive' && t.currentDirection !== 'stopped')
      .map((t) => t.receiver.track));
    for (const peer of this.peers.values()) {
      peer.received = peer.received.filter((r) => live.has(r.track));
      peer.regroup();
    }
  }

  #onState(role, pc) {
    const s = pc.connectionState;
    if (s === 'connected') {
      if (this.pub.connectionState !== 'disconnected' && this.sub.connectionState !== 'disconnected') {
        clearTimeout(this.#disconnectTimer);
        this.#disconnectTimer = null;
      }
      this.resets = 0;
    } else if (s === 'failed') {
      this.#resetSoon(0);
    } else if (s === 'disconnected' && !this.#disconnectTimer) {
      this.#resetSoon(DISCONNECTED_RESET_MS);
    }
    for (const peer of this.peers.values()) this.changed(peer);
  }

  #resetSoon(ms) {
    clearTimeout(this.#disconnectTimer);
    this.#disconnectTimer = setTimeout(() => {
      this.#disconnectTimer = null;
      if (this.closed || this.resets >= MAX_RESETS) return;
      const bad = (pc) => ['failed', 'disconnected'].includes(pc.connectionState);
      if (!bad(this.pub) && !bad(this.sub)) return;
      this.resets++;
      this.withTurn = true; // perhaps only TURN gets through here
      this.reset();
    }, ms);
  }

  /** The state a tile shows: that of our way to tincan. */
  get transportState() {
    if (!this.sub) return 'connecting';
    const states = [this.sub.connectionState, this.pub.connectionState];
    if (states.some((s) => s === 'failed' || s === 'disconnected')) return 'reconnecting';
    if (states.includes('connected')) return 'connected';
    return 'connecting';
  }

  /** Adds a remote member (from joined, peer-joined or its first track). */
  addPeer(id) {
    if (!id || id === this.selfId || this.closed) return null;
    let peer = this.peers.get(id);
    if (peer) return peer;
    peer = new SfuPeer(this, id);
    this.peers.set(id, peer);
    this.dispatchEvent(new CustomEvent('peer-added', { detail: { peer } }));
    this.views.watch(id, SfuCall.tileVideo(id)); // the tile is made by a peer-added listener
    return peer;
  }

  removePeer(id) {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    this.views.unwatch(id);
    peer.closed = true;
    this.dispatchEvent(new CustomEvent('peer-removed', { detail: { peer } }));
  }

  setAway(id, away) {
    const peer = this.peers.get(id);
    if (!peer) return;
    peer.away = away;
    this.changed(peer);
  }

  /** Gone for good: tincan stops forwarding its media, so the tile goes. */
  lose(id) {
    this.removePeer(id);
  }

  /** Brings the member set in line with a list from the server. */
  syncPeers(ids) {
    const keep = new Set(ids);
    for (const id of [...this.peers.keys()]) if (!keep.has(id)) this.removePeer(id);
    for (const id of ids) {
      const peer = this.addPeer(id);
      if (peer && peer.away) this.setAway(id, false);
    }
  }

  /**
   * Per-peer numbers from the subscriber's getStats(), like Call.stats():
   * {connectionState, framesDecoded, bytesReceived, videoBytesReceived,
   * candidateType, remoteCandidateType, path: 'sfu', rttMs, frameHeight,
   * estimateBps}
   * (frameHeight: of the video we receive now, which follows the simulcast
   * layer; estimateBps: the server's estimate of its bandwidth to us,
   * sfu-estimate, or null); for a member who shares, also
   * screenFramesDecoded, screenCodec ('video/AV1', ...) and, when the share
   * has sound, screenAudioBytes.
   */
  async stats() {
    const out = {};
    const byTrack = new Map();
    for (const peer of this.peers.values()) {
      out[peer.id] = {
        connectionState: this.sub ? this.sub.connectionState : 'new', framesDecoded: 0, bytesReceived: 0, videoBytesReceived: 0,
        candidateType: null, remoteCandidateType: null, path: 'sfu', rttMs: null, frameHeight: 0,
        estimateBps: typeof this.estimateBps === 'number' ? this.estimateBps : null,
      };
      for (const t of peer.stream.getTracks()) byTrack.set(t.id, out[peer.id]);
      for (const t of peer.screen ? peer.screen.getTracks() : []) byTrack.set(t.id, { screen: out[peer.id] });
    }
    if (!this.sub || this.closed) return out;
    const report = await this.sub.getStats();
    let pair = null;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && byTrack.has(s.trackIdentifier)) {
        const o = byTrack.get(s.trackIdentifier);
        if (o.screen) {
          screenStats(o.screen, s, report);
          return;
        }
        o.bytesReceived += s.bytesReceived || 0;
        if (s.kind === 'video') o.framesDecoded += s.framesDecoded || 0;
        if (s.kind === 'video') o.videoBytesReceived += s.bytesReceived || 0;
        if (s.kind === 'video' && s.frameHeight) o.frameHeight = s.frameHeight;
      } else if (s.type === 'transport' && s.selectedCandidatePairId) {
        pair = report.get(s.selectedCandidatePairId) || pair;
      }
    });
    if (pair) {
      const local = report.get(pair.localCandidateId);
      const remote = report.get(pair.remoteCandidateId);
      for (const o of Object.values(out)) {
        o.candidateType = local ? local.candidateType : null;
        o.remoteCandidateType = remote ? remote.candidateType : null;
        if (typeof pair.currentRoundTripTime === 'number') o.rttMs = Math.round(pair.currentRoundTripTime * 1000);
      }
    }
    return out;
  }

  /**
   * The simulcast encodings we send: [{rid, frameHeight, framesEncoded,
   * active}] from the publisher's getStats() outbound-rtp (Chromium sends
   * fewer layers than asked for from a small camera).
   */
  async sendLayers() {
    if (!this.pub || this.closed) return [];
    const out = [];
    (await this.pub.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        out.push({ rid: s.rid || '', frameHeight: s.frameHeight || 0, framesEncoded: s.framesEncoded || 0, active: s.active !== false });
      }
    });
    return out.sort((a, b) => a.frameHeight - b.frameHeight);
  }

  #closeTransports() {
    this.#generation++;
    clearTimeout(this.#disconnectTimer);
    this.#disconnectTimer = null;
    this.#subChain = Promise.resolve();
    if (this.pub) this.pub.close();
    if (this.sub) this.sub.close();
  }

  close() {
    if (this.closed) return;
    for (const id of [...this.peers.keys()]) this.removePeer(id);
    this.closed = true;
    this.views.close();
    this.#closeTransports();
  }

  changed(peer) {
    if (!peer.closed) this.dispatchEvent(new CustomEvent('peer-changed', { detail: { peer } }));
  }

  #warn(what, err) {
    if (!this.closed) console.warn(`tincan: sfu ${what}:`, err && err.message);
  }
}

/**
 * Adds an inbound-rtp record of a member's screen share to o: the video's
 * screenFramesDecoded and screenCodec (its MIME type), the sound's
 * screenAudioBytes.
 */
function screenStats(o, s, report) {
  if (s.kind === 'audio') {
    o.screenAudioBytes = (o.screenAudioBytes || 0) + (s.bytesReceived || 0);
    return;
  }
  o.screenFramesDecoded = (o.screenFramesDecoded || 0) + (s.framesDecoded || 0);
  const codec = s.codecId ? report.get(s.codecId) : null;
  if (codec && codec.mimeType) o.screenCodec = codec.mimeType;
}

/** A remote member as its tile sees it: the tracks tincan forwards of it. */
class SfuPeer {
  away = false;
  lost = false;
  closed = false;
  polite = null;
  screenId = null;
  screenAudioId = null;
  screen = null; // its screen share's tracks (a MediaStream), or null
  received = []; // [{track, tid: msid track id}], oldest first

  constructor(call, id) {
    this.call = call;
    this.id = id;
    this.stream = new MediaStream();
  }

  /**
   * Sorts the received tracks into stream (camera, microphone) and screen;
   * new MediaStream objects only when they change, so a <video> showing
   * the old one notices. Tells the call (always, if `force`).
   */
  regroup(force = false) {
    const { camera, screen } = sortTracks(this.received, this.screenId, this.screenAudioId);
    let changed = force;
    if (!sameTracks(this.stream, camera)) {
      this.stream = new MediaStream(camera);
      changed = true;
    }
    if (!sameTracks(this.screen, screen)) {
      this.screen = screen.length ? new MediaStream(screen) : null;
      changed = true;
    }
    if (changed) this.call.changed(this);
  }

  get state() {
    if (this.closed) return 'closed';
    const s = this.call.transportState;
    if (s === 'connected') return 'connected';
    return this.away ? 'reconnecting' : s;
  }

  get signal() {
    return this.away ? 'away' : 'ok';
  }
}
