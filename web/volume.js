// Per-person volume in a call: each remote person's sound goes through a
// WebAudio gain of 0–200 % (the media element's own volume stops at 100 %)
// and can be muted for me alone. The setting is remembered per person (by
// the name shown for them) in localStorage and applied whenever they are in
// a call again. All sound leaves through one AudioContext, whose output
// device is the speaker chosen in devices.js (AudioContext.setSinkId, or an
// <audio> element's setSinkId where only that exists).
//
// The tile's <video> stays attached to the stream but muted: Chromium feeds
// WebAudio from a remote WebRTC stream only while an element plays it.

const KEY = 'tincan.volumes';
const MAX = 200;

function loadAll() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) || '{}');
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

function saveOne(key, setting) {
  if (!key) return;
  const all = loadAll();
  all[key] = setting;
  try {
    localStorage.setItem(KEY, JSON.stringify(all));
  } catch {
    // Not remembered; it still applies now.
  }
}

/** The remembered {volume (0-200), mutedForMe} of a person, or the defaults. */
export function remembered(key) {
  const s = key ? loadAll()[key] : null;
  const v = s && Number.isFinite(s.v) ? Math.min(MAX, Math.max(0, s.v)) : 100;
  return { volume: v, mutedForMe: !!(s && s.m) };
}

export class Mixer {
  #ctx = null;
  #master = null;
  #out = null; // <audio> used when the context cannot pick its device
  #nodes = new Map(); // peer id → {stream, source, gain, analyser, key, volume, mutedForMe}
  #resume = () => { if (this.#ctx && this.#ctx.state === 'suspended') this.#ctx.resume().catch(() => {}); };

  constructor() {
    document.addEventListener('pointerdown', this.#resume, true);
    document.addEventListener('keydown', this.#resume, true);
  }

  /** Whether sound can go through WebAudio here (else the elements play it). */
  static supported() {
    return typeof AudioContext === 'function';
  }

  #context() {
    if (this.#ctx) return this.#ctx;
    this.#ctx = new AudioContext();
    this.#master = this.#ctx.createGain();
    this.#master.connect(this.#ctx.destination);
    return this.#ctx;
  }

  /** Routes the audio of peer id's stream through its gain; key: the person (for remembering). */
  attach(id, stream, key) {
    const old = this.#nodes.get(id);
    if (old && old.stream === stream) {
      this.setKey(id, key);
      return;
    }
    this.forget(id);
    if (!stream || stream.getAudioTracks().length === 0) return;
    const ctx = this.#context();
    const source = ctx.createMediaStreamSource(stream);
    const gain = ctx.createGain();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(gain).connect(analyser);
    gain.connect(this.#master);
    const n = { stream, source, gain, analyser, key: null, volume: 100, mutedForMe: false };
    this.#nodes.set(id, n);
    this.setKey(id, key);
    this.#resume();
  }

  /** The person behind id is now known as key: their remembered setting applies. */
  setKey(id, key) {
    const n = this.#nodes.get(id);
    if (!n || n.key === key) return;
    n.key = key;
    const r = remembered(key);
    this.#apply(n, r.volume, r.mutedForMe);
  }

  #apply(n, volume, mutedForMe) {
    n.volume = volume;
    n.mutedForMe = mutedForMe;
    n.gain.gain.value = mutedForMe ? 0 : volume / 100;
  }

  /** Sets peer id's volume (0-200 %) and remembers it for that person. */
  setVolume(id, volume) {
    const n = this.#nodes.get(id);
    if (!n) return;
    this.#apply(n, Math.min(MAX, Math.max(0, Number(volume) || 0)), n.mutedForMe);
    saveOne(n.key, { v: n.volume, m: n.mutedForMe });
  }

  setMutedForMe(id, muted) {
    const n = this.#nodes.get(id);
    if (!n) return;
    this.#apply(n, n.volume, !!muted);
    saveOne(n.key, { v: n.volume, m: n.mutedForMe });
  }

  /** {volume, mutedForMe} of peer id, or null when its sound is not routed here. */
  setting(id) {
    const n = this.#nodes.get(id);
    return n ? { volume: n.volume, mutedForMe: n.mutedForMe } : null;
  }

  forget(id) {
    const n = this.#nodes.get(id);
    if (!n) return;
    n.source.disconnect();
    n.gain.disconnect();
    this.#nodes.delete(id);
  }

  /** Sends all sound to output device deviceId ('' = the default). */
  async setSink(deviceId) {
    const ctx = this.#context();
    if (typeof ctx.setSinkId === 'function') {
      await ctx.setSinkId(deviceId || '');
      return;
    }
    if (!this.#out) {
      const dest = ctx.createMediaStreamDestination();
      this.#master.disconnect();
      this.#master.connect(dest);
      this.#out = new Audio();
      this.#out.srcObject = dest.stream;
      this.#out.play().catch(() => {});
    }
    if (typeof this.#out.setSinkId === 'function') await this.#out.setSinkId(deviceId || '');
  }

  /** For tests: the gain and the RMS level (0-1) after it, of peer id. */
  probe(id) {
    const n = this.#nodes.get(id);
    if (!n) return null;
    const buf = new Float32Array(n.analyser.fftSize);
    n.analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const x of buf) sum += x * x;
    return { gain: n.gain.gain.value, level: Math.sqrt(sum / buf.length), state: this.#ctx.state };
  }

  /** Stops everything (the call ended). */
  clear() {
    for (const id of [...this.#nodes.keys()]) this.forget(id);
  }
}

/**
 * Adds the volume control to a remote tile: a button that opens a slider
 * (0-200 %) and "Mute for me". onChange(id, {volume?, mutedForMe?}).
 */
export function decorateTile(fig, id, label, onChange) {
  if (fig.querySelector('.tile-vol')) return;
  const btn = document.createElement('button');
  btn.type = 'button';
  btn.className = 'btn btn-small tile-vol';
  btn.textContent = 'Volume';
  btn.setAttribute('aria-expanded', 'false');
  const panel = document.createElement('div');
  panel.className = 'tile-volume';
  panel.hidden = true;
  panel.id = `vol-${id}`;
  btn.setAttribute('aria-controls', panel.id);
  const range = document.createElement('input');
  range.type = 'range';
  range.min = '0';
  range.max = String(MAX);
  range.step = '5';
  range.className = 'vol-range';
  const out = document.createElement('output');
  out.className = 'vol-value';
  const mute = document.createElement('button');
  mute.type = 'button';
  mute.className = 'btn btn-small vol-mute';
  mute.textContent = 'Mute for me';
  mute.setAttribute('aria-pressed', 'false');
  const who = document.createElement('span');
  who.className = 'vol-who';
  who.setAttribute('aria-hidden', 'true');
  panel.append(who, range, out, mute);
  fig.append(btn, panel);
  btn.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    btn.setAttribute('aria-expanded', String(!panel.hidden));
    if (!panel.hidden) range.focus();
  });
  range.addEventListener('input', () => {
    out.textContent = `${range.value} %`;
    onChange(id, { volume: Number(range.value) });
  });
  mute.addEventListener('click', () => {
    const on = mute.getAttribute('aria-pressed') !== 'true';
    onChange(id, { mutedForMe: on });
  });
  labelTile(fig, label);
}

/** Names the tile's volume controls after the person. */
export function labelTile(fig, label) {
  const range = fig.querySelector('.vol-range');
  if (!range) return;
  range.setAttribute('aria-label', `Volume for ${label}`);
  fig.querySelector('.vol-who').textContent = label;
  fig.querySelector('.vol-mute').setAttribute('aria-label', `Mute for me: ${label}`);
  fig.querySelector('.tile-vol').setAttribute('aria-label', `Volume of ${label}`);
}

/** Shows a setting on the tile's controls. */
export function showSetting(fig, { volume, mutedForMe }) {
  const range = fig.querySelector('.vol-range');
  if (!range) return;
  range.value = String(volume);
  fig.querySelector('.vol-value').textContent = `${volume} %`;
  fig.querySelector('.vol-mute').setAttribute('aria-pressed', String(mutedForMe));
  fig.dataset.mutedForMe = String(mutedForMe);
}
