// docs/deploy.md, command by command. Every shell line on the page is in
// COMMANDS below: either run here (with the substitution written next to
// it, e.g. a DESTDIR instead of /, `ufw --dry-run`, `nft -c`), or pinned
// with the reason it cannot run on a build machine (a public server, a
// Docker engine, systemd as init). A line added to the page without an
// entry here fails the test, and so does an entry the page no longer has.
// The config blocks are checked too: ini with check-config, nginx by
// running nginx with it in front of tincan, nft with `nft -c`, the
// Prometheus YAML by reading it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, request, sleep } from './net.mjs';
import { freePort } from '../lib/server.mjs';
import { wsClient } from './wsclient.mjs';
import { parse } from './prom.mjs';
import { ROOT, knownOptions, readDockerfile, ops, aptPackages, dockerfilePath } from './deploy-lib.mjs';

const T = { timeout: 300000 };
const doc = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
const blocks = [...doc.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], text: m[2] }));
const clean = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TINCAN_')));
const sh = (cmd, opts = {}) => spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', env: clean(), maxBuffer: 64 << 20, ...opts });
const known = knownOptions();

const PUBLIC = 'needs a public server (DNS, a reachable address, Let\'s Encrypt)';
const DOCKER = 'needs a Docker engine (none on the build machines); deploy.test.mjs checks the Dockerfile and compose file';
const SYSTEMD = 'needs systemd as init (not on the build machines); install.test.mjs verifies the unit with systemd-analyze';

let work; // scratch directory for the whole file
let dest; // DESTDIR of `make install`

/** How each command on the page is checked. */
const COMMANDS = {
  'dig +short call.example.com': PUBLIC,
  'sudo apt-get install -y build-essential pkg-config python3 libssl-dev libjansson-dev libsqlite3-dev libsrtp2-dev libargon2-dev': async () => {
    // Simulated (-s), so the machine is not changed; the list is the Dockerfile's build stage.
    const pkgs = 'build-essential pkg-config python3 libssl-dev libjansson-dev libsqlite3-dev libsrtp2-dev libargon2-dev'.split(' ');
    const build = readDockerfile(dockerfilePath)[0];
    assert.deepEqual(pkgs.sort(), ops(build, 'RUN').flatMap((r) => aptPackages(r.args)).sort(), 'the same packages as the Dockerfile build stage');
    const r = sh(`apt-get install -s -y ${pkgs.join(' ')}`);
    assert.equal(r.status, 0, r.stderr);
  },
  make: async () => {
    const r = sh('make', { cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
  },
  'sudo make install': async () => {
    const r = sh(`make install DESTDIR=${dest}`, { cwd: ROOT }); // DESTDIR instead of /
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(dest, 'usr/local/bin/tincan')));
  },
  'sudo tincan check-config --config /etc/tincan/tincan.conf': async () => {
    // The installed binary and config under DESTDIR, with the (a) settings block written into it.
    const conf = join(dest, 'etc/tincan/tincan.conf');
    writeFileSync(conf, blocks.filter((b) => b.lang === 'ini')[0].text);
    const r = spawnSync(join(dest, 'usr/local/bin/tincan'), ['check-config', '--config', conf, '--data-dir', join(work, 'data-a')],
      { encoding: 'utf8', env: clean(), cwd: work });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^port = 443 \(config file\)$/m);
  },
  'sudo systemctl daemon-reload': SYSTEMD,
  'sudo systemctl enable --now tincan': SYSTEMD,
  'sudo systemctl stop tincan': SYSTEMD,
  'sudo systemctl start tincan': SYSTEMD,
  'sudo systemctl restart tincan': SYSTEMD,
  'cd deploy': async () => { assert.ok(existsSync(join(ROOT, 'deploy/docker-compose.yml'))); },
  'cp .env.example .env': async () => {
    const copy = join(work, 'repo-deploy');
    cpSync(join(ROOT, 'deploy'), copy, { recursive: true });
    const r = sh('cp .env.example .env', { cwd: copy });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(copy, '.env'), 'utf8'), readFileSync(join(ROOT, 'deploy/.env.example'), 'utf8'));
  },
  'docker compose up -d': DOCKER,
  'docker compose logs -f tincan': DOCKER,
  'docker compose build --pull': DOCKER,
  'sudo ./tincan --port 443 --domain call.example.com --acme-email me@example.com --data-dir /var/lib/tincan': PUBLIC,
  'curl https://call.example.com/health': PUBLIC,
  'curl -4 https://ifconfig.me': 'needs the internet (the build machines reach only Debian and npm mirrors)',
  'sudo ufw allow 443/tcp': async () => ufw('allow 443/tcp', /-A ufw-user-input -p tcp --dport 443 -j ACCEPT/),
  'sudo ufw allow 443/udp': async () => ufw('allow 443/udp', /-A ufw-user-input -p udp --dport 443 -j ACCEPT/),
  'sudo ufw allow 49160:49200/udp': async () => ufw('allow 49160:49200/udp', /-A ufw-user-input -p udp -m multiport --dports 49160:49200 -j ACCEPT/),
  'sudo nft -f /etc/nftables.conf': async () => {
    // Checked (-c), not applied, with the page's ruleset as the file.
    const file = join(work, 'nftables.conf');
    writeFileSync(file, blocks.find((b) => b.lang === 'nft').text);
    const r = spawnSync('nft', ['-c', '-f', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    writeFileSync(file, blocks.find((b) => b.lang === 'nft').text.replace('tcp dport 443', 'tcp dport 443 acept'));
    assert.notEqual(spawnSync('nft', ['-c', '-f', file]).status, 0, 'nft -c does reject a broken ruleset');
  },
  'curl -sk https://127.0.0.1/metrics': async () => {
    const srv = await start();
    try {
      const r = sh(`curl -sk https://127.0.0.1:${srv.port}/metrics`); // the test server's port instead of 443
      assert.equal(r.status, 0, r.stderr);
      assert.ok(parse(r.stdout).families.has('tincan_connections'));
    } finally {
      await srv.stop();
    }
  },
  'sudo tar -C /var/lib/private -czf tincan-backup.tar.gz tincan': async () => {
    // A data dir a real server wrote, under a stand-in for /var/lib/private.
    const priv = join(work, 'private');
    mkdirSync(join(priv, 'tincan'), { recursive: true, mode: 0o700 });
    const srv = await start({ dataDir: join(priv, 'tincan') });
    await srv.stop();
    const r = sh(`tar -C ${priv} -czf tincan-backup.tar.gz tincan`, { cwd: work });
    assert.equal(r.status, 0, r.stderr);
    const list = execFileSync('tar', ['-tzf', join(work, 'tincan-backup.tar.gz')], { encoding: 'utf8' }).split('\n');
    for (const f of ['tincan/cert.pem', 'tincan/key.pem', 'tincan/turn-secret']) assert.ok(list.includes(f), `${f} in the backup`);
    // And back: the restore the page describes.
    const restored = join(work, 'restored');
    mkdirSync(restored);
    assert.equal(sh(`tar -C ${restored} -xzf tincan-backup.tar.gz`, { cwd: work }).status, 0);
    assert.equal(readFileSync(join(restored, 'tincan/turn-secret'), 'utf8'), readFileSync(join(priv, 'tincan/turn-secret'), 'utf8'));
  },
  'git pull': 'needs the network and the project\'s remote',
};

/** `ufw --dry-run RULE` (prints the rules it would write, changes nothing). */
function ufw(rule, want) {
  const r = spawnSync('ufw', ['--dry-run', ...rule.split(' ')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, want);
}

/** Every shell line of the page, in order. */
const shellLines = blocks.filter((b) => b.lang === 'sh').flatMap((b) => b.text.split('\n')).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

describe('docs/deploy.md', () => {
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'tincan-docs-'));
    dest = join(work, 'destdir');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('every shell line on the page has an entry here, and every entry is on the page', () => {
    const missing = shellLines.filter((l) => !(l in COMMANDS));
    assert.deepEqual(missing, [], 'commands on the page that this test does not know');
    const stale = Object.keys(COMMANDS).filter((c) => !shellLines.includes(c));
    assert.deepEqual(stale, [], 'entries for commands no longer on the page');
  });

  test('the runnable commands run, in page order', T, async () => {
    const done = new Set();
    for (const line of shellLines) {
      const how = COMMANDS[line];
      if (typeof how !== 'function' || done.has(line)) continue;
      done.add(line);
      await how();
    }
    assert.ok(done.size >= 10, `${done.size} commands ran`);
  });

  test('the pinned commands say why they cannot run here', () => {
    const pinned = Object.entries(COMMANDS).filter(([, how]) => typeof how === 'string');
    for (const [cmd, why] of pinned) assert.ok(why.length > 10, `${cmd}: a reason`);
    assert.ok(pinned.length <= 15, 'most commands run');
  });

  test('every settings block names real options and passes check-config', () => {
    const inis = blocks.filter((b) => b.lang === 'ini');
    assert.ok(inis.length >= 3);
    for (const b of inis) {
      for (const m of b.text.matchAll(/^([a-z-]+) =/gm)) assert.ok(known.has(m[1]), `${m[1]} is an option`);
      const file = join(work, 'block.conf');
      writeFileSync(file, b.text);
      const r = spawnSync(process.env.TINCAN_BIN || join(ROOT, 'tincan'), ['check-config', '--config', file, '--data-dir', join(work, 'data-ini')],
        { encoding: 'utf8', env: clean(), cwd: work });
      assert.equal(r.status, 0, `${b.text}\n${r.stderr}`);
    }
  });

  test('the Prometheus scrape config reads /metrics over https with a bearer token file', () => {
    const yaml = blocks.find((b) => b.lang === 'yaml').text;
    const cfg = JSON.parse(execFileSync('/usr/bin/python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: yaml, encoding: 'utf8' }));
    const job = cfg.scrape_configs[0];
    assert.equal(job.scheme, 'https');
    assert.equal(job.metrics_path, '/metrics');
    assert.equal(job.authorization.type, 'Bearer');
    assert.ok(job.authorization.credentials_file);
    assert.deepEqual(job.static_configs[0].targets, ['call.example.com:443']);
  });

  test('the nginx block, run in front of tincan: the page, /health and a WebSocket pass; /metrics through it is refused', { ...T, skip: spawnSync('nginx', ['-v']).status === 0 ? false : 'nginx is not installed' }, async () => {
    const block = blocks.find((b) => b.lang === 'nginx').text;
    const srv = await start({ args: ['--public-host', 'call.example.com'] });
    const dir = join(work, 'nginx');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=call.example.com',
      '-days', '2', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const port = await freePort();
    // Substitutions: a free loopback port for 443, tincan's test port for 8443, a test certificate.
    const server = block.replace('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`)
      .replace('https://127.0.0.1:8443', `https://127.0.0.1:${srv.port}`)
      .replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${join(dir, 'cert.pem')};`)
      .replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${join(dir, 'key.pem')};`);
    assert.notEqual(server, block);
    writeFileSync(join(dir, 'nginx.conf'), `pid ${dir}/nginx.pid;\nerror_log ${dir}/logs/error.log;\nevents {}\nhttp {\n  access_log off;\n` +
      `  client_body_temp_path ${dir}/tmp;\n  proxy_temp_path ${dir}/tmp;\n  fastcgi_temp_path ${dir}/tmp;\n  uwsgi_temp_path ${dir}/tmp;\n  scgi_temp_path ${dir}/tmp;\n${server}\n}\n`);
    const t = spawnSync('nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
    assert.equal(t.status, 0, t.stderr);
    const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    const nginxExit = new Promise((ok) => nginx.on('exit', ok));
    try {
      for (let i = 0; ; i++) {
        try { await request(port, 'GET', '/health', { Host: 'call.example.com' }); break; } catch (e) { if (i > 100) throw e; await sleep(50); }
      }
      const health = await request(port, 'GET', '/health', { Host: 'call.example.com' });
      assert.equal(health.status, 200);
      assert.equal(JSON.parse(health.body).status, 'ok');
      assert.equal((await request(port, 'GET', '/', { Host: 'call.example.com' })).status, 200);
      const ws = await wsClient(port, { ws: { headers: { host: 'call.example.com' }, origin: 'https://call.example.com', servername: 'call.example.com' } });
      const welcome = await ws.next();
      assert.equal(welcome.type, 'welcome');
      assert.ok(JSON.stringify(welcome.iceServers).includes('turn:call.example.com:'), 'ICE URLs name the public host');
      ws.ws.close();
      const m = await request(port, 'GET', '/metrics', { Host: 'call.example.com' });
      assert.equal(m.status, 403, 'the proxy adds X-Forwarded-For, so loopback does not count');
    } finally {
      nginx.kill('SIGTERM');
      await nginxExit;
      await srv.stop();
    }
  });
});
