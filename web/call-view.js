// The call screen: the video grid (one tile per remote peer), the mirrored
// local preview, the control bar and short notices. Renders only; app.js
// owns the call and passes handlers to bindCallControls().
//
// Test hooks (read-only, nothing faked): every remote tile carries
// data-peer-id, data-state (connecting | connected | reconnecting),
// data-path (direct | relay | sfu) once getStats has a selected candidate pair,
// data-muted / data-camera from the peer's own state, data-signal (ok |
// away | lost: its signaling is gone but its media may still flow),
// data-speaking and data-pinned.

import { initials } from './lobby-view.js';
import { bindSelfDrag, placeSelf } from './selfview.js';

const $ = (id) => document.getElementById(id);

const MIC_OFF_SVG = '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">'
  + '<path fill="currentColor" d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2z"/>'
  + '<path d="M4 3l17 18" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/></svg>';

const STATE_TEXT = {
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  connected: '',
};

/** Whether a key press is meant for a field rather than a shortcut. */
function typing(ev) {
  const el = ev.target;
  return el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
}

let audioRouted = false; // volume.js plays remote sound through WebAudio; the elements stay muted

/** Whether remote sound goes through volume.js (true) or the tiles' own elements. */
export function setAudioRouted(on) {
  audioRouted = on;
}

/** The tile element of peer id (for volume.js's controls), or null. */
export function tileElement(id) {
  return tile(id);
}

/** The share button says whether we are sharing. */
export function setSharing(on) {
  $('btn-share').setAttribute('aria-pressed', String(on));
  $('btn-share').querySelector('.ctl-label').textContent = on ? 'Stop sharing' : 'Share screen';
}

/**
 * Shows (stream) or removes (null) the screen share of peer id ('self' for
 * ours) as a tile of its own; a new share becomes the big (pinned) tile.
 */
export function setScreenTile(id, stream, label = '') {
  const tid = `screen:${id}`;
  let fig = tile(tid);
  if (!stream) {
    if (fig) removeTile(tid);
    return;
  }
  const fresh = !fig;
  if (fresh) {
    addTile({ id: tid, label: id === 'self' ? 'Your screen' : `${label}’s screen`, avatar: '' });
    fig = tile(tid);
    fig.dataset.screen = 'true';
    fig.querySelector('.tile-pin').setAttribute('aria-label', id === 'self' ? 'Pin your screen' : `Pin ${label}’s screen`);
  } else if (label && id !== 'self') {
    fig.querySelector('.tile-name').textContent = `${label}’s screen`;
  }
  fig.dataset.state = 'connected';
  fig.dataset.video = 'on';
  fig.querySelector('.tile-state').textContent = '';
  const video = fig.querySelector('video');
  if (video.srcObject !== stream) {
    video.srcObject = stream;
    video.muted = id === 'self' || stream.getAudioTracks().length === 0;
    video.play().catch(() => {});
  }
  if (fresh && $('grid').dataset.pinned !== tid) pinTile(tid);
}

/** handlers: {mute(), camera(), chat(), hangup(), invite(), share(), devices()}. M mutes, V turns the camera off or on. */
export function bindCallControls(handlers) {
  $('btn-mute').addEventListener('click', () => handlers.mute());
  $('btn-share').addEventListener('click', () => handlers.share && handlers.share());
  $('btn-devices').addEventListener('click', () => handlers.devices && handlers.devices());
  $('btn-invite').addEventListener('click', () => handlers.invite());
  document.addEventListener('keydown', (ev) => {
    if (document.body.dataset.view !== 'call' || ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev)) return;
    if (document.querySelector('dialog[open]')) return;
    const key = ev.key.toLowerCase();
    if (key === 'm') handlers.mute();
    else if (key === 'v' && $('btn-camera').getAttribute('aria-disabled') !== 'true') handlers.camera();
    else return;
    ev.preventDefault();
  });
  $('btn-camera').addEventListener('click', () => {
    if ($('btn-camera').getAttribute('aria-disabled') !== 'true') handlers.camera();
  });
  $('btn-chat').addEventListener('click', () => handlers.chat());
  $('btn-hangup').addEventListener('click', () => handlers.hangup());
  bindSelfDrag();
  $('grid').addEventListener('click', (ev) => {
    const pin = ev.target.closest('.tile-pin');
    if (pin) {
      pinTile(pin.closest('.tile').dataset.peerId);
      return;
    }
    const btn = ev.target.closest('.tile-play');
    if (!btn) {
      if (!ev.target.closest('button, input, .tile-volume')) showTileControls(ev.target.closest('.tile'));
      return;
    }
    const video = btn.closest('.tile').querySelector('video');
    video.muted = false;
    video.play().then(() => { btn.hidden = true; }).catch(() => {});
  });
}

/**
 * A tap on a tile (not on one of its buttons) shows that tile's buttons,
 * or hides them again; another tile's go (style.css, "A tile's buttons").
 */
function showTileControls(fig) {
  for (const other of document.querySelectorAll('#grid .tile[data-controls="shown"]')) {
    if (other !== fig) delete other.dataset.controls;
  }
  if (!fig) return;
  if (fig.dataset.controls === 'shown') delete fig.dataset.controls;
  else fig.dataset.controls = 'shown';
}

/**
 * Prepares the call screen: title, local preview, control states; you: the
 * label others see for us; invite: whether the call has a link to hand out.
 */
export function openCallView({ title, media, hangupLabel = 'Leave', you = '', invite = false, canShare = false }) {
  $('call-title').textContent = title;
  $('btn-share').hidden = !canShare;
  setSharing(false);
  setYou(you);
  $('btn-invite').hidden = !invite;
  $('btn-invite').textContent = invite && canShareLink() ? 'Share link' : 'Copy link';
  $('listen-banner').hidden = !!media;
  $('view-call').dataset.listenOnly = media ? 'false' : 'true';
  setMode('mesh');
  clearGrid();
  $('btn-hangup').querySelector('.ctl-label').textContent = hangupLabel;
  $('btn-hangup').setAttribute('aria-label', hangupLabel);
  callNotice(media && media.notice ? media.notice : '');
  const local = $('local-video');
  local.srcObject = media ? media.stream : null;
  if (media) playQuietly(local);
  setControls(media);
}

/** How the call carries media: 'mesh' (straight between browsers) or 'sfu' (via the server); tiles say so. */
export function setMode(mode) {
  $('view-call').dataset.mode = mode;
}

/** The label others see for us, in the header. */
export function setYou(label) {
  $('call-you').textContent = label;
}

/** A short spoken (and, for sighted people, shown) note about the invite link. */
export function inviteNote(text) {
  $('invite-note').textContent = text;
  callNotice(text);
}

function canShareLink() {
  return typeof navigator.share === 'function' && matchMedia('(pointer: coarse)').matches;
}

/**
 * Reflects mute / camera state in the buttons and the preview. The labels
 * stay put ("Mute", "Camera off"); aria-pressed says whether they are on.
 */
export function setControls(media) {
  const mute = $('btn-mute');
  const cam = $('btn-camera');
  const muted = !media || media.muted;
  mute.setAttribute('aria-pressed', String(muted));
  if (!media) mute.setAttribute('aria-disabled', 'true');
  else mute.removeAttribute('aria-disabled');
  const noVideo = !media || media.audioOnly;
  const off = noVideo || media.cameraOff;
  cam.setAttribute('aria-pressed', String(off));
  cam.querySelector('.ctl-label').textContent = noVideo ? 'No camera' : 'Camera off';
  if (noVideo) cam.setAttribute('aria-disabled', 'true');
  else cam.removeAttribute('aria-disabled');
  $('self').dataset.camera = noVideo ? 'none' : off ? 'off' : 'on';
  $('self').querySelector('.self-off').textContent = !media ? 'Listening only' : noVideo ? 'Audio only' : 'Camera off';
}

/** Empties the call screen and lets go of every stream. */
export function closeCallView() {
  for (const video of document.querySelectorAll('#view-call video')) video.srcObject = null;
  clearGrid();
  setWaiting(null);
  callNotice('');
}

/** A waiting line over the empty grid (null hides it). */
export function setWaiting(text) {
  $('call-waiting').hidden = !text;
  $('call-waiting-text').textContent = text || '';
}

/** A short status message on the call screen ('' clears it). */
export function callNotice(text) {
  $('call-notice').textContent = text;
}

/** Adds the tile of a remote peer ({id, label, avatar?}); avatar: one or two letters. */
export function addTile({ id, label, avatar = initials(label) }) {
  if (tile(id)) return;
  const fig = document.createElement('figure');
  fig.className = 'tile';
  fig.dataset.peerId = id;
  fig.dataset.state = 'connecting';
  fig.dataset.video = 'off';
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  const badge = document.createElement('span');
  badge.className = 'tile-avatar';
  badge.setAttribute('aria-hidden', 'true');
  badge.textContent = avatar;
  const caption = document.createElement('figcaption');
  caption.className = 'tile-label';
  const mic = document.createElement('span');
  mic.className = 'tile-mic';
  mic.setAttribute('role', 'img');
  mic.setAttribute('aria-label', 'microphone off');
  mic.innerHTML = MIC_OFF_SVG;
  const name = document.createElement('span');
  name.className = 'tile-name';
  name.textContent = label;
  const net = document.createElement('span');
  net.className = 'tile-net';
  caption.append(mic, name, net);
  const pin = document.createElement('button');
  pin.type = 'button';
  pin.className = 'btn btn-small tile-pin';
  pin.textContent = 'Pin';
  pin.setAttribute('aria-pressed', 'false');
  pin.setAttribute('aria-label', `Pin ${label}`);
  const state = document.createElement('span');
  state.className = 'tile-state';
  state.textContent = STATE_TEXT.connecting;
  const play = document.createElement('button');
  play.type = 'button';
  play.className = 'btn tile-play';
  play.textContent = 'Tap to hear';
  play.hidden = true;
  fig.dataset.muted = 'false';
  fig.dataset.camera = 'on';
  fig.dataset.signal = 'ok';
  fig.append(video, badge, caption, state, pin, play);
  $('grid').append(fig);
  layout();
}

/**
 * Updates a tile from a peer: {id, state, stream, signal}; look: {label,
 * avatar, muted, camera} as the peer told us (each optional).
 */
export function updateTile({ id, state, stream, signal = 'ok' }, look = {}) {
  const fig = tile(id);
  if (!fig) return;
  fig.dataset.state = state;
  fig.dataset.signal = signal;
  fig.querySelector('.tile-state').textContent = STATE_TEXT[state] ?? '';
  if (look.label) {
    fig.querySelector('.tile-name').textContent = look.label;
    fig.querySelector('.tile-avatar').textContent = look.avatar || initials(look.label);
    fig.querySelector('.tile-pin').setAttribute('aria-label', `Pin ${look.label}`);
  }
  if (typeof look.muted === 'boolean') fig.dataset.muted = String(look.muted);
  if (typeof look.camera === 'boolean') fig.dataset.camera = look.camera ? 'on' : 'off';
  const video = fig.querySelector('video');
  if (stream && video.srcObject !== stream) {
    video.srcObject = stream;
    playWithSound(video, fig.querySelector('.tile-play'));
  }
  if (!stream) return;
  const live = stream.getVideoTracks().some((t) => t.readyState === 'live' && !t.muted);
  fig.dataset.video = live && fig.dataset.camera !== 'off' ? 'on' : 'off';
}

/** Marks the tile of the loudest speaker (null: nobody). */
export function setSpeaking(id) {
  for (const fig of tiles()) fig.dataset.speaking = String(fig.dataset.peerId === id);
  keepInView(id);
}

/**
 * A grid of more people than fit scrolls; a speaker whose tile is out of
 * sight moves to the first place in sight, as a gallery view does (the
 * SFU sends no video for tiles nobody sees, so it would stay dark).
 */
function keepInView(id) {
  const grid = $('grid');
  if (!id || grid.dataset.layout !== 'many' || grid.scrollHeight <= grid.clientHeight) return;
  const all = [...grid.children];
  const fig = all.find((f) => f.dataset.peerId === id);
  if (!fig) return;
  const g = grid.getBoundingClientRect();
  const inSight = (el) => {
    const b = el.getBoundingClientRect();
    return b.top >= g.top - 1 && b.bottom <= g.bottom + 1;
  };
  if (inSight(fig)) return;
  const first = all.find((el) => el !== fig && inSight(el));
  if (first) grid.insertBefore(fig, first);
}

/** Pins a tile large (again: unpins). */
export function pinTile(id) {
  const grid = $('grid');
  const on = grid.dataset.pinned !== id;
  if (on) grid.dataset.pinned = id;
  else delete grid.dataset.pinned;
  for (const fig of tiles()) {
    const pinned = on && fig.dataset.peerId === id;
    fig.dataset.pinned = String(pinned);
    fig.querySelector('.tile-pin').setAttribute('aria-pressed', String(pinned));
  }
  layout();
}

/** Shows "Direct · 12 ms" / "Relayed · 80 ms" / "Via server · 9 ms · 1.2 Mbit/s"
 * (the server's estimate of its bandwidth to us) from a peer's stats. */
export function setTileNet(id, { path, rttMs, estimateBps }) {
  const fig = tile(id);
  if (!fig) return;
  if (path) fig.dataset.path = path;
  else delete fig.dataset.path;
  const net = fig.querySelector('.tile-net');
  if (!path) {
    net.textContent = '';
    return;
  }
  const rtt = typeof rttMs === 'number' ? ` · ${rttMs} ms` : '';
  const est = typeof estimateBps === 'number' ? ` · ${(estimateBps / 1e6).toFixed(1)} Mbit/s` : '';
  // Pieces of their own, so a narrow tile can leave out the estimate (style.css).
  const part = (cls, text) => {
    const el = document.createElement('span');
    el.className = cls;
    el.textContent = text;
    return el;
  };
  net.replaceChildren(part('net-path', path === 'relay' ? 'Relayed' : path === 'sfu' ? 'Via server' : 'Direct'),
    ...(rtt ? [part('net-rtt', rtt)] : []), ...(est ? [part('net-est', est)] : []));
  net.title = path === 'relay' ? 'Media goes through the server\'s relay (TURN)'
    : path === 'sfu' ? 'Media goes through the server, which forwards it to everyone in the room'
      + (est ? ` (the server estimates ${(estimateBps / 1e6).toFixed(1)} Mbit/s can reach you)` : '')
      : 'Media goes straight between you and this person';
}

export function removeTile(id) {
  const fig = tile(id);
  if (!fig) return;
  fig.querySelector('video').srcObject = null;
  fig.remove();
  if ($('grid').dataset.pinned === id) delete $('grid').dataset.pinned;
  layout();
}

/** The grid's shape follows the number of tiles (CSS reads data-count). */
function layout() {
  const grid = $('grid');
  const n = tiles().length;
  // With two or more others the self-view joins the grid as a tile of its
  // own instead of covering one of them; alone with one other it floats.
  const self = $('self');
  const inGrid = n >= 2;
  if (inGrid && self.parentElement !== grid) grid.append(self);
  else if (!inGrid && self.parentElement === grid) grid.after(self);
  const total = n + (inGrid ? 1 : 0);
  grid.dataset.count = String(n);
  grid.dataset.layout = grid.dataset.pinned && n > 1 ? 'pinned'
    : total <= 1 ? 'one' : total === 2 ? 'two' : total <= 4 ? 'four' : 'many';
  $('view-call').dataset.selfTile = String(inGrid);
  placeSelf();
}

function clearGrid() {
  const grid = $('grid');
  if ($('self').parentElement === grid) grid.after($('self'));
  grid.replaceChildren();
  grid.dataset.count = '0';
  delete grid.dataset.pinned;
  layout();
}

/** The remote tiles (not the self-view). */
function tiles() {
  return [...$('grid').querySelectorAll(':scope > .tile')];
}

function tile(id) {
  return tiles().find((el) => el.dataset.peerId === id) || null;
}

function playQuietly(video) {
  video.play().catch(() => {});
}

/** Plays with sound; if the browser's autoplay policy says no, plays muted and offers a button. */
function playWithSound(video, button) {
  video.muted = audioRouted;
  video.play().then(() => { button.hidden = true; }).catch((err) => {
    if (err && err.name === 'NotAllowedError') {
      video.muted = true;
      video.play().catch(() => {});
      button.hidden = false;
    }
  });
}
