// Screen sharing: getDisplayMedia with a quality picked in the share
// dialog (720p, 1080p, 1080p at 60 frames a second, or the screen's own
// size), tab or system sound if asked for, and a codec order for the share
// of AV1, then VP9, then VP8 — whichever of them the browser can send —
// set with setCodecPreferences on the share's transceivers (call.js).
//
// The share goes to everyone in the call as a MediaStream of its own; its
// id is told to the room in `state` (screen), so the others show it as the
// big tile. A second person who shares does not stop the first: the newest
// share is the big tile, the older ones stay as tiles (docs/rooms.md).

const $ = (id) => document.getElementById(id);

/** Capture constraints, sender limits and content hint of each quality. */
export const QUALITIES = {
  '720p': { video: { width: { ideal: 1280, max: 1280 }, height: { ideal: 720, max: 720 }, frameRate: { ideal: 30, max: 30 } }, maxBitrate: 2_500_000, maxFramerate: 30, hint: 'detail' },
  '1080p': { video: { width: { ideal: 1920, max: 1920 }, height: { ideal: 1080, max: 1080 }, frameRate: { ideal: 30, max: 30 } }, maxBitrate: 4_000_000, maxFramerate: 30, hint: 'detail' },
  '1080p60': { video: { width: { ideal: 1920, max: 1920 }, height: { ideal: 1080, max: 1080 }, frameRate: { ideal: 60, max: 60 } }, maxBitrate: 8_000_000, maxFramerate: 60, hint: 'motion' },
  native: { video: { frameRate: { ideal: 60, max: 60 } }, maxBitrate: 10_000_000, maxFramerate: 60, hint: 'detail' },
};

const ORDER = ['video/AV1', 'video/VP9', 'video/VP8'];

/**
 * The browser's video codecs with AV1, VP9 and VP8 first (in that order,
 * those it has), then the rest (H.264, and RTX/RED/FEC that must stay).
 */
export function codecOrder() {
  const caps = typeof RTCRtpSender !== 'undefined' && RTCRtpSender.getCapabilities
    ? RTCRtpSender.getCapabilities('video') : null;
  if (!caps) return null;
  const rank = (c) => {
    const i = ORDER.indexOf(c.mimeType);
    return i < 0 ? ORDER.length : i;
  };
  return [...caps.codecs].sort((a, b) => rank(a) - rank(b));
}

/**
 * Whether to offer sharing: the browser must have getDisplayMedia, and
 * touch-first devices (phones, tablets) get no button: their browsers
 * cannot share a screen, and the call's control row has no room for it.
 */
export function canShare() {
  return !!(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia) && !matchMedia('(pointer: coarse)').matches;
}

/**
 * Asks for a screen, window or tab at `quality`; resolves to {stream,
 * prefs} for Call.setScreen, or null when the person cancels.
 */
export async function captureScreen(quality = '1080p', audio = false) {
  const q = QUALITIES[quality] || QUALITIES['1080p'];
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: q.video, audio });
  } catch (err) {
    if (err && (err.name === 'NotAllowedError' || err.name === 'AbortError')) return null;
    throw err;
  }
  const video = stream.getVideoTracks()[0];
  if (video && 'contentHint' in video) video.contentHint = q.hint;
  return { stream, quality, prefs: { codecs: codecOrder(), maxBitrate: q.maxBitrate, maxFramerate: q.maxFramerate } };
}

/** Opens the share dialog; resolves to {quality, audio} or null (cancelled). */
export function askShare() {
  const dlg = $('share-dialog');
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => {
      if (dlg.returnValue !== 'start') {
        resolve(null);
        return;
      }
      const picked = dlg.querySelector('input[name="quality"]:checked');
      resolve({ quality: picked ? picked.value : '1080p', audio: $('share-audio').checked });
    }, { once: true });
    dlg.returnValue = '';
    dlg.showModal();
  });
}
