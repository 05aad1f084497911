// Entry point of the tincan web client: connects signaling, wires the page,
// registers the service worker. Calling itself is not built yet, so the three
// choices say so honestly instead of pretending.
import { Signal } from './signal.js';
import { bindChoices, showNote, showStatus } from './ui.js';

const signal = new Signal();
signal.addEventListener('status', (ev) => showStatus(ev.detail));

const SOON = 'This server cannot place calls yet.';
bindChoices({
  join: () => showNote('join', `Group calls are coming soon. ${SOON}`),
  pin: () => showNote('pin', `PIN calls are coming soon. ${SOON}`),
  lobby: () => showNote('lobby', `The lobby is coming soon. ${SOON}`),
});

signal.start();

// Close the socket when the page goes away so it can enter the back/forward
// cache, and reopen it if the page comes back from there.
addEventListener('pagehide', () => signal.stop());
addEventListener('pageshow', (ev) => {
  if (ev.persisted) signal.start();
});

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err) => {
    // The page works without it; it only makes the shell installable/offline.
    console.warn('tincan: service worker not registered:', err && err.message);
  });
}
