// A strict reader of the Prometheus text exposition format 0.0.4, as a
// scraper sees it: every line is a # HELP / # TYPE comment or a sample
// `name{label="value",...} value`; each family has HELP and TYPE before its
// samples; counters end in _total; no series appears twice. parse() throws
// on the first problem, naming the line.
import { request } from './net.mjs';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parses `{a="x",b="y"}` (escapes \\ \" \n); returns [labels object, rest]. */
function parseLabels(s, lineNo) {
  const labels = {};
  let i = 1;
  const fail = (why) => { throw new Error(`line ${lineNo}: ${why}: ${s}`); };
  while (s[i] !== '}') {
    const eq = s.indexOf('=', i);
    if (eq < 0) fail('label without =');
    const key = s.slice(i, eq);
    if (!LABEL.test(key) || key.startsWith('__')) fail(`bad label name "${key}"`);
    if (s[eq + 1] !== '"') fail('label value not quoted');
    let j = eq + 2;
    let v = '';
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === '\\') {
        j++;
        if (s[j] === 'n') v += '\n';
        else if (s[j] === '\\' || s[j] === '"') v += s[j];
        else fail('bad escape in label value');
      } else v += s[j];
    }
    if (j >= s.length) fail('unterminated label value');
    if (key in labels) fail(`label "${key}" twice`);
    labels[key] = v;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') fail('expected , or } after a label');
  }
  return [labels, s.slice(i + 1)];
}

/**
 * Parses exposition text. Returns { families: Map(name → { help, type,
 * samples: [{ labels, value }] }), get(name, labels) → number | undefined }.
 */
export function parse(text) {
  if (!text.endsWith('\n')) throw new Error('the text does not end with a newline');
  const families = new Map();
  const seen = new Set();
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, n) => {
    const lineNo = n + 1;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (!m) throw new Error(`line ${lineNo}: a comment that is neither HELP nor TYPE: ${line}`);
      const [, kind, name, rest] = m;
      if (!NAME.test(name)) throw new Error(`line ${lineNo}: bad metric name ${name}`);
      const f = families.get(name) || { help: null, type: null, samples: [] };
      if (f.samples.length) throw new Error(`line ${lineNo}: ${kind} of ${name} after its samples`);
      if (kind === 'HELP') {
        if (f.help !== null) throw new Error(`line ${lineNo}: second HELP for ${name}`);
        f.help = rest;
      } else {
        if (f.type !== null) throw new Error(`line ${lineNo}: second TYPE for ${name}`);
        if (!TYPES.has(rest)) throw new Error(`line ${lineNo}: unknown type ${rest}`);
        f.type = rest;
      }
      families.set(name, f);
      return;
    }
    if (line.trim() === '') throw new Error(`line ${lineNo}: empty line`);
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nm) throw new Error(`line ${lineNo}: not a sample: ${line}`);
    const name = nm[0];
    let rest = line.slice(name.length);
    let labels = {};
    if (rest.startsWith('{')) [labels, rest] = parseLabels(rest, lineNo);
    const vm = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
    if (!vm || !VALUE.test(vm[1])) throw new Error(`line ${lineNo}: bad value: ${line}`);
    // A histogram's or summary's samples are its name with _bucket, _sum, _count.
    const base = name.replace(/_(bucket|sum|count)$/, '');
    const f = families.get(name) || (['histogram', 'summary'].includes(families.get(base)?.type) ? families.get(base) : null);
    if (!f || f.help === null || f.type === null) throw new Error(`line ${lineNo}: ${name} has no HELP and TYPE before it`);
    if (f.type === 'counter' && !name.endsWith('_total')) throw new Error(`line ${lineNo}: counter ${name} does not end in _total`);
    if (f.type !== 'counter' && name.endsWith('_total')) throw new Error(`line ${lineNo}: ${name} ends in _total but is a ${f.type}`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`line ${lineNo}: duplicate series ${line}`);
    seen.add(key);
    f.samples.push({ name, labels, value: Number(vm[1]) });
  });
  for (const [name, f] of families) {
    if (!f.samples.length) throw new Error(`${name} has HELP/TYPE but no samples`);
  }
  const get = (name, labels = {}) => {
    const f = families.get(name) || families.get(name.replace(/_(bucket|sum|count)$/, ''));
    const want = JSON.stringify(Object.entries(labels).sort());
    const s = f?.samples.find((x) => x.name === name && JSON.stringify(Object.entries(x.labels).sort()) === want);
    return s?.value;
  };
  return { families, get };
}

/** GET /metrics over TLS; returns { res, m } with m parsed when the status is 200. */
export async function scrape(port, headers = {}) {
  const res = await request(port, 'GET', '/metrics', headers);
  return { res, m: res.status === 200 ? parse(res.body.toString('utf8')) : null };
}

/** Scrapes until pred(m) holds or ms pass; returns the last parse (pred true) or throws. */
export async function until(port, pred, what, ms = 5000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = (await scrape(port)).m;
    if (pred(last)) return last;
    if (Date.now() > end) {
      const dump = [...last.families].map(([n, f]) => f.samples.map((s) => `${n}${JSON.stringify(s.labels)} ${s.value}`).join('\n')).join('\n');
      throw new Error(`${what}: not reached within ${ms} ms; last scrape:\n${dump}`);
    }
    await new Promise((ok) => setTimeout(ok, 50));
  }
}
