// A real call relayed by tincan's built-in TURN server (issue 3, "A real
// call"): two headless Chromium pages, each with an RTCPeerConnection driven
// from this process with page.evaluate (the web client's UI is not used; the
// pages sit on /health only to have the server's secure origin), with
// iceTransportPolicy "relay" and one ICE server at a time:
//
//   turn:127.0.0.1:PORT?transport=udp    TURN over UDP on the main port
//   turn:127.0.0.1:PORT?transport=tcp    TURN over TCP on the main port
//   turns:localhost:PORT?transport=tcp   TURN over TLS on the main port
//
// The SDP goes from page to page through this process, without trickle: each
// side waits until ICE gathering is complete, so its description carries its
// relay candidate. Each case checks what a user of a relayed call would:
// both pages decode the other's fake camera (framesDecoded > 0 in getStats),
// and the selected candidate pair is relay/relay on both sides, the local
// relay candidate allocated over the transport of the URL (relayProtocol
// udp, tcp or tls).
//
// Both relayed addresses are the server's own, which the peer policy always
// allows, so the server runs without --allow-loopback-peers.
//
// Chromium and the self-signed certificate: Chromium does check the
// certificate of a "turns:" server (without a flag the allocation fails with
// icecandidateerror 701), and --ignore-certificate-errors, which the browser
// tests pass anyway, covers that check too (Chromium 156): no
// --ignore-certificate-errors-spki-list is needed.
//
// Run: node --test tests/e2e/turn-relay.test.mjs   (TINCAN_BIN picks another binary)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser } from './helpers.mjs';
import { relayOfferAnswer } from './rtc-pages.mjs';

const USER = 'test';
const PASSWORD = 'secret';
const STEP = { timeout: 30_000 };

describe('a call relayed by tincan\'s TURN server', { timeout: 90_000 }, () => {
  const env = useServerAndBrowser({
    args: ['--relay-ip', '127.0.0.1', '--turn-user', `${USER}:${PASSWORD}`],
  }, STEP);

  /**
   * Two pages call each other through `url` only; returns both pages'
   * stats once both decode video.
   */
  async function relayedCall(url) {
    const context = await env.browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const pages = [await context.newPage(), await context.newPage()];
      const config = {
        iceServers: [{ urls: url, username: USER, credential: PASSWORD }],
        iceTransportPolicy: 'relay',
      };
      for (const page of pages) {
        page.setDefaultTimeout(20_000);
        await page.goto(`${env.server.url}/health`);
      }
      return await relayOfferAnswer(pages, config);
    } finally {
      await context.close();
    }
  }

  /** Both sides: relay/relay, and the local relay allocated over `relayProtocol`. */
  function assertRelayed(stats, relayProtocol) {
    stats.forEach((s, i) => {
      const side = i === 0 ? 'caller' : 'callee';
      assert.ok(s.framesDecoded > 0, `${side} decodes video`);
      assert.equal(s.local.candidateType, 'relay', `${side}: local candidate is relay (${JSON.stringify(s.local)})`);
      assert.equal(s.remote.candidateType, 'relay', `${side}: remote candidate is relay (${JSON.stringify(s.remote)})`);
      assert.equal(s.local.relayProtocol, relayProtocol, `${side}: relayed over ${relayProtocol}`);
      assert.equal(s.local.address, '127.0.0.1', `${side}: the relayed address is on --relay-ip`);
    });
    // Each side's remote candidate is the other side's relayed address.
    assert.equal(stats[0].remote.port, stats[1].local.port);
    assert.equal(stats[1].remote.port, stats[0].local.port);
  }

  test('turn: over UDP', STEP, async () => {
    assertRelayed(await relayedCall(`turn:127.0.0.1:${env.server.port}?transport=udp`), 'udp');
  });

  test('turn: over TCP', STEP, async () => {
    assertRelayed(await relayedCall(`turn:127.0.0.1:${env.server.port}?transport=tcp`), 'tcp');
  });

  test('turns: over TLS', STEP, async () => {
    assertRelayed(await relayedCall(`turns:localhost:${env.server.port}?transport=tcp`), 'tls');
  });

  test('the server logged no errors', () => {
    const bad = env.server.logs.filter((l) => /level=(error|fatal)/.test(l));
    assert.deepEqual(bad, []);
  });
});
