// The pre-join screen of rooms ("Join Call" and /r/<name>): a preview of
// the camera, microphone and camera toggles, and the name others will see.
// Nothing reaches the room before "Join now". When the camera and the
// microphone cannot be had (refused, missing), it offers to join listening
// only. Returning people may tick "Skip this screen next time".

import { getLocalMedia } from './media.js';
import * as prefs from './prefs.js';
import { showView } from './ui.js';

const $ = (id) => document.getElementById(id);

let pending = null; // {resolve, media}

/**
 * Shows the screen for room `title`; resolves to {media (LocalMedia or
 * null: listen only), name} on join, or null when the person goes back.
 * account: the signed-in name in a team room (no name asked then).
 */
export function runPrejoin({ title, audioOnly, account = null }) {
  if (pending) finish(null);
  $('prejoin-title').textContent = title;
  // A team room: everyone is their account name, nothing to ask.
  $('prejoin-name-label').hidden = !!account;
  $('prejoin-name').hidden = !!account;
  $('prejoin-name').value = account ? '' : prefs.savedName();
  $('prejoin-name').removeAttribute('aria-invalid');
  $('prejoin-name-note').textContent = account
    ? `You join as ${account} (your account’s name).`
    : 'Others see this name on your tile and in the chat.';
  $('prejoin-skip').checked = prefs.skipPrejoin();
  $('prejoin-listen').hidden = true;
  $('prejoin-join').hidden = false;
  $('prejoin-join').disabled = true;
  note('Starting camera and microphone…');
  setPreview(null);
  showView('prejoin');
  const p = new Promise((resolve) => { pending = { resolve, media: null }; });
  const mine = pending;
  getLocalMedia({ audioOnly }).then((media) => {
    if (pending !== mine) {
      media.stop();
      return;
    }
    mine.media = media;
    $('prejoin-join').disabled = false;
    const saved = prefs.savedDevices();
    media.setMuted(saved.micOff);
    if (!media.audioOnly) media.setCameraOff(saved.camOff);
    note(media.notice || '');
    setPreview(media);
  }).catch((err) => {
    if (pending !== mine) return;
    note(`${err.message} You can still join and listen.`);
    $('prejoin-listen').hidden = false;
    $('prejoin-join').hidden = true;
    setPreview(null);
  });
  return p;
}

/** Wires the screen's buttons (once). */
export function bindPrejoin() {
  $('prejoin-mic').addEventListener('click', () => {
    const m = pending && pending.media;
    if (!m) return;
    m.setMuted(!m.muted);
    setPreview(m);
  });
  $('prejoin-cam').addEventListener('click', () => {
    const m = pending && pending.media;
    if (!m || m.audioOnly) return;
    m.setCameraOff(!m.cameraOff);
    setPreview(m);
  });
  $('prejoin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!pending || !pending.media) return;
    join(pending.media);
  });
  $('prejoin-listen').addEventListener('click', () => join(null));
  $('prejoin-back').addEventListener('click', () => finish(null));
}

function join(media) {
  const input = $('prejoin-name');
  if (input.hidden) { // a team room: the account's name, the saved one kept for other calls
    prefs.setSkipPrejoin($('prejoin-skip').checked);
    if (media) prefs.saveDevices({ micOff: media.muted, camOff: !media.audioOnly && media.cameraOff });
    finish({ media, name: '' });
    return;
  }
  const name = input.value.trim();
  if (name && !prefs.NAME_RE.test(name)) {
    input.setAttribute('aria-invalid', 'true');
    $('prejoin-name-note').textContent = 'Use up to 32 letters, digits, spaces, dots, dashes or underscores.';
    input.focus();
    return;
  }
  prefs.saveName(name);
  prefs.setSkipPrejoin($('prejoin-skip').checked);
  if (media) prefs.saveDevices({ micOff: media.muted, camOff: !media.audioOnly && media.cameraOff });
  finish({ media, name });
}

function finish(result) {
  const p = pending;
  pending = null;
  $('prejoin-video').srcObject = null;
  if (!p) return;
  if (!result && p.media) p.media.stop();
  p.resolve(result);
}

function note(text) {
  $('prejoin-media-note').textContent = text;
}

function setPreview(media) {
  const video = $('prejoin-video');
  const noVideo = !media || media.audioOnly;
  if (media && video.srcObject !== media.stream) {
    video.srcObject = media.stream;
    video.play().catch(() => {});
  }
  const camOff = noVideo || media.cameraOff;
  $('prejoin-preview').dataset.camera = camOff ? 'off' : 'on';
  $('prejoin-off').textContent = !media ? 'No camera' : media.audioOnly ? 'Audio only' : 'Camera off';
  const mic = $('prejoin-mic');
  mic.setAttribute('aria-pressed', String(!media || media.muted));
  mic.setAttribute('aria-disabled', String(!media));
  const cam = $('prejoin-cam');
  cam.setAttribute('aria-pressed', String(camOff));
  cam.setAttribute('aria-disabled', String(noVideo));
}
