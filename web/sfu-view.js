// What this browser shows of each remote member's video in an SFU room,
// told to tincan as {"type":"sfu-view","tiles":[{peer,width,height}]}
// (docs/protocol.md, "SFU rooms") so that it sends the smallest simulcast
// layer that fits each tile, and nothing for tiles nobody sees.
//
// A tile's size is its <video> element's box in device pixels
// (ResizeObserver); a tile that is off-screen (IntersectionObserver), on a
// hidden page (document visibility) or has no box is 0 x 0. Changes are
// sent together, at most every REPORT_MS, and only when they change what
// tincan would pick; resend() repeats everything (after an sfu-reset the
// server knows nothing of the old reports).

const REPORT_MS = 250;

export class ViewReporter {
  /** @type {Map<string, {el: Element, w: number, h: number, visible: boolean}>} */
  #tiles = new Map();
  #sent = new Map();
  #timer = null;
  #resize = null;
  #intersect = null;
  #onVisibility = () => this.#schedule();

  /** send(msg): sends one signaling message. */
  constructor(send) {
    this.send = send;
    if (typeof ResizeObserver === 'function') {
      this.#resize = new ResizeObserver((entries) => {
        for (const e of entries) this.#measure(e.target);
        this.#schedule();
      });
    }
    if (typeof IntersectionObserver === 'function') {
      this.#intersect = new IntersectionObserver((entries) => {
        for (const e of entries) {
          const t = this.#byElement(e.target);
          if (t) t.visible = e.isIntersecting;
        }
        this.#schedule();
      });
    }
    document.addEventListener('visibilitychange', this.#onVisibility);
  }

  /** Follows the size of peer id's video element el. */
  watch(id, el) {
    if (!el || (this.#tiles.has(id) && this.#tiles.get(id).el === el)) return;
    this.unwatch(id);
    const t = { el, w: 0, h: 0, visible: true };
    this.#tiles.set(id, t);
    this.#measure(el);
    if (this.#resize) this.#resize.observe(el);
    if (this.#intersect) this.#intersect.observe(el);
    this.#schedule();
  }

  unwatch(id) {
    const t = this.#tiles.get(id);
    if (!t) return;
    if (this.#resize) this.#resize.unobserve(t.el);
    if (this.#intersect) this.#intersect.unobserve(t.el);
    this.#tiles.delete(id);
    this.#sent.delete(id);
  }

  /** Sends every tile again at the next report. */
  resend() {
    this.#sent.clear();
    this.#schedule();
  }

  close() {
    clearTimeout(this.#timer);
    for (const id of [...this.#tiles.keys()]) this.unwatch(id);
    if (this.#resize) this.#resize.disconnect();
    if (this.#intersect) this.#intersect.disconnect();
    document.removeEventListener('visibilitychange', this.#onVisibility);
  }

  #byElement(el) {
    for (const t of this.#tiles.values()) if (t.el === el) return t;
    return null;
  }

  #measure(el) {
    const t = this.#byElement(el);
    if (!t) return;
    const r = el.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    t.w = Math.round(r.width * dpr);
    t.h = Math.round(r.height * dpr);
  }

  #schedule() {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#report();
    }, REPORT_MS);
  }

  #report() {
    const hidden = document.visibilityState === 'hidden';
    const tiles = [];
    for (const [id, t] of this.#tiles) {
      if (!t.el.isConnected) continue;
      const shown = !hidden && t.visible && t.w > 0 && t.h > 0;
      const size = shown ? { width: Math.min(t.w, 16384), height: Math.min(t.h, 16384) } : { width: 0, height: 0 };
      const last = this.#sent.get(id);
      if (last && last.width === size.width && last.height === size.height) continue;
      this.#sent.set(id, size);
      tiles.push({ peer: id, ...size });
    }
    for (let i = 0; i < tiles.length; i += 64) this.send({ type: 'sfu-view', tiles: tiles.slice(i, i + 64) });
  }
}
