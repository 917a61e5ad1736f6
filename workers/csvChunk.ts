// A thread of the CSV reader: stretches of the file's lines, one a message, parsed into the shared columns
// (data/csvChunk.ts).
import { parentPort } from 'node:worker_threads';
import { parseChunk, type ChunkJob, type ChunkLayout } from '../src/data/csvChunk.js';

parentPort!.on('message', ({ layout, job }: { layout: ChunkLayout; job: ChunkJob }) => {
  // The shared bytes arrive as a plain Uint8Array: as a Buffer, its searches for a newline or a comma are memchr's.
  job.bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  parentPort!.postMessage(parseChunk(layout, job));
});
