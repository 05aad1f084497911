// `tincan check-config`: reads settings from the same sources as the server
// (config file, .env, environment, command line), prints each effective
// setting with where it came from and secrets masked, exits 0 when valid
// and 2 naming the option when not — without binding any port.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { BIN } from './net.mjs';

const SECRETS = {
  turnSecret: 'turn-secret-do-not-print-31415',
  pass: 'password-do-not-print-27182',
  token: 'metrics-token-do-not-print-16180',
};

/** Runs `tincan check-config ...args` in cwd with env (no inherited TINCAN_*). */
function check(args, { cwd, env = {}, uid } = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TINCAN_')));
  const ids = uid === undefined ? {} : { uid, gid: uid };
  const r = spawnSync(BIN, ['check-config', ...args], { cwd, env: { ...base, ...env }, encoding: 'utf8', timeout: 20000, ...ids });
  const settings = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([a-z-]+) = (.*) \(([^()]+)\)$/.exec(line);
    if (m) settings[m[1]] = { value: m[2], source: m[3] };
  }
  return { code: r.status, out: r.stdout, err: r.stderr, settings };
}

describe('tincan check-config', () => {
  let dir;
  let dataDir;
  let conf;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tincan-check-'));
    dataDir = join(dir, 'data');
    conf = join(dir, 'tincan.conf');
    writeFileSync(conf, [
      '# a config file as a self-hoster writes it',
      'port = 9443',
      `data-dir = ${dataDir}`,
      `turn-secret = ${SECRETS.turnSecret}`,
      `turn-user = alice:${SECRETS.pass}`,
      `turn-user = bob:${SECRETS.pass}x`,
      `metrics-token = ${SECRETS.token}`,
      'max-room = 6',
      'log-level = warn',
      '',
    ].join('\n'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a valid config: exit 0, every setting with its source, secrets masked', () => {
    const r = check(['--config', conf], { cwd: dir });
    assert.equal(r.code, 0, `exit 0; stderr: ${r.err}`);
    assert.deepEqual(r.settings.port, { value: '9443', source: 'config file' });
    assert.deepEqual(r.settings['max-room'], { value: '6', source: 'config file' });
    assert.deepEqual(r.settings['log-level'], { value: 'warn', source: 'config file' });
    assert.deepEqual(r.settings['header-timeout'], { value: '10', source: 'default' });
    assert.deepEqual(r.settings['turn-secret'], { value: '********', source: 'config file' });
    assert.deepEqual(r.settings['metrics-token'], { value: '********', source: 'config file' });
    assert.deepEqual(r.settings['turn-user'], { value: 'alice:********, bob:********', source: 'config file' });
    for (const s of Object.values(SECRETS)) {
      assert.ok(!r.out.includes(s) && !r.err.includes(s), `secret ${s.slice(0, 12)}… never printed`);
    }
    assert.match(r.out, /^# configuration ok$/m);
    assert.match(r.out, /self-signed certificate will be created/);
  });

  test('stronger sources win and say so: .env over the file, environment over .env, command line over all', () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(cwd, '.env'), 'TINCAN_MAX_ROOM=5\nTINCAN_PORT=9444\nOTHER_PROGRAM=1\n');
    const r = check(['--config', conf, '--port', '9446'], { cwd, env: { TINCAN_PORT: '9445', TINCAN_RESUME_GRACE: '20' } });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.settings['max-room'], { value: '5', source: '.env' });
    assert.deepEqual(r.settings['resume-grace'], { value: '20', source: 'environment' });
    assert.deepEqual(r.settings.port, { value: '9446', source: 'command line' });
    assert.deepEqual(r.settings.config, { value: conf, source: 'command line' });
    const viaEnv = check([], { cwd, env: { TINCAN_CONFIG: conf } });
    assert.deepEqual(viaEnv.settings.config, { value: conf, source: 'environment' });
    assert.deepEqual(viaEnv.settings['log-level'], { value: 'warn', source: 'config file' }, 'TINCAN_CONFIG is read too');
  });

  test('it does not bind: valid while another process holds the port', async () => {
    const holder = net.createServer();
    await new Promise((ok) => holder.listen(0, '127.0.0.1', ok));
    const { port } = holder.address();
    try {
      const r = check(['--config', conf, '--port', String(port), '--bind', '127.0.0.1'], { cwd: dir });
      assert.equal(r.code, 0, r.err);
      assert.equal(r.settings.port.value, String(port));
    } finally {
      holder.close();
    }
  });

  const bad = [
    ['an out-of-range port', ['--port', '70000'], /invalid value for port: '70000'/],
    ['an unknown option', ['--colour', 'blue'], /unknown option '--colour'/],
    ['a config file that is not there', ['--config', '/nonexistent/tincan.conf'], /invalid value for config: cannot read/],
    ['a relay range with the main port in it', ['--port', '49170'], /invalid value for relay-ports: '49160-49200' includes the main port/],
    ['a cert without a key', ['--cert', '/etc/hostname'], /invalid value for key: --cert and --key must be given together/],
    ['a bad relay range', ['--relay-ports', '100-50'], /invalid value for relay-ports/],
    ['--http-port on the main port', ['--port', '9443', '--http-port', '9443'], /invalid value for http-port: '9443' is the main port/],
    ['an unreadable --acme-ca-cert', ['--domain', 'call.example.com', '--acme-ca-cert', '/nonexistent/ca.pem'], /invalid value for acme-ca-cert: cannot read/],
    ['an unknown --acme-challenge', ['--acme-challenge', 'dns-01'], /invalid value for acme-challenge: 'dns-01'/],
    ['a database in a directory that is not there', ['--db', '/nonexistent/dir/tincan.db'], /invalid value for db: cannot write in the directory/],
  ];
  for (const [what, args, re] of bad) {
    test(`${what}: exit 2 and the option named`, () => {
      const r = check(['--config', conf, ...args], { cwd: dir });
      assert.equal(r.code, 2, `exit 2; stdout: ${r.out}`);
      assert.match(r.err, re);
      assert.doesNotMatch(r.out, /configuration ok/);
      for (const s of Object.values(SECRETS)) assert.ok(!r.out.includes(s) && !r.err.includes(s), 'no secret printed');
    });
  }

  test('a turn-user without NAME:PASSWORD: exit 2, and the value (maybe a bare password) is never printed', () => {
    const bare = 'SUPERSECRET3-do-not-print';
    for (const [value, shown] of [[bare, '********'], [`${bare}:`, `${bare}:********`], [`:${bare}`, ':********']]) {
      const r = check(['--config', conf, '--turn-user', value], { cwd: dir });
      assert.equal(r.code, 2, `exit 2 for '${value}'; stdout: ${r.out}`);
      assert.match(r.err, /invalid value for turn-user: expected NAME:PASSWORD/);
      assert.ok(r.settings['turn-user'].value.endsWith(shown), r.settings['turn-user'].value);
      if (!value.endsWith(':')) assert.ok(!r.out.includes(bare) && !r.err.includes(bare), 'the value is not printed');
    }
  });

  test('--domain without a stored certificate: valid, and says a self-signed one is served until ACME has one', () => {
    const r = check(['--config', conf, '--domain', 'call.example.com', '--acme-email', 'me@example.com'], { cwd: dir });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.settings.domain, { value: 'call.example.com', source: 'command line' });
    assert.match(r.out, /^# no certificate for call\.example\.com yet/m);
  });

  test('a certificate and a key that do not belong together: exit 2 naming cert', () => {
    const d = mkdtempSync(join(dir, 'pem-'));
    const gen = (name) => execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-subj', '/CN=localhost', '-days', '30', '-keyout', join(d, `${name}.key`), '-out', join(d, `${name}.pem`)], { stdio: 'ignore' });
    gen('a');
    gen('b');
    const good = check(['--config', conf, '--cert', join(d, 'a.pem'), '--key', join(d, 'a.key')], { cwd: dir });
    assert.equal(good.code, 0, good.err);
    assert.match(good.out, /^# the certificate expires .* \(in (29|30) days\)$/m);
    const mixed = check(['--config', conf, '--cert', join(d, 'a.pem'), '--key', join(d, 'b.key')], { cwd: dir });
    assert.equal(mixed.code, 2);
    assert.match(mixed.err, /invalid value for cert: cannot use key .*b\.key with certificate .*a\.pem/);
    const unreadable = check(['--config', conf, '--cert', join(d, 'missing.pem'), '--key', join(d, 'a.key')], { cwd: dir });
    assert.equal(unreadable.code, 2);
    assert.match(unreadable.err, /invalid value for cert: cannot read certificate/);
  });

  test('a data dir that is a file, or whose parent is missing: exit 2 naming data-dir', () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const r = check(['--config', conf, '--data-dir', file], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.err, /invalid value for data-dir: '.*not-a-dir' is not a directory/);
    const orphan = check(['--config', conf, '--data-dir', join(dir, 'no', 'such', 'dir')], { cwd: dir });
    assert.equal(orphan.code, 2);
    assert.match(orphan.err, /invalid value for data-dir: .* does not exist and cannot be created/);
  });

  test('a data dir the user cannot write: exit 2 naming data-dir', () => {
    // As root, run the check as nobody: root may write anywhere.
    const uid = process.getuid() === 0 ? 65534 : undefined;
    chmodSync(dir, 0o755);
    chmodSync(conf, 0o644);
    const ro = join(dir, 'readonly');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const r = check(['--config', conf, '--data-dir', ro], { cwd: dir, uid });
    assert.equal(r.code, 2, `exit 2; stdout: ${r.out} stderr: ${r.err}`);
    assert.match(r.err, /invalid value for data-dir: '.*readonly' is not writable: Permission denied/);
  });
});
