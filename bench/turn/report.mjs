// bench/turn/report.mjs — the tables of bench/turn/run.sh.
//
// Input: one line per generator step, "<round> <RESULT json>" (see
// turnload.c). For every server, path and rate the median round (by CPU per
// relayed packet) is shown, then the summary the issue asks for: CPU-seconds
// per million relayed packets, the highest rate sustained without loss, and
// the ratios with their goals.
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((line) => {
  const sp = line.indexOf(' ');
  return { round: Number(line.slice(0, sp)), ...JSON.parse(line.slice(sp + 1)) };
});
if (!rows.length) {
  console.log('(no results)');
  process.exit(0);
}

const PATH = { direct: 'floor', turn: 'echo', r2r: 'r2r' };
const pad = (v, w) => String(v ?? '-').padStart(w);
const padEnd = (v, w) => String(v ?? '-').padEnd(w);
const fix = (v, d) => (v === null || v === undefined || Number.isNaN(v) ? '-' : Number(v).toFixed(d));
const rates = [...new Set(rows.map((r) => r.rate_per_flow))].sort((a, b) => a - b);
const flows = rows[0].flows;
const runs = [];
for (const r of rows) {
  const key = `${r.label}|${r.mode}`;
  if (!runs.includes(key)) runs.push(key);
}

/** A step could not be produced at its rate: the generator, not the server, was the limit. */
const genBound = (r) => r.achieved_pps < 0.97 * r.target_pps || r.gen_cpu_pct > 95;

const median = {};
const steps = {};
for (const key of runs) {
  for (const rate of rates) {
    const all = rows.filter((r) => `${r.label}|${r.mode}` === key && r.rate_per_flow === rate)
      .sort((a, b) => a.cpu_s_per_mpkt - b.cpu_s_per_mpkt);
    if (!all.length) continue;
    steps[`${key}|${rate}`] = all;
    median[`${key}|${rate}`] = all[Math.floor((all.length - 1) / 2)];
  }
}

console.log('');
console.log([padEnd('server', 7), padEnd('path', 6), pad('flows x pkt/s', 14), pad('relayed/s', 10),
  pad('loss %', 7), pad('no-loss', 7), pad('srv CPU%', 8), pad('CPU-s/Mpkt', 10), pad('(min-max)', 13),
  pad('RTT p50', 8), pad('p99 ms', 7), pad('gen CPU%', 8), '  notes'].join(' '));
for (const key of runs) {
  const [label, mode] = key.split('|');
  for (const rate of rates) {
    const m = median[`${key}|${rate}`];
    if (!m) continue;
    const all = steps[`${key}|${rate}`];
    const clean = all.filter((r) => r.lost === 0).length;
    const notes = [];
    const sum = (k) => all.reduce((a, r) => a + (r[k] || 0), 0);
    if (sum('server_drops')) notes.push(`server socket drops ${sum('server_drops')}`);
    if (sum('local_drops')) notes.push(`generator/echo drops ${sum('local_drops')}`);
    for (const k of ['dup', 'unexpected', 'stale', 'send_errors', 'recv_errors', 'echo_tx_errors']) {
      if (sum(k)) notes.push(`${k} ${sum(k)}`);
    }
    if (all.some(genBound)) notes.push('generator-bound');
    console.log([padEnd(label, 7), padEnd(PATH[mode], 6), pad(`${flows} x ${rate}`, 14), pad(fix(m.relayed_pps, 0), 10),
      pad(fix(100 * m.lost / Math.max(1, m.sent), 2), 7), pad(`${clean}/${all.length}`, 7),
      pad(fix(m.server_cpu_pct, 1), 8), pad(fix(m.cpu_s_per_mpkt, 2), 10),
      pad(`(${fix(all[0].cpu_s_per_mpkt, 2)}-${fix(all[all.length - 1].cpu_s_per_mpkt, 2)})`, 13),
      pad(fix(m.rtt_p50_us / 1000, 2), 8), pad(fix(m.rtt_p99_us / 1000, 2), 7), pad(fix(m.gen_cpu_pct, 1), 8),
      '  ' + (notes.join(', ') || '')].join(' '));
  }
}
console.log(`relayed/s: packets the server forwarded per second in the window, both directions (an echo round
trip = 2: client->peer and peer->client; r2r: A->B and B->A). The floor has no server: its figure is the
echo process's CPU per datagram received and sent back (one receive + one send, as a relay does per packet).
CPU-s/Mpkt: server CPU seconds (utime+stime) per million relayed packets = µs per packet. loss %: packets sent
in the window that never came back (median round); no-loss: rounds without any loss. RTT: client round trip.
server socket drops: datagrams the server's own UDP sockets dropped with a full receive buffer (whole step).`);

/** Highest rate with every round loss-free at it and at every lower rate. */
function maxLossFree(key) {
  let best = null;
  for (const rate of rates) {
    const all = steps[`${key}|${rate}`];
    if (!all) break;
    if (all.some((r) => r.lost > 0)) break;
    best = { rate, bound: all.some(genBound) };
    if (best.bound) break;
  }
  return best;
}

const base = rates[0];
console.log('');
console.log(`summary at ${flows} x ${base} pkt/s (median rounds):`);
console.log([padEnd('server', 7), padEnd('path', 6), pad('CPU-s per Mpkt', 15),
  pad('highest rate without loss', 27), pad('relayed/s there', 16)].join(' '));
const maxes = {};
for (const key of runs) {
  const [label, mode] = key.split('|');
  const m = median[`${key}|${base}`];
  const best = maxLossFree(key);
  maxes[key] = best;
  const at = best && median[`${key}|${best.rate}`];
  const txt = best ? `${best.bound ? '>= ' : ''}${flows} x ${best.rate}/s` : `< ${flows} x ${base}/s`;
  console.log([padEnd(label, 7), padEnd(PATH[mode], 6), pad(fix(m?.cpu_s_per_mpkt, 2), 15), pad(txt, 27),
    pad(at ? fix(at.relayed_pps, 0) : '-', 16)].join(' '));
}

const cpu = (label, mode, rate) => median[`${label}|${mode}|${rate}`]?.cpu_s_per_mpkt;
const ratioRow = (name, a, b, goal, test) => {
  if (!a || !b) return;
  const v = a / b;
  console.log([padEnd(name, 40), pad(fix(v, 2), 6), pad(goal, 8), pad(goal ? (test(v) ? 'met' : 'NOT met') : '', 8)].join(' '));
};
console.log('');
console.log(`ratios of CPU per relayed packet at ${flows} x ${base} pkt/s (lower is better for the first named):`);
ratioRow('tincan echo / coturn echo', cpu('tincan', 'turn', base), cpu('coturn', 'turn', base), '<= 0.5', (v) => v <= 0.5);
ratioRow('tincan echo / floor', cpu('tincan', 'turn', base), cpu('floor', 'direct', base), '<= 1.2', (v) => v <= 1.2);
ratioRow('tincan r2r (in process) / floor', cpu('tincan', 'r2r', base), cpu('floor', 'direct', base), '< 1', (v) => v < 1);
ratioRow('  the same per relay hop (see below)', cpu('tincan', 'r2r', base) / 2, cpu('floor', 'direct', base), '< 1', (v) => v < 1);
ratioRow('tincan r2r / coturn r2r', cpu('tincan', 'r2r', base), cpu('coturn', 'r2r', base), '', () => true);
ratioRow('coturn echo / floor', cpu('coturn', 'turn', base), cpu('floor', 'direct', base), '', () => true);
console.log(`r2r counts a packet once, from A to B: through the kernel (coturn) that is two relay hops, A's relay
socket to B's and B's to client B, each a receive and a send like the floor's; tincan makes it one, in process.
"Per relay hop" divides tincan's r2r figure by those two hops: the reading under which the in-process path can
be below the floor at all, since one delivered packet still costs one receive and one send.`);
if (rates.length > 1) {
  console.log('');
  console.log('the same ratios at every rate (tincan/coturn echo, tincan echo/floor, tincan r2r/floor, tincan/coturn r2r):');
  for (const rate of rates) {
    const r = (a, b) => (a && b ? fix(a / b, 2) : '-');
    console.log(`  ${pad(`${flows} x ${rate}`, 12)}  ${pad(r(cpu('tincan', 'turn', rate), cpu('coturn', 'turn', rate)), 5)}` +
      `  ${pad(r(cpu('tincan', 'turn', rate), cpu('floor', 'direct', rate)), 5)}` +
      `  ${pad(r(cpu('tincan', 'r2r', rate), cpu('floor', 'direct', rate)), 5)}` +
      `  ${pad(r(cpu('tincan', 'r2r', rate), cpu('coturn', 'r2r', rate)), 5)}`);
  }
}
const t = maxes['tincan|turn'];
const c = maxes['coturn|turn'];
if (t && c) {
  console.log('');
  console.log(`highest loss-free rate, echo path, tincan/coturn: ${fix(t.rate / c.rate, 2)}` +
    `${t.bound || c.bound ? ' (a generator-bound step: at least this)' : ''}`);
}

// The rate sweep (run.sh's second file): "<try> <clean|lossy|bound> <RESULT json>" per probe.
const sweepFile = process.argv[3];
const sweepRows = sweepFile ? readFileSync(sweepFile, 'utf8').split('\n').filter(Boolean).map((line) => {
  const [tryNo, verdict, ...rest] = line.split(' ');
  return { try: Number(tryNo), verdict, ...JSON.parse(rest.join(' ')) };
}) : [];
if (sweepRows.length) {
  console.log('');
  console.log(`rate sweep, echo path, ${flows} flows: each server's highest offered rate without loss`);
  console.log('(probes in the order run; a lossy probe is tried twice, the second try decides)');
  console.log([padEnd('server', 7), pad('flows x pkt/s', 14), pad('try', 4), padEnd('  verdict', 10), pad('lost', 8),
    pad('relayed/s', 10), pad('srv CPU%', 8), pad('gen CPU%', 8), '  notes'].join(' '));
  const best = {};
  const worst = {};
  for (const r of sweepRows) {
    const notes = [];
    if (r.server_drops) notes.push(`server socket drops ${r.server_drops}`);
    if (r.local_drops) notes.push(`generator/echo drops ${r.local_drops}`);
    console.log([padEnd(r.label, 7), pad(`${flows} x ${r.rate_per_flow}`, 14), pad(r.try, 4), padEnd(`  ${r.verdict}`, 10),
      pad(r.lost, 8), pad(fix(r.relayed_pps, 0), 10), pad(fix(r.server_cpu_pct, 1), 8), pad(fix(r.gen_cpu_pct, 1), 8),
      '  ' + notes.join(', ')].join(' '));
  }
  // A probe's outcome is its last try's verdict.
  const outcome = new Map();
  for (const r of sweepRows) outcome.set(`${r.label}|${r.rate_per_flow}`, r);
  for (const r of outcome.values()) {
    if (r.verdict === 'lossy') {
      if (!worst[r.label] || r.rate_per_flow < worst[r.label].rate_per_flow) worst[r.label] = r;
    } else if (!best[r.label] || r.rate_per_flow > best[r.label].rate_per_flow) {
      best[r.label] = r;
    }
  }
  console.log('');
  for (const label of Object.keys({ ...best, ...worst })) {
    const b = best[label];
    const w = worst[label];
    console.log(`  ${padEnd(label, 7)} highest loss-free: ${b ? `${b.verdict === 'bound' ? '>= ' : ''}${flows} x ${b.rate_per_flow}/s` +
      ` (${fix(b.relayed_pps, 0)} relayed/s, server CPU ${fix(b.server_cpu_pct, 0)} %)` : 'none'}` +
      `${w ? `; lost at ${flows} x ${w.rate_per_flow}/s` : ''}`);
  }
  const t = best.tincan;
  const c = best.coturn;
  if (t && c) {
    const v = t.rate_per_flow / c.rate_per_flow;
    const note = t.verdict === 'bound' ? ' (tincan generator-bound: at least this)' : c.verdict === 'bound' ? ' (coturn generator-bound)' : '';
    console.log('');
    console.log([padEnd('highest loss-free rate, tincan / coturn', 40), pad(fix(v, 2), 6), pad('>= 2.5', 8),
      pad(v >= 2.5 ? 'met' : 'NOT met', 8)].join(' ') + note);
  }
}
