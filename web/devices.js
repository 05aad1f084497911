// Choosing the microphone, camera and speaker, in a call and for the next
// ones. A new microphone or camera is switched in live: the new track takes
// the old one's place on every connection with replaceTrack (no
// renegotiation, the call goes on), keeps its mute or camera-off state,
// and the old device is released. The speaker is the output of volume.js's
// AudioContext. On phones, "Switch to the other camera" flips between the
// front and back camera (facingMode). Choices are remembered in
// localStorage and used by media.js when a call starts.

const $ = (id) => document.getElementById(id);
const KEY = 'tincan.devices';

/** The remembered choice: {audio, video, speaker: deviceId or '', facing: 'user' | 'environment' | ''}. */
export function savedDevices() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) || '{}');
    return { audio: v.audio || '', video: v.video || '', speaker: v.speaker || '', facing: v.facing || '' };
  } catch {
    return { audio: '', video: '', speaker: '', facing: '' };
  }
}

function save(changes) {
  try {
    localStorage.setItem(KEY, JSON.stringify({ ...savedDevices(), ...changes }));
  } catch {
    // Not remembered; it still applies to this call.
  }
}

/** Extra getUserMedia constraints for kind ('audio' | 'video') from the remembered choice. */
export function preferred(kind) {
  const s = savedDevices();
  if (kind === 'audio') return s.audio ? { deviceId: { ideal: s.audio } } : {};
  if (s.facing) return { facingMode: { ideal: s.facing } };
  return s.video ? { deviceId: { ideal: s.video } } : {};
}

/** Whether sound output can be pointed at a device here. */
export function canPickSpeaker() {
  return (typeof AudioContext === 'function' && 'setSinkId' in AudioContext.prototype)
    || (typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype);
}

/**
 * Puts a new `kind` track from constraints into media (a LocalMedia) and
 * on every connection of call; the old track stops. Returns the new track.
 */
export async function switchTrack(media, call, kind, constraints) {
  const old = kind === 'audio' ? media.audioTrack : media.videoTrack;
  // Phones often cannot open a second camera while one is open.
  if (kind === 'video' && old) old.stop();
  let track;
  try {
    const s = await navigator.mediaDevices.getUserMedia({ [kind]: constraints });
    track = s.getTracks()[0];
  } catch (err) {
    if (kind === 'video' && old) {
      // Get the previous camera back rather than leave the call without one.
      const again = await navigator.mediaDevices.getUserMedia({ video: { deviceId: { exact: old.getSettings().deviceId } } }).catch(() => null);
      if (again) await place(media, call, kind, old, again.getVideoTracks()[0]);
    }
    throw err;
  }
  await place(media, call, kind, old, track);
  return track;
}

async function place(media, call, kind, old, track) {
  track.enabled = old ? old.enabled : true;
  if (call) await call.replaceTrack(kind, track);
  if (old) {
    media.stream.removeTrack(old);
    old.stop();
  }
  media.stream.addTrack(track);
}

function fill(select, devices, kind, current) {
  const list = devices.filter((d) => d.kind === kind);
  select.replaceChildren(...list.map((d, i) => {
    const o = document.createElement('option');
    o.value = d.deviceId;
    o.textContent = d.label || `${kind === 'audioinput' ? 'Microphone' : kind === 'videoinput' ? 'Camera' : 'Speaker'} ${i + 1}`;
    return o;
  }));
  if (current && list.some((d) => d.deviceId === current)) select.value = current;
  select.disabled = list.length === 0;
  return list.length;
}

/**
 * Opens the device dialog for the running call. ctx: {media: LocalMedia
 * or null, call: Call, mixer: Mixer, onChange()} (onChange: the local
 * preview and the state to tell the room).
 */
export async function openDevices(ctx) {
  const dlg = $('devices-dialog');
  const devices = await navigator.mediaDevices.enumerateDevices();
  const m = ctx.media;
  const cur = { audio: m && m.audioTrack ? m.audioTrack.getSettings().deviceId : '', video: m && m.videoTrack ? m.videoTrack.getSettings().deviceId : '' };
  fill($('dev-mic'), devices, 'audioinput', cur.audio);
  const cams = fill($('dev-cam'), devices, 'videoinput', cur.video);
  const outs = fill($('dev-speaker'), devices, 'audiooutput', savedDevices().speaker);
  $('dev-speaker-row').hidden = !canPickSpeaker() || outs === 0;
  $('dev-mic').disabled ||= !m;
  $('dev-cam').disabled ||= !m || m.audioOnly;
  $('dev-flip').hidden = !(cams > 1 && m && !m.audioOnly && matchMedia('(pointer: coarse)').matches);
  $('dev-note').textContent = '';
  bindOnce(ctx);
  dlg.showModal();
}

let bound = null;

function bindOnce(ctx) {
  bound = ctx;
  if (bindOnce.done) return;
  bindOnce.done = true;
  const run = async (fn, ok) => {
    try {
      await fn();
      $('dev-note').textContent = ok;
      bound.onChange();
    } catch (err) {
      $('dev-note').textContent = `That did not work: ${err.message || err.name}.`;
    }
  };
  $('dev-mic').addEventListener('change', (ev) => run(async () => {
    await switchTrack(bound.media, bound.call, 'audio', { deviceId: { exact: ev.target.value } });
    save({ audio: ev.target.value });
  }, 'Microphone switched.'));
  $('dev-cam').addEventListener('change', (ev) => run(async () => {
    await switchTrack(bound.media, bound.call, 'video', { deviceId: { exact: ev.target.value } });
    save({ video: ev.target.value, facing: '' });
  }, 'Camera switched.'));
  $('dev-speaker').addEventListener('change', (ev) => run(async () => {
    await bound.mixer.setSink(ev.target.value);
    save({ speaker: ev.target.value });
  }, 'Speaker switched.'));
  $('dev-flip').addEventListener('click', () => run(async () => {
    const facing = savedDevices().facing === 'environment' ? 'user' : 'environment';
    await switchTrack(bound.media, bound.call, 'video', { facingMode: { exact: facing } });
    save({ facing, video: '' });
  }, 'Camera switched.'));
}
