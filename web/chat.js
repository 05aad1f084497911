// The chat panel of a call: a log, an input and an unread counter on the
// Chat button. Sending goes through the `send(text)` handler; what arrives
// is added with addMessage().

const $ = (id) => document.getElementById(id);
export const CHAT_MAX = 500;

let unread = 0;

/** handlers: {send(text) → boolean (false: not sent)}. */
export function bindChat(handlers) {
  const input = $('chat-input');
  $('chat-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if ([...text].length > CHAT_MAX) {
      chatNote(`A message can have at most ${CHAT_MAX} characters.`);
      return;
    }
    if (handlers.send(text)) {
      addMessage({ who: 'You', text, mine: true });
      input.value = '';
      chatNote('');
    } else {
      chatNote('Not sent: the connection to the server is down.');
    }
  });
  $('chat-close').addEventListener('click', () => toggleChat(false));
  $('chat').addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') toggleChat(false);
  });
}

/** Opens (true), closes (false) or flips (undefined) the chat panel. */
export function toggleChat(open) {
  const panel = $('chat');
  const show = open === undefined ? panel.hidden : open;
  panel.hidden = !show;
  document.getElementById('view-call').dataset.chat = show ? 'open' : 'closed';
  $('btn-chat').setAttribute('aria-expanded', String(show));
  if (show) {
    unread = 0;
    showUnread();
    $('chat-input').focus();
  } else if (panel.contains(document.activeElement) || document.activeElement === document.body) {
    $('btn-chat').focus();
  }
}

/** Adds a line to the log: {who, text, mine?}. Counts as unread while the panel is closed. */
export function addMessage({ who, text, mine = false }) {
  const li = document.createElement('li');
  li.className = mine ? 'msg msg-mine' : 'msg';
  const from = document.createElement('span');
  from.className = 'msg-from';
  from.textContent = who;
  const body = document.createElement('span');
  body.className = 'msg-text';
  body.textContent = text;
  li.append(from, body);
  const log = $('chat-log');
  log.append(li);
  log.scrollTop = log.scrollHeight;
  if (!mine && $('chat').hidden) {
    unread++;
    showUnread();
  }
}

/** An error or hint under the chat input ('' clears it). */
export function chatNote(text) {
  $('chat-note').textContent = text;
}

/** Empties the log (a new call starts with a clean slate). */
export function resetChat() {
  $('chat-log').replaceChildren();
  unread = 0;
  showUnread();
  chatNote('');
  toggleChatQuietly(false);
}

function toggleChatQuietly(open) {
  $('chat').hidden = !open;
  document.getElementById('view-call').dataset.chat = open ? 'open' : 'closed';
  $('btn-chat').setAttribute('aria-expanded', String(open));
}

function showUnread() {
  const badge = $('chat-unread');
  badge.hidden = unread === 0;
  badge.textContent = unread > 9 ? '9+' : String(unread);
  $('btn-chat').setAttribute('aria-label', unread ? `Chat, ${unread} unread` : 'Chat');
}
