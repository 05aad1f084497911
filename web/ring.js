// The ring of an incoming call, synthesized with WebAudio (no sound files).
//
// Browsers only let a page make sound after a user gesture, so unlock() is
// called from a click (entering the lobby); the AudioContext it creates is
// then allowed to play later, when a call comes in without any click.

let ctx = null;
let timer = null;
let master = null;
let backTimer = null;
let backMaster = null;
let savedTitle = null;

const PATTERN_MS = 3000; // one double chirp every 3 s

/** Creates (or resumes) the AudioContext; call it from a user gesture. */
export function unlock() {
  const AC = window.AudioContext || window.webkitAudioContext;
  if (!AC) return;
  if (!ctx) ctx = new AC();
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});
}

/** Whether the ring is sounding right now (ringing, and the browser lets the audio run). */
export function ringing() {
  return timer !== null && !!ctx && ctx.state === 'running';
}

/** Starts ringing until stop(). */
export function start() {
  if (timer !== null) return;
  unlock();
  if (!ctx) return;
  master = ctx.createGain();
  master.gain.value = 0.18;
  master.connect(ctx.destination);
  chirp();
  timer = setInterval(chirp, PATTERN_MS);
}

/** Stops ringing (safe to call when it is not ringing). */
export function stop() {
  if (timer === null) return;
  clearInterval(timer);
  timer = null;
  const m = master;
  master = null;
  // Let a chirp that is playing fade out instead of clicking.
  if (m) setTimeout(() => m.disconnect(), 400);
}

/** Two short two-tone bursts, like a desk phone. */
function chirp() {
  if (!ctx || !master) return;
  const t0 = ctx.currentTime + 0.02;
  for (const offset of [0, 0.45]) {
    burst(t0 + offset, 0.35, [660, 880]);
  }
}

function burst(at, length, freqs) {
  const env = ctx.createGain();
  env.gain.setValueAtTime(0, at);
  env.gain.linearRampToValueAtTime(1, at + 0.02);
  env.gain.setValueAtTime(1, at + length - 0.06);
  env.gain.linearRampToValueAtTime(0, at + length);
  env.connect(master);
  for (const f of freqs) {
    const osc = ctx.createOscillator();
    osc.type = 'sine';
    osc.frequency.value = f;
    osc.connect(env);
    osc.start(at);
    osc.stop(at + length + 0.01);
    osc.addEventListener('ended', () => osc.disconnect());
  }
  setTimeout(() => env.disconnect(), (at - ctx.currentTime + length + 0.1) * 1000);
}

/** Whether the caller's ringback tone is sounding. */
export function ringingBack() {
  return backTimer !== null && !!ctx && ctx.state === 'running';
}

/**
 * The caller's ringback: a soft 440+480 Hz tone, 2 s on and 4 s off (the
 * North American pattern), until stopRingback().
 */
export function startRingback() {
  if (backTimer !== null) return;
  unlock();
  if (!ctx) return;
  backMaster = ctx.createGain();
  backMaster.gain.value = 0.08;
  backMaster.connect(ctx.destination);
  const once = () => {
    if (!ctx || !backMaster) return;
    const at = ctx.currentTime + 0.02;
    const env = ctx.createGain();
    env.gain.setValueAtTime(0, at);
    env.gain.linearRampToValueAtTime(1, at + 0.05);
    env.gain.setValueAtTime(1, at + 1.95);
    env.gain.linearRampToValueAtTime(0, at + 2);
    env.connect(backMaster);
    for (const f of [440, 480]) {
      const osc = ctx.createOscillator();
      osc.frequency.value = f;
      osc.connect(env);
      osc.start(at);
      osc.stop(at + 2.01);
      osc.addEventListener('ended', () => osc.disconnect());
    }
    setTimeout(() => env.disconnect(), 2200);
  };
  once();
  backTimer = setInterval(once, 6000);
}

export function stopRingback() {
  if (backTimer === null) return;
  clearInterval(backTimer);
  backTimer = null;
  const m = backMaster;
  backMaster = null;
  if (m) setTimeout(() => m.disconnect(), 200);
}

/**
 * Makes an incoming call from `from` hard to miss: the tab title becomes
 * "Ringing — <from>", and when the tab is hidden and the person allowed
 * notifications, a system notification is shown through the service worker.
 */
export function announce(from) {
  if (savedTitle === null) savedTitle = document.title;
  document.title = `Ringing — ${from}`;
  if (!document.hidden || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.ready.then((reg) => reg.showNotification(`${from} is calling`, {
    body: 'Open tincan to answer.', tag: 'tincan-incoming', renotify: true, requireInteraction: true,
  })).catch(() => {});
}

/** Undoes announce(): the title comes back and the notification goes. */
export function unannounce() {
  if (savedTitle !== null) document.title = savedTitle;
  savedTitle = null;
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.getRegistration().then((reg) => reg && reg.getNotifications({ tag: 'tincan-incoming' }))
    .then((list) => { for (const n of list || []) n.close(); }).catch(() => {});
}

/** Asks for permission to notify (from a click), if not asked before. */
export function askToNotify() {
  if (typeof Notification === 'undefined' || Notification.permission !== 'default') return;
  Notification.requestPermission().catch(() => {});
}
