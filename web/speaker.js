// Who is speaking: the audio level of each remote stream, measured in the
// browser with WebAudio analysers (nothing is sent anywhere). Every 250 ms
// the loudest stream above a threshold becomes the active speaker; it stays
// so for a moment after it goes quiet, so the highlight does not flicker.

const TICK_MS = 250;
const THRESHOLD = 0.02; // RMS of the time-domain signal, 0..1
const HOLD_MS = 1200;

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
    analyser.fftSize = 512;
    source.connect(analyser);
    this.#nodes.set(id, { stream, source, analyser, buf: new Float32Array(analyser.fftSize) });
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
      let sum = 0;
      for (const v of n.buf) sum += v * v;
      const level = Math.sqrt(sum / n.buf.length);
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
