// Native versions of three hot kernels, for CPUs with AVX2 and FMA (N-API; built by scripts/build-native.mjs when a C
// compiler and Node's headers are there; without it, or on another CPU, the WebAssembly kernels run instead):
//   gramStaged      kernels.wat's Gram kernel with 256-bit vectors: four rows per instruction where WebAssembly SIMD
//                   has two;
//   gatherCentered  a fold's kept rows of a feature, centered, staged for it (a JavaScript loop before);
//   cdPass          kernels.wat's active-set pass, operation for operation (the same bits), its axpys 4 wide.
// And, on any CPU, adviseHugePages: transparent huge pages under the kernel memory and large data buffers.
// Arguments are byte offsets into the WebAssembly kernel memory, as for the WebAssembly kernels; each function checks
// them against the memory's length first (where the WebAssembly kernels would trap).
#include <node_api.h>
#include <stddef.h>
#include <sys/mman.h>
#include <stdint.h>
#include <immintrin.h>

// gramStaged's fixed distance between staged block columns (STAGED_STRIDE in kernels.wat), in doubles.
#define STRIDE 2056
// Rows per chunk, as in kernels.wat: a chunk of the four block columns stays in the L1 cache while partners go by.
#define CHUNK 512

// out[k·m + t] += Σ_{i<n} c_t[i] · x_k[i] for t < m (a multiple of 4), k < K (even), c_t at c + t·STRIDE, x_k at
// the byte offset xs[k], n even. Sums run over 512-row chunks in order; inside a chunk rows go to four lanes by
// i mod 4, added as (l0 + l1) + (l2 + l3) into out at the chunk's end. That order depends on the row index alone, so
// C_jk and C_kj (which column is c, which x) agree to the bit, as with the WebAssembly kernel.
//
// Each step takes W partners (3, else 2) against the four block columns: 4·W accumulators, and 4 + W loads for 4·W
// multiply-adds (7 for 12 with three partners, 6 for 8 with two). Twelve accumulators, three partner vectors and the
// block vector fill AVX2's 16 registers. How partners are grouped does not change any sum's order.
#define GRAM_STEP(W)                                                                                                   \
  do {                                                                                                                 \
    const double *x[W];                                                                                                \
    for (int w = 0; w < W; w++) x[w] = (const double *)(mem + (uint32_t)list[k + w]);                                  \
    __m256d a[4][W];                                                                                                   \
    for (int q = 0; q < 4; q++)                                                                                        \
      for (int w = 0; w < W; w++) a[q][w] = zero;                                                                      \
    size_t i = r0;                                                                                                     \
    for (; i < end4; i += 4) {                                                                                         \
      __m256d v[W];                                                                                                    \
      for (int w = 0; w < W; w++) v[w] = _mm256_loadu_pd(x[w] + i);                                                    \
      for (int q = 0; q < 4; q++) {                                                                                    \
        /* Each block vector loaded once into a register (the compiler would fold it into every multiply-add). */      \
        __m256d ct = _mm256_loadu_pd(c0 + q * STRIDE + i);                                                             \
        __asm__("" : "+x"(ct));                                                                                        \
        for (int w = 0; w < W; w++) a[q][w] = _mm256_fmadd_pd(ct, v[w], a[q][w]);                                      \
      }                                                                                                                \
    }                                                                                                                  \
    if (i < r1) {                                                                                                      \
      /* Two rows left (n is even): lanes 0 and 1 only, the others multiply zeros. */                                  \
      __m256d v[W];                                                                                                    \
      for (int w = 0; w < W; w++) v[w] = _mm256_maskload_pd(x[w] + i, two);                                            \
      for (int q = 0; q < 4; q++) {                                                                                    \
        const __m256d ct = _mm256_maskload_pd(c0 + q * STRIDE + i, two);                                               \
        for (int w = 0; w < W; w++) a[q][w] = _mm256_fmadd_pd(ct, v[w], a[q][w]);                                      \
      }                                                                                                                \
    }                                                                                                                  \
    for (int w = 0; w < W; w++)                                                                                        \
      for (int q = 0; q < 4; q++) {                                                                                    \
        double l[4];                                                                                                   \
        _mm256_storeu_pd(l, a[q][w]);                                                                                  \
        o[(k + w) * m + t + q] += (l[0] + l[1]) + (l[2] + l[3]);                                                       \
      }                                                                                                                \
    k += W;                                                                                                            \
  } while (0)

__attribute__((target("avx2,fma"))) static void gram_staged(uint8_t *mem, size_t c, size_t m, size_t xs, size_t K, size_t n, size_t out) {
  const int32_t *list = (const int32_t *)(mem + xs);
  double *o = (double *)(mem + out);
  const __m256d zero = _mm256_setzero_pd();
  const __m256i two = _mm256_setr_epi64x(-1, -1, 0, 0);
  for (size_t r0 = 0; r0 < n; r0 += CHUNK) {
    const size_t r1 = r0 + CHUNK < n ? r0 + CHUNK : n;
    const size_t end4 = r0 + ((r1 - r0) & ~(size_t)3);
    for (size_t t = 0; t < m; t += 4) {
      const double *c0 = (const double *)(mem + c) + t * STRIDE;
      size_t k = 0;
      // K is even: threes while more than four are left (or exactly three), then twos.
      while (K - k >= 3 && K - k != 4) GRAM_STEP(3);
      while (k < K) GRAM_STEP(2);
    }
  }
}

// The call's arguments, exactly `count` of them; false, with a TypeError giving `usage`, otherwise.
static int arguments(napi_env env, napi_callback_info info, size_t count, napi_value *argv, const char *usage) {
  size_t argc = count;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == count) return 1;
  napi_throw_type_error(env, NULL, usage);
  return 0;
}

// The data and length (in elements) of a typed array of the given type; false, with a TypeError giving `usage`,
// otherwise.
static int typed(napi_env env, napi_value value, napi_typedarray_type type, void **data, size_t *length, const char *usage) {
  napi_typedarray_type actual;
  if (napi_get_typedarray_info(env, value, &actual, length, data, NULL, NULL) == napi_ok && actual == type) return 1;
  napi_throw_type_error(env, NULL, usage);
  return 0;
}

// `count` numbers from argv into out; the first `offsets` of them are byte offsets or counts and must be whole
// numbers from 0 to 2^32 − 1 (so that converting them to size_t is exact). False, with an error thrown, otherwise.
static int numbers(napi_env env, const napi_value *argv, size_t count, size_t offsets, double *out, const char *usage) {
  for (size_t k = 0; k < count; k++) {
    if (napi_get_value_double(env, argv[k], &out[k]) != napi_ok) {
      napi_throw_type_error(env, NULL, usage);
      return 0;
    }
    if (k < offsets && !(out[k] >= 0 && out[k] <= 4294967295.0 && out[k] == (double)(uint64_t)out[k])) {
      napi_throw_range_error(env, NULL, usage);
      return 0;
    }
  }
  return 1;
}

static napi_value gram_staged_js(napi_env env, napi_callback_info info) {
  const char *usage = "gramStaged(memory: Uint8Array, c, m, xs, K, n, out: byte offsets and counts)";
  napi_value argv[7];
  void *data;
  size_t length;
  double a[6];
  if (!arguments(env, info, 7, argv, usage) || !typed(env, argv[0], napi_uint8_array, &data, &length, usage) ||
      !numbers(env, argv + 1, 6, 6, a, usage))
    return NULL;
  // Every address the kernel will touch inside the memory (the WebAssembly kernel would trap; this one must not
  // read or write past it).
  const size_t c = a[0], m = a[1], xs = a[2], K = a[3], n = a[4], out = a[5];
  int inside = m % 4 == 0 && K % 2 == 0 && n % 2 == 0 && (m == 0 || c + ((m - 1) * STRIDE + n) * 8 <= length) &&
               xs + K * 4 <= length && out + K * m * 8 <= length;
  for (size_t k = 0; inside && k < K; k++) inside = (uint32_t)((const int32_t *)((uint8_t *)data + xs))[k] + n * 8 <= length;
  if (!inside) {
    napi_throw_range_error(env, NULL, "gramStaged: an offset or count outside the kernel memory");
    return NULL;
  }
  gram_staged((uint8_t *)data, c, m, xs, K, n, out);
  return NULL;
}

// out[i] = X[from + rows[r0 + i]] − mean for i < count: a feature's kept rows, centered, staged for the Gram kernel
// (LazyGram.stageCentered when the rows of a fold are not all kept). The same subtraction as the WebAssembly path's,
// so the same bits; a third of a large sweep's worker time was this gather in JavaScript.
static napi_value gather_centered_js(napi_env env, napi_callback_info info) {
  const char *usage = "gatherCentered(X: Float64Array, rows: Int32Array, memory: Uint8Array, from, r0, count, at, mean)";
  napi_value argv[8];
  void *xd, *rd, *md;
  size_t xn, rn, mn;
  double a[5];
  if (!arguments(env, info, 8, argv, usage) || !typed(env, argv[0], napi_float64_array, &xd, &xn, usage) ||
      !typed(env, argv[1], napi_int32_array, &rd, &rn, usage) || !typed(env, argv[2], napi_uint8_array, &md, &mn, usage) ||
      !numbers(env, argv + 3, 5, 4, a, usage))
    return NULL;
  const size_t from = (size_t)a[0], r0 = (size_t)a[1], count = (size_t)a[2], at = (size_t)a[3];
  const double mean = a[4];
  if (r0 + count > rn || at + count * 8 > mn) {
    napi_throw_range_error(env, NULL, "gatherCentered: an offset or count outside its array");
    return NULL;
  }
  const double *x = (const double *)xd + from;
  const int32_t *rows = (const int32_t *)rd + r0;
  double *out = (double *)((uint8_t *)md + at);
  for (size_t i = 0; i < count; i++) {
    if (rows[i] < 0 || from + (size_t)rows[i] >= xn) {
      napi_throw_range_error(env, NULL, "gatherCentered: a row outside X");
      return NULL;
    }
    out[i] = x[rows[i]] - mean;
  }
  return NULL;
}

// y[k] −= a · x[k] for k < len, each entry as kernels.wat's axpy makes it: one fused multiply-add (relaxed_nmadd is
// vfnmadd on a CPU with FMA), but an odd last entry, which the .wat multiplies and subtracts separately (this file
// is compiled with -ffp-contract=off, so a * b - c stays two roundings where it is written so).
__attribute__((target("avx2,fma"))) static void axpy(double *y, const double *x, double a, size_t len) {
  const __m256d av = _mm256_set1_pd(a);
  const size_t end4 = len & ~(size_t)3;
  for (size_t k = 0; k < end4; k += 4) _mm256_storeu_pd(y + k, _mm256_fnmadd_pd(av, _mm256_loadu_pd(x + k), _mm256_loadu_pd(y + k)));
  if (len & 2) _mm_storeu_pd(y + end4, _mm_fnmadd_pd(_mm256_castpd256_pd128(av), _mm_loadu_pd(x + end4), _mm_loadu_pd(y + end4)));
  if (len & 1) y[len - 1] = y[len - 1] - a * x[len - 1];
}

// kernels.wat's cdPass (one coordinate-descent pass over the active set of the covariance-mode solver), operation for
// operation, so that its results are the same to the bit: for each j = list[a], a < count,
//   β_new = S(g_j + v_j β_j, l1) / (v_j + l2); if it differs from β_j, d = β_new − β_j and every gradient g_k −= d·C_jk
//   (C_j at byte offset colOf[j]), or with activeOnly those of the active set only, d then added to pending[j].
// Returns max v_j d² (NaN if anything became NaN, as f64.max does).
__attribute__((target("avx2,fma"))) static double cd_pass(uint8_t *mem, const int32_t *list, size_t count, double *beta,
                                                           double *grad, const double *variance, const int32_t *colOf,
                                                           double l1, double l2, size_t p, int activeOnly, double *pending) {
  double change = 0;
  for (size_t a = 0; a < count; a++) {
    const int32_t j = list[a];
    const double bj = beta[j], vj = variance[j];
    const double z = grad[j] + vj * bj;
    const double bNew = (z > l1 ? z - l1 : z < -l1 ? z + l1 : 0.0) / (vj + l2);
    if (bNew == bj) continue;
    const double d = bNew - bj;
    beta[j] = bNew;
    const double *col = (const double *)(mem + (uint32_t)colOf[j]);
    if (activeOnly) {
      for (size_t b = 0; b < count; b++) {
        const int32_t k = list[b];
        grad[k] = grad[k] - d * col[k];
      }
      pending[j] = pending[j] + d;
    } else axpy(grad, col, d, p);
    const double v = vj * (d * d);
    if (v != v || change != change) change = v != v ? v : change;
    else if (v > change) change = v;
  }
  return change;
}

static napi_value cd_pass_js(napi_env env, napi_callback_info info) {
  const char *usage = "cdPass(memory: Uint8Array, list, count, beta, grad, variance, colOf, l1, l2, p, activeOnly, pending: byte offsets and counts but l1, l2)";
  napi_value argv[12];
  void *data;
  size_t length;
  double a[11];
  // The offsets and counts are arguments 1–6 and 9–11; l1 and l2 (7, 8) are weights.
  if (!arguments(env, info, 12, argv, usage) || !typed(env, argv[0], napi_uint8_array, &data, &length, usage) ||
      !numbers(env, argv + 1, 6, 6, a, usage) || !numbers(env, argv + 7, 2, 0, a + 6, usage) ||
      !numbers(env, argv + 9, 3, 3, a + 8, usage))
    return NULL;
  uint8_t *mem = data;
  const size_t list = (size_t)a[0], count = (size_t)a[1], beta = (size_t)a[2], grad = (size_t)a[3], variance = (size_t)a[4];
  const size_t colOf = (size_t)a[5], p = (size_t)a[8], pending = (size_t)a[10];
  const int activeOnly = a[9] != 0;
  // Every address the pass can touch inside the memory: the arrays of p, the list and, for each listed feature, its
  // column (the WebAssembly kernel would trap; this one must not read or write past the memory).
  int inside = list + count * 4 <= length && beta + p * 8 <= length && grad + p * 8 <= length &&
               variance + p * 8 <= length && colOf + p * 4 <= length && (!activeOnly || pending + p * 8 <= length);
  for (size_t q = 0; inside && q < count; q++) {
    const int32_t j = ((const int32_t *)(mem + list))[q];
    inside = j >= 0 && (size_t)j < p && (uint32_t)((const int32_t *)(mem + colOf))[j] + p * 8 <= length;
  }
  if (!inside) {
    napi_throw_range_error(env, NULL, "cdPass: an offset or count outside the kernel memory");
    return NULL;
  }
  napi_value out;
  napi_create_double(env, cd_pass(mem, (const int32_t *)(mem + list), count, (double *)(mem + beta), (double *)(mem + grad), (const double *)(mem + variance),
                                  (const int32_t *)(mem + colOf), a[6], a[7], p, activeOnly, (double *)(mem + pending)), &out);
  return out;
}

// Transparent huge pages (madvise) for the 2 MB-aligned part of a typed array's bytes, or of the first `pages`
// WebAssembly pages (64 KB) from its start when that is more: the kernel memory is reserved up to its maximum as
// address space, so its pages not yet made accessible are marked too. A first write then faults 2 MB at a time
// instead of 4 KB, far fewer faults where each is dear (a VM). True when the kernel took the advice.
#define HUGE_PAGE ((uintptr_t)2 << 20)
static napi_value advise_huge_pages_js(napi_env env, napi_callback_info info) {
  const char *usage = "adviseHugePages(memory: Uint8Array, pages: 64 KB pages)";
  napi_value argv[2];
  void *data;
  size_t length;
  double a[1];
  if (!arguments(env, info, 2, argv, usage) || !typed(env, argv[0], napi_uint8_array, &data, &length, usage) || !numbers(env, argv + 1, 1, 1, a, usage))
    return NULL;
  const uintptr_t start = ((uintptr_t)data + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
  const size_t bytes = (size_t)a[0] * 65536 > length ? (size_t)a[0] * 65536 : length;
  const uintptr_t end = ((uintptr_t)data + bytes) & ~(HUGE_PAGE - 1);
  napi_value out;
  napi_get_boolean(env, end > start && madvise((void *)start, end - start, MADV_HUGEPAGE) == 0, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  // Memory advice is plain C: on every CPU.
  napi_create_function(env, "adviseHugePages", NAPI_AUTO_LENGTH, advise_huge_pages_js, NULL, &fn);
  napi_set_named_property(env, exports, "adviseHugePages", fn);
  // The kernels only where the CPU runs AVX2 and FMA: elsewhere the WebAssembly kernels are used.
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return exports;
  napi_create_function(env, "gramStaged", NAPI_AUTO_LENGTH, gram_staged_js, NULL, &fn);
  napi_set_named_property(env, exports, "gramStaged", fn);
  napi_create_function(env, "gatherCentered", NAPI_AUTO_LENGTH, gather_centered_js, NULL, &fn);
  napi_set_named_property(env, exports, "gatherCentered", fn);
  napi_create_function(env, "cdPass", NAPI_AUTO_LENGTH, cd_pass_js, NULL, &fn);
  napi_set_named_property(env, exports, "cdPass", fn);
  return exports;
}
