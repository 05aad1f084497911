// The ring of an incoming call, synthesized with WebAudio (no sound files).
//
// Browsers only let a page make sound after a user gesture, so unlock() is
// called from a click (entering the lobby); the AudioContext it creates is
// then allowed to play later, when a call comes in without any click.

let ctx = null;
let timer = null;
let master = null;

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
