// Live presence of a signed-in team (docs/protocol.md, "Presence and team
// rooms"): the server pushes the whole list once ({type:"presence"}) and
// then only changes ({type:"presence-update"}) over the signaling
// WebSocket; this module keeps the list and tells the team view when it
// changed. No polling anywhere.
//
// Presence is an EventTarget:
//   'change'        the list changed (read .entries())
//   'rooms-changed' a team room was created, renamed or deleted
//   'signed-out'    the server ended this session (logout elsewhere, disabled, expired)

export class Presence extends EventTarget {
  /** @type {Map<string, {id, user, room, muted, camera, speaking, sharing}>} by connection (peer) id */
  #online = new Map();
  /** {id, name} of the account, or null before the first presence message. */
  you = null;
  /** null, or 'account' / 'server' when this connection is past a cap and hears no updates. */
  limited = null;

  /** Handles a server message; returns true if it was about presence. */
  handle(msg) {
    switch (msg.type) {
      case 'presence':
        this.you = msg.you || null;
        this.limited = typeof msg.limited === 'string' ? msg.limited : null;
        this.#online = new Map((Array.isArray(msg.online) ? msg.online : []).map((e) => [e.id, e]));
        this.#changed();
        return true;
      case 'presence-update':
        for (const id of Array.isArray(msg.gone) ? msg.gone : []) this.#online.delete(id);
        for (const e of Array.isArray(msg.set) ? msg.set : []) this.#online.set(e.id, e);
        this.#changed();
        return true;
      case 'rooms-changed':
        this.dispatchEvent(new Event('rooms-changed'));
        return true;
      case 'signed-out':
        this.clear();
        this.dispatchEvent(new Event('signed-out'));
        return true;
      default:
        return false;
    }
  }

  /** Forgets everything (signed out). */
  clear() {
    this.you = null;
    this.limited = null;
    this.#online.clear();
    this.#changed();
  }

  /** Every signed-in connection. */
  entries() {
    return [...this.#online.values()];
  }

  /**
   * The people in team room `roomId`, one per account: {user, muted,
   * speaking, sharing, camera} (a person in it from two tabs counts once:
   * speaking or sharing in either, muted only if muted in all).
   */
  peopleIn(roomId) {
    const by = new Map();
    for (const e of this.#online.values()) {
      if (e.room !== roomId) continue;
      const p = by.get(e.user);
      if (!p) by.set(e.user, { ...e });
      else Object.assign(p, { muted: p.muted && e.muted, speaking: p.speaking || e.speaking, sharing: p.sharing || e.sharing, camera: p.camera || e.camera });
    }
    return [...by.values()].sort((a, b) => a.user.localeCompare(b.user));
  }

  /** Everyone online, one per account: [{user, rooms: [room ids]}], sorted by name. */
  people() {
    const by = new Map();
    for (const e of this.#online.values()) {
      const p = by.get(e.user) || { user: e.user, rooms: [] };
      if (e.room && !p.rooms.includes(e.room)) p.rooms.push(e.room);
      by.set(e.user, p);
    }
    return [...by.values()].sort((a, b) => a.user.localeCompare(b.user));
  }

  #changed() {
    this.dispatchEvent(new Event('change'));
  }
}
