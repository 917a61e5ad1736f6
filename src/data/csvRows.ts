// A CSV read as a stream of records, for files larger than memory (predict): the header first, then each record with
// its line number; a consumer that cannot keep up returns a promise and the file is paused until it resolves.
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { Transform } from 'node:stream';
import Papa from 'papaparse';
import { UserError } from '../errors.js';
import { requireRegularFile } from '../util/files.js';

export interface CsvRecordHandlers {
  /** The header's names, trimmed; `where` is "file:line" for messages. */
  header(names: string[], where: string): void;
  /** One record (as many fields as the header); a returned promise pauses reading until it resolves. */
  record(fields: string[], line: number): void | Promise<void>;
}

const isBlankRecord = (fields: string[]) => fields.length === 1 && fields[0].trim() === '';

/**
 * Reads `path` record by record; every problem is one UserError naming file:line. Resolves with the data rows read.
 * `onBytes` sees the file's bytes as they are read (to hash them).
 */
export async function streamCsv(path: string, name: string, handlers: CsvRecordHandlers, onBytes?: (chunk: Buffer) => void): Promise<number> {
  requireRegularFile(path, name, 'data file');
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const decoder = new StringDecoder('utf8');
  const input = raw.pipe(
    new Transform({
      decodeStrings: false,
      transform(chunk: Buffer, _encoding, done) {
        onBytes?.(chunk);
        done(null, decoder.write(chunk));
      },
      flush(done) {
        done(null, decoder.end());
      },
    }),
  );
  input.setEncoding('utf8');
  let columns = -1;
  let rows = 0;
  // Lines are counted here: a blank line is a record of one empty field, and a quoted field may span lines.
  let line = 1;
  let waiting = 0;
  let parsed = false;
  return new Promise<number>((resolve, reject) => {
    let failed = false;
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      raw.destroy();
      input.destroy();
      reject(e);
    };
    const finish = () => {
      if (failed || !parsed || waiting > 0) return;
      if (columns < 0) return fail(new UserError(`${name}: the file is empty`));
      if (rows === 0) return fail(new UserError(`${name}: a header but no data rows`));
      resolve(rows);
    };
    raw.on('error', (e: NodeJS.ErrnoException) => fail(new UserError(`${name}: cannot read the data file (${e.code ?? e.message})`)));
    Papa.parse<string[]>(input as unknown as Papa.LocalFile, {
      delimiter: ',',
      skipEmptyLines: false,
      step(result, parser) {
        if (failed) return;
        const fields = result.data;
        const at = line;
        for (const f of fields) for (let k = f.indexOf('\n'); k >= 0; k = f.indexOf('\n', k + 1)) line++;
        line++;
        try {
          if (result.errors.length) throw new UserError(`${name}:${at}: malformed CSV: ${result.errors[0].message}`);
          if (isBlankRecord(fields)) return;
          if (columns < 0) {
            if (at === 1 && fields[0].startsWith('\uFEFF')) fields[0] = fields[0].slice(1);
            columns = fields.length;
            handlers.header(fields.map((h) => h.trim()), `${name}:${at}`);
            return;
          }
          if (fields.length !== columns) throw new UserError(`${name}:${at}: expected ${columns} fields as in the header, found ${fields.length}`);
          rows++;
          const pending = handlers.record(fields, at);
          if (pending) {
            if (waiting++ === 0) input.pause();
            pending.then(
              () => {
                if (--waiting === 0) {
                  if (parsed) finish();
                  else input.resume();
                }
              },
              fail,
            );
          }
        } catch (e) {
          // Failed before abort(), which calls complete() at once.
          fail(e);
          parser.abort();
        }
      },
      complete: () => {
        parsed = true;
        finish();
      },
      error: (e: Error) => fail(e),
    });
  });
}
