// How a room chooses between mesh and the SFU (docs/sfu.md, "When a room
// uses the SFU"; docs/protocol.md, "SFU rooms"): --room-mode auto|mesh|sfu,
// --mesh-max, --max-sfu-room and --max-room. In auto a room is mesh while
// small; the join past --mesh-max moves it to the SFU: everyone in it hears
// room-mode before the newcomer's peer-joined, the newcomer's joined says
// sfu:true, and it stays SFU until it empties. A join with sfu:true makes
// (or moves) the room SFU at once. A resumed welcome carries the mode.
// sfu-reset starts a member's SFU transports afresh without the room
// hearing of it.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, uniq, room, joinAll, joinSfu, sfuOffer, sfuAnswerTo } from './signal-client.mjs';

const T = { timeout: 30000 };
/** p joins room; returns its joined message. */
async function joinRoom(p, room, extra = {}) {
  p.send({ type: 'join', room, ...extra });
  const j = await p.take(['joined', 'error'], undefined, `joined for ${p.label}`);
  assert.equal(j.type, 'joined', `${p.label}: ${JSON.stringify(j)}`);
  return j;
}

describe('room modes: auto (the default: --mesh-max 4)', () => {
  const env = useServer(['--resume-grace', '3']);
  const { peers } = env;

  test('mesh while small; the 5th join moves the room to the SFU; it stays SFU until it empties', T, async () => {
    const ps = await peers.many('a', 'b', 'c', 'd', 'e', 'f');
    const r = uniq('auto');
    const joined = await room(r, ...ps.slice(0, 4));
    for (const j of joined) assert.equal(j.sfu, undefined, 'a mesh room: no sfu flag');
    const e = ps[4];
    e.send({ type: 'join', room: r });
    const je = await e.take('joined');
    assert.equal(je.sfu, true, 'the 5th joins an SFU room');
    assert.deepEqual([...je.peers].sort(), ps.slice(0, 4).map((p) => p.id).sort());
    for (const p of ps.slice(0, 4)) {
      // room-mode comes first, then the newcomer's peer-joined.
      assert.deepEqual(await p.next(), { type: 'room-mode', mode: 'sfu' }, `${p.label} hears room-mode`);
      assert.deepEqual(await p.next(), { type: 'peer-joined', peerId: e.id });
    }
    // The earlier members are SFU members now: their publish is answered.
    ps[0].send({ type: 'sfu-publish', sdp: sfuOffer('aaaa', 1111) });
    await ps[0].take('sfu-answer');
    const sub = await ps[1].take('sfu-offer');
    assert.match(sub.sdp, new RegExp(`^a=msid:${ps[0].id} track1\\r$`, 'm'));
    // Never back to mesh while people are in it: 3 leave, a newcomer still joins SFU.
    for (const p of ps.slice(2, 5)) p.send({ type: 'leave' });
    await ps[0].barrier();
    assert.equal((await joinRoom(ps[5], r)).sfu, true, 'still SFU with 2 left in it');
    for (const p of ps) p.drain(() => true);
    // Empty, it starts over as mesh.
    for (const p of [ps[0], ps[1], ps[5]]) p.send({ type: 'leave' });
    for (const p of [ps[0], ps[1], ps[5]]) await p.barrier();
    assert.equal((await joinRoom(ps[2], r)).sfu, undefined, 'an emptied room comes back as mesh');
  });

  test('join with sfu:true makes the room SFU from the start, or moves a mesh room at once', T, async () => {
    const [a, b, c, d] = await peers.many('a', 'b', 'c', 'd');
    const r = uniq('sfu');
    await joinSfu(r, a);
    assert.equal((await joinRoom(b, r)).sfu, true, 'a plain join of an SFU room joins it as SFU');
    const m = uniq('mesh');
    await room(m, c, d);
    a.send({ type: 'join', room: m, sfu: true });
    assert.equal((await a.take('joined')).sfu, true);
    for (const p of [c, d]) {
      assert.deepEqual(await p.next(), { type: 'room-mode', mode: 'sfu' });
      assert.deepEqual(await p.next(), { type: 'peer-joined', peerId: a.id });
    }
  });

  test('a resumed welcome carries the mode, also when the room moved while the peer was away', T, async () => {
    const ps = await peers.many('a', 'b', 'c', 'd', 'e');
    const r = uniq('resume');
    await room(r, ...ps.slice(0, 2));
    ps[0].drop();
    await ps[1].take('peer-reconnecting');
    const a1 = await peers.connect("a'", { resume: ps[0].token });
    assert.equal(a1.welcome.resumed, true);
    assert.equal(a1.welcome.mode, 'mesh');
    await ps[1].take('peer-resumed');
    a1.drop();
    await ps[1].take('peer-reconnecting');
    await joinRoom(ps[2], r);
    await ps[1].take('peer-joined');
    await joinRoom(ps[3], r);
    for (const q of ps.slice(1, 3)) await q.take('peer-joined');
    await joinRoom(ps[4], r);
    for (const q of ps.slice(1, 4)) {
      assert.deepEqual(await q.next(), { type: 'room-mode', mode: 'sfu' });
      await q.take('peer-joined');
    }
    // a1 was away when the 5th (with a1 counted) joined: the room moved without it hearing room-mode.
    const a2 = await peers.connect("a''", { resume: a1.welcome.token });
    assert.equal(a2.welcome.resumed, true);
    assert.equal(a2.welcome.mode, 'sfu', JSON.stringify(a2.welcome));
    assert.equal(a2.welcome.room, r);
  });

  test('sfu-reset: new transports for the member; the others get a re-offer without its tracks, and nothing else', T, async () => {
    const [a, b] = await peers.many('a', 'b');
    const r = uniq('reset');
    await joinSfu(r, a, b);
    a.send({ type: 'sfu-publish', sdp: sfuOffer('aaaa', 2222) });
    const ans1 = (await a.take('sfu-answer')).sdp;
    const sub = (await b.take('sfu-offer')).sdp;
    b.send({ type: 'sfu-subscribe-answer', sdp: sfuAnswerTo(sub) });
    await b.barrier();
    a.send({ type: 'sfu-reset', epoch: 7 });
    assert.deepEqual(await a.next(), { type: 'sfu-reset', epoch: 7 }, 'the reset is echoed before anything for the new transports');
    const again = (await b.take('sfu-offer')).sdp;
    // a's old track was b's only m-section, BUNDLE's tag: inactive in its
    // place, without the stream (docs/sfu.md); another would be rejected.
    assert.match(again, /^m=video 9 [^\n]*\n(?:(?!m=)[^\n]*\n)*a=inactive\r$/m, "a's old track is inactive");
    assert.doesNotMatch(again, /^a=ssrc:2222 /m, "a's old stream is gone");
    a.send({ type: 'sfu-publish', sdp: sfuOffer('aaab', 3333) });
    const ans2msg = await a.take('sfu-answer');
    assert.equal(ans2msg.epoch, 7, 'what is for the new transports carries the epoch of the reset');
    const ans2 = ans2msg.sdp;
    assert.notEqual(/a=ice-ufrag:(\S+)/.exec(ans2)[1], /a=ice-ufrag:(\S+)/.exec(ans1)[1], 'a new transport');
    b.send({ type: 'sfu-subscribe-answer', sdp: sfuAnswerTo(again) });
    const thirdMsg = await b.take('sfu-offer');
    assert.equal(thirdMsg.epoch, 0, "b never reset: its offers are of epoch 0");
    const third = thirdMsg.sdp;
    assert.match(third, /^a=ssrc:3333 cname:c1\r$/m, "a's new track is offered");
    assert.doesNotMatch(third, /^a=ssrc:2222 /m, "a's old one is not");
    await b.barrier();
    b.none(['peer-left', 'peer-joined'], 'room events for a reset');
    const [c] = await peers.many('c');
    await joinRoom(c, uniq('mesh'));
    c.send({ type: 'sfu-reset' });
    await c.error('not_in_room');
  });
});

describe('room modes: --room-mode mesh --max-room 5', () => {
  const env = useServer(['--room-mode', 'mesh', '--max-room', '5']);
  const { peers } = env;

  test('rooms stay mesh up to --max-room; sfu:true is refused with sfu_unavailable', T, async () => {
    const ps = await peers.many('a', 'b', 'c', 'd', 'e', 'f');
    const r = uniq('mesh');
    const joined = await room(r, ...ps.slice(0, 5));
    for (const j of joined) assert.equal(j.sfu, undefined);
    for (const p of ps.slice(0, 4)) p.none('room-mode');
    ps[5].send({ type: 'join', room: r });
    await ps[5].error('room_full');
    ps[5].send({ type: 'join', room: uniq('x'), sfu: true });
    await ps[5].error('sfu_unavailable');
  });
});

describe('room modes: --room-mode sfu --max-sfu-room 3', () => {
  const env = useServer(['--room-mode', 'sfu', '--max-sfu-room', '3']);
  const { peers } = env;

  test('every room is SFU from its first member; the 4th gets room_full', T, async () => {
    const ps = await peers.many('a', 'b', 'c', 'd');
    const r = uniq('sfu');
    const joined = await joinAll(r, ps.slice(0, 3), { sfuRoom: true });
    for (const j of joined) assert.equal(j.sfu, true);
    ps[3].send({ type: 'join', room: r });
    await ps[3].error('room_full');
  });
});

describe('room modes: --mesh-max 2 --max-sfu-room 4 --max-room 8', () => {
  const env = useServer(['--mesh-max', '2', '--max-sfu-room', '4']);
  const { peers } = env;

  test('the 3rd join moves the room; the SFU cap then holds it at 4', T, async () => {
    const ps = await peers.many('a', 'b', 'c', 'd', 'e');
    const r = uniq('small');
    await room(r, ...ps.slice(0, 2));
    assert.equal((await joinRoom(ps[2], r)).sfu, true);
    for (const p of ps.slice(0, 2)) assert.deepEqual(await p.next(), { type: 'room-mode', mode: 'sfu' });
    await joinRoom(ps[3], r);
    ps[4].send({ type: 'join', room: r });
    await ps[4].error('room_full');
  });
});
