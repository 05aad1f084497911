// deploy/Dockerfile, docker-compose.yml and the example settings, checked
// with what runs on a machine without a Docker engine: every COPY source is
// in the tree, every apt package exists in Debian 12, the build stage's RUN
// lines build tincan in a directory holding only what the COPY lines copy,
// the runtime packages cover `ldd tincan`, the setcap line lets a non-root
// user bind a privileged port, user/volume/entrypoint agree, and the
// HEALTHCHECK command passes against a running server. Not run here:
// `docker build` itself and a container (no engine).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import net from 'node:net';
import { start, BIN } from './net.mjs';
import {
  ROOT, readDockerfile, ops, copyArgs, aptPackages, knownOptions, optionOfEnv, dockerfilePath,
} from './deploy-lib.mjs';

const stages = readDockerfile(dockerfilePath);
const build = stages[0];
const runtime = stages.at(-1);
const envOf = (stage) => Object.fromEntries(ops(stage, 'ENV').flatMap((e) => e.args.split(/\s+/).map((kv) => kv.split('='))));
const sh = (cmd, opts = {}) => spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', ...opts });
const isRoot = process.getuid() === 0;
const clean = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TINCAN_')));

describe('deploy/Dockerfile', () => {
  let work; // the build stage's file system: work + WORKDIR
  let built; // path of the binary the build stage made

  before(() => { work = mkdtempSync(join(tmpdir(), 'tincan-docker-')); });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('two stages: debian:12 builds, debian:12-slim runs', () => {
    assert.equal(stages.length, 2);
    assert.equal(build.from, 'debian:12');
    assert.equal(build.name, 'build');
    assert.equal(runtime.from, 'debian:12-slim');
    const os = readFileSync('/etc/os-release', 'utf8');
    assert.match(os, /^VERSION_ID="12"$/m, 'this machine is Debian 12, so apt-cache and ldd speak for the image');
  });

  test('every COPY source exists in the build context and is not excluded by .dockerignore', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    let n = 0;
    for (const st of stages) {
      for (const c of ops(st, 'COPY')) {
        const { flags, words } = copyArgs(c.args);
        if (flags.from) continue;
        for (const src of words.slice(0, -1)) {
          assert.ok(existsSync(join(ROOT, src)), `COPY ${src} (line ${c.line}) exists`);
          assert.ok(!ignored.includes(src.split('/')[0]), `COPY ${src} is not in .dockerignore`);
          n++;
        }
      }
    }
    assert.ok(n >= 3);
  });

  test('every apt package named exists in Debian 12', () => {
    const pkgs = stages.flatMap((st) => ops(st, 'RUN').flatMap((r) => aptPackages(r.args)));
    assert.ok(pkgs.includes('libssl-dev') && pkgs.includes('libssl3'), `packages found: ${pkgs}`);
    for (const p of pkgs) {
      const r = spawnSync('apt-cache', ['show', '--no-all-versions', p], { encoding: 'utf8' });
      assert.equal(r.status, 0, `apt-cache show ${p}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Package: ${p.replace(/[+.]/g, '\\$&')}$`, 'm'));
    }
  });

  test('the build stage builds tincan from only what it copies (its exact RUN lines)', { timeout: 900000 }, () => {
    let wd = '/';
    for (const ins of build.instructions) {
      if (ins.op === 'WORKDIR') {
        wd = posix.resolve(wd, ins.args);
        mkdirSync(join(work, wd), { recursive: true });
      } else if (ins.op === 'COPY') {
        const { words } = copyArgs(ins.args);
        const dest = words.at(-1);
        for (const src of words.slice(0, -1)) {
          const from = join(ROOT, src);
          const to = join(work, posix.resolve(wd, dest), statSync(from).isDirectory() ? '' : posix.basename(src));
          mkdirSync(statSync(from).isDirectory() ? to : dirname(to), { recursive: true });
          cpSync(from, to, { recursive: true });
        }
      } else if (ins.op === 'RUN') {
        if (/apt-get/.test(ins.args)) {
          // Not run here (it would change this machine): the same packages must be installed.
          for (const p of aptPackages(ins.args)) {
            const q = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
            assert.match(q.stdout, /install ok installed/, `build dependency ${p} installed here`);
          }
          continue;
        }
        const r = sh(ins.args, { cwd: join(work, wd), maxBuffer: 64 << 20 });
        assert.equal(r.status, 0, `RUN ${ins.args} (line ${ins.line}):\n${r.stderr.slice(-3000)}`);
      }
    }
    const copyFrom = ops(runtime, 'COPY').map((c) => copyArgs(c.args)).find((c) => c.flags.from === 'build');
    built = join(work, copyFrom.words[0]);
    assert.ok(statSync(built).mode & 0o111, `${copyFrom.words[0]} was built and is executable`);
    const v = spawnSync(built, ['--version'], { encoding: 'utf8' });
    assert.match(v.stdout, /^tincan \d+\.\d+\.\d+/);
  });

  test('the runtime packages cover every library the binary links', () => {
    assert.ok(built, 'needs the build test');
    const runPkgs = ops(runtime, 'RUN').flatMap((r) => aptPackages(r.args)).filter((p) => p !== 'libcap2-bin');
    const deps = spawnSync('apt-cache', ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts',
      '--no-breaks', '--no-replaces', '--no-enhances', ...runPkgs], { encoding: 'utf8' }).stdout;
    const closure = new Set([...runPkgs, ...[...deps.matchAll(/^(?:\s+(?:Pre)?Depends: )?<?([a-z0-9][a-z0-9+.-]+)>?$/gm)].map((m) => m[1])]);
    const ldd = execFileSync('ldd', [built], { encoding: 'utf8' });
    const libs = [...ldd.matchAll(/=> (\/\S+)|^\s+(\/\S+)/gm)].map((m) => m[1] || m[2]);
    assert.ok(libs.length >= 3, ldd);
    for (const lib of libs) {
      const owner = spawnSync('dpkg', ['-S', lib], { encoding: 'utf8' });
      const real = owner.status === 0 ? owner : spawnSync('dpkg', ['-S', execFileSync('readlink', ['-f', lib], { encoding: 'utf8' }).trim()], { encoding: 'utf8' });
      assert.equal(real.status, 0, `${lib} belongs to a Debian package`);
      const pkg = real.stdout.split(':')[0];
      assert.ok(closure.has(pkg), `${lib} comes from ${pkg}, which the runtime stage installs (with its dependencies: ${runPkgs})`);
    }
  });

  test('the setcap line lets a non-root user bind a privileged port; without it the same user cannot', { skip: isRoot ? false : 'needs root (setcap, another uid)' }, async () => {
    assert.ok(built, 'needs the build test');
    const line = ops(runtime, 'RUN').map((r) => r.args).find((a) => a.includes('setcap'));
    const m = /setcap (\S+) (\S+)/.exec(line);
    const entry = JSON.parse(ops(runtime, 'ENTRYPOINT')[0].args)[0];
    assert.equal(m[2], entry, 'setcap acts on the ENTRYPOINT binary');
    const dir = mkdtempSync(join(tmpdir(), 'tincan-cap-'));
    execFileSync('chmod', ['0755', dir]);
    const withCap = join(dir, 'tincan');
    const without = join(dir, 'tincan-nocap');
    copyFileSync(built, withCap);
    copyFileSync(built, without);
    execFileSync('setcap', [m[1], withCap]);
    assert.match(execFileSync('getcap', [withCap], { encoding: 'utf8' }), /cap_net_bind_service[=+]ep/);
    const port = await freePrivilegedPort();
    const data = join(dir, 'data');
    mkdirSync(data);
    chownSync(data, 65534, 65534);
    const tryListen = async (bin) => {
      const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--data-dir', data, '--relay-ip', '127.0.0.1'],
        { uid: 65534, gid: 65534, cwd: dir, env: clean(), stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => { err += d; });
      const exited = new Promise((ok) => child.on('exit', (code) => ok(code)));
      const listening = await new Promise((ok) => {
        const t = setInterval(() => { if (/msg=listening/.test(err)) done(true); }, 50);
        const limit = setTimeout(() => done(false), 10000);
        const done = (v) => { clearInterval(t); clearTimeout(limit); ok(v); };
        exited.then(() => done(/msg=listening/.test(err)));
      });
      child.kill('SIGTERM');
      await exited;
      return { listening, err };
    };
    const good = await tryListen(withCap);
    assert.ok(good.listening, `with the capability, nobody listens on ${port}:\n${good.err}`);
    const bad = await tryListen(without);
    assert.ok(!bad.listening, 'without it, nobody cannot');
    assert.match(bad.err, /listen_failed.*(Permission denied|EACCES)/i);
    rmSync(dir, { recursive: true, force: true });
  });

  test('user, data volume, working directory, environment and entrypoint agree', () => {
    const env = envOf(runtime);
    const user = ops(runtime, 'USER')[0].args;
    const run = ops(runtime, 'RUN').map((r) => r.args).join(' && ');
    assert.match(run, new RegExp(`useradd [^&]*\\b${user}\\b`), `USER ${user} is created`);
    assert.notEqual(user, 'root');
    const volume = JSON.parse(ops(runtime, 'VOLUME')[0].args.startsWith('[') ? ops(runtime, 'VOLUME')[0].args : JSON.stringify([ops(runtime, 'VOLUME')[0].args]))[0];
    assert.equal(env.TINCAN_DATA_DIR, volume, 'the data dir is the volume');
    assert.equal(ops(runtime, 'WORKDIR')[0].args, volume, 'the working directory (where .env is read) is the volume');
    assert.match(run, new RegExp(`chown ${user}:${user} ${volume}`), 'the volume belongs to the user');
    const entry = JSON.parse(ops(runtime, 'ENTRYPOINT')[0].args);
    const copyFrom = ops(runtime, 'COPY').map((c) => copyArgs(c.args)).find((c) => c.flags.from === 'build');
    assert.equal(entry[0], copyFrom.words[1], 'ENTRYPOINT runs the copied binary');
    assert.equal(copyFrom.flags.from, build.name);
    const exposed = ops(runtime, 'EXPOSE').flatMap((e) => e.args.split(/\s+/));
    assert.deepEqual(exposed.sort(), [`${env.TINCAN_PORT}/tcp`, `${env.TINCAN_PORT}/udp`]);
    // The environment the image sets is one tincan accepts.
    const dir = mkdtempSync(join(tmpdir(), 'tincan-env-'));
    const r = spawnSync(BIN, ['check-config', '--data-dir', dir], { env: { PATH: process.env.PATH, ...env, TINCAN_DATA_DIR: undefined }, encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^port = ${env.TINCAN_PORT} \\(environment\\)$`, 'm'));
  });

  test('the HEALTHCHECK command passes against a running tincan and fails without one', { timeout: 30000 }, async () => {
    const hc = ops(runtime, 'HEALTHCHECK')[0].args;
    const cmd = JSON.parse(/CMD\s+(\[.*\])$/.exec(hc)[1]);
    assert.equal(cmd[0], 'bash', 'bash is in debian:12-slim; curl is not');
    const srv = await start();
    const run = (port) => spawnSync(cmd[0], cmd.slice(1), { env: { PATH: process.env.PATH, TINCAN_PORT: String(port) }, encoding: 'utf8', timeout: 10000 });
    try {
      const ok = run(srv.port);
      assert.equal(ok.status, 0, `healthy: ${ok.stderr}`);
    } finally {
      await srv.stop();
    }
    assert.notEqual(run(srv.port).status, 0, 'nothing listening: unhealthy');
  });
});

describe('deploy/docker-compose.yml and the example settings', () => {
  const compose = JSON.parse(execFileSync('/usr/bin/python3', ['-c',
    'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', join(ROOT, 'deploy/docker-compose.yml')], { encoding: 'utf8' }));
  const svc = compose.services.tincan;

  test('host networking, the Dockerfile as build, the image volume, .env, and the capability setcap needs', () => {
    assert.equal(svc.network_mode, 'host');
    const context = join(ROOT, 'deploy', svc.build.context);
    assert.equal(statSync(context).ino, statSync(ROOT).ino, 'the build context is the repository root');
    assert.equal(join(context, svc.build.dockerfile), dockerfilePath);
    const volume = envOf(runtime).TINCAN_DATA_DIR;
    assert.ok(svc.volumes.some((v) => v.split(':')[1] === volume), `a volume is mounted at ${volume}`);
    assert.equal(svc.env_file, '.env');
    assert.ok(existsSync(join(ROOT, 'deploy', '.env.example')), 'deploy/.env.example to copy to .env');
    assert.ok(svc.cap_add.includes('NET_BIND_SERVICE'), 'the file capability needs NET_BIND_SERVICE in the bounding set');
    assert.ok(!(svc.security_opt || []).some((o) => /no-new-privileges/.test(o)), 'no-new-privileges would void the file capability');
  });

  test('.env.example: every variable is an option, and uncommented it is a valid configuration', () => {
    const known = knownOptions();
    const text = readFileSync(join(ROOT, 'deploy', '.env.example'), 'utf8');
    const vars = [...text.matchAll(/^#\s*(TINCAN_[A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]);
    assert.ok(vars.length >= 5);
    const usable = [];
    for (const [name, value] of vars) {
      const opt = optionOfEnv(name);
      assert.ok(known.has(opt), `${name}: --${opt} is an option`);
      usable.push(`${name}=${value}`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'tincan-dotenv-'));
    writeFileSync(join(dir, '.env'), usable.join('\n') + '\n');
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TINCAN_')));
    const r = spawnSync(BIN, ['check-config', '--data-dir', join(dir, 'data')], { cwd: dir, env: clean, encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(r.status, 0, `check-config with the example .env: ${r.stderr}`);
    for (const line of usable) {
      const opt = optionOfEnv(line.split('=')[0]);
      assert.match(r.stdout, new RegExp(`^${opt} = .* \\(\\.env\\)$`, 'm'), `${opt} read from .env`);
    }
  });

  test('tincan.conf.example: valid as shipped, and with its options uncommented', () => {
    const known = knownOptions();
    const text = readFileSync(join(ROOT, 'deploy', 'tincan.conf.example'), 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'tincan-confex-'));
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TINCAN_')));
    const check = (file) => spawnSync(BIN, ['check-config', '--config', file, '--data-dir', join(dir, 'data')], { cwd: dir, env: clean, encoding: 'utf8' });
    const shipped = check(join(ROOT, 'deploy', 'tincan.conf.example'));
    assert.equal(shipped.status, 0, shipped.stderr);
    assert.match(shipped.stdout, /^port = 443 \(config file\)$/m);
    const lines = [...text.matchAll(/^#\s*([a-z][a-z0-9-]*) = (.*)$/gm)];
    assert.ok(lines.length >= 4);
    const usable = [];
    for (const [, opt, value] of lines) {
      assert.ok(known.has(opt), `${opt} is an option`);
      if (opt !== 'cert' && opt !== 'key') usable.push(`${opt} = ${value}`); // the example paths do not exist here
    }
    writeFileSync(join(dir, 'all.conf'), text + usable.join('\n') + '\n');
    const all = check(join(dir, 'all.conf'));
    rmSync(dir, { recursive: true, force: true });
    assert.equal(all.status, 0, all.stderr);
  });
});

/** A TCP port below 1024 that is free on 127.0.0.1 (and UDP too, tincan binds both). */
async function freePrivilegedPort() {
  for (let p = 900; p > 600; p--) {
    const ok = await new Promise((res) => {
      const s = net.createServer();
      s.once('error', () => res(false));
      s.listen(p, '127.0.0.1', () => s.close(() => res(true)));
    });
    if (ok) return p;
  }
  throw new Error('no free port below 1024');
}
