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
import {
  audioOnlyChosen, bindChoices, clearNotes, setChoicesBusy, setJoinRoom, showNote, showStatus, showView,
} from './ui.js';

const ROOM_RE = /^[A-Za-z0-9_-]{1,64}$/;

const signal = new Signal();
const state = {
  selfId: null,
  iceServers: [],
  /** @type {Session|null} */
  session: null,
  room: 'default', // the room of the join card ('default' or /r/<name>)
  autoJoin: false, // /r/<name>: join as soon as the server greets us
  starting: false, // a call is being set up from the start screen
};

const lobby = new Lobby({
  signal,
  audioOnly: audioOnlyChosen,
  inCall: () => !!state.session,
  startCall: ({ callId, withName, media }) => {
    openSession({ kind: 'lobby', callId, withName, media });
  },
});

// ---- Starting calls from the start screen --------------------------------

/** Gets camera and microphone, then joins a room or a PIN. */
async function startCall(kind, value) {
  const choice = kind === 'room' ? 'join' : 'pin';
  if (state.session || state.starting) return;
  clearNotes();
  if (signal.status !== 'connected') {
    showNote(choice, 'Not connected to the server yet. Wait for “Connected” and try again.', { error: true });
    return;
  }
  state.starting = true;
  setChoicesBusy(true);
  showNote(choice, 'Starting camera and microphone…');
  let media;
  try {
    media = await getLocalMedia({ audioOnly: audioOnlyChosen() });
  } catch (err) {
    showNote(choice, err.message, { error: true });
    return;
  } finally {
    state.starting = false;
    setChoicesBusy(false);
  }
  showNote(choice, '');
  const session = openSession(kind === 'room' ? { kind, room: value, media } : { kind, pin: value, media });
  if (!session.sendJoin()) session.end('offline');
}

function openSession({ kind, room, pin, callId, withName, media }) {
  const session = new Session({
    kind, room, pin, callId, withName, media, signal,
    selfId: state.selfId,
    iceServers: state.iceServers,
    onEnd: onSessionEnd,
  });
  state.session = session;
  session.open();
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
};

function onSessionEnd(session, reason, msg = {}) {
  if (state.session === session) state.session = null;
  if (session.kind === 'lobby') {
    lobby.callOver(session.withName, reason);
    return;
  }
  showView('start');
  const choice = session.kind === 'room' ? 'join' : 'pin';
  if (REFUSED[reason]) showNote(choice, REFUSED[reason](session, msg), { error: true });
  else if (reason === 'lost') showNote(choice, 'The connection to the server was lost, so the call ended.', { error: true });
  const focus = session.kind === 'room' ? document.getElementById('join') : document.getElementById('pin');
  focus.focus();
}

// ---- Server messages ------------------------------------------------------

function onMessage(msg) {
  if (!msg || typeof msg.type !== 'string') return;
  const session = state.session;
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
      if (session) session.handle(msg);
  }
}

function onWelcome(msg) {
  state.selfId = typeof msg.id === 'string' ? msg.id : null;
  state.iceServers = Array.isArray(msg.iceServers) ? msg.iceServers : [];
  if (state.session) state.session.onWelcome(msg);
  lobby.onWelcome(msg);
  if (state.autoJoin) {
    state.autoJoin = false;
    startCall('room', state.room);
  }
}

function onError(msg) {
  const session = state.session;
  if (lobby.handleError(msg)) return;
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
  join: () => startCall('room', state.room),
  pin: (pin) => startCall('pin', pin),
  lobby: (name) => lobby.enter(name),
});

bindCallControls({
  mute: () => state.session && state.session.toggleMute(),
  camera: () => state.session && state.session.toggleCamera(),
  chat: () => toggleChat(),
  hangup: () => state.session && state.session.hangup(),
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
  if (ROOM_RE.test(room)) {
    state.room = room;
    state.autoJoin = true;
    setJoinRoom(room);
  } else {
    showNote('join', REFUSED.bad_room(), { error: true });
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
    /** Our peer id from the last welcome. */
    get id() { return state.selfId; },
    /** The shown view: start | lobby | call. */
    get view() { return document.body.dataset.view; },
    /** Whether the incoming-call ring is sounding. */
    get ringing() { return ring.ringing(); },
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
  }),
});

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err) => {
    // The page works without it; it only makes the shell installable/offline.
    console.warn('tincan: service worker not registered:', err && err.message);
  });
}
