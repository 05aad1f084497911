// Browser test (e): B's connection to the server really breaks mid-call.
//
// B's page is loaded through a TCP proxy in this test (bytes pass through
// untouched, TLS and all), so the page talks to the real server; cutting
// the proxy resets B's WebSocket on both ends, as a network drop would, and
// refuses new connections for a moment. Then:
//   - within the resume grace, B reconnects to /ws and resumes with its
//     token in the first message, keeps its peer id and room; its status
//     goes reconnecting → connected, A sees B's signaling away then back
//     while the tile stays "connected" (media never stopped); media keeps
//     flowing (framesDecoded grows) and signaling works again (chat);
//   - after the grace (server started with --resume-grace 1), B comes back
//     as somebody new, joins the room again, A keeps the old tile only
//     while its media flows, gets a new one, and video flows again.
//
// Run: node --test tests/e2e/   (TINCAN_BIN picks another binary)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import {
  assertClean, joinCall, launch, person, shot, stats, tcpProxy, tileIds, waitDecoding, waitStatus,
} from './helpers.mjs';

const STEP = { timeout: 90_000 };
// What a refused reconnect attempt prints in B's console; nothing else may.
const EXPECTED = /WebSocket connection to '.*\/ws' failed|ERR_CONNECTION_(RESET|REFUSED|CLOSED)|Failed to load resource/;

const peerId = (page) => page.evaluate(() => window.tincanDebug.id);
const statusLog = (page) => page.evaluate(() => window.__statusLog);

describe('a dropped WebSocket mid-call', { timeout: 300_000 }, () => {
  let browser;
  const servers = [];
  const proxies = [];

  before(async () => {
    browser = await launch();
  }, STEP);

  after(async () => {
    await browser?.close().catch(() => {});
    for (const p of proxies) await p.close();
    for (const s of servers) await s.stop();
  }, STEP);

  /** A server, a proxy in front of it, A direct and B through the proxy, in a call. */
  async function callThroughProxy(args = []) {
    const server = await startServer({ args });
    servers.push(server);
    const proxy = await tcpProxy(server.port);
    proxies.push(proxy);
    const a = await person(browser, server.url + '/', 'A');
    const b = await person(browser, proxy.url + '/', 'B');
    await joinCall(a.page);
    await joinCall(b.page);
    await waitDecoding(a.page, 1);
    await waitDecoding(b.page, 1);
    return { server, proxy, a, b };
  }

  test('(e) within the grace: B resumes its identity, the UI shows reconnecting then connected, media flows', STEP, async () => {
    const { proxy, a, b } = await callThroughProxy();
    const idA = await peerId(a.page);
    const idB = await peerId(b.page);
    await b.page.evaluate(() => { window.__statusLog = [document.getElementById('status').dataset.status]; });
    const acceptedBefore = proxy.accepted;

    const cut = proxy.cut(2500);
    assert.ok(cut >= 1, 'the proxy carried B\'s WebSocket');
    await waitStatus(b.page, 'reconnecting', 5_000);
    await shot(b.page, 'resume-b-reconnecting');
    // The server noticed too: A sees B's signaling away, not gone, and no
    // "Reconnecting…" over its video, which still plays.
    await a.page.waitForSelector(`.tile[data-peer-id="${idB}"][data-signal="away"][data-state="connected"]`, { timeout: 5_000 });
    await shot(a.page, 'resume-a-sees-reconnecting');

    await waitStatus(b.page, 'connected', 20_000);
    assert.ok(proxy.accepted > acceptedBefore, 'B opened a new connection');
    const log = await statusLog(b.page);
    assert.equal(log[0], 'connected');
    assert.ok(log.includes('reconnecting'), `status went through reconnecting: ${log}`);
    assert.equal(log[log.length - 1], 'connected');
    assert.ok(log.indexOf('reconnecting') < log.lastIndexOf('connected'), `reconnecting, then connected: ${log}`);
    assert.equal(await peerId(b.page), idB, 'B kept its peer id (resumed with its token)');
    await a.page.waitForSelector(`.tile[data-peer-id="${idB}"][data-state="connected"][data-signal="ok"]`);
    assert.deepEqual(await tileIds(a.page), [idB]);
    assert.deepEqual(await tileIds(b.page), [idA]);

    // Media flows after the drop, both ways.
    const sa = await stats(a.page);
    const sb = await stats(b.page);
    await waitDecoding(a.page, 1, { after: sa });
    await waitDecoding(b.page, 1, { after: sb });
    // And the resumed signaling carries messages in the room again.
    await b.page.getByRole('button', { name: 'Chat' }).click();
    await b.page.getByLabel('Message').fill('back again');
    await b.page.getByLabel('Message').press('Enter');
    await a.page.waitForSelector('#chat-unread:not([hidden])');
    await shot(b.page, 'resume-b-connected');
    await assertClean([a, b], EXPECTED);
    await a.context.close();
    await b.context.close();
  });

  test('(e) after the grace: B comes back as a new peer, rejoins, and video flows again', STEP, async () => {
    const { proxy, a, b } = await callThroughProxy(['--resume-grace', '1']);
    const idB = await peerId(b.page);
    proxy.cut(2500);
    await waitStatus(b.page, 'reconnecting', 5_000);
    // The grace runs out while B is away: the server says B is gone, but its
    // media still flows, so A keeps the tile (marked lost).
    await a.page.waitForSelector(`.tile[data-peer-id="${idB}"][data-signal="lost"]`, { timeout: 10_000 });
    await waitStatus(b.page, 'connected', 20_000);
    const newB = await peerId(b.page);
    assert.notEqual(newB, idB, 'a fresh identity after the grace');
    // B joined the room again by itself; its old connection closed, so the
    // old tile goes once its media stops.
    await a.page.waitForSelector(`.tile[data-peer-id="${idB}"]`, { state: 'detached', timeout: 45_000 });
    await waitDecoding(a.page, 1);
    await waitDecoding(b.page, 1);
    assert.deepEqual(await tileIds(a.page), [newB]);
    await shot(a.page, 'resume-after-grace');
    await assertClean([a, b], EXPECTED);
    await a.context.close();
    await b.context.close();
  });
});
