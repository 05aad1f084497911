// The lobby's logic (docs/protocol.md, "Lobby and 1:1 calls"): saying hello
// with a name, the online list, calling someone, answering an incoming call,
// and the reasons a call did not happen. The screen is lobby-view.js; an
// accepted call becomes a Session through the startCall callback.

import { getLocalMedia } from './media.js';
import * as lv from './lobby-view.js';
import * as ring from './ring.js';
import { showNote, showView } from './ui.js';

const ENDED = {
  rejected: (n) => `${n} declined the call.`,
  cancelled: (n) => `${n} cancelled the call.`,
  no_answer: (n) => `No answer from ${n}.`,
  busy: (n) => `${n} is busy in another call.`,
  offline: (n) => `${n} is not online.`,
  hangup: (n) => `${n} hung up.`,
};

export class Lobby {
  name = null; // our lobby name once the server accepted it
  pendingName = null; // hello sent, no answer yet
  users = [];
  outgoing = null; // {name, callId, media, sent}
  incoming = null; // {callId, from, media, accepting}
  cancelUnanswered = false; // cancelled before "ringing" came back

  /**
   * signal: Signal; audioOnly(): the switch; startCall({callId, withName,
   * media}): opens the call screen; inCall(): whether a call is on.
   */
  constructor({ signal, audioOnly, startCall, inCall }) {
    Object.assign(this, { signal, audioOnly, startCall, inCall });
    lv.bindLobby({
      call: (name) => this.call(name),
      cancel: () => this.cancel(),
      accept: () => this.accept(),
      reject: () => this.reject(),
      leave: () => this.leave(),
    });
  }

  /** Enters the lobby with a name (from the start screen). */
  enter(name) {
    ring.unlock(); // a click: the ring may sound later
    ring.askToNotify();
    if (!this.signal.send({ type: 'hello', name })) {
      showNote('lobby', 'Not connected to the server yet. Try again in a moment.', { error: true });
      return;
    }
    this.pendingName = name;
    showNote('lobby', 'Entering the lobby…');
  }

  /** Leaves the lobby: the only way to give the name back is a new connection. */
  leave() {
    this.#clearCalls();
    this.name = null;
    this.pendingName = null;
    lv.lobbyMessage('');
    showNote('lobby', '');
    showView('start');
    this.signal.restart();
  }

  /** Handles a lobby message; returns true if it was one. */
  handle(msg) {
    switch (msg.type) {
      case 'lobby': return this.#onList(msg);
      case 'lobby-update': return this.#onUpdate(msg);
      case 'ringing':
        if (this.cancelUnanswered) {
          this.cancelUnanswered = false;
          this.signal.send({ type: 'cancel', callId: msg.callId });
        } else if (this.outgoing && !this.outgoing.callId) {
          this.outgoing.callId = msg.callId;
          ring.startRingback();
        }
        return true;
      case 'incoming': return this.#onIncoming(msg);
      case 'call-started': return this.#onStarted(msg);
      case 'call-ended': return this.#onEnded(msg);
      default: return false;
    }
  }

  /** Handles an error answer to a lobby request; returns true if it was one. */
  handleError(msg) {
    if ((msg.code === 'name_invalid' || msg.code === 'name_taken') && this.pendingName) {
      const text = msg.code === 'name_taken'
        ? `“${this.pendingName}”, or a name that looks like it, is already online. Pick another name.`
        : 'That name cannot be used: 1–32 letters (of one alphabet), digits, spaces, dots, dashes or underscores.';
      this.pendingName = null;
      showNote('lobby', text, { error: true });
      document.getElementById('lobby-name').setAttribute('aria-invalid', 'true');
      return true;
    }
    if (msg.code === 'lobby_full' && this.pendingName) {
      this.pendingName = null;
      showNote('lobby', 'The lobby is full right now. Try again in a little while.', { error: true });
      return true;
    }
    if (msg.code === 'unknown_call') {
      // The call ended before our answer arrived; the call-ended says why.
      return true;
    }
    return false;
  }

  /** After a reconnect: a fresh identity lost the name, so say hello again. */
  onWelcome(msg) {
    if (msg.resumed === true) return;
    this.#clearCalls();
    const name = this.name;
    this.name = null;
    if (name) {
      this.pendingName = name;
      this.signal.send({ type: 'hello', name });
    }
  }

  /**
   * A lobby call ended (from the Session): reason 'local' (we hung up),
   * 'lost' (our identity did not survive a reconnect) or the server's
   * call-ended reason.
   */
  callOver(withName, reason) {
    if (!this.name) {
      showView('start');
      return;
    }
    showView('lobby');
    lv.renderLobby({ you: this.name, users: this.users });
    const text = reason === 'local' ? ''
      : reason === 'lost' ? 'The connection to the server was lost, so the call ended.'
        : (ENDED[reason] || (() => 'The call ended.'))(withName);
    lv.lobbyMessage(text);
  }

  async call(name) {
    if (this.outgoing || this.incoming || this.inCall()) return;
    lv.lobbyMessage('');
    const out = { name, callId: null, media: null, sent: false };
    this.outgoing = out;
    lv.showOutgoing(name);
    try {
      out.media = await getLocalMedia({ audioOnly: this.audioOnly() });
    } catch (err) {
      if (this.outgoing === out) this.#endOutgoing(err.message);
      return;
    }
    if (this.outgoing !== out) {
      out.media.stop(); // cancelled while the camera started
      return;
    }
    this.cancelUnanswered = false;
    out.sent = this.signal.send({ type: 'call', name });
    if (!out.sent) this.#endOutgoing('Not connected to the server.');
  }

  cancel() {
    const out = this.outgoing;
    if (!out) return;
    if (out.callId) this.signal.send({ type: 'cancel', callId: out.callId });
    else if (out.sent) this.cancelUnanswered = true; // cancel as soon as the call has an id
    this.#endOutgoing('');
  }

  async accept() {
    const inc = this.incoming;
    if (!inc || inc.accepting) return;
    inc.accepting = true;
    lv.incomingProgress('Starting camera and microphone…');
    try {
      inc.media = await getLocalMedia({ audioOnly: this.audioOnly() });
    } catch (err) {
      if (this.incoming === inc) {
        this.signal.send({ type: 'reject', callId: inc.callId });
        this.#endIncoming();
        lv.lobbyMessage(err.message);
      }
      return;
    }
    if (this.incoming !== inc) {
      inc.media.stop(); // cancelled meanwhile
      return;
    }
    lv.incomingProgress('Connecting…');
    this.signal.send({ type: 'accept', callId: inc.callId });
  }

  reject() {
    const inc = this.incoming;
    if (!inc || inc.accepting) return;
    this.signal.send({ type: 'reject', callId: inc.callId });
    this.#endIncoming();
  }

  #onList(msg) {
    this.users = Array.isArray(msg.users) ? msg.users.filter((u) => u && typeof u.name === 'string') : [];
    const first = !this.name;
    this.name = typeof msg.you === 'string' ? msg.you : this.pendingName;
    this.pendingName = null;
    lv.renderLobby({ you: this.name, users: this.users }, { calling: !!this.outgoing });
    if (first) {
      showNote('lobby', '');
      if (!this.inCall()) showView('lobby');
    }
    return true;
  }

  /** Applies a lobby-update (names that left, then users that came or changed) to the list. */
  #onUpdate(msg) {
    if (!this.name) return true; // not in the lobby (yet): the full list comes with our hello
    const left = new Set(Array.isArray(msg.left) ? msg.left.filter((n) => typeof n === 'string') : []);
    const byName = new Map(this.users.filter((u) => !left.has(u.name)).map((u) => [u.name, u]));
    for (const u of Array.isArray(msg.users) ? msg.users : []) {
      if (u && typeof u.name === 'string') byName.set(u.name, { name: u.name, busy: !!u.busy });
    }
    this.users = [...byName.values()];
    lv.renderLobby({ you: this.name, users: this.users }, { calling: !!this.outgoing });
    return true;
  }

  #onIncoming(msg) {
    if (this.incoming || this.outgoing || this.inCall()) {
      // The server should have said busy; answer for it.
      this.signal.send({ type: 'reject', callId: msg.callId });
      return true;
    }
    this.incoming = { callId: msg.callId, from: String(msg.from), media: null, accepting: false };
    lv.lobbyMessage('');
    lv.showIncoming(this.incoming.from);
    return true;
  }

  #onStarted(msg) {
    let media = null;
    let withName = typeof msg.with === 'string' ? msg.with : null;
    if (this.outgoing && this.outgoing.callId === msg.callId && this.outgoing.media) {
      media = this.outgoing.media;
      withName = withName || this.outgoing.name;
      this.outgoing = null;
      lv.showOutgoing(null);
    } else if (this.incoming && this.incoming.callId === msg.callId && this.incoming.media) {
      media = this.incoming.media;
      withName = withName || this.incoming.from;
      this.incoming = null;
      lv.hideIncoming();
    } else {
      return true; // not a call we are ready for
    }
    this.startCall({ callId: msg.callId, withName, media });
    return true;
  }

  #onEnded(msg) {
    const reason = String(msg.reason || '');
    if (this.cancelUnanswered && !this.outgoing) {
      this.cancelUnanswered = false; // it ended by itself (busy, offline)
      return true;
    }
    const out = this.outgoing;
    if (out && (out.callId === msg.callId || !out.callId)) {
      this.#endOutgoing((ENDED[reason] || (() => 'The call did not go through.'))(out.name));
      return true;
    }
    const inc = this.incoming;
    if (inc && inc.callId === msg.callId) {
      this.#endIncoming();
      lv.lobbyMessage(reason === 'no_answer' ? `Missed call from ${inc.from}.` : ENDED.cancelled(inc.from));
      return true;
    }
    return false; // an active call: the Session's business
  }

  #endOutgoing(message) {
    const out = this.outgoing;
    this.outgoing = null;
    if (out && out.media) out.media.stop();
    lv.showOutgoing(null);
    lv.lobbyMessage(message);
  }

  #endIncoming() {
    const inc = this.incoming;
    this.incoming = null;
    if (inc && inc.media) inc.media.stop();
    lv.hideIncoming();
  }

  #clearCalls() {
    if (this.outgoing) this.#endOutgoing('');
    if (this.incoming) this.#endIncoming();
  }
}
