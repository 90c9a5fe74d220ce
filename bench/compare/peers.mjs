// The peers' side of the side-by-side comparison (compare.sh drives it):
// DuckDB (a table with an index on plate, and daily Parquet files with zstd)
// and SQLite (a table with indexes on plate, camera and time), loaded from the
// same generated CSV as libanpr, asked the same queries.
//
//   node peers.mjs load    WORK CSV           load both peers, write WORK/peers-load.json
//   node peers.mjs queries WORK N SEED        pick N queries of each shape, write WORK/queries.tsv
//   node peers.mjs run     WORK ENGINE REPEATS  time every query (duckdb-table, duckdb-parquet, sqlite)
//   node peers.mjs report  WORK               check the answers agree, print the table, write WORK/compare.json
//
// Every answer is summarised as libanpr's compare_anpr does: a count and the
// sum mod 2^64 of the FNV-1a hash of each read's line
// "ts_ms,plate,camera,lane,direction,confidence,lat_e7,lon_e7".
import { DuckDBInstance } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const DAY_MS = 86400000;
const FOLD_FROM = 'ODQIZSBG';
const FOLD_TO = '00012586';

function fold(p) {
  let out = '';
  for (const c of p) {
    const k = FOLD_FROM.indexOf(c);
    out += k < 0 ? c : FOLD_TO[k];
  }
  return out;
}

function fnv1a(s) {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) h = ((h ^ BigInt(s.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

function digest(rows) {
  let sum = 0n;
  for (const r of rows) {
    const lat = r[6] === null || r[6] === undefined ? '' : String(r[6]);
    const lon = r[7] === null || r[7] === undefined ? '' : String(r[7]);
    sum = (sum + fnv1a(`${r[0]},${r[1]},${r[2]},${r[3]},${r[4]},${r[5]},${lat},${lon}`)) & 0xffffffffffffffffn;
  }
  return sum.toString(16).padStart(16, '0');
}

function sizeOf(p) {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(p).reduce((n, f) => n + sizeOf(path.join(p, f)), 0);
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

// The reads as libanpr stores them: plates normalised, positions in 1e-7 degrees, each read once.
const SELECT_READS = `
  SELECT ts_ms, upper(regexp_replace(plate, '[^A-Za-z0-9]', '', 'g')) AS plate, camera, lane, direction, confidence,
         CAST(round(lat * 1e7) AS INTEGER) AS lat_e7, CAST(round(lon * 1e7) AS INTEGER) AS lon_e7
  FROM read_csv($1, header = true, columns = {'ts_ms': 'BIGINT', 'plate': 'VARCHAR', 'camera': 'UINTEGER',
       'lane': 'UTINYINT', 'direction': 'UTINYINT', 'confidence': 'UTINYINT', 'lat': 'DOUBLE', 'lon': 'DOUBLE'})`;

async function load(work, csv) {
  const out = {};
  const duckPath = path.join(work, 'duck.db');
  const parquetDir = path.join(work, 'parquet');
  for (const p of [duckPath, duckPath + '.wal', parquetDir, path.join(work, 'sqlite.db')]) fs.rmSync(p, { recursive: true, force: true });
  const db = await DuckDBInstance.create(duckPath);
  const c = await db.connect();

  let t0 = now();
  await c.run(`CREATE TABLE reads AS SELECT DISTINCT ON (camera, ts_ms, plate) * FROM (${SELECT_READS}) ORDER BY ts_ms`, [csv]);
  const loadMs = now() - t0;
  const n = Number((await c.runAndReadAll('SELECT count(*) FROM reads')).getRows()[0][0]);
  await c.run('CHECKPOINT');
  const tableBytes = sizeOf(duckPath);
  t0 = now();
  await c.run('CREATE INDEX reads_plate ON reads (plate)');
  await c.run('CHECKPOINT');
  const indexMs = now() - t0;
  out.duckdb_table = { reads: n, load_ms: loadMs, index_ms: indexMs, bytes_no_index: tableBytes, bytes: sizeOf(duckPath) };

  t0 = now();
  await c.run(`COPY (SELECT *, ts_ms // ${DAY_MS} AS day FROM reads) TO '${parquetDir}'
               (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day))`);
  out.duckdb_parquet = { reads: n, load_ms: now() - t0, bytes: sizeOf(parquetDir) };

  // SQLite takes the reads DuckDB has normalised and made unique, in one transaction.
  const uniqueCsv = path.join(work, 'reads-unique.csv');
  await c.run(`COPY reads TO '${uniqueCsv}' (HEADER false)`);
  c.closeSync();
  db.closeSync();
  const s = new Database(path.join(work, 'sqlite.db'));
  s.pragma('journal_mode = WAL');
  s.pragma('synchronous = NORMAL');
  s.exec(`CREATE TABLE reads (ts_ms INTEGER NOT NULL, plate TEXT NOT NULL, camera INTEGER NOT NULL, lane INTEGER,
          direction INTEGER, confidence INTEGER, lat_e7 INTEGER, lon_e7 INTEGER);
          CREATE INDEX reads_plate ON reads (plate); CREATE INDEX reads_camera ON reads (camera, ts_ms);
          CREATE INDEX reads_ts ON reads (ts_ms);`);
  const ins = s.prepare('INSERT INTO reads VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  t0 = now();
  s.exec('BEGIN');
  const rl = readline.createInterface({ input: fs.createReadStream(uniqueCsv), crlfDelay: Infinity });
  for await (const line of rl) {
    const f = line.split(',');
    ins.run(Number(f[0]), f[1], Number(f[2]), Number(f[3]), Number(f[4]), Number(f[5]),
            f[6] === '' ? null : Number(f[6]), f[7] === '' ? null : Number(f[7]));
  }
  s.exec('COMMIT');
  s.pragma('wal_checkpoint(TRUNCATE)');
  out.sqlite = { reads: n, load_ms: now() - t0, bytes: sizeOf(path.join(work, 'sqlite.db')) };
  s.close();
  fs.rmSync(uniqueCsv);
  fs.writeFileSync(path.join(work, 'peers-load.json'), JSON.stringify(out, null, 2));
  console.log(JSON.stringify(out));
}

// N queries of each shape from the loaded reads, chosen by SEED.
async function queries(work, nq, seed) {
  const db = await DuckDBInstance.create(path.join(work, 'duck.db'), { access_mode: 'READ_ONLY' });
  const c = await db.connect();
  await c.run(`SELECT setseed(${(seed % 1000) / 1000})`);
  const pick = async (sql) => (await c.runAndReadAll(sql)).getRows();
  const plates = await pick(`SELECT plate FROM (SELECT DISTINCT plate FROM reads ORDER BY plate) USING SAMPLE reservoir(${nq} ROWS) REPEATABLE (${seed})`);
  const sample = await pick(`SELECT ts_ms, plate, camera, lat_e7, lon_e7 FROM reads WHERE lat_e7 IS NOT NULL
                             USING SAMPLE reservoir(${nq} ROWS) REPEATABLE (${seed})`);
  c.closeSync();
  db.closeSync();
  const lines = [];
  let id = 0;
  const add = (shape, plate, fuzzy, cams, area, from, to) =>
    lines.push([id++, shape, plate, fuzzy, cams, area, from, to].join('\t'));
  const MIN = '-9223372036854775808', MAX = '9223372036854775807';
  for (const [p] of plates) add('plate', p, 0, '-', '-', MIN, MAX);
  for (const [p] of plates) add('plate_fuzzy', p, 1, '-', '-', MIN, MAX);
  for (const [ts, , cam] of sample) {
    const h = Number(ts) - (Number(ts) % 3600000);
    add('camera_hour', '-', 0, String(cam), '-', h, h + 3600000);
  }
  for (const [ts, , , la, lo] of sample) {
    const h = Number(ts) - (Number(ts) % 3600000);
    add('area_hour', '-', 0, '-', [la - 500000, lo - 800000, la + 500000, lo + 800000].join(','), h, h + 3600000);
  }
  for (const [ts, p] of sample) {
    const d = Number(ts) - (Number(ts) % DAY_MS);
    add('partial_day', p.slice(0, 2) + '??' + p.slice(4), 0, '-', '-', d, d + DAY_MS);
  }
  fs.writeFileSync(path.join(work, 'queries.tsv'), lines.join('\n') + '\n');
  console.log(`${lines.length} queries in ${path.join(work, 'queries.tsv')}`);
}

function parseQueries(work) {
  return fs.readFileSync(path.join(work, 'queries.tsv'), 'utf8').trim().split('\n').map((l) => {
    const [id, shape, plate, fuzzy, cams, area, from, to] = l.split('\t');
    return {
      id: Number(id), shape, plate: plate === '-' ? null : plate, fuzzy: fuzzy === '1',
      cameras: cams === '-' ? null : cams.split(',').map(Number),
      area: area === '-' ? null : area.split(',').map(Number), from: BigInt(from), to: BigInt(to),
    };
  });
}

// One query as SQL with ? placeholders and its values, for a table `reads`.
function toSql(q, dialect) {
  const where = [];
  const args = [];
  if (q.plate !== null) {
    if (q.plate.includes('?') || q.plate.includes('*')) {
      where.push('plate LIKE ?');
      args.push(q.plate.replaceAll('?', '_').replaceAll('*', '%'));
    } else if (q.fuzzy) {
      let e = 'plate';
      if (dialect === 'duckdb') e = `translate(plate, '${FOLD_FROM}', '${FOLD_TO}')`;
      else for (let i = 0; i < FOLD_FROM.length; i++) e = `replace(${e}, '${FOLD_FROM[i]}', '${FOLD_TO[i]}')`;
      where.push(`${e} = ?`);
      args.push(fold(q.plate));
    } else {
      where.push('plate = ?');
      args.push(q.plate);
    }
  }
  if (q.cameras) {
    where.push(`camera IN (${q.cameras.map(() => '?').join(',')})`);
    args.push(...q.cameras);
  }
  if (q.area) {
    where.push('lat_e7 BETWEEN ? AND ? AND lon_e7 BETWEEN ? AND ?');
    args.push(q.area[0], q.area[2], q.area[1], q.area[3]);
  }
  const open = q.from === -9223372036854775808n && q.to === 9223372036854775807n;
  if (!open) {
    where.push('ts_ms >= ? AND ts_ms < ?');
    args.push(q.from, q.to);
    if (dialect === 'parquet') {
      // Daily files: name the days, as anyone querying day-partitioned Parquet would.
      where.push('day BETWEEN ? AND ?');
      args.push(q.from / BigInt(DAY_MS), (q.to - 1n) / BigInt(DAY_MS));
    }
  }
  const sql = 'SELECT ts_ms, plate, camera, lane, direction, confidence, lat_e7, lon_e7 FROM reads' +
    (where.length ? ' WHERE ' + where.join(' AND ') : '') + ' ORDER BY ts_ms';
  return { sql, args };
}

async function run(work, engine, repeats) {
  const qs = parseQueries(work);
  let exec;
  let close = () => {};
  if (engine === 'sqlite') {
    const s = new Database(path.join(work, 'sqlite.db'), { readonly: true });
    exec = async (q) => {
      const { sql, args } = toSql(q, 'sqlite');
      return s.prepare(sql).raw().all(...args.map((a) => (typeof a === 'bigint' ? Number(a) : a)));
    };
    close = () => s.close();
  } else {
    const db = await DuckDBInstance.create(engine === 'duckdb-table' ? path.join(work, 'duck.db') : ':memory:',
                                           engine === 'duckdb-table' ? { access_mode: 'READ_ONLY' } : {});
    const c = await db.connect();
    if (engine === 'duckdb-parquet')
      await c.run(`CREATE VIEW reads AS SELECT * FROM read_parquet('${path.join(work, 'parquet')}/*/*.parquet',
                   hive_partitioning = true)`);
    const dialect = engine === 'duckdb-table' ? 'duckdb' : 'parquet';
    exec = async (q) => {
      const { sql, args } = toSql(q, dialect);
      let k = 0;
      const numbered = sql.replace(/\?/g, () => `$${++k}`);
      return (await c.runAndReadAll(numbered, args)).getRows();
    };
    close = () => { c.closeSync(); db.closeSync(); };
  }
  const out = [];
  for (const q of qs) {
    const t0 = now();
    const rows = await exec(q); // warm-up, and the answer
    const ms = [];
    // A query that takes seconds (a full scan) is timed once more, not `repeats` times.
    const times = now() - t0 > 1000 ? 1 : repeats;
    for (let r = 0; r < times; r++) {
      const t0 = now();
      await exec(q);
      ms.push(now() - t0);
    }
    ms.sort((a, b) => a - b);
    out.push({ id: q.id, shape: q.shape, ms: ms[Math.floor(times / 2)], count: rows.length, digest: digest(rows) });
  }
  close();
  for (const r of out) console.log(JSON.stringify(r));
}

function readLines(file) {
  return fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

function report(work) {
  const engines = ['anpr', 'duckdb-table', 'duckdb-parquet', 'sqlite'];
  const res = Object.fromEntries(engines.map((e) => [e, readLines(path.join(work, `${e}.jsonl`))]));
  const load = JSON.parse(fs.readFileSync(path.join(work, 'peers-load.json'), 'utf8'));
  const anprLoad = JSON.parse(fs.readFileSync(path.join(work, 'anpr-load.json'), 'utf8'));
  // Every engine must give every query the same reads.
  let mismatches = 0;
  for (const a of res.anpr) {
    for (const e of engines.slice(1)) {
      const b = res[e].find((x) => x.id === a.id);
      if (!b || b.count !== a.count || b.digest !== a.digest) {
        mismatches++;
        console.log(`MISMATCH query ${a.id} (${a.shape}): anpr ${a.count} reads ${a.digest}, ${e} ${b?.count} ${b?.digest}`);
      }
    }
  }
  const shapes = [...new Set(res.anpr.map((r) => r.shape))];
  const fig = { machine: anprLoad.machine, reads: anprLoad.reads, days: anprLoad.days, shapes: {}, load: {}, mismatches };
  const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
  const ratio = (a, b) => (a / b).toPrecision(2);
  console.log(`\n${anprLoad.reads} reads over ${anprLoad.days} days; ${anprLoad.machine}`);
  console.log('\nquery p50 ms (median over the queries of a shape; each query the median of its repeats)');
  console.log(['shape', ...engines, ...engines.slice(1).map((e) => `anpr/${e}`)].map((s) => s.padEnd(21)).join(''));
  for (const sh of shapes) {
    const p = Object.fromEntries(engines.map((e) => [e, median(res[e].filter((r) => r.shape === sh).map((r) => r.ms))]));
    fig.shapes[sh] = p;
    console.log([sh, ...engines.map((e) => fmt(p[e])), ...engines.slice(1).map((e) => ratio(p.anpr, p[e]))]
      .map((s) => String(s).padEnd(21)).join(''));
  }
  const loads = {
    anpr: { rate: anprLoad.reads / (anprLoad.ingest_ms / 1000), bytes: anprLoad.bytes },
    'duckdb-table': { rate: load.duckdb_table.reads / ((load.duckdb_table.load_ms + load.duckdb_table.index_ms) / 1000),
                      bytes: load.duckdb_table.bytes },
    'duckdb-parquet': { rate: load.duckdb_parquet.reads / ((load.duckdb_table.load_ms + load.duckdb_parquet.load_ms) / 1000),
                        bytes: load.duckdb_parquet.bytes },
    sqlite: { rate: load.sqlite.reads / (load.sqlite.load_ms / 1000), bytes: load.sqlite.bytes },
  };
  fig.load = loads;
  console.log('\nload and size');
  console.log(['', ...engines, ...engines.slice(1).map((e) => `anpr/${e}`)].map((s) => s.padEnd(21)).join(''));
  console.log(['reads/s (M)', ...engines.map((e) => (loads[e].rate / 1e6).toFixed(2)),
    ...engines.slice(1).map((e) => ratio(loads.anpr.rate, loads[e].rate))].map((s) => String(s).padEnd(21)).join(''));
  console.log(['bytes/read', ...engines.map((e) => (loads[e].bytes / anprLoad.reads).toFixed(2)),
    ...engines.slice(1).map((e) => ratio(loads.anpr.bytes, loads[e].bytes))].map((s) => String(s).padEnd(21)).join(''));
  console.log(`\n${mismatches === 0 ? 'all engines returned the same reads for every query' : `${mismatches} answers differ`}`);
  fs.writeFileSync(path.join(work, 'compare.json'), JSON.stringify(fig, null, 2));
  return mismatches === 0 ? 0 : 1;
}

const [cmd, work, a1, a2] = process.argv.slice(2);
if (cmd === 'load') await load(work, a1);
else if (cmd === 'queries') await queries(work, Number(a1 || 20), Number(a2 || 42));
else if (cmd === 'run') await run(work, a1, Number(a2 || 5));
else if (cmd === 'report') process.exitCode = report(work);
else {
  console.error('usage: node peers.mjs load|queries|run|report WORK ...');
  process.exitCode = 2;
}
