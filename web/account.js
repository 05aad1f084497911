// Team accounts (servers started with --accounts, docs/rooms.md): sign in,
// create an account (with an invite), log out, log out everywhere, and the
// team-room calls of the REST API. The session lives in an HttpOnly cookie
// the page never sees; every request here is same-origin, so the browser
// sends the cookie and the Origin header the server's CSRF check wants.
//
// Whether the server has accounts, and who is signed in, the page learns
// from the signaling socket (welcome and presence), not from here.

const ERRORS = {
  invalid_credentials: 'That user name and password do not match.',
  invalid_username: 'A user name is 1–32 letters, digits, dots, dashes or underscores.',
  invalid_password: 'A password is 8–128 characters.',
  invite_required: 'You need an invite code to make an account here. Ask your admin for one.',
  invalid_invite: 'That invite code is not valid (used, expired or mistyped).',
  registration_closed: 'This server makes no new accounts. Ask your admin.',
  username_taken: 'That user name is taken.',
  rate_limited: 'Too many attempts. Wait a while and try again.',
  wrong_room_password: 'Wrong room password.',
  invalid_name: 'A room name is 1–64 characters.',
  forbidden: 'Only the room’s owner or an admin may do that.',
  not_found: 'That room is gone.',
  unauthenticated: 'You were signed out. Sign in again.',
  csrf: 'The browser did not prove this page’s origin. Reload and try again.',
};

/** An API error with a message for people; `code` is the server's error code. */
export class ApiError extends Error {
  constructor(code, status) {
    super(ERRORS[code] || `The server said “${code}” (${status}).`);
    this.code = code;
    this.status = status;
  }
}

async function call(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError('offline', 0);
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) throw new ApiError((json && json.error) || `http_${res.status}`, res.status);
  return json;
}

export const login = async (username, password) => (await call('POST', '/api/auth/login', { username, password })).user;

export async function register(username, password, invite) {
  const body = { username, password };
  if (invite) body.invite = invite;
  return (await call('POST', '/api/auth/register', body)).user;
}

export const logout = () => call('POST', '/api/auth/logout', {});
export const logoutAll = () => call('POST', '/api/auth/logout-all', {});

export const listRooms = async () => (await call('GET', '/api/team-rooms')).rooms;
export const createRoom = async (name, password) => (await call('POST', '/api/team-rooms',
  password ? { name, password } : { name })).room;
/** changes: {name?, password? ('' removes it)}. */
export const updateRoom = async (id, changes) => (await call('PATCH', `/api/team-rooms/${encodeURIComponent(id)}`, changes)).room;
export const deleteRoom = (id) => call('DELETE', `/api/team-rooms/${encodeURIComponent(id)}`);
export const enterRoom = async (id, password) => (await call('POST', `/api/team-rooms/${encodeURIComponent(id)}/enter`,
  password ? { password } : {})).room;
