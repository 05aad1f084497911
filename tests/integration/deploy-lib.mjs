// Helpers for the packaging tests: a Dockerfile reader and the option
// names of the binary.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT_DIR } from './net.mjs';

export const ROOT = ROOT_DIR;


/**
 * Reads a Dockerfile into stages: [{ from, name, instructions: [{ op, args,
 * line }] }]. Continuation lines are joined, comments dropped.
 */
export function readDockerfile(path) {
  const lines = readFileSync(path, 'utf8').split('\n');
  const stages = [];
  let cur = '';
  let startLine = 0;
  lines.forEach((raw, i) => {
    if (!cur && (/^\s*#/.test(raw) || !raw.trim())) return;
    if (!cur) startLine = i + 1;
    if (/^\s*#/.test(raw)) return; // a comment inside a continued instruction
    if (raw.endsWith('\\')) { cur += raw.slice(0, -1) + ' '; return; }
    cur += raw;
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(cur);
    cur = '';
    if (!m) throw new Error(`Dockerfile line ${startLine}: cannot read`);
    const op = m[1].toUpperCase();
    const args = m[2].trim();
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: f[1], name: f[2] || null, instructions: [] });
      return;
    }
    stages.at(-1).instructions.push({ op, args, line: startLine });
  });
  return stages;
}

/** The values of one instruction kind in a stage. */
export const ops = (stage, op) => stage.instructions.filter((i) => i.op === op);

/** Splits `--flag=x a b c` into { flags, words }. */
export function copyArgs(args) {
  const words = args.split(/\s+/);
  const flags = {};
  while (words[0]?.startsWith('--')) {
    const [k, v] = words.shift().slice(2).split('=');
    flags[k] = v;
  }
  return { flags, words };
}

/** Package names after `apt-get install` (flags skipped) up to the next && in a RUN line. */
export function aptPackages(run) {
  const out = [];
  const re = /apt-get install((?:\s+(?!&&)\S+)+)/g;
  let m;
  while ((m = re.exec(run))) out.push(...m[1].trim().split(/\s+/).filter((w) => !w.startsWith('-')));
  return out;
}

/** The option names the binary knows (from --help). */
export function knownOptions() {
  const help = spawnSync(BIN, ['--help'], { encoding: 'utf8' }).stdout;
  return new Set([...help.matchAll(/^\s+--([a-z0-9-]+)/gm)].map((m) => m[1]));
}

/** TINCAN_FOO_BAR → foo-bar. */
export const optionOfEnv = (v) => v.replace(/^TINCAN_/, '').toLowerCase().replace(/_/g, '-');

export const dockerfilePath = join(ROOT, 'deploy', 'Dockerfile');
