// Who is speaking: the audio level of each remote stream, measured in the
// browser with WebAudio analysers (nothing is sent anywhere). Every 250 ms
// the loudest stream above a threshold becomes the active speaker; it stays
// so for a moment after it goes quiet, so the highlight does not flicker.
//
// Each tick looks at all the audio since the last one (the analyser's window
// is longer than a tick) and takes its loudest 10 ms: a short sound between
// two ticks is not missed, and a short sound is not averaged away by the
// silence around it.

const TICK_MS = 250;
const THRESHOLD = 0.02; // RMS of the time-domain signal, 0..1
const HOLD_MS = 1200;
const BLOCK_MS = 10;

/** The smallest analyser window (a power of two, as WebAudio wants) of at least `ms` at `rate`. */
export function windowSize(rate, ms) {
  const want = Math.ceil((rate * ms) / 1000);
  let n = 32;
  while (n < want && n < 32768) n *= 2;
  return n;
}

/** The RMS of the loudest block of `block` samples in `buf` (0 when empty). */
export function loudestBlock(buf, block) {
  let best = 0;
  for (let at = 0; at < buf.length; at += block) {
    const end = Math.min(at + block, buf.length);
    let sum = 0;
    for (let i = at; i < end; i++) sum += buf[i] * buf[i];
    const rms = Math.sqrt(sum / (end - at));
    if (rms > best) best = rms;
  }
  return best;
}

export class SpeakerWatch {
  #ctx = null;
  #nodes = new Map(); // id → {stream, source, analyser, buf}
  #timer = null;
  #current = null;
  #heardAt = 0;

  /** onChange(id | null): the active speaker changed. */
  constructor(onChange) {
    this.onChange = onChange;
  }

  /** Follows the audio of `stream` for peer id (again with a new stream: replaces). */
  watch(id, stream) {
    const old = this.#nodes.get(id);
    if (old && old.stream === stream) return;
    this.forget(id);
    if (!stream || stream.getAudioTracks().length === 0) return;
    const ctx = this.#context();
    if (!ctx) return;
    const source = ctx.createMediaStreamSource(stream);
    const analyser = ctx.createAnalyser();
    analyser.fftSize = windowSize(ctx.sampleRate, TICK_MS * 1.2);
    source.connect(analyser);
    const block = Math.max(1, Math.round((ctx.sampleRate * BLOCK_MS) / 1000));
    this.#nodes.set(id, { stream, source, analyser, block, buf: new Float32Array(analyser.fftSize) });
    if (!this.#timer) this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  forget(id) {
    const n = this.#nodes.get(id);
    if (!n) return;
    n.source.disconnect();
    this.#nodes.delete(id);
    if (this.#current === id) this.#set(null);
  }

  stop() {
    for (const id of [...this.#nodes.keys()]) this.forget(id);
    clearInterval(this.#timer);
    this.#timer = null;
    if (this.#ctx) this.#ctx.close().catch(() => {});
    this.#ctx = null;
  }

  #context() {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    if (!this.#ctx) this.#ctx = new AC();
    if (this.#ctx.state === 'suspended') this.#ctx.resume().catch(() => {});
    return this.#ctx;
  }

  #tick() {
    let best = null;
    let bestLevel = THRESHOLD;
    for (const [id, n] of this.#nodes) {
      n.analyser.getFloatTimeDomainData(n.buf);
      const level = loudestBlock(n.buf, n.block);
      if (level > bestLevel) {
        best = id;
        bestLevel = level;
      }
    }
    const now = Date.now();
    if (best) {
      this.#heardAt = now;
      if (best !== this.#current) this.#set(best);
    } else if (this.#current && now - this.#heardAt > HOLD_MS) {
      this.#set(null);
    }
  }

  #set(id) {
    this.#current = id;
    this.onChange(id);
  }
}
