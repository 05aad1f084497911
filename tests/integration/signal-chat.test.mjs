// Signaling: chat. Text to the others in one's room or call, as
// {type:chat, from, name, text}; at most 500 characters (characters, not
// bytes); 20 chat messages per 2 s per connection; not_in_room outside a
// room.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from './net.mjs';
import { useServer, uniq, join, room, hello, lobbyCall } from './signal-client.mjs';

const T = { timeout: 20000 };

/** Checks a received chat message: exact keys, name null/absent or the given one. */
function isChat(m, from, text, name) {
  const keys = Object.keys(m).sort();
  const allowed = ['from', 'name', 'text', 'type'];
  assert.deepEqual(keys.filter((k) => !allowed.includes(k)), [], `chat has only type, from, name, text: ${JSON.stringify(m).slice(0, 200)}`);
  assert.equal(m.type, 'chat');
  assert.equal(m.from, from.id);
  assert.equal(m.text, text);
  if (name === undefined) assert.ok(m.name === undefined || m.name === null, `no name outside the lobby: ${JSON.stringify(m.name)}`);
  else assert.equal(m.name, name);
}

describe('signaling: chat', () => {
  const env = useServer(['--resume-grace', '1']);
  const { peers } = env;

  test('in a room the others get {type:chat, from, text}; no echo, nothing to other rooms', T, async () => {
    const [a, b, c, x] = await peers.many('a', 'b', 'c', 'x');
    await room(uniq('chat'), a, b, c);
    await join(x, uniq('elsewhere'));
    a.send({ type: 'chat', text: 'hello' });
    isChat(await b.next(), a, 'hello');
    isChat(await c.next(), a, 'hello');
    const odd = 'quotes " \\ </script> <b>x</b> \r\n\t tab — 中文 😀';
    b.send({ type: 'chat', text: odd });
    isChat(await a.next(), b, odd);
    isChat(await c.next(), b, odd);
    for (const p of [a, b, x]) await p.barrier();
    a.none('chat', 'an echo of its own chat');
    b.none('chat', 'an echo of its own chat');
    x.none('chat', 'chat from another room');
  });

  test('in a lobby call the chat carries the sender name', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    await lobbyCall(a, b);
    a.send({ type: 'chat', text: 'hi Bob' });
    isChat(await b.take('chat'), a, 'hi Bob', a.name);
    b.send({ type: 'chat', text: 'hi Ada' });
    isChat(await a.take('chat'), b, 'hi Ada', b.name);
  });

  test('500 characters are fine, in any script (bytes do not count); 501 → too_long', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    await room(uniq('len'), a, b);
    for (const text of ['x'.repeat(500), 'é'.repeat(500), '€'.repeat(500), '中'.repeat(500), 'x', '😀'.repeat(250)]) {
      a.send({ type: 'chat', text });
      const m = await b.take('chat', undefined, `chat of ${text.length} UTF-16 units / ${Buffer.byteLength(text)} bytes`);
      assert.equal(m.text, text, 'delivered intact');
    }
    for (const text of ['x'.repeat(501), '€'.repeat(501), 'x'.repeat(5000)]) {
      a.send({ type: 'chat', text });
      await a.error('too_long', undefined, `chat of ${text.length} characters`);
    }
    await a.barrier();
    await b.barrier();
    b.none('chat', 'a chat that was too long');
  });

  test('21 chats in a burst: 20 delivered, the 21st rate_limited with retryAfter; later it works again', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    await room(uniq('rate'), a, b);
    for (let i = 1; i <= 21; i++) a.send({ type: 'chat', text: `m${i}` });
    const e = await a.error('rate_limited', undefined, 'the 21st chat');
    assert.equal(typeof e.retryAfter, 'number', `retryAfter: ${JSON.stringify(e)}`);
    assert.ok(e.retryAfter > 0 && e.retryAfter <= 2, `0 < retryAfter <= 2 s: ${e.retryAfter}`);
    await a.barrier();
    await b.barrier();
    const got = b.drain('chat').map((m) => m.text);
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `m${i + 1}`), 'the first 20, in order');
    a.none('error', 'more than one error for one extra chat');
    // Relay is not chat: it still works while chat is limited.
    a.send({ type: 'offer', target: b.id, sdp: { type: 'offer', sdp: 'v=0' } });
    await b.take('offer');
    await sleep(Math.ceil(e.retryAfter * 1000) + 100);
    a.send({ type: 'chat', text: 'again' });
    assert.equal((await b.take('chat')).text, 'again', 'chat works after retryAfter');
  });

  test('chat outside a room → not_in_room; missing or non-string text → missing_field text', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    a.send({ type: 'chat', text: 'anyone?' });
    await a.error('not_in_room');
    await hello(a, uniq('Ada'));
    a.send({ type: 'chat', text: 'lobby is not a room' });
    await a.error('not_in_room', undefined, 'chat in the lobby without a call');
    await room(uniq('c'), a, b);
    a.send({ type: 'leave' });
    await b.take('peer-left');
    a.send({ type: 'chat', text: 'after leave' });
    await a.error('not_in_room', undefined, 'chat after leave');
    await join(a, uniq('back'));
    for (const text of [undefined, 42, null, ['x'], { t: 'x' }]) {
      a.send({ type: 'chat', ...(text === undefined ? {} : { text }) });
      const e = await a.error('missing_field', undefined, `chat text ${JSON.stringify(text)}`);
      assert.equal(e.field, 'text');
    }
    await b.barrier();
    b.none('chat', 'chat from outside the room');
  });
});
