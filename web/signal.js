// The signaling connection: one WebSocket to /ws on the page's own host.
//
// Signal keeps the socket open for as long as it is started. When the socket
// drops it retries after 1, 2, 4, 8 ... seconds, never more than 30, and goes
// back to 1 s once a connection the server greeted has lasted a while. While the browser says
// it is offline it does not retry at all and waits for the 'online' event.
//
// The welcome carries a resume token. Every reconnect sends it as the first
// message ({"type":"resume"}, never in the URL, so the browser does not print
// it with a failed connection) and the server gives back the same identity,
// name and room (docs/protocol.md, "Connection"); restart() drops the token
// and starts over as somebody new.
//
// The browser's 'offline' event does not close the socket: a close frame
// would be a goodbye and the identity would end at once. The socket is left
// to live or die; on 'online' a new connection resumes the identity (and
// the server closes the old one if it was still open). Messages sent with queue: true while the socket is
// down are kept and sent after a welcome with "resumed": true (and thrown
// away when the identity did not survive).
//
// Events (Signal is an EventTarget):
//   'status'  detail {status, retryInMs?, lost?, reason?}; status is one of
//             'connecting' (first attempt), 'connected' (welcome received),
//             'reconnecting' (waiting retryInMs before the next try; lost
//             says whether a working connection dropped or none came up),
//             'disconnected' (stopped, or the browser is offline)
//   'message' detail = the parsed JSON object of any server message

const BACKOFF_MAX_MS = 30000;
const WELCOME_TIMEOUT_MS = 10000;
// A connection must last this long before a drop starts the backoff over at
// 1 s; a server that greets and then hangs up at once is not hammered.
const STABLE_MS = 10000;
// Relay messages kept while the socket is down (offers, answers, candidates).
const QUEUE_MAX = 500;

/** Delay before retry number `attempt` (0-based): 1 s, 2 s, 4 s ... 30 s. */
export function backoffDelay(attempt) {
  return Math.min(1000 * 2 ** Math.min(attempt, 15), BACKOFF_MAX_MS);
}

/** The signaling URL for the current page: ws(s)://<host>/ws. */
export function signalUrl(loc = location) {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}

export class Signal extends EventTarget {
  #url;
  #ws = null;
  #attempt = 0;
  #retryTimer = null;
  #welcomeTimer = null;
  #running = false;
  #lost = false; // true once a welcomed connection has dropped
  #welcomedAt = 0;
  #token = null;
  #queue = [];
  #skipWelcome = false; // the fresh welcome before the answer to our resume
  #retryAt = 0;
  status = 'disconnected';
  /** The id the server gave this connection in its welcome, or null. */
  id = null;

  /** url: a fixed URL (tests), or by default the page's own /ws. */
  constructor(url = null) {
    super();
    this.#url = url;
    this.onOnline = () => this.#retryNow();
    this.onOffline = () => this.#dropForOffline();
  }

  /** Opens the connection and keeps it open until stop(). */
  start() {
    if (this.#running) return;
    this.#running = true;
    addEventListener('online', this.onOnline);
    addEventListener('offline', this.onOffline);
    this.#open();
  }

  /** Closes the connection and stops retrying. */
  stop() {
    this.#running = false;
    removeEventListener('online', this.onOnline);
    removeEventListener('offline', this.onOffline);
    this.#clearTimers();
    this.#closeSocket(1000);
    this.#setStatus('disconnected', { reason: 'stopped' });
  }

  /**
   * Forgets the identity (resume token, queued messages) and connects again
   * as a new peer, e.g. to leave the lobby.
   */
  restart() {
    this.#running = false;
    this.#clearTimers();
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      try { ws.close(1000); } catch { /* already closing */ }
    }
    this.#token = null;
    this.#queue = [];
    this.id = null;
    this.#attempt = 0;
    this.#lost = false;
    this.status = 'disconnected';
    removeEventListener('online', this.onOnline);
    removeEventListener('offline', this.onOffline);
    this.start();
  }

  /**
   * Sends one JSON message; returns false when not connected. With
   * {queue: true} a message that cannot go now waits for the resumed
   * connection instead (it is still reported as not sent).
   */
  send(msg, { queue = false } = {}) {
    if (this.status !== 'connected' || !this.#ws) {
      if (queue && this.#running && this.#token && this.#queue.length < QUEUE_MAX) this.#queue.push(msg);
      return false;
    }
    this.#ws.send(JSON.stringify(msg));
    return true;
  }

  #open() {
    this.#setStatus(this.#attempt === 0 ? 'connecting' : 'reconnecting');
    let ws;
    try {
      ws = new WebSocket(this.#url || signalUrl(location));
    } catch {
      this.#scheduleRetry();
      return;
    }
    this.#ws = ws;
    const token = this.#token;
    this.#skipWelcome = !!token;
    if (token) {
      ws.addEventListener('open', () => {
        if (ws === this.#ws) ws.send(JSON.stringify({ type: 'resume', token }));
      });
    }
    // A server that accepts the socket but never says hello is as good as
    // down, and so is a connect that hangs: give up on it and retry like any
    // other failure, without waiting for its 'close' (a connect stuck in a
    // network change sent none for over a minute).
    this.#welcomeTimer = setTimeout(() => {
      if (ws !== this.#ws) return;
      this.#closeSocket();
      this.#onClose(ws);
    }, WELCOME_TIMEOUT_MS);
    ws.addEventListener('message', (ev) => this.#onMessage(ws, ev));
    ws.addEventListener('close', () => this.#onClose(ws));
  }

  #onMessage(ws, ev) {
    if (ws !== this.#ws || typeof ev.data !== 'string') return;
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (msg && msg.type === 'welcome' && this.#skipWelcome) {
      this.#skipWelcome = false; // the answer to our resume comes next
      return;
    }
    if (msg && msg.type === 'welcome') {
      clearTimeout(this.#welcomeTimer);
      this.id = typeof msg.id === 'string' ? msg.id : null;
      this.#token = typeof msg.token === 'string' ? msg.token : null;
      this.#welcomedAt = Date.now();
      this.#lost = false;
      const queued = this.#queue;
      this.#queue = [];
      this.#setStatus('connected', { resumed: msg.resumed === true });
      // The message handlers see the welcome (and rebuild what a fresh
      // identity lost) before anything queued for the old one goes out.
      this.dispatchEvent(new CustomEvent('message', { detail: msg }));
      if (msg.resumed === true) for (const m of queued) this.send(m);
      return;
    }
    this.dispatchEvent(new CustomEvent('message', { detail: msg }));
  }

  #onClose(ws) {
    if (ws !== this.#ws) return;
    if (this.status === 'connected') {
      this.#lost = true;
      if (Date.now() - this.#welcomedAt >= STABLE_MS) this.#attempt = 0;
    }
    this.#ws = null;
    this.id = null;
    clearTimeout(this.#welcomeTimer);
    if (!this.#running) return;
    // Any drop counts as a failed attempt, so the first retry after a
    // working connection comes 1 s later and reads as 'reconnecting'.
    this.#scheduleRetry();
  }

  #scheduleRetry() {
    if (!navigator.onLine) {
      this.#setStatus('disconnected', { reason: 'offline' });
      return;
    }
    const delay = backoffDelay(this.#attempt++);
    this.#retryAt = Date.now() + delay;
    this.#setStatus('reconnecting', { retryInMs: delay, retryAt: this.#retryAt, lost: this.#lost });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#open();
    }, delay);
  }

  /** Tries to connect now instead of waiting for the next retry ("Reconnect now"). */
  reconnectNow() {
    if (!this.#running || this.#ws) return;
    this.#retryNow();
  }

  #retryNow() {
    if (!this.#running) return;
    if (this.#ws && this.status === 'connected') return;
    this.#clearTimers();
    // A socket kept through an offline spell may be dead without knowing
    // it: a new connection resumes the identity, and the server closes the
    // old one (4001) if it was still open. No close frame from us: that
    // would be a goodbye.
    this.#ws = null;
    this.#open();
  }

  #dropForOffline() {
    if (!this.#running) return;
    this.#clearTimers();
    // Keep the socket (no close frame, no goodbye); stop using it.
    this.#setStatus('disconnected', { reason: 'offline' });
  }

  #closeSocket(code) {
    const ws = this.#ws;
    if (!ws) return;
    // close() fires 'close' later; #onClose then schedules the retry.
    try {
      if (code) ws.close(code);
      else ws.close();
    } catch {
      // Already closing.
    }
  }

  #clearTimers() {
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#welcomeTimer);
    this.#retryTimer = null;
  }

  #setStatus(status, extra = {}) {
    this.status = status;
    this.dispatchEvent(new CustomEvent('status', { detail: { status, ...extra } }));
  }
}
