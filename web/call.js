// The media side of a call: one RTCPeerConnection per remote peer (a mesh).
//
// Negotiation follows the perfect-negotiation pattern: either side may offer
// at any time; when two offers cross, the "polite" peer rolls its own back
// and answers, the "impolite" one ignores the incoming offer. Who is polite
// is decided by comparing peer ids, so both ends agree without talking.
// The protocol says the newcomer offers first; the others only add their
// media once that offer arrives (or after a few seconds without one, in case
// it was lost), so a normal join has no collision at all.
//
// A connection whose ICE state becomes 'failed' restarts ICE (a fresh offer
// with new credentials). Signaling messages go out through the `send`
// function given to Call; they use the room protocol's offer / answer /
// ice-candidate messages with `target`.
//
// Call is an EventTarget:
//   'peer-added'    detail {peer}
//   'peer-removed'  detail {peer}
//   'peer-changed'  detail {peer}   connection state, remote stream, screen, away flag
//
// Screen shares (screenshare.js) travel as more tracks on the same
// connections, in a MediaStream of their own; the sharer names that
// stream's id in its `state` (screen), so the receiving side keeps those
// tracks out of the camera's `stream` and in `screen` instead.

// A non-initiating peer that has heard no offer after this long offers itself.
const OFFER_FALLBACK_MS = 4000;
// An offer still unanswered after this long is sent again (it may have been
// lost while one side's signaling was down), a few times at most.
const OFFER_RESEND_MS = 5000;
const OFFER_RESENDS = 3;

export class Call extends EventTarget {
  /** @type {Map<string, Peer>} */
  peers = new Map();

  /**
   * selfId: our peer id; media: LocalMedia or null (receive only);
   * iceServers: from the welcome; send(msg): sends one signaling message;
   * transform: null, or an E2ee (e2ee.js) whose attachAll(pc, peerId)
   * encrypts every sender and decrypts every receiver of a connection.
   */
  constructor({ selfId, media, iceServers = [], send, transform = null }) {
    super();
    this.transform = transform;
    this.selfId = selfId;
    this.media = media;
    this.config = { iceServers: Array.isArray(iceServers) ? iceServers : [] };
    this.send = send;
    /** @type {MediaStream|null} our screen share, sent to every peer */
    this.screen = null;
    this.screenPrefs = null; // {codecs, maxBitrate, maxFramerate} of screenshare.js
  }

  /** Starts (stream) or stops (null) sending our screen share to everyone. */
  setScreen(stream, prefs = null) {
    this.screen = stream;
    this.screenPrefs = prefs;
    for (const peer of this.peers.values()) peer.syncScreen();
  }

  /** Puts track (a new camera or microphone) in place of the old one of its kind, without renegotiating. */
  async replaceTrack(kind, track) {
    await Promise.all([...this.peers.values()].map((peer) => peer.replaceTrack(kind, track)));
  }

  /** The stream id peer `id` says carries its screen share (null: none). */
  setScreenId(id, streamId) {
    const peer = this.peers.get(id);
    if (peer) peer.setScreenId(streamId);
  }

  /** Adds a remote peer. initiator: we make the first offer (we are the newcomer). */
  addPeer(id, { initiator = false, name = null } = {}) {
    if (id === this.selfId) return null;
    let peer = this.peers.get(id);
    if (peer) return peer;
    peer = new Peer(this, id, { initiator, name });
    this.peers.set(id, peer);
    this.dispatchEvent(new CustomEvent('peer-added', { detail: { peer } }));
    peer.start();
    return peer;
  }

  removePeer(id) {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    peer.close();
    this.dispatchEvent(new CustomEvent('peer-removed', { detail: { peer } }));
  }

  /** Handles a relayed offer / answer / ice-candidate (has `from`). */
  handleSignal(msg) {
    if (typeof msg.from !== 'string') return;
    // An offer from someone we have not met yet (e.g. a message that beat
    // its peer-joined): take it as a newcomer's first offer.
    const peer = this.peers.get(msg.from) || (msg.type === 'offer' ? this.addPeer(msg.from) : null);
    if (peer) peer.handle(msg);
  }

  /** Marks a peer as away (its signaling dropped) or back. */
  setAway(id, away) {
    const peer = this.peers.get(id);
    if (!peer) return;
    peer.away = away;
    this.changed(peer);
  }

  /**
   * The server says the peer is gone for good, but not by a goodbye: its
   * connection never came back. While its media still arrives the tile
   * stays (marked lost); it goes when the media stops.
   */
  lose(id) {
    const peer = this.peers.get(id);
    if (!peer) return;
    if (peer.pc.connectionState !== 'connected') {
      this.removePeer(id);
      return;
    }
    peer.lost = true;
    peer.away = false;
    this.changed(peer);
  }

  /** Brings the peer set in line with a list from the server (after a resume). */
  syncPeers(ids) {
    const keep = new Set(ids);
    for (const id of [...this.peers.keys()]) if (!keep.has(id)) this.removePeer(id);
    for (const id of ids) {
      const peer = this.peers.get(id);
      if (!peer) this.addPeer(id, { initiator: true });
      else if (peer.away) this.setAway(id, false);
    }
  }

  /** Per-peer numbers from getStats(); see Peer.stats(). */
  async stats() {
    const out = {};
    await Promise.all([...this.peers.values()].map(async (peer) => {
      out[peer.id] = await peer.stats();
    }));
    return out;
  }

  close() {
    for (const id of [...this.peers.keys()]) this.removePeer(id);
  }

  changed(peer) {
    this.dispatchEvent(new CustomEvent('peer-changed', { detail: { peer } }));
  }
}

class Peer {
  makingOffer = false;
  ignoreOffer = false;
  settingRemoteAnswer = false;
  attached = false; // our tracks are on the connection
  away = false;
  lost = false; // gone from signaling for good; kept while media flows
  closed = false;
  restarts = 0;
  #queue = Promise.resolve();
  #fallback = null;
  #resend = null;

  constructor(call, id, { initiator, name }) {
    this.call = call;
    this.id = id;
    this.name = name;
    this.initiator = initiator;
    // Ids are hex strings of the same length; any total order both sides
    // compute alike will do.
    this.polite = call.selfId < id;
    this.stream = new MediaStream();
    /** @type {MediaStream|null} the peer's screen share, when it has one */
    this.screen = null;
    this.screenId = null;
    this.screenIds = new Set(); // every stream id it ever shared from: never the camera again
    this.received = []; // [{track, sid}] every remote track with its stream id
    this.screenSenders = [];
    this.pc = new RTCPeerConnection(call.config);
  }

  /** The remote tracks, split into the camera stream and the screen stream. */
  #regroup() {
    const live = this.received.filter(({ track }) => track.readyState === 'live');
    const cam = [];
    for (const { track, sid } of live) {
      // A stopped share's tracks stay "live" (muted) on our side until the
      // transceiver goes; they must not take the camera's place.
      if (sid && this.screenIds.has(sid)) continue;
      const i = cam.findIndex((t) => t.kind === track.kind);
      if (i >= 0) cam[i] = track; // the newest of a kind wins, as before
      else cam.push(track);
    }
    if (cam.length !== this.stream.getTracks().length || cam.some((t) => !this.stream.getTracks().includes(t))) {
      this.stream = new MediaStream(cam);
    }
    const scr = this.screenId ? live.filter(({ sid }) => sid === this.screenId).map(({ track }) => track) : [];
    const same = this.screen && scr.length === this.screen.getTracks().length
      && scr.every((t) => this.screen.getTracks().includes(t));
    if (!same) this.screen = scr.some((t) => t.kind === 'video') ? new MediaStream(scr) : null;
  }

  setScreenId(streamId) {
    this.screenId = streamId || null;
    if (this.screenId) this.screenIds.add(this.screenId);
    this.#regroup();
    this.call.changed(this);
  }

  /** Adds or removes our screen tracks on this connection (renegotiates). */
  syncScreen() {
    const stream = this.call.screen;
    if (this.closed || !this.attached) return;
    for (const sender of this.screenSenders) {
      try { this.pc.removeTrack(sender); } catch { /* closed */ }
    }
    this.screenSenders = [];
    if (!stream) return;
    const prefs = this.call.screenPrefs || {};
    for (const track of stream.getTracks()) {
      const sender = this.pc.addTrack(track, stream);
      this.screenSenders.push(sender);
      const tr = this.pc.getTransceivers().find((t) => t.sender === sender);
      if (track.kind === 'video' && tr && prefs.codecs && tr.setCodecPreferences) {
        try { tr.setCodecPreferences(prefs.codecs); } catch { /* the browser keeps its own order */ }
      }
      if (track.kind === 'video' && prefs.maxBitrate) {
        const p = sender.getParameters();
        p.encodings = p.encodings && p.encodings.length ? p.encodings : [{}];
        p.encodings[0].maxBitrate = prefs.maxBitrate;
        if (prefs.maxFramerate) p.encodings[0].maxFramerate = prefs.maxFramerate;
        sender.setParameters(p).catch(() => {});
      }
    }
  }

  async replaceTrack(kind, track) {
    const screen = new Set(this.screenSenders);
    for (const sender of this.pc.getSenders()) {
      if (screen.has(sender) || !sender.track || sender.track.kind !== kind) continue;
      await sender.replaceTrack(track);
    }
  }

  get state() {
    if (this.closed) return 'closed';
    const s = this.pc.connectionState;
    // Media that still flows wins over a signaling connection that is away.
    if (s === 'connected') return 'connected';
    if (this.away) return 'reconnecting';
    if (s === 'disconnected' || s === 'failed') return 'reconnecting';
    return 'connecting';
  }

  /** The signaling side: ok, away (reconnecting to the server) or lost (gone for good). */
  get signal() {
    return this.lost ? 'lost' : this.away ? 'away' : 'ok';
  }

  start() {
    const pc = this.pc;
    pc.addEventListener('negotiationneeded', () => this.#offer());
    pc.addEventListener('icecandidate', ({ candidate }) => {
      if (candidate) this.#send({ type: 'ice-candidate', target: this.id, candidate: candidate.toJSON() });
    });
    pc.addEventListener('track', ({ track, streams }) => {
      if (this.call.transform) this.call.transform.attachAll(pc, this.id); // before its first frame
      // A new stream object each time, so a <video> showing the old one
      // notices (reassigning srcObject) instead of relying on addtrack.
      this.received = this.received.filter((r) => r.track !== track);
      this.received.push({ track, sid: streams && streams[0] ? streams[0].id : null });
      this.#regroup();
      track.addEventListener('unmute', () => this.call.changed(this));
      track.addEventListener('mute', () => this.call.changed(this));
      track.addEventListener('ended', () => { this.#regroup(); this.call.changed(this); });
      this.call.changed(this);
    });
    pc.addEventListener('connectionstatechange', () => this.#onState());
    pc.addEventListener('iceconnectionstatechange', () => {
      if (pc.iceConnectionState === 'failed') this.#restartIce();
    });
    if (this.initiator) this.#attach();
    else this.#fallback = setTimeout(() => this.#run(() => this.#attach()), OFFER_FALLBACK_MS);
  }

  /** Queues one relayed message; messages of a peer are handled in order. */
  handle(msg) {
    this.#run(() => this.#handle(msg));
  }

  #run(fn) {
    this.#queue = this.#queue.then(() => (this.closed ? null : fn())).catch((err) => {
      if (!this.closed) console.warn(`tincan: peer ${this.id}:`, err && err.message);
    });
  }

  async #handle(msg) {
    const pc = this.pc;
    if (msg.type === 'ice-candidate') {
      if (!msg.candidate) return;
      try {
        await pc.addIceCandidate(msg.candidate);
      } catch (err) {
        // Candidates of an offer we chose to ignore are expected to fail.
        if (!this.ignoreOffer) throw err;
      }
      return;
    }
    const desc = description(msg);
    if (!desc) return;
    // An answer to an offer we no longer wait for (a duplicate of a re-sent
    // offer) changes nothing.
    if (desc.type === 'answer' && pc.signalingState !== 'have-local-offer') return;
    const readyForOffer = !this.makingOffer && (pc.signalingState === 'stable' || this.settingRemoteAnswer);
    const collision = desc.type === 'offer' && !readyForOffer;
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) return;
    this.settingRemoteAnswer = desc.type === 'answer';
    try {
      await pc.setRemoteDescription(desc); // a polite peer rolls back implicitly
    } finally {
      this.settingRemoteAnswer = false;
    }
    if (desc.type !== 'offer') return;
    this.#attach();
    await pc.setLocalDescription();
    this.#send({ type: 'answer', target: this.id, sdp: plain(pc.localDescription) });
  }

  async #offer() {
    if (this.closed) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.#send({ type: 'offer', target: this.id, sdp: plain(this.pc.localDescription) });
      this.#watchOffer(OFFER_RESENDS);
    } catch (err) {
      if (!this.closed) console.warn(`tincan: offer to ${this.id} failed:`, err && err.message);
    } finally {
      this.makingOffer = false;
    }
  }

  #watchOffer(left) {
    clearTimeout(this.#resend);
    this.#resend = setTimeout(() => {
      const pc = this.pc;
      if (this.closed || pc.signalingState !== 'have-local-offer' || left <= 0) return;
      this.#send({ type: 'offer', target: this.id, sdp: plain(pc.localDescription) });
      this.#watchOffer(left - 1);
    }, OFFER_RESEND_MS);
  }

  /**
   * Puts our audio and video on the connection, once. After a remote offer
   * the transceivers it created are reused (so the answer carries our media
   * and nothing needs renegotiating); otherwise new ones are added, and a
   * kind we do not send is still received (recvonly).
   */
  #attach() {
    if (this.attached || this.closed) return;
    this.attached = true;
    clearTimeout(this.#fallback);
    const media = this.call.media;
    for (const kind of ['audio', 'video']) {
      const track = media ? media.stream.getTracks().find((t) => t.kind === kind && t.readyState === 'live') : null;
      const free = this.pc.getTransceivers().find((t) => !t.stopped && t.receiver.track.kind === kind
        && !t.sender.track && t.currentDirection !== 'stopped');
      if (free) {
        if (track) {
          free.sender.replaceTrack(track);
          free.sender.setStreams(media.stream);
          free.direction = 'sendrecv';
        }
      } else {
        this.pc.addTransceiver(track || kind, {
          direction: track ? 'sendrecv' : 'recvonly',
          streams: track ? [media.stream] : [],
        });
      }
    }
    if (this.call.transform) this.call.transform.attachAll(this.pc, this.id);
    if (this.call.screen) this.syncScreen();
  }

  #onState() {
    const s = this.pc.connectionState;
    if (s === 'connected') this.restarts = 0;
    if (this.lost && s !== 'connected' && s !== 'connecting' && s !== 'new') {
      this.call.removePeer(this.id); // its media stopped too
      return;
    }
    if (s === 'failed') this.#restartIce();
    this.call.changed(this);
  }

  #restartIce() {
    if (this.closed || this.restarts > 5) return;
    this.restarts++;
    this.pc.restartIce(); // fires negotiationneeded → an offer with new ICE credentials
  }

  #send(msg) {
    // Queued while signaling is down: the connection may still need them.
    this.call.send(msg, { queue: true });
  }

  /**
   * Numbers for the UI and tests, all from getStats():
   * {connectionState, framesDecoded, bytesReceived, candidateType,
   *  remoteCandidateType, path ('direct' | 'relay' | null), rttMs}.
   * candidateType is the local candidate of the selected pair.
   */
  async stats() {
    const out = {
      connectionState: this.pc.connectionState, framesDecoded: 0, bytesReceived: 0,
      candidateType: null, remoteCandidateType: null, path: null, rttMs: null,
    };
    if (this.closed) return out;
    const report = await this.pc.getStats();
    let pair = null;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp') {
        out.bytesReceived += s.bytesReceived || 0;
        if (s.kind === 'video') out.framesDecoded += s.framesDecoded || 0;
      } else if (s.type === 'transport' && s.selectedCandidatePairId) {
        pair = report.get(s.selectedCandidatePairId) || pair;
      }
    });
    if (!pair) {
      report.forEach((s) => {
        if (s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded'))) pair = s;
      });
    }
    if (pair) {
      const local = report.get(pair.localCandidateId);
      const remote = report.get(pair.remoteCandidateId);
      out.candidateType = local ? local.candidateType : null;
      out.remoteCandidateType = remote ? remote.candidateType : null;
      if (local || remote) out.path = [out.candidateType, out.remoteCandidateType].includes('relay') ? 'relay' : 'direct';
      if (typeof pair.currentRoundTripTime === 'number') out.rttMs = Math.round(pair.currentRoundTripTime * 1000);
    }
    return out;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.#fallback);
    clearTimeout(this.#resend);
    this.pc.close();
  }
}

/** The RTCSessionDescriptionInit in a relayed offer/answer (`sdp` object, or a bare SDP string). */
function description(msg) {
  const sdp = msg.sdp;
  if (sdp && typeof sdp === 'object' && typeof sdp.sdp === 'string') {
    return { type: sdp.type || msg.type, sdp: tidySdp(sdp.sdp) };
  }
  if (typeof sdp === 'string') return { type: msg.type, sdp: tidySdp(sdp) };
  return null;
}

/**
 * A remote SDP without the rtpmap/fmtp/rtcp-fb lines of payload types its
 * m-line does not list. Firefox writes rtcp-fb lines for every codec it
 * has, also those setCodecPreferences left out (as in an encrypted call,
 * VP8 only), and Chromium refuses such an offer outright ("Failed to parse
 * codecs correctly"): no media at all between the two.
 */
export function tidySdp(sdp) {
  let listed = null; // the payload types of the current m-section
  const out = [];
  for (const line of sdp.split('\r\n')) {
    if (line.startsWith('m=')) {
      listed = new Set(line.split(' ').slice(3));
    } else if (listed) {
      const m = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ ]/.exec(line);
      if (m && !listed.has(m[1])) continue;
    }
    out.push(line);
  }
  return out.join('\r\n');
}

function plain(desc) {
  return { type: desc.type, sdp: desc.sdp };
}
