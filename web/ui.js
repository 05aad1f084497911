// The page's common DOM: the views, the connection status line and the start
// screen's three ways to call.
//
// ui.js only renders and reports user intent; what a choice does is decided
// by whoever passes the handlers to bindChoices() (app.js). The lobby and
// the call screen have their own modules (lobby-view.js, call-view.js).

import { savedName } from './prefs.js';

const STATUS_TEXT = {
  connecting: 'Connecting to the server…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  disconnected: 'Disconnected',
};

const $ = (id) => document.getElementById(id);

let statusTimer = null;
const noteTimers = {};

/**
 * Shows one view ('start', 'lobby' or 'call') and hides the others. The
 * status line moves into the shown view's header; focus goes to the view's
 * main heading unless `focus` is false.
 */
export function showView(name, { focus = true } = {}) {
  if (name !== 'prejoin') {
    const v = document.getElementById('prejoin-video');
    if (v) v.srcObject = null;
  }
  document.body.dataset.view = name;
  let shown = null;
  for (const view of document.querySelectorAll('.view')) {
    const on = view.dataset.view === name;
    view.hidden = !on;
    if (on) shown = view;
  }
  if (!shown) return;
  const slot = shown.querySelector('.status-slot');
  const status = $('status');
  if (slot && status.parentElement !== slot) slot.append(status);
  if (focus && name !== 'start') {
    const heading = shown.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  }
}

/** Adapts the join card to a named room (/r/<name>) or back to the default room. */
export function setJoinRoom(room) {
  const named = room !== 'default';
  $('join-title').textContent = named ? `Room “${room}”` : 'Join the call';
  $('join-hint').textContent = named
    ? 'Everyone who opens this room\'s link meets here.'
    : 'One room for everyone who opens this page. Press the button and you are in.';
  $('join').textContent = named ? 'Join Room' : 'Join Call';
}

/** A room link that names no valid room: say so, and offer no way into the shared room. */
export function showBadRoom(text) {
  $('join-title').textContent = 'This room link does not work';
  $('join-hint').textContent = 'Check the link you were sent, or make a new room.';
  $('join').hidden = true;
  $('start-link').hidden = false;
  showNote('join', text, { error: true });
}

/**
 * A note under `choice` that counts down from `secs` (text(n) for each
 * second left), then calls done(). A new note under the same choice stops it.
 */
export function countdownNote(choice, secs, text, done) {
  clearInterval(noteTimers[choice]);
  const until = Date.now() + secs * 1000;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(noteTimers[choice]);
      noteTimers[choice] = null;
      done();
      return;
    }
    $(`${choice}-note`).textContent = text(left);
  };
  showNote(choice, text(secs), { error: true, keepTimer: true });
  noteTimers[choice] = setInterval(tick, 250);
}

/** Whether the "Audio only" switch is on. */
export function audioOnlyChosen() {
  return $('audio-only').checked;
}

/** Makes the three choices look busy (true) while a call is being set up, or ready again. */
export function setChoicesBusy(busy) {
  for (const el of document.querySelectorAll('#main button, #main input')) {
    if (busy) el.setAttribute('aria-disabled', 'true');
    else el.removeAttribute('aria-disabled');
  }
  $('main').toggleAttribute('aria-busy', busy);
}

/** Shows a signaling status ({status, retryInMs?, lost?, reason?}) in #status. */
export function showStatus({ status, retryAt, lost, reason }) {
  const el = $('status');
  el.dataset.status = status;
  clearInterval(statusTimer);
  statusTimer = null;
  let text = STATUS_TEXT[status] || status;
  let count = '';
  const waiting = status === 'reconnecting' && retryAt;
  if (waiting) {
    text = lost ? 'Connection lost. Reconnecting in ' : 'Server unreachable. Retrying in ';
    // The seconds count down in a part the screen reader does not re-read
    // every second; the whole line is read once.
    const secsLeft = () => `${Math.max(0, Math.ceil((retryAt - Date.now()) / 1000))} s`;
    $('status-text').textContent = text;
    $('status-count').textContent = secsLeft();
    statusTimer = setInterval(() => { $('status-count').textContent = secsLeft(); }, 250);
    count = secsLeft();
  } else if (status === 'disconnected' && reason === 'offline') {
    text = 'Offline. Waiting for the network…';
  }
  $('status-text').textContent = text;
  $('status-count').textContent = count;
  $('reconnect-now').hidden = !waiting;
}

/** Writes a short message under a choice ('join', 'pin' or 'lobby'); '' clears it. */
export function showNote(choice, text, { error = false, keepTimer = false } = {}) {
  if (!keepTimer && noteTimers[choice]) {
    clearInterval(noteTimers[choice]);
    noteTimers[choice] = null;
  }
  const el = $(`${choice}-note`);
  el.textContent = text;
  el.classList.toggle('note-error', error);
}

/** Clears the notes of all three choices. */
export function clearNotes() {
  for (const choice of ['join', 'pin', 'lobby']) showNote(choice, '');
}

/** Keeps only digits in the PIN field while the user types or pastes. */
function guardPinInput(input) {
  input.addEventListener('input', () => {
    const digits = input.value.replace(/\D+/g, '').slice(0, 6);
    if (digits !== input.value) input.value = digits;
    input.removeAttribute('aria-invalid');
  });
}

/**
 * Wires the three choices. handlers: {join(), pin(pin), lobby(name)}; each is
 * called only with valid input. Invalid input gets a note and focus instead.
 */
export function bindChoices(handlers) {
  const busy = () => $('main').hasAttribute('aria-busy');
  $('join').addEventListener('click', () => {
    if (!busy()) handlers.join();
  });
  $('new-room').addEventListener('click', () => handlers.newRoom());
  $('reconnect-now').addEventListener('click', () => handlers.reconnectNow());

  const audioOnly = $('audio-only');
  try {
    audioOnly.checked = localStorage.getItem('tincan.audioOnly') === '1';
  } catch {
    // Storage may be off; the switch then just starts unchecked.
  }
  audioOnly.addEventListener('change', () => {
    try {
      localStorage.setItem('tincan.audioOnly', audioOnly.checked ? '1' : '0');
    } catch {
      // Not remembered; it still applies to this page.
    }
  });

  const pin = $('pin');
  guardPinInput(pin);
  $('pin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (busy()) return;
    if (!/^\d{6}$/.test(pin.value)) {
      pin.setAttribute('aria-invalid', 'true');
      showNote('pin', 'A PIN is exactly six digits.', { error: true });
      pin.focus();
      return;
    }
    handlers.pin(pin.value);
  });

  const name = $('lobby-name');
  if (!name.value) name.value = savedName();
  name.addEventListener('input', () => name.removeAttribute('aria-invalid'));
  $('lobby-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (busy()) return;
    const value = name.value.trim();
    if (!value) {
      name.setAttribute('aria-invalid', 'true');
      showNote('lobby', 'Type the name others will see.', { error: true });
      name.focus();
      return;
    }
    if (!/^[\p{L}\p{N} _.-]{1,32}$/u.test(value)) {
      name.setAttribute('aria-invalid', 'true');
      showNote('lobby', 'Use up to 32 letters, digits, spaces, dots, dashes or underscores.', { error: true });
      name.focus();
      return;
    }
    handlers.lobby(value);
  });
}
