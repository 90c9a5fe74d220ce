#!/usr/bin/env node
// perfdoc: the figures of docs/performance.md, rendered from the JSON that the
// benchmarks wrote, so that no figure in those tables is typed by hand.
//
//   node bench/perfdoc.mjs            rewrite the generated blocks of docs/performance.md
//   node bench/perfdoc.mjs --check    exit 1 if the document is out of date with the JSON
//
// Inputs (bench/results/, written by the commands the document shows):
//   national.json   anpr-bench national --json ...
//   year.json       anpr-bench year --json ...        (io_uring)
//   year-pread.json ANPR_IO=pread anpr-bench year --reuse ... --json ...
//   compare.json    bench/compare/compare.sh (WORK/compare.json)
//   national-N.json, year-N.json   the same two scenarios with --block-rows N (N = 2048, 1024)
//   national-4096.json, year-4096.json
//                   the default's runs of the same hour and format as those (national.json and
//                   year.json when absent)
//   national-8192.json, year-8192.json
//                   the radix round's runs with --block-rows 8192 (format 8): quoted in the block-size
//                   prose, not rendered (the table's rows are format 7's)
//   year-threads1.json, year-threads2.json
//                   anpr-bench year --reuse --query-threads 1, then 2, in the same hour
//   year-map0.json, year-map1.json, year-map2.json
//                   anpr-bench year --reuse, then with --map, then with --map --query-threads 2, in the
//                   same hour
//   national-map.json
//                   anpr-bench national --map: quoted in the mapped-files prose, not rendered
//
// Each block sits between "<!-- perfdoc:NAME -->" and "<!-- /perfdoc:NAME -->";
// the prose around the blocks is written by hand and left as it is.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(root, 'bench', 'results');
const docPath = join(root, 'docs', 'performance.md');

function load(name) {
  const p = join(results, name);
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null;
}

// Numbers as the document prints them: three significant figures, thousands separated.
function fmt(x, digits = 3) {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (x === 0) return '0';
  const mag = Math.floor(Math.log10(Math.abs(x)));
  const decimals = Math.max(0, digits - 1 - mag);
  return x.toLocaleString('en-GB', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}
const int = (x) => Math.round(x).toLocaleString('en-GB');
const size = (bytes) => (bytes >= 1e12 ? `${fmt(bytes / 1e12)} TB` : `${fmt(bytes / 1e9)} GB`);
const perRead = (bytes, reads) => fmt(bytes / reads, 3);
const verdict = (ok) => (ok ? '✓' : '**not reached**');

function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function machine(j) {
  const m = j.machine;
  return `${m.cpus} CPUs (${m.cpu}), ${fmt(m.memory_gib)} GiB, ${m.kernel}; libanpr ${j.libanpr}`;
}

const blocks = {};

blocks.national = (n) => {
  const g = n.ingest, b = n.bytes;
  const bpr = b.total / b.reads;
  return [
    `Run: \`${n.command}\` on ${machine(n)}.`,
    '',
    table(['figure', 'measured', 'target'], [
      ['reads generated / stored', `${int(g.reads_generated)} / ${int(g.reads_stored)}`, ''],
      [`ingest through the API, one core, commit every ${int(g.commit_every)}`, `**${fmt(g.reads_per_second / 1e6)} M reads/s**`, `≥ 3 M/s ${verdict(g.reads_per_second >= 3e6)}`],
      ['final flush; merge of the day into its segment', `${fmt(g.final_flush_seconds)} s; ${fmt(g.merge_seconds)} s`, ''],
      ['peak memory of the process (ingest, then merge)', `**${int(g.rss_peak_mb)} MB** (before the store was opened: ${fmt(g.rss_before_store_mb)} MB)`, `≤ 512 MB ${verdict(g.rss_peak_mb <= 512)}`],
      ['bytes on disk a read, all in', `**${fmt(bpr)}**`, `≤ 8 ${verdict(bpr <= 8)}`],
      ['… of which data / index / directory', `${perRead(b.data, b.reads)} / ${perRead(b.index, b.reads)} / ${perRead(b.directory, b.reads)}`, ''],
      ['expiry: drop the day', `${fmt(n.expire?.mean_ms)} ms`, n.expire ? `≤ 10 ms ${verdict(n.expire.worst_ms <= 10)}` : '≤ 10 ms'],
    ]),
    '',
    'By column, bytes a read: ' + Object.entries(b.columns).map(([k, v]) => `${k} ${perRead(v, b.reads)}`).join(', ') + '.',
    ...(n.queries ? ['', 'Queries over the national day:', '', table([`warm, I/O ${n.queries.io}`, 'p50 / p95 / p99 ms', 'reads (mean)', 'samples'], queryRows(n.queries, 'warm', false))] : []),
    ...(n.queries && n.queries.cold_method ? ['', table([`cold (${n.queries.cold_method})`, 'p50 / p95 / p99 ms', 'reads (mean)', 'samples'], queryRows(n.queries, 'cold', false))] : []),
  ].join('\n');
};

const shapeTargets = {
  plate: (l) => `p50 ≤ 5 ms ${verdict(l.p50_ms <= 5)}, p99 ≤ 25 ms ${verdict(l.p99_ms <= 25)}`,
  camera_hour: (l) => `p50 ≤ 0.5 ms ${verdict(l.p50_ms <= 0.5)}`,
  area_hour: (l) => `p50 ≤ 5 ms ${verdict(l.p50_ms <= 5)}`,
};

function queryRows(q, which, withTarget) {
  return Object.entries(q)
    .filter(([, v]) => v && typeof v === 'object' && v[which] && v[which].samples)
    .map(([k, v]) => {
      const l = v[which];
      const row = [v.title, `${fmt(l.p50_ms)} / ${fmt(l.p95_ms)} / ${fmt(l.p99_ms)}`, fmt(l.mean_reads), int(l.samples)];
      if (withTarget) row.push(shapeTargets[k] ? shapeTargets[k](l) : '');
      return row;
    });
}

blocks.year = (y, yp) => {
  const b = y.bytes, w = y.workload;
  const out = [
    `Run: \`${y.command}\` on ${machine(y)}. The store: ${int(w.days)} days of ${int(w.reads_per_day)} reads ` +
      `(${int(w.cameras)} cameras, ${int(w.vehicles)} vehicles), ${int(b.reads)} reads in ${int(b.files)} segments, ` +
      `${perRead(b.total, b.reads)} bytes a read.`,
    '',
    table([`warm, I/O ${y.queries.io}`, 'p50 / p95 / p99 ms', 'reads (mean)', 'samples', 'target'], queryRows(y.queries, 'warm', true)),
  ];
  if (y.queries.cold_method) {
    out.push('', table([`cold (page cache emptied with ${y.queries.cold_method} before each query), I/O ${y.queries.io}`, 'p50 / p95 / p99 ms', 'reads (mean)', 'samples'], queryRows(y.queries, 'cold', false)));
  } else if (y.queries.cold_note) {
    out.push('', `Cold figures were not measured: ${y.queries.cold_note}.`);
  }
  if (yp) {
    out.push('', `The same store read with pread (\`${yp.command}\`, ANPR_IO=pread):`, '');
    out.push(table([`warm, I/O ${yp.queries.io}`, 'p50 / p95 / p99 ms', 'reads (mean)', 'samples'], queryRows(yp.queries, 'warm', false)));
    if (yp.queries.cold_method)
      out.push('', table([`cold, I/O ${yp.queries.io}`, 'p50 / p95 / p99 ms', 'reads (mean)', 'samples'], queryRows(yp.queries, 'cold', false)));
  }
  const ex = y.expire || (yp && yp.expire);
  if (ex) out.push('', `Expiry: dropping the ${int(ex.days)} oldest days one at a time took ${fmt(ex.mean_ms)} ms a day on average, ${fmt(ex.worst_ms)} ms at worst (target ≤ 10 ms ${verdict(ex.worst_ms <= 10)}).`);
  return out.join('\n');
};

blocks.projection = (n, y) => {
  const p = n.projection;
  const rows = [
    ['disk for every read of the period (data and index)', `${size(p.disk_bytes)} (${fmt(p.bytes_per_read)} bytes a read, from the national day)`],
    ['room for the day being merged, next to it', size(p.merge_space_bytes)],
    ['ingest headroom of one core over the mean rate', `${int(p.ingest_headroom)}× (${fmt(p.reads_per_day / 86400)} reads/s)`],
    ['… over the busiest hour', `${int(p.ingest_headroom_peak_hour)}× (that hour carries ${fmt(n.ingest.peak_hour_factor)}× the mean)`],
  ];
  if (y && y.projection.queries_per_second)
    for (const [k, v] of Object.entries(y.projection.queries_per_second))
      if (v) rows.push([`queries a second, one core, warm: ${y.queries[k].title} (year store)`, int(v)]);
  return [`Deployment: ${int(p.reads_per_day)} reads a day kept ${int(p.retention_days)} days.`, '', table(['projection', 'figure'], rows)].join('\n');
};

// The block-size trade: the default runs against the --block-rows ones, scenario by scenario.
function blockRowsOf(j) {
  const m = / --block-rows (\d+)/.exec(j.command);
  return m ? Number(m[1]) : 4096;
}

blocks['block-size'] = (...runs) => {
  const rows = [];
  for (let i = 0; i < runs.length; i += 2) {
    const n = runs[i], y = runs[i + 1];
    if (blockRowsOf(n) !== blockRowsOf(y)) throw new Error(`block-size: ${n.command} and ${y.command} differ in --block-rows`);
    const warm = (k) => y.queries[k].warm;
    rows.push([
      `${int(blockRowsOf(n))}${blockRowsOf(n) === 4096 ? ' (default)' : ''}`,
      `${perRead(n.bytes.total, n.bytes.reads)} (index ${perRead(n.bytes.index, n.bytes.reads)}, directory ${perRead(n.bytes.directory, n.bytes.reads)})`,
      perRead(y.bytes.total, y.bytes.reads),
      `${fmt(warm('plate').p50_ms)} / ${fmt(warm('plate').p99_ms)}`,
      fmt(warm('plate_fuzzy').p50_ms),
      fmt(warm('camera_hour').p50_ms),
      fmt(warm('area_hour').p50_ms),
    ]);
  }
  return [
    `Runs: ${runs.map((j) => `\`${j.command}\``).join(', ')}.`,
    '',
    table(['rows a block', 'national day, bytes a read (target ≤ 8)', 'year store, bytes a read',
      'year: plate history p50 / p99 ms (target p50 ≤ 5)', 'misread-tolerant p50', 'one camera, one hour p50', 'an area, one hour p50'], rows),
  ].join('\n');
};

// Threads a query may use: the same store, queried with 1 and with 2 threads one run after the other.
blocks['query-threads'] = (one, two) => {
  const threads = (j) => j.queries.query_threads || 1;
  if (threads(one) !== 1 || threads(two) !== 2) throw new Error('query-threads: expects runs with 1 and with 2 query threads');
  const rows = Object.entries(one.queries)
    .filter(([k, v]) => v && typeof v === 'object' && v.warm && v.warm.samples && two.queries[k])
    .map(([k, v]) => {
      const a = v.warm, b = two.queries[k].warm;
      return [v.title, `${fmt(a.p50_ms)} / ${fmt(a.p99_ms)}`, `${fmt(b.p50_ms)} / ${fmt(b.p99_ms)}`,
        fmt(b.p50_ms / a.p50_ms), shapeTargets[k] ? shapeTargets[k](b) : ''];
    });
  return [
    `Runs: \`${one.command}\`, then \`${two.command}\`, on ${machine(one)}; I/O ${one.queries.io}.`,
    '',
    table(['warm', '1 thread: p50 / p99 ms', '2 threads: p50 / p99 ms', 'p50, 2 against 1', 'target (2 threads)'], rows),
  ].join('\n');
};

// Mapped files: the same store queried plainly, then mapped (ANPR_OPEN_MAP) on one thread and on two.
blocks.mapped = (plain, mapped, mapped2) => {
  const threads = (j) => j.queries.query_threads || 1;
  if (plain.queries.mapped || !mapped.queries.mapped || !mapped2.queries.mapped || threads(plain) !== 1 ||
      threads(mapped) !== 1 || threads(mapped2) !== 2)
    throw new Error('mapped: expects a plain run, a mapped one and a mapped one with 2 query threads');
  const pair = (l) => `${fmt(l.p50_ms)} / ${fmt(l.p99_ms)}`;
  const cold = (j, k) => (j.queries.cold_method && j.queries[k].cold ? fmt(j.queries[k].cold.p50_ms) : 'not measured');
  const rows = Object.entries(plain.queries)
    .filter(([k, v]) => v && typeof v === 'object' && v.warm && v.warm.samples && mapped.queries[k] && mapped2.queries[k])
    .map(([k, v]) => {
      const a = v.warm, b = mapped.queries[k].warm, c = mapped2.queries[k].warm;
      return [v.title, pair(a), pair(b), pair(c), fmt(b.p50_ms / a.p50_ms), `${cold(plain, k)} / ${cold(mapped, k)}`,
        shapeTargets[k] ? shapeTargets[k](b) : ''];
    });
  return [
    `Runs: ${[plain, mapped, mapped2].map((j) => `\`${j.command}\``).join(', then ')}, on ${machine(plain)}; I/O ${plain.queries.io}.`,
    '',
    table(['warm', 'read: p50 / p99 ms', 'mapped: p50 / p99 ms', 'mapped, 2 threads: p50 / p99 ms',
      'p50, mapped against read', 'cold p50 ms, read / mapped', 'target (mapped, 1 thread)'], rows),
  ].join('\n');
};

const peerNames = { 'duckdb-table': 'DuckDB table', 'duckdb-parquet': 'DuckDB Parquet', sqlite: 'SQLite' };
const shapeTitles = {
  plate: 'plate history, whole period',
  plate_fuzzy: 'misread-tolerant plate history',
  camera_hour: 'one camera, one hour',
  area_hour: 'an area of about 11 × 11 km, one hour',
  partial_day: 'a partial plate (two `?`), one day',
};

function ratio(a, b) {
  const r = a / b;
  return r < 1 ? `${fmt(r)} (${fmt(1 / r, 2)}× faster)` : `${fmt(r)} (${fmt(r, 2)}× slower)`;
}

blocks.compare = (c) => {
  const peers = Object.keys(peerNames);
  const rows = Object.entries(c.shapes).map(([k, v]) => [
    shapeTitles[k] || k, fmt(v.anpr), ...peers.map((p) => fmt(v[p])), ...peers.map((p) => ratio(v.anpr, v[p])),
  ]);
  const load = c.load;
  const size = [
    ['load rate, M reads/s', fmt(load.anpr.rate / 1e6), ...peers.map((p) => fmt(load[p].rate / 1e6))],
    ['bytes on disk a read', fmt(load.anpr.bytes / c.reads), ...peers.map((p) => fmt(load[p].bytes / c.reads))],
  ];
  return [
    `${int(c.reads)} reads over ${int(c.days)} days on ${c.machine}; answers that differed between engines: ${int(c.mismatches)}.`,
    '',
    table(['query, p50 of the medians, ms', 'libanpr', ...peers.map((p) => peerNames[p]), ...peers.map((p) => `libanpr / ${peerNames[p]}`)], rows),
    '',
    table(['load and size', 'libanpr', ...peers.map((p) => peerNames[p])], size),
  ].join('\n');
};

function render(doc) {
  const national = load('national.json'), year = load('year.json'), yearPread = load('year-pread.json'), compare = load('compare.json');
  const inputs = {
    national: national && [national],
    year: year && [year, yearPread],
    projection: national && [national, year],
    compare: compare && [compare],
  };
  // The block-size rows were run within one hour: the default's runs of that hour, if kept apart.
  const sized = [load('national-4096.json') || national, load('year-4096.json') || year];
  for (const rows of [2048, 1024]) {
    const n = load(`national-${rows}.json`), y = load(`year-${rows}.json`);
    if (n && y) sized.push(n, y);
  }
  if (national && year && sized.length > 2) inputs['block-size'] = sized;
  const threads1 = load('year-threads1.json'), threads2 = load('year-threads2.json');
  if (threads1 && threads2) inputs['query-threads'] = [threads1, threads2];
  const map0 = load('year-map0.json'), map1 = load('year-map1.json'), map2 = load('year-map2.json');
  if (map0 && map1 && map2) inputs.mapped = [map0, map1, map2];
  return doc.replace(/<!-- perfdoc:([a-z-]+) -->\n[\s\S]*?<!-- \/perfdoc:\1 -->/g, (whole, name) => {
    if (!blocks[name]) throw new Error(`docs/performance.md: unknown block perfdoc:${name}`);
    if (!inputs[name]) throw new Error(`perfdoc:${name} needs its JSON in bench/results/ (see the header of bench/perfdoc.mjs)`);
    return `<!-- perfdoc:${name} -->\n${blocks[name](...inputs[name])}\n<!-- /perfdoc:${name} -->`;
  });
}

try {
  const doc = readFileSync(docPath, 'utf8');
  const out = render(doc);
  if (process.argv.includes('--check')) {
    if (out !== doc) {
      console.error('perfdoc: docs/performance.md is out of date with bench/results/*.json: run node bench/perfdoc.mjs');
      process.exit(1);
    }
    console.log('perfdoc: docs/performance.md matches bench/results/*.json');
  } else if (out !== doc) {
    writeFileSync(docPath, out);
    console.log('perfdoc: docs/performance.md rewritten');
  } else {
    console.log('perfdoc: docs/performance.md already up to date');
  }
} catch (e) {
  console.error(`perfdoc: ${e.message}`);
  process.exit(2);
}
