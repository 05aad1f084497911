// The page's DOM: the connection status line and the three ways to call.
//
// ui.js only renders and reports user intent; what a choice does is decided
// by whoever passes the handlers to bindChoices() (app.js).

const STATUS_TEXT = {
  connecting: 'Connecting to the server…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  disconnected: 'Disconnected',
};

const $ = (id) => document.getElementById(id);

/** Shows a signaling status ({status, retryInMs?, lost?, reason?}) in #status. */
export function showStatus({ status, retryInMs, lost, reason }) {
  const el = $('status');
  el.dataset.status = status;
  let text = STATUS_TEXT[status] || status;
  if (status === 'reconnecting' && retryInMs) {
    const secs = Math.round(retryInMs / 1000);
    text = lost ? `Connection lost. Reconnecting in ${secs} s` : `Server unreachable. Retrying in ${secs} s`;
  } else if (status === 'disconnected' && reason === 'offline') {
    text = 'Offline. Waiting for the network…';
  }
  $('status-text').textContent = text;
}

/** Writes a short message under a choice ('join', 'pin' or 'lobby'). */
export function showNote(choice, text, { error = false } = {}) {
  const el = $(`${choice}-note`);
  el.textContent = text;
  el.classList.toggle('note-error', error);
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
  $('join').addEventListener('click', () => handlers.join());

  const pin = $('pin');
  guardPinInput(pin);
  $('pin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!/^\d{6}$/.test(pin.value)) {
      pin.setAttribute('aria-invalid', 'true');
      showNote('pin', 'A PIN is exactly six digits.', { error: true });
      pin.focus();
      return;
    }
    handlers.pin(pin.value);
  });

  const name = $('lobby-name');
  name.addEventListener('input', () => name.removeAttribute('aria-invalid'));
  $('lobby-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const value = name.value.trim();
    if (!value) {
      name.setAttribute('aria-invalid', 'true');
      showNote('lobby', 'Type the name others will see.', { error: true });
      name.focus();
      return;
    }
    handlers.lobby(value);
  });
}
