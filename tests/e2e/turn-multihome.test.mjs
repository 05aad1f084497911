// A relay-only Chromium call over TURN/UDP with tincan bound to the
// wildcard address on a host with more than one address (issue 10). tincan
// and this Chromium run in a network namespace of their own, whose "eth0"
// (a veth inside it) has 192.0.2.10: there tincan may bind every address
// without listening on the host's real interfaces. Chromium sends its
// Allocate from 192.0.2.10 to `turn:127.0.0.3:PORT?transport=udp`; the
// kernel would answer from the address it routes 192.0.2.10 by, so only an
// answer that leaves from 127.0.0.3 on purpose reaches the page, which
// otherwise gathers no relay candidate.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../lib/server.mjs';
import { canUseNetns, makeNetns } from '../lib/netns.mjs';
import { CHROMIUM, CHROMIUM_ARGS, gotoThroughNetworkChange } from './helpers.mjs';
import { relayOfferAnswer } from './rtc-pages.mjs';

const USER = 'test';
const PASSWORD = 'secret';
const STEP = { timeout: 60_000 };

describe('TURN over UDP on a wildcard-bound, multi-address host', { timeout: 120_000, skip: !canUseNetns() && 'needs root for a network namespace' }, () => {
  let ns, server, browser, dir;

  before(async () => {
    ns = makeNetns('e2e', [], { iface: ['192.0.2.10/32'] });
    dir = mkdtempSync(join(tmpdir(), 'tincan-ns-'));
    const wrapper = join(dir, 'chromium');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns.name} ${CHROMIUM} "$@"\n`);
    chmodSync(wrapper, 0o755);
    server = await startServer({
      wrap: ns.prefix,
      bind: null,
      args: ['--relay-ip', '127.0.0.1', '--turn-user', `${USER}:${PASSWORD}`],
    });
    browser = await chromium.launch({ executablePath: wrapper, args: CHROMIUM_ARGS, timeout: 30_000 });
  }, STEP);

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
    ns?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, STEP);

  test('turn:127.0.0.3 over UDP: both pages gather a relay candidate and decode each other', STEP, async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const url = `turn:127.0.0.3:${server.port}?transport=udp`;
      const pages = [await context.newPage(), await context.newPage()];
      const config = { iceServers: [{ urls: url, username: USER, credential: PASSWORD }], iceTransportPolicy: 'relay' };
      for (const page of pages) {
        page.setDefaultTimeout(20_000);
        await gotoThroughNetworkChange(page, `https://127.0.0.3:${server.port}/health`);
      }
      const stats = await relayOfferAnswer(pages, config);
      for (const s of stats) {
        assert.ok(s.framesDecoded > 0, 'decodes video');
        assert.equal(s.local.candidateType, 'relay');
        assert.equal(s.local.relayProtocol, 'udp');
      }
    } finally {
      await context.close();
    }
  });

  test('the server logged no errors', () => {
    assert.deepEqual(server.logs.filter((l) => /level=(error|fatal)/.test(l)), []);
  });
});
