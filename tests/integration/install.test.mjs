// `make install` and the systemd unit: what gets installed where
// (DESTDIR, PREFIX), that the unit points at files the install put there,
// that `systemd-analyze verify` accepts it (and rejects a broken one), that
// the installed settings file passes check-config, and that every system
// call tincan makes while serving (HTTPS, WebSocket signaling, TURN over
// UDP, /metrics, a certificate reload, shutdown) is allowed by the unit's
// SystemCallFilter. Not run here: systemd itself starting the unit (no
// systemd as PID 1 on a build machine).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, sleep } from './net.mjs';
import { freePort } from '../lib/server.mjs';
import { connect, uniq } from './signal-client.mjs';
import { TurnClient, udpRange, expectSuccess } from './stun-client.mjs';
import { ROOT } from './deploy-lib.mjs';

const T = { timeout: 600000 };
const make = (...args) => spawnSync('make', ['-s', '-C', ROOT, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
const clean = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TINCAN_')));

/** The [Service] settings of a unit file: key → [values]. */
function unitSettings(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) (out[m[1]] ||= []).push(m[2]);
  }
  return out;
}

/** Every system call in a systemd syscall group, nested groups expanded. */
function syscallGroup(name, seen = new Set()) {
  const r = spawnSync('systemd-analyze', ['syscall-filter', name], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = new Set();
  for (const line of r.stdout.split('\n').slice(1)) {
    const w = line.trim();
    if (!w || w.startsWith('#')) continue;
    if (w.startsWith('@')) {
      if (!seen.has(w)) { seen.add(w); for (const s of syscallGroup(w, seen)) out.add(s); }
    } else out.add(w);
  }
  return out;
}

describe('make install', () => {
  let dest;
  before(() => { dest = mkdtempSync(join(tmpdir(), 'tincan-destdir-')); });
  after(() => rmSync(dest, { recursive: true, force: true }));

  test('DESTDIR: binary, unit, settings and docs where the unit expects them', T, () => {
    const r = make('install', `DESTDIR=${dest}`);
    assert.equal(r.status, 0, r.stderr);
    const bin = join(dest, 'usr/local/bin/tincan');
    assert.ok(statSync(bin).mode & 0o111, 'the binary is executable');
    assert.match(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout, /^tincan /);
    const unitPath = join(dest, 'usr/local/lib/systemd/system/tincan.service');
    const unit = readFileSync(unitPath, 'utf8');
    assert.doesNotMatch(unit, /@[A-Z]+@/, 'every placeholder replaced');
    const s = unitSettings(unit);
    const [exe, ...args] = s.ExecStart[0].split(/\s+/);
    assert.equal(exe, '/usr/local/bin/tincan');
    assert.ok(statSync(join(dest, exe)).mode & 0o111, 'ExecStart names the installed binary');
    const conf = args[args.indexOf('--config') + 1];
    assert.equal(conf, '/etc/tincan/tincan.conf');
    assert.ok(existsSync(join(dest, conf)), 'the --config file is installed');
    const doc = s.Documentation[0].replace(/^file:/, '');
    assert.ok(existsSync(join(dest, doc)), `Documentation ${doc} is installed`);
    for (const f of ['README.md', 'config.md', 'tincan.conf.example']) assert.ok(existsSync(join(dest, 'usr/local/share/doc/tincan', f)), f);
    assert.equal(statSync(unitPath).mode & 0o777, 0o644);
    // The unit's settings: the state directory is the data dir of the installed config.
    assert.deepEqual(s.StateDirectory, ['tincan']);
    assert.match(readFileSync(join(dest, conf), 'utf8'), /^data-dir = \/var\/lib\/tincan$/m);
    assert.deepEqual(s.WorkingDirectory, ['/var/lib/tincan']);
    for (const [k, v] of Object.entries({
      DynamicUser: 'yes', NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes',
      PrivateDevices: 'yes', AmbientCapabilities: 'CAP_NET_BIND_SERVICE', CapabilityBoundingSet: 'CAP_NET_BIND_SERVICE',
      Restart: 'on-failure', ExecReload: '/bin/kill -HUP $MAINPID',
    })) assert.deepEqual(s[k], [v], k);
    assert.ok(Number(s.LimitNOFILE[0]) >= 65536);
  });

  test('the installed settings file passes check-config with the installed binary', T, () => {
    const data = join(dest, 'data');
    const r = spawnSync(join(dest, 'usr/local/bin/tincan'), ['check-config', '--config', join(dest, 'etc/tincan/tincan.conf'), '--data-dir', data],
      { encoding: 'utf8', env: clean(), cwd: dest });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^port = 443 \(config file\)$/m);
  });

  test('a second install keeps an edited tincan.conf; uninstall leaves it', T, () => {
    const conf = join(dest, 'etc/tincan/tincan.conf');
    writeFileSync(conf, 'port = 8443\n');
    assert.equal(make('install', `DESTDIR=${dest}`).status, 0);
    assert.equal(readFileSync(conf, 'utf8'), 'port = 8443\n');
    assert.equal(make('uninstall', `DESTDIR=${dest}`).status, 0);
    assert.ok(!existsSync(join(dest, 'usr/local/bin/tincan')));
    assert.ok(!existsSync(join(dest, 'usr/local/lib/systemd/system/tincan.service')));
    assert.ok(existsSync(conf), 'settings stay');
  });
});

describe('the systemd unit', { skip: spawnSync('systemd-analyze', ['--version']).status === 0 ? false : 'systemd-analyze is not installed' }, () => {
  let prefix; // installed with PREFIX (not DESTDIR), so the unit's paths exist as written
  let unitPath;
  before(() => {
    prefix = mkdtempSync(join(tmpdir(), 'tincan-prefix-'));
    const r = make('install', `PREFIX=${prefix}/usr`, `SYSCONFDIR=${prefix}/etc`);
    assert.equal(r.status, 0, r.stderr);
    unitPath = join(prefix, 'usr/lib/systemd/system/tincan.service');
  });
  after(() => rmSync(prefix, { recursive: true, force: true }));

  const verify = (path) => spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });

  test('systemd-analyze verify passes without a warning', T, () => {
    const r = verify(unitPath);
    assert.equal(r.status, 0, r.stderr);
    const about = (r.stderr + r.stdout).split('\n').filter((l) => l.includes('tincan'));
    assert.deepEqual(about, [], 'no warnings about the unit');
  });

  test('systemd-analyze verify does catch a broken copy (a missing binary, an unknown setting)', T, () => {
    const broken = join(prefix, 'broken.service');
    const unit = readFileSync(unitPath, 'utf8');
    writeFileSync(broken, unit.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/tincan'));
    assert.notEqual(verify(broken).status, 0);
    writeFileSync(broken, unit.replace('ProtectHome=yes', 'ProtectHomeTypo=yes'));
    assert.match(verify(broken).stderr, /Unknown key 'ProtectHomeTypo'/);
  });

  test('every system call tincan makes while serving is allowed by SystemCallFilter', { ...T, skip: spawnSync('strace', ['-V']).status === 0 ? false : 'strace is not installed' }, async () => {
    const s = unitSettings(readFileSync(unitPath, 'utf8'));
    let allowed = new Set();
    for (const f of s.SystemCallFilter) {
      const deny = f.startsWith('~');
      const names = f.replace(/^~/, '').split(/\s+/).flatMap((g) => (g.startsWith('@') ? [...syscallGroup(g)] : [g]));
      if (deny) for (const n of names) allowed.delete(n);
      else allowed = new Set([...allowed, ...names]);
    }
    assert.ok(allowed.has('epoll_wait') && !allowed.has('setuid'), 'the filter was read');

    const port = await freePort();
    const range = await udpRange(24000, 10);
    const data = mkdtempSync(join(tmpdir(), 'tincan-strace-'));
    chmodSync(data, 0o700);
    const trace = join(data, 'trace');
    const bin = join(prefix, 'usr/bin/tincan');
    // As the unit runs it: not as root (DynamicUser). As root, strace -u runs tincan as nobody;
    // that matters, e.g. SQLite fchown()s its journal only when running as root.
    const asUser = process.getuid() === 0 ? ['-u', 'nobody'] : [];
    if (asUser.length) {
      chmodSync(prefix, 0o755);
      chmodSync(data, 0o777);
    }
    const proc = spawn('strace', ['-f', '-qq', ...asUser, '-o', trace, bin, '--port', String(port), '--bind', '127.0.0.1', '--data-dir', join(data, 'd'),
      '--relay-ip', '127.0.0.1', '--relay-ports', range.arg, '--turn-user', 'u:p', '--allow-loopback-peers'],
    { env: clean(), cwd: data, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d) => { err += d; });
    const exited = new Promise((ok) => proc.on('exit', (code, sig) => ok({ code, sig })));
    let tincanPid = null;
    try {
      for (let i = 0; !/msg=listening/.test(err); i++) {
        assert.ok(i < 300, `tincan under strace did not start:\n${err}`);
        await sleep(50);
      }
      // Signals go to tincan itself (strace's child), not to strace.
      tincanPid = Number(readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
      assert.equal((await request(port, 'GET', '/')).status, 200);
      assert.equal((await request(port, 'GET', '/metrics')).status, 200);
      // The REST API writes to its SQLite file.
      const body = JSON.stringify({ joinid: uniq('J'), exp: '2030-01-01T00:00:00Z', client1: 'a' });
      const rest = await request(port, 'POST', '/api/rooms', { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, { body });
      assert.equal(rest.status, 201, rest.body.toString());
      const a = await connect(port);
      a.send({ type: 'join', room: uniq('sys') });
      await a.take('joined');
      const t = await TurnClient.connect('udp', port, { user: 'u', pass: 'p' });
      expectSuccess(await t.allocate(), 'Allocate');
      await t.release();
      t.close();
      process.kill(tincanPid, 'SIGHUP');
      for (let i = 0; !/msg=reload/.test(err); i++) { assert.ok(i < 100, 'reload logged'); await sleep(50); }
      a.drop();
    } finally {
      try { process.kill(tincanPid, 'SIGTERM'); } catch { proc.kill('SIGKILL'); }
    }
    await exited;
    const used = new Set();
    const families = new Set();
    for (const line of readFileSync(trace, 'utf8').split('\n')) {
      const f = /\bsocket\((AF_[A-Z0-9]+),/.exec(line);
      if (f) families.add(f[1]);
      const m = /^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]/.exec(line);
      if (m && m[1] !== 'exit' && !line.includes('resumed>')) used.add(m[1]);
    }
    rmSync(data, { recursive: true, force: true });
    assert.ok(used.has('epoll_wait') || used.has('epoll_pwait'), `the trace was read: ${[...used].join(' ')}`);
    const refused = [...used].filter((n) => !allowed.has(n));
    assert.deepEqual(refused, [], `system calls the unit would refuse (EPERM): ${refused}`);
    // And every socket family it opens is one RestrictAddressFamilies lets through.
    const allowedFamilies = s.RestrictAddressFamilies[0].split(/\s+/);
    assert.ok(families.has('AF_INET') && families.has('AF_NETLINK'), `socket families seen: ${[...families]}`);
    const refusedFamilies = [...families].filter((f) => !allowedFamilies.includes(f));
    assert.deepEqual(refusedFamilies, [], `socket families the unit would refuse: ${refusedFamilies}`);
  });
});
