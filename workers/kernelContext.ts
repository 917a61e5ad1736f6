// Thread start: the kernels compiled (with fused multiply-adds where the engine takes them), the native kernels
// loaded where they were built, once per thread; every solver then gets a KernelContext instead of globals.
import { setFlagsFromString } from 'node:v8';
import { DEFAULT_LIMITS, type KernelContext, type KernelLimits } from '../src/fitting/context.js';
import { WasmHeap, type HeapSource } from '../src/fitting/kernels/heap.js';
import type { NativeKernels } from '../src/fitting/kernels/native.js';
import { KERNELS_FUSED_WASM_BASE64, KERNELS_PLAIN_WASM_BASE64 } from '../src/fitting/kernels/wasm/kernels.wasm.js';
import { nativeModule } from '../src/util/nativeModule.js';

const compiled = new Map<boolean, { module: WebAssembly.Module; fused: boolean }>();
/**
 * The kernels with fused multiply-adds when the engine accepts relaxed SIMD, else the plain-SIMD build. Node 20's
 * V8 has relaxed SIMD complete but behind a flag (Node 22 ships it on), so the flag is set first where needed.
 */
function kernelModule(fused: boolean): { module: WebAssembly.Module; fused: boolean } {
  const known = compiled.get(fused);
  if (known) return known;
  const fusedBinary = Buffer.from(KERNELS_FUSED_WASM_BASE64, 'base64');
  if (fused && !WebAssembly.validate(fusedBinary)) {
    try {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      // No such flag: the plain build below.
    }
  }
  const useFused = fused && WebAssembly.validate(fusedBinary);
  const module = new WebAssembly.Module(useFused ? fusedBinary : Buffer.from(KERNELS_PLAIN_WASM_BASE64, 'base64'));
  compiled.set(fused, { module, fused: useFused });
  return { module, fused: useFused };
}

/**
 * The native kernels (native/gram.c, built by `npm run build` when a C compiler is there). Undefined when they were
 * not built, when the CPU lacks AVX2 or FMA (the module then exports only its memory advice), or with REGSWEEP_NATIVE=0.
 */
export function nativeKernels(): NativeKernels | undefined {
  const loaded = nativeModule() as Partial<NativeKernels> | undefined;
  return loaded?.gramStaged && loaded.gatherCentered && loaded.cdPass && loaded.adviseHugePages ? (loaded as NativeKernels) : undefined;
}

/** What a heap is made from on this thread; `fused: false` and `native: false` force the plainer kernels (tests compare them). */
export function heapSource({ fused = true, native = true }: { fused?: boolean; native?: boolean } = {}): HeapSource {
  return { ...kernelModule(fused), native: native ? nativeKernels() : undefined };
}

/** A fresh heap and context; `limits` overrides the defaults (tests shrink them). */
export function createKernelContext(options: { fused?: boolean; native?: boolean; limits?: Partial<KernelLimits> } = {}): KernelContext {
  return { heap: new WasmHeap(heapSource(options)), limits: { ...DEFAULT_LIMITS, ...options.limits } };
}

let threadContext: KernelContext | undefined;
/** This thread's context, made on first use: the one heap its solvers share. */
export function threadKernelContext(): KernelContext {
  threadContext ??= createKernelContext();
  return threadContext;
}
