// The self-view while one other person is in the call: a small tile over
// the grid that can be dragged (mouse, touch or pen: pointer events) and
// arrow-keyed, always kept inside the grid; where it was left is remembered
// in localStorage as fractions of the free space, so it lands in the same
// corner on another screen size. With two or more others the self-view is
// a tile of the grid (call-view.js) and does not move.

const KEY = 'tincan.selfPos';
const STEP = 0.05; // one arrow key press, as a fraction of the free space

const $ = (id) => document.getElementById(id);

function saved() {
  try {
    const p = JSON.parse(localStorage.getItem(KEY));
    if (p && Number.isFinite(p.x) && Number.isFinite(p.y)) return { x: clamp01(p.x), y: clamp01(p.y) };
  } catch {
    // Storage off or a broken value: the default corner.
  }
  return null;
}

function save(pos) {
  try {
    localStorage.setItem(KEY, JSON.stringify(pos));
  } catch {
    // Not remembered; it still applies to this call.
  }
}

const clamp01 = (v) => Math.min(1, Math.max(0, v));

/** Whether the self-view floats (not a tile of the grid). */
const floating = () => $('self').parentElement !== $('grid');

/** The room the self-view may move in: the grid's box, in the stage's coordinates. */
function room() {
  const self = $('self');
  const grid = $('grid');
  return {
    left: grid.offsetLeft,
    top: grid.offsetTop,
    w: Math.max(0, grid.clientWidth - self.offsetWidth),
    h: Math.max(0, grid.clientHeight - self.offsetHeight),
  };
}

function apply(pos) {
  const self = $('self');
  const r = room();
  self.style.left = `${r.left + Math.round(pos.x * r.w)}px`;
  self.style.top = `${r.top + Math.round(pos.y * r.h)}px`;
  self.style.right = 'auto';
  self.style.bottom = 'auto';
}

/** The current position as fractions of the free space. */
function current() {
  const self = $('self');
  const r = room();
  return {
    x: r.w ? clamp01((self.offsetLeft - r.left) / r.w) : 1,
    y: r.h ? clamp01((self.offsetTop - r.top) / r.h) : 1,
  };
}

/**
 * Places the self-view after a layout change: floating, at the remembered
 * spot (or the default corner); in the grid, with no position of its own.
 */
export function placeSelf() {
  const self = $('self');
  const on = floating();
  self.dataset.draggable = String(on);
  if (on) {
    self.tabIndex = 0;
    self.setAttribute('aria-label', 'Your picture. Drag it, or use the arrow keys, to move it');
  } else {
    self.removeAttribute('tabindex');
    self.removeAttribute('aria-label');
  }
  const pos = on && saved();
  if (pos) {
    apply(pos);
    return;
  }
  for (const p of ['left', 'top', 'right', 'bottom']) self.style[p] = '';
}

/** Drag handling, once: pointer events on the self-view, arrow keys, re-placing on resize. */
export function bindSelfDrag() {
  const self = $('self');
  let drag = null;
  self.addEventListener('pointerdown', (ev) => {
    if (!floating() || !ev.isPrimary || ev.button !== 0) return;
    drag = { id: ev.pointerId, dx: ev.clientX - self.offsetLeft, dy: ev.clientY - self.offsetTop };
    self.setPointerCapture(ev.pointerId);
    self.dataset.dragging = 'true';
    ev.preventDefault();
  });
  self.addEventListener('pointermove', (ev) => {
    if (!drag || ev.pointerId !== drag.id) return;
    const r = room();
    apply({
      x: r.w ? clamp01((ev.clientX - drag.dx - r.left) / r.w) : 1,
      y: r.h ? clamp01((ev.clientY - drag.dy - r.top) / r.h) : 1,
    });
  });
  const end = (ev) => {
    if (!drag || ev.pointerId !== drag.id) return;
    drag = null;
    delete self.dataset.dragging;
    save(current());
  };
  self.addEventListener('pointerup', end);
  self.addEventListener('pointercancel', end);
  self.addEventListener('keydown', (ev) => {
    const move = { ArrowLeft: [-STEP, 0], ArrowRight: [STEP, 0], ArrowUp: [0, -STEP], ArrowDown: [0, STEP] }[ev.key];
    if (!move || !floating()) return;
    const p = current();
    const pos = { x: clamp01(p.x + move[0]), y: clamp01(p.y + move[1]) };
    apply(pos);
    save(pos);
    ev.preventDefault();
  });
  // The grid changes size with the window and when the chat opens: keep the spot.
  new ResizeObserver(() => {
    const pos = floating() && saved();
    if (pos) apply(pos);
  }).observe($('grid'));
}
