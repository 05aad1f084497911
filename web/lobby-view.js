// The lobby screen: who is online, calling someone, and the incoming-call
// dialog. Renders only; app.js decides what the buttons do through the
// handlers given to bindLobby().

import * as ring from './ring.js';

const $ = (id) => document.getElementById(id);

/**
 * handlers: {call(name), cancel(), accept(), reject(), leave()}.
 */
export function bindLobby(handlers) {
  $('lobby-users').addEventListener('click', (ev) => {
    const btn = ev.target.closest('button[data-call]');
    if (!btn) return;
    if (btn.getAttribute('aria-disabled') !== 'true') handlers.call(btn.dataset.call);
    else if (btn.closest('li').dataset.busy === 'true') {
      lobbyMessage(`${btn.dataset.call} is in another call right now. Try again when they are free.`);
    }
  });
  $('outgoing-cancel').addEventListener('click', () => handlers.cancel());
  $('lobby-leave').addEventListener('click', () => handlers.leave());
  $('incoming-accept').addEventListener('click', () => handlers.accept());
  $('incoming-reject').addEventListener('click', () => handlers.reject());
  // Escape closes a modal <dialog> by itself; treat that as a rejection.
  $('incoming').addEventListener('cancel', (ev) => {
    ev.preventDefault();
    handlers.reject();
  });
}

/** Renders the online list ({you, users:[{name, busy}]}); `calling` disables every Call button. */
export function renderLobby({ you, users }, { calling = false } = {}) {
  $('lobby-you').textContent = you;
  const list = $('lobby-users');
  const others = users.filter((u) => u.name.toLowerCase() !== String(you).toLowerCase());
  // Keep focus on the same person's button across updates.
  const focused = document.activeElement && document.activeElement.dataset
    ? document.activeElement.dataset.call : null;
  list.replaceChildren(...others.map((u) => userItem(u, calling)));
  $('lobby-empty').hidden = others.length > 0;
  if (focused) {
    const again = [...list.querySelectorAll('button[data-call]')].find((b) => b.dataset.call === focused);
    if (again) again.focus();
  }
}

function userItem(user, calling) {
  const li = document.createElement('li');
  li.className = 'user';
  li.dataset.name = user.name;
  li.dataset.busy = user.busy ? 'true' : 'false';
  const avatar = document.createElement('span');
  avatar.className = 'avatar';
  avatar.setAttribute('aria-hidden', 'true');
  avatar.textContent = initials(user.name);
  const who = document.createElement('span');
  who.className = 'user-name';
  who.textContent = user.name;
  const state = document.createElement('span');
  state.className = 'user-state';
  state.textContent = user.busy ? 'Busy' : 'Available';
  const btn = document.createElement('button');
  btn.type = 'button';
  btn.className = 'btn btn-call';
  btn.dataset.call = user.name;
  btn.textContent = 'Call';
  btn.setAttribute('aria-label', user.busy ? `Call ${user.name} (busy)` : `Call ${user.name}`);
  if (user.busy || calling) btn.setAttribute('aria-disabled', 'true');
  const text = document.createElement('span');
  text.className = 'user-text';
  text.append(who, state);
  li.append(avatar, text, btn);
  return li;
}

/** One or two letters for an avatar. */
export function initials(name) {
  const parts = String(name).trim().split(/[\s._-]+/).filter(Boolean);
  const letters = parts.length > 1 ? [...parts[0]][0] + [...parts[1]][0] : [...(parts[0] || '?')][0];
  return letters.toUpperCase();
}

/** Shows "Calling <name>…" with a Cancel button, or hides it (name null). */
export function showOutgoing(name) {
  if (!name) ring.stopRingback();
  $('outgoing').hidden = !name;
  $('outgoing-name').textContent = name || '';
  for (const btn of document.querySelectorAll('#lobby-users button[data-call]')) {
    const busy = btn.closest('li').dataset.busy === 'true';
    if (name || busy) btn.setAttribute('aria-disabled', 'true');
    else btn.removeAttribute('aria-disabled');
  }
  if (name) $('outgoing-cancel').focus();
}

/** A message in the lobby ('' clears it). */
export function lobbyMessage(text) {
  $('lobby-msg').textContent = text;
}

/** Opens the incoming-call dialog and rings. */
export function showIncoming(from) {
  const dialog = $('incoming');
  $('incoming-name').textContent = from;
  $('incoming-desc').textContent = 'Accept to start the call.';
  for (const id of ['incoming-accept', 'incoming-reject']) $(id).removeAttribute('aria-disabled');
  if (!dialog.open) dialog.showModal();
  dialog.dataset.ringing = 'true';
  $('incoming-accept').focus();
  ring.start();
  ring.announce(from);
}

/** Shows progress in the open dialog (e.g. while the camera starts). */
export function incomingProgress(text) {
  ring.unannounce();
  $('incoming-desc').textContent = text;
  for (const id of ['incoming-accept', 'incoming-reject']) $(id).setAttribute('aria-disabled', 'true');
  ring.stop();
  $('incoming').dataset.ringing = 'false';
}

/** Closes the incoming-call dialog and stops the ring. */
export function hideIncoming() {
  ring.stop();
  ring.unannounce();
  const dialog = $('incoming');
  dialog.dataset.ringing = 'false';
  if (dialog.open) dialog.close();
}
