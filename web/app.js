// Entry point of the tincan web client: connects signaling, routes server
// messages to the lobby and the current call, starts calls from the start
// screen, and registers the service worker.
//
// window.tincanDebug gives tests (and curious people) read-only access to
// what the page really has: the signaling status, our peer id, the peers of
// the call and their getStats() numbers. It cannot change anything.
import { Signal } from './signal.js';
import { getLocalMedia } from './media.js';
import { Session } from './session.js';
import { Lobby } from './lobby.js';
import { bindCallControls } from './call-view.js';
import { bindChat, toggleChat, chatNote } from './chat.js';
import * as ring from './ring.js';
import * as prefs from './prefs.js';
import { bindPrejoin, runPrejoin } from './prejoin.js';
import { randomRoomName } from './invite.js';
import { E2ee, e2eeSupported, linkSecret, newSecret } from './e2ee.js';
import { UNSUPPORTED, UNSUPPORTED_NEW, bindE2eeStart, prejoinE2ee, prejoinPassphrase } from './e2ee-view.js';
import { Presence } from './presence.js';
import { initTeam, openTeam, teamNote, signedInUser, onWelcome as teamWelcome } from './teamrooms.js';
import { Mixer } from './volume.js';
import { openDevices } from './devices.js';
import { initTheme, current as currentTheme } from './theme.js';
import { setAudioRouted } from './call-view.js';
import {
  audioOnlyChosen, bindChoices, clearNotes, setChoicesBusy, setJoinRoom, showBadRoom, showNote, showStatus, showView,
  countdownNote,
} from './ui.js';

const ROOM_RE = /^[A-Za-z0-9_-]{1,64}$/;

const signal = new Signal();
const presence = new Presence();
// Remote sound through WebAudio, for per-person volume (volume.js).
const mixer = Mixer.supported() ? new Mixer() : null;
setAudioRouted(!!mixer);
initTheme();
const state = {
  selfId: null,
  iceServers: [],
  /** @type {Session|null} */
  session: null,
  room: 'default', // the room of the join card ('default' or /r/<name>)
  autoJoin: false, // /r/<name>: join as soon as the server greets us
  sfu: false, // /r/<name>?sfu: ask for an SFU room
  starting: false, // a call is being set up from the start screen
  pinPending: null, // {pin, queued: [], started} between join-pin and the call screen
  pinBlockedUntil: 0, // PIN attempts wait for the rate limit until then
  e2eeLink: null, // {secret} when the room's link carries its key (#k=…)
};

const lobby = new Lobby({
  signal,
  audioOnly: audioOnlyChosen,
  inCall: () => !!state.session,
  startCall: ({ callId, withName, media }) => {
    openSession({ kind: 'lobby', callId, withName, media, myLobbyName: lobby.name });
  },
});

// ---- Starting calls from the start screen --------------------------------

/** Whether a call may start now; says why not under `choice` otherwise. */
function canStart(choice) {
  if (state.session || state.starting || state.pinPending) return false;
  clearNotes();
  if (signal.status !== 'connected') {
    showNote(choice, 'Not connected to the server yet. Wait for “Connected” and try again.', { error: true });
    return false;
  }
  return true;
}

/**
 * Joins a room: the pre-join screen first (preview, toggles, name), unless
 * the person chose to skip it; without camera and microphone it is a
 * listen-only join.
 */
async function startRoom(room, { team = null, password = '' } = {}) {
  if (team ? !canStartTeam() : !canStart('join')) return;
  const link = !team && room === state.room ? state.e2eeLink : null;
  if (link && !e2eeSupported()) {
    showNote('join', UNSUPPORTED, { error: true }); // never a silent unencrypted call
    return;
  }
  state.starting = true;
  let choice;
  let e2ee = null;
  try {
    prejoinE2ee({ link: !!link });
    choice = prefs.skipPrejoin() ? await quickMedia('join') : await runPrejoin({
      title: team ? `Join “${team.name}”` : room === 'default' ? 'Join the shared call' : `Join room “${room}”`,
      audioOnly: audioOnlyChosen(),
      account: team && signedInUser() ? signedInUser().name : null,
    });
    e2ee = choice ? await roomE2ee(room, link, choice) : null;
  } finally {
    state.starting = false;
  }
  if (!choice || e2ee === false) {
    if (team) {
      openTeam();
      return;
    }
    showView('start');
    document.getElementById('join').focus();
    return;
  }
  // In a team room everyone is their account name (the server sees to it).
  const name = team && signedInUser() ? signedInUser().name : choice.name;
  const session = openSession({ kind: 'room', room, media: choice.media, name, sfu: state.sfu, e2ee, team, password });
  if (!session.sendJoin()) session.end('offline');
}

/**
 * The room's encryption: from the link's key or the passphrase typed on
 * the pre-join screen; null for an unencrypted call; false (the reason
 * shown, the media stopped) when encryption was asked for and failed.
 */
async function roomE2ee(room, link, choice) {
  const passphrase = link ? '' : prejoinPassphrase();
  if (!link && !passphrase) return null;
  try {
    return await E2ee.create({ room, secret: link ? link.secret : null, passphrase: passphrase || null });
  } catch (err) {
    if (choice.media) choice.media.stop();
    showNote('join', `End-to-end encryption did not start, so neither did the call: ${err.message}`, { error: true });
    return false;
  }
}

/** Whether a team call may start now (says why not on the team view). */
function canStartTeam() {
  if (state.session || state.starting || state.pinPending) return false;
  if (signal.status !== 'connected') {
    teamNote('Not connected to the server yet. Wait for “Connected” and try again.', true);
    return false;
  }
  return true;
}

/** Camera and microphone as remembered, straight away; null media (listen only) if they fail. */
async function quickMedia(choice) {
  setChoicesBusy(true);
  showNote(choice, 'Starting camera and microphone…');
  let media = null;
  try {
    media = await getLocalMedia({ audioOnly: audioOnlyChosen() });
    const saved = prefs.savedDevices();
    media.setMuted(saved.micOff);
    if (!media.audioOnly) media.setCameraOff(saved.camOff);
  } catch (err) {
    media = null;
    state.mediaProblem = err.message;
  } finally {
    setChoicesBusy(false);
  }
  showNote(choice, '');
  return { media, name: prefs.savedName() };
}

/**
 * A PIN call: the PIN goes to the server first; only once it is accepted
 * (pin-waiting or joined) do the camera and the call screen start, so a
 * refused or rate-limited PIN never flashes the call screen.
 */
function startPin(pin) {
  if (Date.now() < state.pinBlockedUntil) return;
  if (!canStart('pin')) return;
  state.pinPending = { pin, queued: [], started: false };
  setChoicesBusy(true);
  showNote('pin', 'Checking the PIN…');
  signal.send({ type: 'state', name: prefs.savedName() || null, muted: false, camera: !audioOnlyChosen() });
  if (!signal.send({ type: 'join-pin', pin })) pinRefused('offline');
}

/** Holds the call's messages until the camera is up, then opens the call. */
async function pinMessage(msg) {
  const p = state.pinPending;
  p.queued.push(msg);
  if (p.started || !['pin-waiting', 'joined'].includes(msg.type)) return;
  p.started = true;
  showNote('pin', 'Starting camera and microphone…');
  let media = null;
  try {
    media = await getLocalMedia({ audioOnly: audioOnlyChosen() });
  } catch (err) {
    state.mediaProblem = err.message;
  }
  setChoicesBusy(false);
  showNote('pin', '');
  state.pinPending = null;
  const session = openSession({ kind: 'pin', pin: p.pin, media, name: prefs.savedName() });
  session.sendState();
  for (const m of p.queued) session.handle(m);
}

function pinRefused(code, msg = {}) {
  const p = state.pinPending;
  state.pinPending = null;
  setChoicesBusy(false);
  if (code === 'rate_limited') {
    const secs = Math.max(1, Math.ceil(Number(msg.retryAfter) || 60));
    state.pinBlockedUntil = Date.now() + secs * 1000;
    countdownNote('pin', secs, (n) => `Too many attempts. Try again in ${n} s.`, () => {
      state.pinBlockedUntil = 0;
      showNote('pin', 'You can try again now.');
    });
  } else {
    showNote('pin', REFUSED[code] ? REFUSED[code]({ kind: 'pin' }, msg) : 'The PIN call did not start.', { error: true });
  }
  if (p) document.getElementById('pin').focus();
}

function openSession({ kind, room, pin, callId, withName, media, name = '', myLobbyName = null, sfu = false, e2ee = null,
  team = null, password = '' }) {
  const session = new Session({
    kind, room, pin, callId, withName, media, name, myLobbyName, signal, sfu, e2ee, team, password, mixer,
    selfId: state.selfId,
    iceServers: state.iceServers,
    onEnd: onSessionEnd,
  });
  state.session = session;
  session.open();
  if (state.mediaProblem) {
    session.notice(`${state.mediaProblem} You joined listening only.`);
    state.mediaProblem = null;
  }
  return session;
}

const REFUSED = {
  room_full: (s) => (s.kind === 'pin'
    ? 'That PIN is already in use by two people (full). Agree on another PIN.'
    : `The room is full. Try again later or use another room.`),
  bad_room: () => 'That room name is not valid: 1–64 letters, digits, dashes or underscores.',
  bad_pin: () => 'A PIN is exactly six digits.',
  rate_limited: (s, msg) => `Too many attempts. Try again in ${Math.max(1, Math.ceil(Number(msg.retryAfter) || 60))} s.`,
  offline: () => 'The connection to the server was lost. Try again.',
  unauthenticated: () => 'You are not signed in on this connection. Sign in again.',
  not_found: () => 'That team room does not exist (any more).',
  wrong_room_password: () => 'Wrong room password.',
  signed_out: () => 'You were signed out, so the call ended.',
};

function onSessionEnd(session, reason, msg = {}) {
  if (state.session === session) state.session = null;
  if (session.kind === 'lobby') {
    lobby.callOver(session.withName, reason);
    return;
  }
  if (session.team) {
    openTeam();
    if (REFUSED[reason]) teamNote(REFUSED[reason](session, msg), true);
    else if (reason === 'lost') teamNote('The connection to the server was lost, so the call ended.', true);
    return;
  }
  showView('start');
  const choice = session.kind === 'room' ? 'join' : 'pin';
  if (reason === 'rate_limited') {
    state.pinPending = {};
    pinRefused(reason, msg);
  } else if (REFUSED[reason]) showNote(choice, REFUSED[reason](session, msg), { error: true });
  else if (reason === 'lost') showNote(choice, 'The connection to the server was lost, so the call ended.', { error: true });
  const focus = session.kind === 'room' ? document.getElementById('join') : document.getElementById('pin');
  focus.focus();
}

// ---- Server messages ------------------------------------------------------

function onMessage(msg) {
  if (!msg || typeof msg.type !== 'string') return;
  const session = state.session;
  if (presence.handle(msg)) {
    if (msg.type === 'signed-out' && session && session.team) session.end('signed_out');
    return;
  }
  switch (msg.type) {
    case 'welcome':
      onWelcome(msg);
      return;
    case 'error':
      onError(msg);
      return;
    case 'call-ended':
      if (lobby.handle(msg)) return;
      if (session && session.kind === 'lobby' && session.callId === msg.callId) {
        session.end(String(msg.reason || 'hangup'));
      }
      return;
    default:
      if (lobby.handle(msg)) return;
      if (state.pinPending && !session) {
        pinMessage(msg);
        return;
      }
      if (session) session.handle(msg);
  }
}

function onWelcome(msg) {
  state.selfId = typeof msg.id === 'string' ? msg.id : null;
  state.iceServers = Array.isArray(msg.iceServers) ? msg.iceServers : [];
  if (state.session) state.session.onWelcome(msg);
  lobby.onWelcome(msg);
  teamWelcome(msg);
  if (state.autoJoin) {
    state.autoJoin = false;
    startRoom(state.room);
  }
}

function onError(msg) {
  const session = state.session;
  if (lobby.handleError(msg)) return;
  if (state.pinPending && !state.pinPending.started && REFUSED[msg.code]) {
    pinRefused(msg.code, msg);
    return;
  }
  if (session && session.phase === 'joining' && msg.code === 'sfu_unavailable' && session.sfu) {
    session.sfu = false; // a server without an SFU: the room is a mesh
    session.sendJoin();
    return;
  }
  if (session && session.phase === 'joining' && REFUSED[msg.code]) {
    session.end(msg.code, msg);
    return;
  }
  if (session && (msg.code === 'too_long' || msg.code === 'rate_limited')) {
    chatNote(msg.code === 'too_long' ? 'That message is too long (500 characters at most).'
      : `Slow down: try again in ${Math.max(1, Math.ceil(Number(msg.retryAfter) || 2))} s.`);
    return;
  }
  // unknown_target / not_in_room after a peer or the room went away are
  // harmless races; anything else is a client bug worth seeing.
  if (!['unknown_target', 'not_in_room'].includes(msg.code)) {
    console.info('tincan: server says', msg.code, msg.message || '');
  }
}

// ---- Wiring -----------------------------------------------------------------

signal.addEventListener('status', (ev) => showStatus(ev.detail));
signal.addEventListener('message', (ev) => onMessage(ev.detail));

bindChoices({
  join: () => startRoom(state.room),
  pin: (pin) => startPin(pin),
  lobby: (name) => {
    prefs.saveName(name); // the lobby name is the name in rooms too
    lobby.enter(name);
  },
  newRoom: () => location.assign(`/r/${randomRoomName()}`),
  reconnectNow: () => signal.reconnectNow(),
});
bindPrejoin();
bindE2eeStart({
  newRoom: () => {
    if (!e2eeSupported()) showNote('join', UNSUPPORTED_NEW, { error: true });
    else location.assign(`/r/${randomRoomName()}#k=${newSecret()}`);
  },
});

bindCallControls({
  mute: () => state.session && state.session.toggleMute(),
  camera: () => state.session && state.session.toggleCamera(),
  chat: () => toggleChat(),
  hangup: () => state.session && state.session.hangup(),
  invite: () => state.session && state.session.invite(),
  share: () => state.session && state.session.toggleShare(),
  devices: () => state.session && openDevices({
    media: state.session.media, call: state.session.call, mixer,
    onChange: () => {
      const s = state.session;
      if (!s) return;
      const local = document.getElementById('local-video');
      if (s.media) {
        local.srcObject = null;
        local.srcObject = s.media.stream;
        local.play().catch(() => {});
      }
      s.watchSelf();
      s.sendState();
    },
  }),
});

// The team (servers with --accounts): signing in reconnects the socket so
// that it carries the session cookie (presence, team rooms).
initTeam(presence, {
  join: (room, password) => startRoom(room.id, { team: room, password }),
  // A new connection carries the fresh cookie; resolves once it is up.
  signedIn: () => new Promise((resolve) => {
    const timer = setTimeout(done, 10000);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('status', onStatus);
      resolve();
    }
    function onStatus(ev) {
      if (ev.detail.status === 'connected') done();
    }
    signal.addEventListener('status', onStatus);
    signal.restart();
  }),
  signedOut: () => {},
});

bindChat({ send: (text) => !!state.session && state.session.sendChat(text) });

// /r/<name> opens that room directly.
const routed = /^\/r\/([^/]+)\/?$/.exec(location.pathname);
if (routed) {
  let room = '';
  try {
    room = decodeURIComponent(routed[1]);
  } catch {
    room = '';
  }
  state.e2eeLink = linkSecret();
  if (state.e2eeLink && state.e2eeLink.bad) {
    showBadRoom('The encryption key in this link is damaged: ask for the link again.');
  } else if (ROOM_RE.test(room)) {
    state.room = room;
    state.autoJoin = true;
    state.sfu = new URLSearchParams(location.search).has('sfu');
    setJoinRoom(room);
  } else {
    showBadRoom(REFUSED.bad_room());
  }
}

showView('start', { focus: false });
signal.start();

// Leaving the page leaves the call at once (others see the tile go rather
// than a peer "reconnecting" for the grace period). The socket is closed so
// the page can enter the back/forward cache, and reopened if it comes back.
addEventListener('pagehide', () => {
  if (state.session) state.session.hangup();
  signal.stop();
});
addEventListener('pageshow', (ev) => {
  if (ev.persisted) signal.start();
});

Object.defineProperty(window, 'tincanDebug', {
  value: Object.freeze({
    /** Signaling status: connecting | connected | reconnecting | disconnected. */
    get status() { return signal.status; },
    /** How the call carries media: 'mesh' or 'sfu' (null outside a call). */
    get mode() { return state.session ? state.session.mode : null; },
    /** Our peer id from the last welcome. */
    get id() { return state.selfId; },
    /** Signed-in presence: every connection's entry as the server pushed it. */
    presence() { return presence.entries(); },
    /** 'light' or 'dark'. */
    get theme() { return currentTheme(); },
    /** Per-person volume of a peer: {gain, level (RMS after the gain), state} or null. */
    volume(id) { return mixer ? mixer.probe(id) : null; },
    /** What we send: [{kind, label, deviceId}] of the local camera and microphone tracks. */
    localTracks() {
      const m = state.session && state.session.media;
      return m ? m.stream.getTracks().map((t) => ({ kind: t.kind, label: t.label, deviceId: t.getSettings().deviceId, state: t.readyState })) : [];
    },
    /** {<peerId>: [mimeType of each received video stream]} from getStats(). */
    async videoCodecs() {
      const s = state.session;
      const out = {};
      if (!s) return out;
      for (const peer of s.call.peers.values()) {
        const report = await peer.pc.getStats();
        out[peer.id] = [];
        report.forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video' && r.codecId && report.get(r.codecId)) {
            out[peer.id].push(report.get(r.codecId).mimeType);
          }
        });
      }
      return out;
    },
    /** The shown view: start | lobby | prejoin | call | team. */
    get view() { return document.body.dataset.view; },
    /** Whether the incoming-call ring is sounding. */
    get ringing() { return ring.ringing(); },
    /** Whether the caller's ringback tone is sounding. */
    get ringback() { return ring.ringingBack(); },
    /** The active speaker's peer id (from audio levels), or null. */
    get speaker() {
      const el = document.querySelector('#grid .tile[data-speaking="true"]');
      return el ? el.dataset.peerId : null;
    },
    /** The peers of the current call: [{id, state, polite}]. */
    peers() {
      const s = state.session;
      return s ? [...s.call.peers.values()].map((p) => ({ id: p.id, state: p.state, polite: p.polite })) : [];
    },
    /**
     * getStats() of every peer: {<peerId>: {connectionState, framesDecoded,
     * bytesReceived, candidateType, remoteCandidateType, path, rttMs}}.
     */
    async stats() {
      return state.session ? state.session.stats() : {};
    },
    /** SFU rooms: the simulcast layers we send [{rid, frameHeight, framesEncoded, active}], else []. */
    async sendLayers() {
      const c = state.session && state.session.call;
      return c && typeof c.sendLayers === 'function' ? c.sendLayers() : [];
    },
    /** End-to-end encryption of the call (safety code, key ids, problems), or null. */
    e2ee() {
      return state.session && state.session.e2ee ? state.session.e2ee.status() : null;
    },
  }),
});

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err) => {
    // The page works without it; it only makes the shell installable/offline.
    console.warn('tincan: service worker not registered:', err && err.message);
  });
}
