// The local camera and microphone.
//
// getLocalMedia() asks for both (or only the microphone for an audio-only
// call). When the camera alone is the problem (missing, busy, or refused
// while the microphone is allowed) it settles for audio and says so in
// `notice`; when nothing works it throws a MediaError whose message is meant
// for people, not developers. The returned LocalMedia offers mute and camera
// off, which disable tracks rather than removing them, so no renegotiation
// is needed and the other side simply sees silence or a dark picture.

const MESSAGES = {
  NotAllowedError: 'Camera and microphone are blocked. Allow them for this site in the browser\'s '
    + 'address bar (the camera or lock icon), then try again.',
  SecurityError: 'This browser does not allow the camera and microphone on this page. '
    + 'Open it over https:// and try again.',
  NotFoundError: 'No microphone or camera was found. Plug one in (or check that the system '
    + 'gives this browser access to it), then try again.',
  NotReadableError: 'The camera or microphone is in use by another app, or the system blocked it. '
    + 'Close the other app (a video call, the camera app) and try again.',
  OverconstrainedError: 'Your camera or microphone does not support the settings this call needs.',
  AbortError: 'The camera or microphone stopped while starting. Try again.',
  TypeError: 'This browser cannot use a camera or microphone here.',
};
const CAMERA_NOTICE = {
  NotAllowedError: 'The camera is blocked, so you joined with audio only.',
  NotFoundError: 'No camera was found, so you joined with audio only.',
  NotReadableError: 'The camera is in use by another app, so you joined with audio only.',
  OverconstrainedError: 'The camera does not fit this call, so you joined with audio only.',
  AbortError: 'The camera did not start, so you joined with audio only.',
};

import { preferred } from './devices.js';

const VIDEO = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/** An error from getLocalMedia with a message for people; `name` is the DOMException name. */
export class MediaError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

/** The people-facing text for a getUserMedia failure. */
export function friendlyMediaError(err) {
  const name = err && err.name;
  return MESSAGES[name] || 'The camera and microphone could not be started'
    + (err && err.message ? ` (${err.message}).` : '.');
}

/**
 * Gets the local stream. opts.audioOnly skips the camera. Resolves to a
 * LocalMedia; rejects with a MediaError.
 */
export async function getLocalMedia({ audioOnly = false } = {}) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new MediaError('SecurityError', MESSAGES.SecurityError);
  }
  // The devices chosen last time (devices.js), as wishes: a device that is
  // gone does not stop the call.
  const audio = { ...AUDIO, ...preferred('audio') };
  const video = { ...VIDEO, ...preferred('video') };
  if (audioOnly) return new LocalMedia(await ask({ audio }), { audioOnly: true });
  try {
    return new LocalMedia(await navigator.mediaDevices.getUserMedia({ audio, video }));
  } catch (err) {
    if (!(err.name in CAMERA_NOTICE)) throw new MediaError(err.name, friendlyMediaError(err));
    // Maybe only the camera is the problem: try the microphone alone, but
    // report the first error if that fails too (it names the real cause).
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio });
    } catch {
      throw new MediaError(err.name, friendlyMediaError(err));
    }
    return new LocalMedia(stream, { audioOnly: true, notice: CAMERA_NOTICE[err.name] });
  }
}

async function ask(constraints) {
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (err) {
    throw new MediaError(err.name, friendlyMediaError(err));
  }
}

/** The local stream plus mute / camera-off state. */
export class LocalMedia {
  constructor(stream, { audioOnly = false, notice = '' } = {}) {
    this.stream = stream;
    this.audioOnly = audioOnly || stream.getVideoTracks().length === 0;
    this.notice = notice;
  }

  get audioTrack() {
    return this.stream.getAudioTracks()[0] || null;
  }

  get videoTrack() {
    return this.stream.getVideoTracks()[0] || null;
  }

  get muted() {
    const t = this.audioTrack;
    return !t || !t.enabled;
  }

  get cameraOff() {
    const t = this.videoTrack;
    return !t || !t.enabled;
  }

  /** Mutes or unmutes the microphone; returns the new muted state. */
  setMuted(muted) {
    for (const t of this.stream.getAudioTracks()) t.enabled = !muted;
    return this.muted;
  }

  /** Turns the camera off or on; returns whether it is off now. */
  setCameraOff(off) {
    for (const t of this.stream.getVideoTracks()) t.enabled = !off;
    return this.cameraOff;
  }

  /** Releases camera and microphone (the lights go off). */
  stop() {
    for (const t of this.stream.getTracks()) t.stop();
  }
}
