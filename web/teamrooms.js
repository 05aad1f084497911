// The team side of the page (servers with --accounts): the start page's
// "Team" card (sign in, create an account with an invite) and the team
// view (account, rooms with their live members, who is online; create,
// rename, set or remove a room password, delete, copy or share a room's
// link). Presence comes from presence.js; the REST calls from account.js;
// joining a room's call is app.js's business (the join handler).
//
// The last team room joined is remembered; signing in joins it again.
// A room's link is /?team=<id>: opened by someone signed in, it joins.

import * as account from './account.js';
import { shareLink } from './invite.js';
import { showView } from './ui.js';

const $ = (id) => document.getElementById(id);
const LAST = 'tincan.lastTeamRoom';

const state = {
  user: null,          // {id, name, admin} while signed in
  rooms: [],           // from GET /api/team-rooms
  registering: false,  // the card's form creates an account
  handlers: null,      // {join(room, password), signedIn(), signedOut()}
  presence: null,
  confirmDelete: null, // id of the room whose Delete asks "Really?"
  editing: null,       // id of the room whose edit form is open
  asking: null,        // id of the room whose password is being asked
};

function remember(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Not remembered; the page still works.
  }
}

function recall(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** The link that opens team room `id` on this server. */
export function teamLink(id) {
  return `${location.origin}/?team=${encodeURIComponent(id)}`;
}

/** The signed-in user, or null. */
export const signedInUser = () => state.user;

/** The room {id, name, ...} with that id, if known. */
export const teamRoom = (id) => state.rooms.find((r) => r.id === id) || null;

function note(id, text, error = false) {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle('note-error', error);
}

// ---- the start page's card -------------------------------------------------

function renderCard() {
  $('team-card').hidden = false;
  $('team-signed-out').hidden = !!state.user;
  $('team-signed-in').hidden = !state.user;
  if (state.user) $('team-user').textContent = state.user.name;
  $('signin-invite-row').hidden = !state.registering;
  $('signin-submit').textContent = state.registering ? 'Create account' : 'Sign in';
  $('signin-mode').textContent = state.registering ? 'I have an account' : 'Create an account';
  $('signin-pass').autocomplete = state.registering ? 'new-password' : 'current-password';
}

async function onSignIn(ev) {
  ev.preventDefault();
  const user = $('signin-user').value.trim();
  const pass = $('signin-pass').value;
  if (!user || !pass) {
    note('team-note', 'Type your user name and password.', true);
    return;
  }
  $('signin-submit').disabled = true;
  note('team-note', state.registering ? 'Creating your account…' : 'Signing in…');
  try {
    state.user = state.registering ? await account.register(user, pass, $('signin-invite').value.trim())
      : await account.login(user, pass);
    $('signin-pass').value = '';
    note('team-note', '');
    renderCard();
    await state.handlers.signedIn();
    await openTeam({ autoJoin: true });
  } catch (err) {
    note('team-note', err.message, true);
  } finally {
    $('signin-submit').disabled = false;
  }
}

// ---- the team view -----------------------------------------------------------

/** Shows the team view; autoJoin: join the last room (after a sign-in). */
export async function openTeam({ autoJoin = false, join = null } = {}) {
  if (!state.user) return;
  $('acct-name').textContent = state.user.name;
  showView('team');
  await loadRooms();
  const want = join || (autoJoin ? recall(LAST) : null);
  const room = want && teamRoom(want);
  if (room && !room.has_password) startJoin(room, '');
  else if (room) askPassword(room.id);
  else if (join) note('rooms-note', 'That team room does not exist (any more).', true);
}

async function loadRooms() {
  try {
    state.rooms = await account.listRooms();
    note('rooms-note', '');
  } catch (err) {
    if (err.status === 401) {
      signedOut();
      return;
    }
    note('rooms-note', err.message, true);
  }
  renderRooms();
}

function personItem(p, withRoom = null) {
  const li = document.createElement('li');
  li.className = 'person';
  li.dataset.user = p.user;
  for (const k of ['muted', 'speaking', 'sharing']) if (k in p) li.dataset[k] = String(!!p[k]);
  const name = document.createElement('span');
  name.className = 'person-name';
  name.textContent = p.user;
  li.append(name);
  const bits = [];
  if (p.sharing) bits.push('sharing a screen');
  if (p.speaking) bits.push('speaking');
  if (p.muted) bits.push('muted');
  if (withRoom !== null) bits.push(withRoom);
  if (bits.length) {
    const s = document.createElement('span');
    s.className = 'person-state';
    s.textContent = bits.join(' · ');
    li.append(s);
  }
  return li;
}

function button(text, action, extra = {}) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `btn btn-small${extra.cls ? ` ${extra.cls}` : ''}`;
  b.textContent = text;
  b.dataset.action = action;
  if (extra.label) b.setAttribute('aria-label', extra.label);
  return b;
}

function roomActions(r) {
  const row = document.createElement('div');
  row.className = 'room-actions';
  // Each accessible name starts with the visible text, then names the room.
  const del = state.confirmDelete === r.id ? 'Really delete?' : 'Delete';
  row.append(button('Join', 'join', { cls: 'btn-accept', label: `Join ${r.name}` }),
    button('Copy link', 'link', { label: `Copy link of ${r.name}` }));
  if (r.can_manage) {
    row.append(button('Edit', 'edit', { label: `Edit ${r.name}` }),
      button(del, 'delete', { cls: 'btn-danger', label: `${del} ${r.name}` }));
  }
  return row;
}

function passwordForm(r) {
  const f = document.createElement('form');
  f.className = 'field-form room-pw';
  f.dataset.form = 'password';
  const id = `pw-${r.id}`;
  f.innerHTML = `<label for="${id}">Room password</label><div class="field-row">`
    + `<input id="${id}" class="input" type="password" autocomplete="off" maxlength="128" required>`
    + '<button class="btn" type="submit">Enter</button></div>';
  return f;
}

function editForm(r) {
  const f = document.createElement('form');
  f.className = 'field-form room-edit';
  f.dataset.form = 'edit';
  const n = `name-${r.id}`;
  const p = `newpw-${r.id}`;
  f.innerHTML = `<label for="${n}">Name</label><input id="${n}" class="input" maxlength="64" required>`
    + `<label for="${p}">New password <span class="muted">(empty: keep it)</span></label>`
    + `<input id="${p}" class="input" type="password" autocomplete="new-password" maxlength="128">`
    + `<label class="check"><input id="nopw-${r.id}" type="checkbox" data-field="nopw"${r.has_password ? '' : ' disabled'}> No password</label>`
    + '<div class="field-row"><button class="btn" type="submit">Save</button>'
    + '<button class="btn btn-ghost" type="button" data-action="cancel">Cancel</button></div>';
  f.querySelector(`#${CSS.escape(n)}`).value = r.name;
  return f;
}

function roomItem(r) {
  const li = document.createElement('li');
  li.className = 'room';
  li.dataset.roomId = r.id;
  const head = document.createElement('div');
  head.className = 'room-head';
  const h = document.createElement('h3');
  h.className = 'room-name';
  h.textContent = r.name;
  head.append(h);
  if (r.has_password) {
    const lock = document.createElement('span');
    lock.className = 'room-lock';
    lock.textContent = 'Password';
    head.append(lock);
  }
  const people = state.presence.peopleIn(r.id);
  const ul = document.createElement('ul');
  ul.className = 'room-people';
  ul.setAttribute('aria-label', `In ${r.name}`);
  for (const p of people) ul.append(personItem(p));
  const empty = document.createElement('p');
  empty.className = 'hint';
  empty.textContent = people.length ? '' : 'Nobody is here.';
  li.append(head, people.length ? ul : empty, roomActions(r));
  if (state.asking === r.id) li.append(passwordForm(r));
  if (state.editing === r.id) li.append(editForm(r));
  return li;
}

/** Redraws the room list and the online list (presence changed, or the rooms). */
export function renderRooms() {
  if (!state.user) return;
  // Presence changes often (someone starts speaking): what is being typed
  // in a room's form, and where the caret is, survive the redraw.
  const focusId = document.activeElement && document.activeElement.id;
  const list = $('team-rooms');
  const typed = new Map([...list.querySelectorAll('input[id]')].map((el) => [el.id,
    { value: el.value, checked: el.checked, start: el.selectionStart, end: el.selectionEnd }]));
  list.replaceChildren(...state.rooms.map(roomItem));
  for (const [id, t] of typed) {
    const el = $(id);
    if (!el) continue;
    el.value = t.value;
    el.checked = t.checked;
  }
  $('rooms-empty').hidden = state.rooms.length > 0;
  const names = new Map(state.rooms.map((r) => [r.id, r.name]));
  const online = state.presence.people();
  $('team-online').replaceChildren(...online.map((p) => personItem(p,
    p.rooms.length ? `in ${p.rooms.map((id) => names.get(id) || 'a room').join(', ')}` : 'not in a room')));
  $('online-empty').hidden = online.length > 0;
  const lim = state.presence.limited;
  note('presence-note', lim === 'account' ? 'You have other tabs open: this one shows no live updates.'
    : lim === 'server' ? 'The server is busy: live updates are off in this tab.' : '');
  if (focusId && $(focusId)) {
    const el = $(focusId);
    el.focus();
    const t = typed.get(focusId);
    if (t && t.start !== null && el.setSelectionRange) {
      try { el.setSelectionRange(t.start, t.end); } catch { /* not a text field */ }
    }
  }
}

function startJoin(room, password) {
  remember(LAST, room.id);
  state.asking = null;
  state.handlers.join(room, password);
}

function askPassword(id) {
  state.asking = id;
  renderRooms();
  const input = $(`pw-${id}`);
  if (input) input.focus();
}

async function onRoomClick(ev) {
  const btn = ev.target.closest('button[data-action]');
  if (!btn) return;
  const li = btn.closest('.room');
  const r = li && teamRoom(li.dataset.roomId);
  if (!r) return;
  const act = btn.dataset.action;
  if (act === 'join') {
    if (r.has_password) askPassword(r.id);
    else startJoin(r, '');
  } else if (act === 'link') {
    const how = await shareLink(teamLink(r.id), r.name);
    note('rooms-note', how === 'copied' ? `Link of “${r.name}” copied.` : how === 'shared' ? 'Link shared.'
      : how === 'cancelled' ? '' : `Copy this link: ${teamLink(r.id)}`);
  } else if (act === 'edit' || act === 'cancel') {
    state.editing = act === 'edit' && state.editing !== r.id ? r.id : null;
    renderRooms();
    if (state.editing) $(`name-${r.id}`).focus();
  } else if (act === 'delete') {
    await onDelete(r);
  }
}

async function onDelete(r) {
  if (state.confirmDelete !== r.id) {
    state.confirmDelete = r.id;
    renderRooms();
    const again = document.querySelector(`.room[data-room-id="${CSS.escape(r.id)}"] [data-action="delete"]`);
    if (again) again.focus();
    return;
  }
  state.confirmDelete = null;
  try {
    await account.deleteRoom(r.id);
    note('rooms-note', `“${r.name}” deleted.`);
  } catch (err) {
    note('rooms-note', err.message, true);
  }
  await loadRooms();
}

async function onRoomSubmit(ev) {
  const form = ev.target.closest('form[data-form]');
  if (!form) return;
  ev.preventDefault();
  const r = teamRoom(form.closest('.room').dataset.roomId);
  if (!r) return;
  try {
    if (form.dataset.form === 'password') {
      const pw = form.querySelector('input').value;
      await account.enterRoom(r.id, pw);
      startJoin(r, pw);
      return;
    }
    const changes = { name: form.querySelector(`#${CSS.escape(`name-${r.id}`)}`).value.trim() };
    const pw = form.querySelector(`#${CSS.escape(`newpw-${r.id}`)}`).value;
    if (form.querySelector('[data-field="nopw"]').checked) changes.password = '';
    else if (pw) changes.password = pw;
    await account.updateRoom(r.id, changes);
    state.editing = null;
    note('rooms-note', 'Saved.');
    await loadRooms();
  } catch (err) {
    note('rooms-note', err.message, true);
  }
}

async function onCreate(ev) {
  ev.preventDefault();
  const name = $('room-new-name').value.trim();
  if (!name) {
    note('rooms-note', 'Give the room a name.', true);
    $('room-new-name').focus();
    return;
  }
  try {
    const room = await account.createRoom(name, $('room-new-pass').value);
    $('room-new-name').value = '';
    $('room-new-pass').value = '';
    note('rooms-note', `“${room.name}” is ready.`);
    await loadRooms();
  } catch (err) {
    note('rooms-note', err.message, true);
  }
}

// ---- signing out ---------------------------------------------------------------

function signedOut(text = '') {
  state.user = null;
  state.rooms = [];
  state.presence.clear();
  renderCard();
  note('team-note', text);
  if (document.body.dataset.view === 'team') showView('start');
  state.handlers.signedOut();
}

async function onLogout(all) {
  try {
    if (all) {
      const r = await account.logoutAll();
      signedOut(`Logged out on ${r.sessions_ended} device${r.sessions_ended === 1 ? '' : 's'}.`);
    } else {
      await account.logout();
      signedOut('Logged out.');
    }
  } catch (err) {
    note('presence-note', err.message, true);
  }
}

/**
 * Wires the card and the view. presence: a Presence; handlers:
 * {join(room, password), signedIn(), signedOut()}. Whether the server has
 * accounts comes with the welcome (onWelcome), who is signed in with the
 * presence list, so a signed-out page makes no request that fails.
 */
export function initTeam(presence, handlers) {
  state.presence = presence;
  state.handlers = handlers;
  $('signin-form').addEventListener('submit', onSignIn);
  $('signin-mode').addEventListener('click', () => {
    state.registering = !state.registering;
    renderCard();
  });
  $('open-team').addEventListener('click', () => openTeam());
  $('team-back').addEventListener('click', () => showView('start'));
  $('logout').addEventListener('click', () => onLogout(false));
  $('logout-all').addEventListener('click', () => onLogout(true));
  $('room-create').addEventListener('submit', onCreate);
  $('team-rooms').addEventListener('click', onRoomClick);
  $('team-rooms').addEventListener('submit', onRoomSubmit);
  presence.addEventListener('change', () => renderRooms());
  presence.addEventListener('rooms-changed', () => { if (state.user) loadRooms(); });
  presence.addEventListener('signed-out', () => { if (state.user) signedOut('You were signed out.'); });
  presence.addEventListener('change', () => {
    // The server names the account of a signed-in socket in `presence`.
    if (!presence.you || (state.user && state.user.id === presence.you.id)) return;
    state.user = { id: presence.you.id, name: presence.you.name };
    renderCard();
    const team = new URLSearchParams(location.search).get('team');
    if (team && !state.openedLink) {
      state.openedLink = true;
      openTeam({ join: team });
    }
  });
}

/** The welcome said whether this server has accounts: the card shows then. */
export function onWelcome(msg) {
  if (msg.accounts === true) renderCard();
}

/** A note under the room list (e.g. why a team call ended). */
export function teamNote(text, error = false) {
  note('rooms-note', text, error);
}
