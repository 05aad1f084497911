// The call screen: the video grid (one tile per remote peer), the mirrored
// local preview, the control bar and short notices. Renders only; app.js
// owns the call and passes handlers to bindCallControls().
//
// Test hooks (read-only, nothing faked): every remote tile carries
// data-peer-id, data-state (connecting | connected | reconnecting) and
// data-path (direct | relay) once getStats has a selected candidate pair.

import { initials } from './lobby-view.js';

const $ = (id) => document.getElementById(id);

const STATE_TEXT = {
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  connected: '',
};

/** handlers: {mute(), camera(), chat(), hangup()}. */
export function bindCallControls(handlers) {
  $('btn-mute').addEventListener('click', () => handlers.mute());
  $('btn-camera').addEventListener('click', () => {
    if ($('btn-camera').getAttribute('aria-disabled') !== 'true') handlers.camera();
  });
  $('btn-chat').addEventListener('click', () => handlers.chat());
  $('btn-hangup').addEventListener('click', () => handlers.hangup());
  $('grid').addEventListener('click', (ev) => {
    const btn = ev.target.closest('.tile-play');
    if (!btn) return;
    const video = btn.closest('.tile').querySelector('video');
    video.muted = false;
    video.play().then(() => { btn.hidden = true; }).catch(() => {});
  });
}

/** Prepares the call screen: title, local preview, control states. */
export function openCallView({ title, media, hangupLabel = 'Leave' }) {
  $('call-title').textContent = title;
  $('grid').replaceChildren();
  $('grid').dataset.count = '0';
  $('btn-hangup').querySelector('.ctl-label').textContent = hangupLabel;
  $('btn-hangup').setAttribute('aria-label', hangupLabel);
  callNotice(media && media.notice ? media.notice : '');
  const local = $('local-video');
  local.srcObject = media ? media.stream : null;
  if (media) playQuietly(local);
  setControls(media);
}

/** Reflects mute / camera state in the buttons and the preview. */
export function setControls(media) {
  const mute = $('btn-mute');
  const cam = $('btn-camera');
  const muted = !media || media.muted;
  mute.setAttribute('aria-pressed', String(muted));
  mute.querySelector('.ctl-label').textContent = muted ? 'Unmute' : 'Mute';
  const noVideo = !media || media.audioOnly;
  const off = noVideo || media.cameraOff;
  cam.setAttribute('aria-pressed', String(off));
  cam.querySelector('.ctl-label').textContent = noVideo ? 'No camera' : off ? 'Camera on' : 'Camera off';
  if (noVideo) cam.setAttribute('aria-disabled', 'true');
  else cam.removeAttribute('aria-disabled');
  $('self').dataset.camera = noVideo ? 'none' : off ? 'off' : 'on';
  $('self').querySelector('.self-off').textContent = noVideo ? 'Audio only' : 'Camera off';
}

/** Empties the call screen and lets go of every stream. */
export function closeCallView() {
  for (const video of document.querySelectorAll('#view-call video')) video.srcObject = null;
  $('grid').replaceChildren();
  $('grid').dataset.count = '0';
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
  const name = document.createElement('span');
  name.className = 'tile-name';
  name.textContent = label;
  const net = document.createElement('span');
  net.className = 'tile-net';
  caption.append(name, net);
  const state = document.createElement('span');
  state.className = 'tile-state';
  state.textContent = STATE_TEXT.connecting;
  const play = document.createElement('button');
  play.type = 'button';
  play.className = 'btn tile-play';
  play.textContent = 'Tap to hear';
  play.hidden = true;
  fig.append(video, badge, caption, state, play);
  $('grid').append(fig);
  layout();
}

/** Updates a tile from a peer: {id, state, stream, label}. */
export function updateTile({ id, state, stream, label }) {
  const fig = tile(id);
  if (!fig) return;
  fig.dataset.state = state;
  fig.querySelector('.tile-state').textContent = STATE_TEXT[state] ?? '';
  if (label) {
    fig.querySelector('.tile-name').textContent = label;
    fig.querySelector('.tile-avatar').textContent = initials(label);
  }
  const video = fig.querySelector('video');
  if (stream && video.srcObject !== stream) {
    video.srcObject = stream;
    playWithSound(video, fig.querySelector('.tile-play'));
  }
  const live = stream && stream.getVideoTracks().some((t) => t.readyState === 'live' && !t.muted);
  fig.dataset.video = live ? 'on' : 'off';
}

/** Shows "Direct · 12 ms" / "Relayed · 80 ms" from a peer's stats. */
export function setTileNet(id, { path, rttMs }) {
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
  net.textContent = (path === 'relay' ? 'Relayed' : 'Direct') + rtt;
  net.title = path === 'relay'
    ? 'Media goes through the server\'s relay (TURN)'
    : 'Media goes straight between you and this person';
}

export function removeTile(id) {
  const fig = tile(id);
  if (!fig) return;
  fig.querySelector('video').srcObject = null;
  fig.remove();
  layout();
}

/** The grid's shape follows the number of tiles (CSS reads data-count). */
function layout() {
  const n = $('grid').children.length;
  $('grid').dataset.count = String(n);
  $('grid').dataset.layout = n <= 1 ? 'one' : n === 2 ? 'two' : n <= 4 ? 'four' : 'many';
}

function tile(id) {
  return [...$('grid').children].find((el) => el.dataset.peerId === id) || null;
}

function playQuietly(video) {
  video.play().catch(() => {});
}

/** Plays with sound; if the browser's autoplay policy says no, plays muted and offers a button. */
function playWithSound(video, button) {
  video.muted = false;
  video.play().then(() => { button.hidden = true; }).catch((err) => {
    if (err && err.name === 'NotAllowedError') {
      video.muted = true;
      video.play().catch(() => {});
      button.hidden = false;
    }
  });
}
