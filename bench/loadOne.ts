// One reader of one file in its own process, so that its peak RSS is its own: prints {seconds, maxRssMb, n, p,
// checksum} as JSON. The libraries are measured as a loader would use them: every cell to a double in a Float64Array.
// usage: node dist/bench/loadOne.js READER FILE
//   READER: regsweep | regsweep-parquet | papaparse | csv-parse | udsv | duckdb | sweep (a sweep on FILE, 2 workers)
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCsv } from '../src/data/csv.js';
import { loadColumnar } from '../src/data/columnar.js';
import { loadDataFile } from '../src/data/load.js';

/**
 * A reader only the bench compares with (not a dependency every contributor installs): `npm install --no-save
 * csv-parse udsv` to include it; without it that row of the bench says it was skipped.
 */
async function optional(name: string): Promise<unknown> {
  try {
    return await import(name);
  } catch {
    throw new Error(`${name} is not installed (npm install --no-save ${name})`);
  }
}

const [reader, file] = process.argv.slice(2);
/** The header's names, from the file's first megabyte (reading the whole file here would count in the peak RSS). */
function headerOf(path: string): string[] {
  const fd = openSync(path, 'r');
  try {
    const start = Buffer.alloc(1 << 20);
    const got = readSync(fd, start, 0, start.length, 0);
    return start.subarray(0, got).toString('latin1').split('\n')[0].split(',');
  } finally {
    closeSync(fd);
  }
}
const header = reader === 'regsweep-parquet' ? [] : headerOf(file);
const columns = header.length;

/** Row-major numbers as the libraries give them, grown by doubling (their result, not a loader's layout). */
class Numbers {
  values = new Float64Array(1 << 20);
  length = 0;
  push(v: number) {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = v;
  }
}

async function read(): Promise<{ n: number; p: number; checksum: number }> {
  const sum = (xs: ArrayLike<number>, count = xs.length) => {
    let s = 0;
    for (let i = 0; i < count; i++) s += xs[i];
    return s;
  };
  switch (reader) {
    case 'regsweep': {
      const d = await loadCsv(file);
      return { n: d.n, p: d.p, checksum: sum(d.X) + sum(d.y) };
    }
    case 'regsweep-parquet': {
      const d = await loadColumnar(file);
      return { n: d.n, p: d.p, checksum: sum(d.X) + sum(d.y) };
    }
    case 'papaparse': {
      const Papa = (await import('papaparse')).default;
      const out = new Numbers();
      let first = true;
      await new Promise<void>((resolve, reject) =>
        Papa.parse<string[]>(createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }) as unknown as Papa.LocalFile, {
          delimiter: ',',
          step: (r) => {
            if (first) return void (first = false);
            for (const cell of r.data) out.push(Number(cell));
          },
          complete: () => resolve(),
          error: reject,
        }),
      );
      return { n: out.length / columns, p: columns - 1, checksum: sum(out.values, out.length) };
    }
    case 'csv-parse': {
      const { parse } = (await optional('csv-parse')) as { parse: (options: { from_line: number }) => NodeJS.ReadWriteStream };
      const out = new Numbers();
      const parser = createReadStream(file, { highWaterMark: 1 << 20 }).pipe(parse({ from_line: 2 }));
      for await (const record of parser as AsyncIterable<string[]>) for (const cell of record) out.push(Number(cell));
      return { n: out.length / columns, p: columns - 1, checksum: sum(out.values, out.length) };
    }
    case 'udsv': {
      type Parser = { typedArrs: unknown; chunk(text: string, arrs: unknown, each: (row: number[]) => void): void; end(): void };
      const { inferSchema, initParser } = (await optional('udsv')) as { inferSchema(text: string): unknown; initParser(schema: unknown): Parser };
      const out = new Numbers();
      let parser: Parser | undefined;
      for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
        parser ??= initParser(inferSchema(chunk as string));
        parser.chunk(chunk as string, parser.typedArrs, (row: number[]) => {
          for (const v of row) out.push(v);
        });
      }
      parser!.end();
      return { n: out.length / columns, p: columns - 1, checksum: sum(out.values, out.length) };
    }
    case 'duckdb': {
      // DuckDB's parallel CSV reader into its own in-memory table (the figure of its parser, not of a transfer to
      // JavaScript arrays).
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      await c.run(`CREATE TABLE t AS SELECT * FROM read_csv('${file.replaceAll("'", "''")}', header = true, all_varchar = false)`);
      const r = await c.runAndReadAll(`SELECT count(*)::DOUBLE AS n, sum("${header[0]}") AS s FROM t`);
      const [n, s] = r.getRows()[0] as [number, number];
      return { n, p: columns - 1, checksum: s };
    }
    case 'sweep': {
      // A small sweep (holdout, 4 λ) on 2 worker threads: the data dominate the memory. STANDARDIZE=true|false.
      const { parseConfig } = await import('../src/config/load.js');
      const { runLoadedSweep } = await import('../src/pool/coordinator.js');
      const loaded = parseConfig(
        `name: memory\ndata: {path: ${file}, standardize: ${process.env.STANDARDIZE ?? 'false'}}\nvalidation: {kind: holdout, fraction: 0.2, seed: 0}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 4, ratio: 0.3}, extend: 0}\nworkers: 2\n`,
        'memory.yaml',
        { output: join(tmpdir(), `regsweep-memory-${process.pid}.db`) },
      );
      const d = await loadDataFile(file, {});
      await runLoadedSweep(loaded, d, { inline: false });
      return { n: d.n, p: d.p, checksum: 0 };
    }
    default:
      throw new Error(`unknown reader ${reader}`);
  }
}

const t = performance.now();
// A reader that cannot run says why in one line (the bench shows it as that row's skip note).
const result = await read().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
const seconds = (performance.now() - t) / 1000;
// maxRSS covers the whole process, worker threads included (kilobytes).
console.log(JSON.stringify({ seconds, maxRssMb: process.resourceUsage().maxRSS / 1024, ...result }));
