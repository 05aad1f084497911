// TURN Allocate and its error paths (RFC 8656, RFC 8489 long-term
// credentials) against the real binary: 401 with REALM and NONCE, wrong
// passwords, static users and TURN REST credentials (--turn-secret, and the
// secret the server makes itself), lifetimes, 442, 437, Refresh to 0, stale
// nonces (438), the per-user quota (486) and an exhausted port range (508).
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { start, sleep } from './net.mjs';
import {
  TurnClient, StunClient, encodeMessage, METHOD, CLASS, ATTR, expectSuccess, expectError, udpRange, turnArgs, Bag, hostPort,
  restCredential, restPassword, requestedTransport, longTermKey,
} from './stun-client.mjs';

const T = { timeout: 20000 };
const TRANSPORTS = ['udp', 'tcp', 'tls'];
const ALICE = { user: 'alice', pass: 'wonderland' };
const BOB = { user: 'bob', pass: 'builder' };
const SECRET = 'integration-secret-1';
const now = () => Math.floor(Date.now() / 1000);

/** Checks a successful Allocate: relayed address in range, lifetime, mapped address. */
function checkAllocation(t, res, range, lifetime, what) {
  expectSuccess(res, what);
  const relayed = res.xorAddr(ATTR.XOR_RELAYED_ADDRESS);
  assert.ok(relayed, `${what}: XOR-RELAYED-ADDRESS present (${res.describe()})`);
  assert.equal(relayed.ip, '127.0.0.1', `${what}: relayed address on --relay-ip`);
  assert.ok(relayed.port >= range.lo && relayed.port <= range.hi,
    `${what}: relayed port ${relayed.port} in --relay-ports ${range.arg}`);
  assert.equal(res.u32(ATTR.LIFETIME), lifetime, `${what}: LIFETIME`);
  const mapped = res.xorAddr(ATTR.XOR_MAPPED_ADDRESS);
  assert.ok(mapped, `${what}: XOR-MAPPED-ADDRESS present (${res.describe()})`);
  assert.equal(hostPort(mapped), `127.0.0.1:${t.local.port}`, `${what}: XOR-MAPPED-ADDRESS is the client's address`);
  assert.equal(res.fingerprint(), 'ok', `${what}: FINGERPRINT`);
}

describe('Allocate: credentials, lifetimes and error codes', () => {
  let srv;
  let range;
  const bag = new Bag();
  before(async () => {
    range = await udpRange(21000, 30);
    srv = await start({
      args: turnArgs(range, '--turn-user', `${ALICE.user}:${ALICE.pass}`, '--turn-user', `${BOB.user}:${BOB.pass}`,
        '--turn-secret', SECRET),
    });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  for (const tr of TRANSPORTS) {
    test(`${tr}: Allocate without credentials → 401 with REALM and NONCE`, T, async () => {
      const t = bag.add(await TurnClient.connect(tr, srv.port, null));
      const res = await t.allocate();
      expectError(res, 401, `unauthenticated Allocate over ${tr}`);
      assert.equal(res.str(ATTR.REALM), 'tincan', `401 carries REALM "tincan" (default --turn-realm) (${res.describe()})`);
      const nonce = res.str(ATTR.NONCE);
      assert.ok(nonce && nonce.length >= 8, `401 carries a NONCE (${res.describe()})`);
      assert.equal(res.has(ATTR.XOR_RELAYED_ADDRESS), false, 'no relayed address before authentication');
    });

    test(`${tr}: static --turn-user → success: relayed address in range, LIFETIME 600, XOR-MAPPED-ADDRESS`, T, async () => {
      // fresh: no cached nonce, the whole 401 → signed request dance.
      const t = bag.add(await TurnClient.connect(tr, srv.port, ALICE, { fresh: true }));
      const res = await t.allocate();
      assert.equal(res.signed, true, 'the client went through 401 and signed the request');
      checkAllocation(t, res, range, 600, `Allocate over ${tr}`);
    });
  }

  test('wrong password → 401; unknown user → 401', T, async () => {
    for (const creds of [{ user: 'alice', pass: 'wrong' }, { user: 'mallory', pass: 'wonderland' }, { user: 'alice', pass: '' }]) {
      const t = bag.add(await TurnClient.connect('udp', srv.port, creds));
      const res = await t.allocate();
      assert.equal(res.signed, true, 'the request was signed');
      expectError(res, 401, `Allocate as ${creds.user}/${JSON.stringify(creds.pass)}`);
    }
  });

  test('a signed request with a REALM other than the server\'s → 401', T, async () => {
    const t = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectError(await t.learn(), 401, 'unsigned Allocate'); // the client learns REALM and NONCE
    // Sign with the right password but for another realm.
    t.realm = 'elsewhere';
    t.key = longTermKey(ALICE.user, 'elsewhere', ALICE.pass);
    const res = await t.request(METHOD.ALLOCATE, [[ATTR.REQUESTED_TRANSPORT, requestedTransport(17)]], { staleRetries: 0 });
    expectError(res, 401, 'Allocate signed for realm "elsewhere"');
  });

  test('MESSAGE-INTEGRITY-SHA256 instead of MESSAGE-INTEGRITY is accepted, and answered in kind', T, async () => {
    for (const tr of ['udp', 'tls']) {
      const t = bag.add(await TurnClient.connect(tr, srv.port, ALICE));
      const res = await t.allocate({ sha256: true });
      checkAllocation(t, res, range, 600, `Allocate over ${tr} signed with MESSAGE-INTEGRITY-SHA256`);
      const wrong = bag.add(await TurnClient.connect(tr, srv.port, { user: 'alice', pass: 'nope' }));
      expectError(await wrong.allocate({ sha256: true }), 401, `MESSAGE-INTEGRITY-SHA256 with a wrong password over ${tr}`);
    }
  });

  test('requested LIFETIME 7200 → 3600 (the maximum); 1200 → 1200', T, async () => {
    const t = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    checkAllocation(t, await t.allocate({ lifetime: 7200 }), range, 3600, 'Allocate with LIFETIME 7200');
    const t2 = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    checkAllocation(t2, await t2.allocate({ lifetime: 1200 }), range, 1200, 'Allocate with LIFETIME 1200 (RFC 8656 §7.2: between default and maximum)');
  });

  test('Refresh: LIFETIME 7200 → 3600; no LIFETIME → 600', T, async () => {
    const t = bag.add(await TurnClient.connect('tcp', srv.port, ALICE));
    expectSuccess(await t.allocate(), 'Allocate');
    const r1 = expectSuccess(await t.refresh(7200), 'Refresh 7200');
    assert.equal(r1.u32(ATTR.LIFETIME), 3600, `Refresh 7200 → LIFETIME (${r1.describe()})`);
    const r2 = expectSuccess(await t.refresh(), 'Refresh without LIFETIME');
    assert.equal(r2.u32(ATTR.LIFETIME), 600, `Refresh without LIFETIME → default (${r2.describe()})`);
  });

  test('REQUESTED-TRANSPORT TCP (6) → 442; without REQUESTED-TRANSPORT → 400', T, async () => {
    for (const tr of ['udp', 'tls']) {
      const t = bag.add(await TurnClient.connect(tr, srv.port, ALICE));
      expectError(await t.allocate({ transport: 6 }), 442, `Allocate for TCP over ${tr}`);
      // The failed request allocated nothing: a UDP allocation on the same 5-tuple works.
      expectSuccess(await t.allocate(), `Allocate for UDP after the 442 over ${tr}`);
    }
    const t = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectError(await t.learn(), 401, 'unsigned Allocate');
    const res = await t.request(METHOD.ALLOCATE, []);
    expectError(res, 400, 'signed Allocate without REQUESTED-TRANSPORT');
  });

  test('REQUESTED-ADDRESS-FAMILY: IPv4 → an IPv4 relay; IPv6 with an IPv4-only --relay-ip → 440', T, async () => {
    const v4 = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    const res = await v4.allocate({ attrs: [[ATTR.REQUESTED_ADDRESS_FAMILY, Buffer.from([1, 0, 0, 0])]] });
    checkAllocation(v4, res, range, 600, 'Allocate with REQUESTED-ADDRESS-FAMILY IPv4');
    const v6 = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    const res6 = await v6.allocate({ attrs: [[ATTR.REQUESTED_ADDRESS_FAMILY, Buffer.from([2, 0, 0, 0])]] });
    expectError(res6, 440, `Allocate with REQUESTED-ADDRESS-FAMILY IPv6 (RFC 8656 §7.2) got relayed ${hostPort(res6.xorAddr(ATTR.XOR_RELAYED_ADDRESS))}`);
  });

  for (const tr of ['udp', 'tcp']) {
    test(`${tr}: a second Allocate on the same 5-tuple → 437`, T, async () => {
      const t = bag.add(await TurnClient.connect(tr, srv.port, ALICE));
      expectSuccess(await t.allocate(), 'first Allocate');
      const first = t.relayed;
      expectError(await t.allocate(), 437, 'second Allocate (new transaction) on the same 5-tuple');
      // The first allocation is still there.
      const r = expectSuccess(await t.refresh(), 'Refresh after the 437');
      assert.ok(r.u32(ATTR.LIFETIME) > 0);
      assert.ok(first);
    });
  }

  test('Refresh LIFETIME 0 deletes the allocation: then CreatePermission → 437, Refresh → 437, a new Allocate works', T, async () => {
    for (const tr of TRANSPORTS) {
      const t = bag.add(await TurnClient.connect(tr, srv.port, ALICE));
      expectSuccess(await t.allocate(), `Allocate over ${tr}`);
      const del = expectSuccess(await t.refresh(0), `Refresh 0 over ${tr}`);
      if (del.has(ATTR.LIFETIME)) assert.equal(del.u32(ATTR.LIFETIME), 0, 'LIFETIME in the answer to Refresh 0');
      // A peer the policy allows, so that only the missing allocation can refuse it.
      expectError(await t.createPermission({ ip: '8.8.8.8', port: 0 }), 437, `CreatePermission after deletion over ${tr}`);
      expectError(await t.refresh(600), 437, `Refresh after deletion over ${tr}`);
      expectSuccess(await t.allocate(), `a new Allocate on the same 5-tuple over ${tr}`);
    }
  });

  test('requests other than Allocate without an allocation → 437', T, async () => {
    const t = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectError(await t.learn(), 401, 'unsigned Allocate'); // realm + nonce
    expectError(await t.createPermission({ ip: '8.8.8.8', port: 0 }), 437, 'CreatePermission without allocation');
    expectError(await t.channelBind(0x4000, { ip: '8.8.8.8', port: 5000 }), 437, 'ChannelBind without allocation');
    expectError(await t.refresh(600), 437, 'Refresh without allocation');
  });

  test('REST credentials from --turn-secret: "<expiry>:name" and "<expiry>" are accepted', T, async () => {
    for (const name of ['dave', '']) {
      const creds = restCredential(SECRET, name, now() + 3600);
      const t = bag.add(await TurnClient.connect('udp', srv.port, creds));
      checkAllocation(t, await t.allocate(), range, 600, `Allocate with REST username ${creds.user}`);
    }
    const creds = restCredential(SECRET, 'erin', now() + 3600);
    const t = bag.add(await TurnClient.connect('tls', srv.port, creds));
    checkAllocation(t, await t.allocate(), range, 600, 'Allocate over tls with a REST username');
  });

  test('REST credentials: expired username, wrong secret, "name:expiry" order → 401', T, async () => {
    const cases = [
      ['expired a minute ago', restCredential(SECRET, 'dave', now() - 60)],
      ['made with another secret', restCredential('not-the-secret', 'dave', now() + 3600)],
      ['in coturn\'s other order "name:expiry"', { user: `dave:${now() + 3600}`, pass: restPassword(SECRET, `dave:${now() + 3600}`) }],
    ];
    for (const [what, creds] of cases) {
      const t = bag.add(await TurnClient.connect('udp', srv.port, creds));
      const res = await t.allocate();
      assert.equal(res.signed, true, `${what}: request signed`);
      expectError(res, 401, `Allocate with a REST username ${what} (${creds.user})`);
    }
  });

  test('a REST username expiring in 2 s still works', T, async () => {
    const creds = restCredential(SECRET, 'frank', now() + 2);
    const t = bag.add(await TurnClient.connect('udp', srv.port, creds));
    expectSuccess(await t.allocate(), 'REST username expiring in 2 s');
  });
});

describe('stale nonce (--turn-nonce-ttl 1)', () => {
  let srv;
  let range;
  const bag = new Bag();
  before(async () => {
    range = await udpRange(21100, 10);
    srv = await start({ args: turnArgs(range, '--turn-user', `${ALICE.user}:${ALICE.pass}`, '--turn-nonce-ttl', '1') });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  for (const tr of ['udp', 'tcp']) {
    test(`${tr}: a request with an old nonce → 438 with a new NONCE; retried with it → success`, T, async () => {
      const t = bag.add(await TurnClient.connect(tr, srv.port, ALICE));
      // A 1 s nonce can go stale between the 401 and the retry: the client
      // retries 438s a few times here.
      expectSuccess(await t.allocate({ staleRetries: 5 }), 'Allocate');
      const old = t.nonce;
      await sleep(2200);
      const res = await t.refresh(600, { staleRetries: 0 });
      expectError(res, 438, 'Refresh with a nonce issued more than 1 s ago');
      const fresh = res.str(ATTR.NONCE);
      assert.ok(fresh, `438 carries a NONCE (${res.describe()})`);
      assert.notEqual(fresh, old, '438 carries a new NONCE');
      assert.equal(res.str(ATTR.REALM), 'tincan', `438 carries REALM (RFC 8489 §9.2.4) (${res.describe()})`);
      expectSuccess(await t.refresh(600, { staleRetries: 5 }), 'Refresh with the new nonce');
    });
  }
});

describe('quota: --turn-quota 1', () => {
  let srv;
  let range;
  const bag = new Bag();
  before(async () => {
    range = await udpRange(21200, 10);
    srv = await start({
      args: turnArgs(range, '--turn-user', `${ALICE.user}:${ALICE.pass}`, '--turn-user', `${BOB.user}:${BOB.pass}`,
        '--turn-secret', SECRET, '--turn-quota', '1'),
    });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  test('a second allocation of the same user from another 5-tuple → 486; another user is not affected', T, async () => {
    const a1 = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectSuccess(await a1.allocate(), 'alice, first allocation');
    for (const tr of TRANSPORTS) {
      const a2 = bag.add(await TurnClient.connect(tr, srv.port, ALICE));
      expectError(await a2.allocate(), 486, `alice, second allocation over ${tr}`);
    }
    const b = bag.add(await TurnClient.connect('udp', srv.port, BOB));
    expectSuccess(await b.allocate(), 'bob, first allocation');
    // Freeing the first allocation frees the quota.
    expectSuccess(await a1.refresh(0), 'alice deletes her allocation');
    const a3 = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    expectSuccess(await a3.allocate(), 'alice allocates again after deleting the first');
  });

  test('REST users count by their full username; closing a TCP connection frees its allocation', T, async () => {
    const creds = restCredential(SECRET, 'gina', now() + 3600);
    const c1 = bag.add(await TurnClient.connect('tcp', srv.port, creds));
    expectSuccess(await c1.allocate(), 'gina over tcp');
    const c2 = bag.add(await TurnClient.connect('udp', srv.port, creds));
    expectError(await c2.allocate(), 486, 'gina again over udp');
    c1.close();
    let res;
    for (let i = 0; i < 20; i++) {
      await sleep(100);
      const c3 = bag.add(await TurnClient.connect('udp', srv.port, creds));
      res = await c3.allocate();
      if (res.cls === CLASS.SUCCESS) break;
    }
    expectSuccess(res, 'gina allocates again after her TCP connection closed');
  });
});

describe('no free relay port (--relay-ports with one port)', () => {
  let srv;
  let range;
  const bag = new Bag();
  before(async () => {
    range = await udpRange(21300, 1);
    srv = await start({ args: turnArgs(range, '--turn-user', `${ALICE.user}:${ALICE.pass}`) });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  test('the second allocation → 508; after the first is deleted the port is free again', T, async () => {
    const a = bag.add(await TurnClient.connect('udp', srv.port, ALICE));
    checkAllocation(a, await a.allocate(), range, 600, 'first allocation');
    assert.equal(a.relayed.port, range.lo);
    const b = bag.add(await TurnClient.connect('tcp', srv.port, ALICE));
    expectError(await b.allocate(), 508, 'second allocation with the only relay port taken');
    expectSuccess(await a.refresh(0), 'first allocation deleted');
    const res = await b.allocate();
    checkAllocation(b, res, range, 600, 'second client allocates the freed port');
  });
});

describe('the TURN secret the server makes itself', () => {
  let srv;
  let range;
  const bag = new Bag();
  before(async () => {
    range = await udpRange(21400, 5);
    srv = await start({ args: turnArgs(range) });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  test('<data-dir>/turn-secret exists with mode 0600 and REST credentials made from it work', T, async () => {
    const file = `${srv.dataDir}/turn-secret`;
    const st = statSync(file);
    assert.equal(st.mode & 0o777, 0o600, `mode of ${file}`);
    const secret = readFileSync(file, 'utf8').trim();
    assert.ok(secret.length >= 16, 'the secret is long enough not to be guessed');
    const t = bag.add(await TurnClient.connect('udp', srv.port, restCredential(secret, 'hal', now() + 600)));
    checkAllocation(t, await t.allocate(), range, 600, 'Allocate with a REST credential from the generated secret');
    const wrong = bag.add(await TurnClient.connect('udp', srv.port, restCredential(`${secret}x`, 'hal', now() + 600)));
    expectError(await wrong.allocate(), 401, 'a credential from another secret');
  });

  test('the secret stays the same across restarts on the same data dir', T, async () => {
    const file = `${srv.dataDir}/turn-secret`;
    const before1 = readFileSync(file, 'utf8');
    const again = await start({ dataDir: srv.dataDir, args: turnArgs(await udpRange(21410, 5)) });
    try {
      assert.equal(readFileSync(file, 'utf8'), before1, 'turn-secret unchanged by a second start');
    } finally {
      await again.stop();
    }
  });
});

describe('401 answers are rate-limited per source address', () => {
  let srv;
  const bag = new Bag();
  before(async () => {
    srv = await start({ args: turnArgs(await udpRange(21420, 5), '--turn-user', `${ALICE.user}:${ALICE.pass}`) });
  });
  afterEach(() => bag.closeAll());
  after(async () => { await srv?.stop(); });

  test('100 unauthenticated Allocates at once get far fewer 401s; 2 s later the next gets its 401 at once', T, async () => {
    // A TCP client connects first and stays quiet until the end.
    const t = bag.add(await TurnClient.connect('tcp', srv.port, null));
    const c = bag.add(await StunClient.connect('udp', srv.port));
    const sent = [];
    for (let i = 0; i < 100; i++) {
      const m = encodeMessage({ method: METHOD.ALLOCATE, attrs: [[ATTR.REQUESTED_TRANSPORT, requestedTransport(17)]] });
      sent.push(m.txid.toString('hex'));
      c.sendRaw(m.buf);
    }
    await sleep(500);
    const answers = c.inbox.filter((it) => it.kind === 'stun' && sent.includes(it.msg.txid.toString('hex')));
    assert.ok(answers.length >= 1, 'some 401s are answered');
    assert.ok(answers.length <= 40, `at most a burst of 401s is answered, got ${answers.length} for 100 requests`);
    for (const a of answers) expectError(a.msg, 401, 'answer to an unauthenticated Allocate');
    // The bucket (20 a second) is full again after 2 s. Over TCP nothing is
    // retransmitted: the first request must get its 401.
    await sleep(2000);
    expectError(await t.allocate({ timeout: 2000 }), 401, 'an unauthenticated Allocate over tcp 2 s after the burst');
    // Authenticated clients are not limited.
    const ok = bag.add(await TurnClient.connect('tcp', srv.port, ALICE));
    expectSuccess(await ok.allocate(), 'Allocate with credentials');
  });
});
