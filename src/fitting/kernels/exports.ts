/** The exported functions of kernels.wat; pointers are byte offsets into its memory. */
export interface KernelExports {
  memory: WebAssembly.Memory;
  gram(c: number, m: number, x: number, K: number, means: number, n: number, ld: number, out: number): void;
  gramStaged(c: number, m: number, xs: number, K: number, n: number, out: number): void;
  axpy(y: number, x: number, a: number, keep: number, len: number): void;
  subtract(y: number, a: number, len: number): void;
  cdPass(
    list: number, count: number, beta: number, grad: number, variance: number, colOf: number,
    l1: number, l2: number, p: number, activeOnly: number, pending: number,
  ): number;
  dot(x: number, y: number, w: number, len: number): number;
  nextViolator(g: number, keep: number, from: number, p: number, l1: number): number;
  gather(dst: number, src: number, idx: number, count: number): void;
}

/**
 * Where cdPass finds its arrays (byte offsets into kernel memory) and what it is given: one coordinate-descent pass
 * over the `count` features of the i32 `list`, with gradients, β, variances and each feature's Gram column offset
 * (i32 `colOf`); with `activeOnly`, only the listed gradients are moved and the changes are left in `pending`.
 */
export interface CdPassLayout {
  list: number;
  count: number;
  beta: number;
  grad: number;
  variance: number;
  colOf: number;
  l1: number;
  l2: number;
  /** Length of the gradient vector an axpy moves. */
  p: number;
  activeOnly: 0 | 1;
  pending: number;
}

/** One cdPass; returns the largest weighted squared change. */
export function runCdPass(kernels: KernelExports, a: CdPassLayout): number {
  return kernels.cdPass(a.list, a.count, a.beta, a.grad, a.variance, a.colOf, a.l1, a.l2, a.p, a.activeOnly, a.pending);
}
