// native/gram.c's module (built by `npm run build` where a C compiler is there), loaded once per thread: the fitting
// threads take its kernels (workers/kernelContext.ts), any thread its memory advice.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { builtPath } from '../builtFile.js';

let loaded: Record<string, unknown> | null | undefined;

/**
 * The module's exports; undefined when it was not built, was built for another Node, or with REGSWEEP_NATIVE=0. On a
 * CPU without AVX2 and FMA it exports only adviseHugePages.
 */
export function nativeModule(): Record<string, unknown> | undefined {
  if (loaded === undefined) {
    loaded = null;
    const file = builtPath(join('native', 'gram.node'));
    if (process.env.REGSWEEP_NATIVE !== '0' && existsSync(file)) {
      try {
        loaded = createRequire(import.meta.url)(file) as Record<string, unknown>;
      } catch {
        // Built for another Node or machine.
      }
    }
  }
  return loaded ?? undefined;
}

/** Below this a buffer spans too few 2 MB pages to be worth a system call. */
const ADVISED_BYTES = 4 << 20;

/**
 * Asks for transparent huge pages under a large buffer that is about to be written for the first time (a loaded data
 * set, a window of the CSV reader): its first writes then fault 2 MB at a time instead of 4 KB (docs/performance.md
 * has the costs measured). Nothing without the native module.
 */
export function adviseHugePages(view: ArrayBufferView): void {
  if (view.byteLength < ADVISED_BYTES) return;
  const advise = nativeModule()?.adviseHugePages as ((memory: Uint8Array, pages: number) => boolean) | undefined;
  advise?.(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), 0);
}
