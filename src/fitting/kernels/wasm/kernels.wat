;; Hand-written SIMD kernels (f64x2: two rows or two features per instruction) for coordinate descent in covariance
;; and naive mode, the network's layers and path predictions. Compiled to kernels.wasm.ts by `npm run build:wasm`; tests check that the two agree.
;; Every pointer is a byte offset into the module's memory (imported and shared, see ../heap.ts); the caller copies data in and out.
;; Multiply-adds are written as relaxed SIMD's f64x2.relaxed_madd / relaxed_nmadd, one fused instruction where the
;; CPU has FMA; the build also emits a plain-SIMD binary with each rewritten as a multiply and an add/subtract, for
;; engines without relaxed SIMD.
(module
  ;; Imported, and shared: a helper thread (workers/gramHelper.ts) may run a kernel on the same memory.
  (import "env" "memory" (memory 1 65536 shared))
  (export "memory" (memory 0))

  ;; Rows per chunk (512): a chunk of the columns a call multiplies stays in the L2 cache while the tiles run over it.
  (global $CHUNK_BYTES i32 (i32.const 4096))
  ;; gramStaged's distance between columns: 2056 doubles (2048 rows and 64 bytes more, so that the columns do not
  ;; all fall on the same cache sets); gramShare.ts exports it in doubles for the callers.
  (global $STAGED_STRIDE i32 (i32.const 16448))

  ;; The general matrix product (the network's layers, path predictions):
  ;; out[k·m + t] += Σ_i c_t[i] · (x_k[i] − mean_k) for t < m (a multiple of 4) and k < K (a multiple of 2).
  ;; c_t starts at c + t·ld·8, x_k at x + k·ld·8 (ld ≥ n: a leading dimension a little over a power of two keeps
  ;; the columns off the same cache sets), mean_k at means + k·8. The sum runs over row chunks in order and,
  ;; inside a chunk, over even and odd rows in two lanes added at the end: the same order whichever column plays
  ;; c and which plays x, so a symmetric product comes out symmetric to the bit. Callers that split the rows into
  ;; several calls keep that property as long as every call but the last has an even count.
  (func (export "gram") (param $c i32) (param $m i32) (param $x i32) (param $K i32) (param $means i32) (param $n i32) (param $ld i32) (param $out i32)
    (local $stride i32) (local $evenEnd i32) (local $r0 i32) (local $r1 i32) (local $k i32) (local $t i32)
    (local $x0 i32) (local $o i32) (local $i i32) (local $last f64)
    (local.set $stride (i32.shl (local.get $ld) (i32.const 3)))
    (local.set $evenEnd (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3)))
    (local.set $r0 (i32.const 0))
    (block $chunksDone
      (loop $chunks
        (br_if $chunksDone (i32.ge_u (local.get $r0) (local.get $evenEnd)))
        (local.set $r1 (i32.add (local.get $r0) (global.get $CHUNK_BYTES)))
        (if (i32.gt_u (local.get $r1) (local.get $evenEnd)) (then (local.set $r1 (local.get $evenEnd))))
        (local.set $k (i32.const 0))
        (loop $pairs
          (local.set $x0 (i32.add (local.get $x) (i32.mul (local.get $k) (local.get $stride))))
          (local.set $t (i32.const 0))
          (loop $quads
            (call $tile
              (i32.add (local.get $c) (i32.mul (local.get $t) (local.get $stride)))
              (local.get $stride)
              (local.get $x0)
              (f64x2.splat (f64.load (i32.add (local.get $means) (i32.shl (local.get $k) (i32.const 3)))))
              (f64x2.splat (f64.load offset=8 (i32.add (local.get $means) (i32.shl (local.get $k) (i32.const 3)))))
              (local.get $r0) (local.get $r1)
              (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $m)) (local.get $t)) (i32.const 3)))
              (i32.shl (local.get $m) (i32.const 3)))
            (local.set $t (i32.add (local.get $t) (i32.const 4)))
            (br_if $quads (i32.lt_u (local.get $t) (local.get $m))))
          (local.set $k (i32.add (local.get $k) (i32.const 2)))
          (br_if $pairs (i32.lt_u (local.get $k) (local.get $K))))
        (local.set $r0 (local.get $r1))
        (br $chunks)))
    ;; An odd row count leaves the last row, added after the chunks.
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $k (i32.const 0))
        (loop $ks
          (local.set $last
            (f64.sub
              (f64.load (i32.add (i32.add (local.get $x) (i32.mul (local.get $k) (local.get $stride))) (local.get $evenEnd)))
              (f64.load (i32.add (local.get $means) (i32.shl (local.get $k) (i32.const 3))))))
          (local.set $t (i32.const 0))
          (loop $ts
            (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $m)) (local.get $t)) (i32.const 3))))
            (f64.store (local.get $o)
              (f64.add (f64.load (local.get $o))
                (f64.mul
                  (f64.load (i32.add (i32.add (local.get $c) (i32.mul (local.get $t) (local.get $stride))) (local.get $evenEnd)))
                  (local.get $last))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br_if $ts (i32.lt_u (local.get $t) (local.get $m))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $ks (i32.lt_u (local.get $k) (local.get $K)))))))

  ;; Four c columns (c, c+stride, …) against two x columns (x0, x0+stride) over the byte range [r0, r1) of rows;
  ;; the eight chunk sums are added to out[0..3] (x0) and out[outStride..+3] (x1).
  (func $tile (param $c i32) (param $stride i32) (param $x0 i32) (param $mv0 v128) (param $mv1 v128)
              (param $r0 i32) (param $r1 i32) (param $out i32) (param $outStride i32)
    (local $i i32) (local $x1 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local $v0 v128) (local $v1 v128) (local $ct v128) (local $o1 i32)
    (local.set $x1 (i32.add (local.get $x0) (local.get $stride)))
    (local.set $c1 (i32.add (local.get $c) (local.get $stride)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $stride)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $stride)))
    (local.set $i (local.get $r0))
    (loop $rows
      (local.set $v0 (f64x2.sub (v128.load (i32.add (local.get $x0) (local.get $i))) (local.get $mv0)))
      (local.set $v1 (f64x2.sub (v128.load (i32.add (local.get $x1) (local.get $i))) (local.get $mv1)))
      (local.set $ct (v128.load (i32.add (local.get $c) (local.get $i))))
      (local.set $a00 (f64x2.relaxed_madd (local.get $ct) (local.get $v0) (local.get $a00)))
      (local.set $a01 (f64x2.relaxed_madd (local.get $ct) (local.get $v1) (local.get $a01)))
      (local.set $ct (v128.load (i32.add (local.get $c1) (local.get $i))))
      (local.set $a10 (f64x2.relaxed_madd (local.get $ct) (local.get $v0) (local.get $a10)))
      (local.set $a11 (f64x2.relaxed_madd (local.get $ct) (local.get $v1) (local.get $a11)))
      (local.set $ct (v128.load (i32.add (local.get $c2) (local.get $i))))
      (local.set $a20 (f64x2.relaxed_madd (local.get $ct) (local.get $v0) (local.get $a20)))
      (local.set $a21 (f64x2.relaxed_madd (local.get $ct) (local.get $v1) (local.get $a21)))
      (local.set $ct (v128.load (i32.add (local.get $c3) (local.get $i))))
      (local.set $a30 (f64x2.relaxed_madd (local.get $ct) (local.get $v0) (local.get $a30)))
      (local.set $a31 (f64x2.relaxed_madd (local.get $ct) (local.get $v1) (local.get $a31)))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br_if $rows (i32.lt_u (local.get $i) (local.get $r1))))
    (local.set $o1 (i32.add (local.get $out) (local.get $outStride)))
    ;; Lane sums added to out, written inline: a call here makes V8 spill the accumulators inside the loop.
    (f64.store (local.get $out) (f64.add (f64.load (local.get $out)) (f64.add (f64x2.extract_lane 0 (local.get $a00)) (f64x2.extract_lane 1 (local.get $a00)))))
    (f64.store offset=8 (local.get $out) (f64.add (f64.load offset=8 (local.get $out)) (f64.add (f64x2.extract_lane 0 (local.get $a10)) (f64x2.extract_lane 1 (local.get $a10)))))
    (f64.store offset=16 (local.get $out) (f64.add (f64.load offset=16 (local.get $out)) (f64.add (f64x2.extract_lane 0 (local.get $a20)) (f64x2.extract_lane 1 (local.get $a20)))))
    (f64.store offset=24 (local.get $out) (f64.add (f64.load offset=24 (local.get $out)) (f64.add (f64x2.extract_lane 0 (local.get $a30)) (f64x2.extract_lane 1 (local.get $a30)))))
    (f64.store (local.get $o1) (f64.add (f64.load (local.get $o1)) (f64.add (f64x2.extract_lane 0 (local.get $a01)) (f64x2.extract_lane 1 (local.get $a01)))))
    (f64.store offset=8 (local.get $o1) (f64.add (f64.load offset=8 (local.get $o1)) (f64.add (f64x2.extract_lane 0 (local.get $a11)) (f64x2.extract_lane 1 (local.get $a11)))))
    (f64.store offset=16 (local.get $o1) (f64.add (f64.load offset=16 (local.get $o1)) (f64.add (f64x2.extract_lane 0 (local.get $a21)) (f64x2.extract_lane 1 (local.get $a21)))))
    (f64.store offset=24 (local.get $o1) (f64.add (f64.load offset=24 (local.get $o1)) (f64.add (f64x2.extract_lane 0 (local.get $a31)) (f64x2.extract_lane 1 (local.get $a31))))))

;; The Gram kernel for block columns staged by the caller at a fixed distance of STAGED_STRIDE bytes (2056
  ;; doubles, so up to 2048 rows each) and partner columns anywhere, already centered: out[k·m + t] += Σ_{i<n} c_t[i] ·
  ;; x_k[i] for t < m (a multiple of 4) and k < K (even), x_k at the byte offset xs[k] (an i32 array), n even (callers
  ;; pad an odd count with a zero row). The fixed distance lets the four c loads of the inner loop address their
  ;; columns by constant offsets from one pointer, and with no subtraction left the loop is six loads and eight
  ;; multiply-adds. Each group of four c columns (16 KB of a
  ;; chunk) stays in the L1 cache while the x pairs go by. Sums run over 512-row chunks in order, even and odd rows
  ;; in two lanes: the same order whichever column is c and which is x, so C_jk and C_kj agree to the bit.
  (func (export "gramStaged") (param $c i32) (param $m i32) (param $xs i32) (param $K i32) (param $n i32) (param $out i32)
    (local $end i32) (local $r0 i32) (local $r1 i32) (local $k i32) (local $t i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 3)))
    (block $chunksDone
      (loop $chunks
        (br_if $chunksDone (i32.ge_u (local.get $r0) (local.get $end)))
        (local.set $r1 (i32.add (local.get $r0) (global.get $CHUNK_BYTES)))
        (if (i32.gt_u (local.get $r1) (local.get $end)) (then (local.set $r1 (local.get $end))))
        (local.set $t (i32.const 0))
        (loop $quads
          (local.set $k (i32.const 0))
          (loop $pairs
            (call $stagedTile
              (i32.add (local.get $c) (i32.mul (local.get $t) (global.get $STAGED_STRIDE)))
              (i32.load (i32.add (local.get $xs) (i32.shl (local.get $k) (i32.const 2))))
              (i32.load offset=4 (i32.add (local.get $xs) (i32.shl (local.get $k) (i32.const 2))))
              (local.get $r0) (local.get $r1)
              (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $m)) (local.get $t)) (i32.const 3)))
              (i32.shl (local.get $m) (i32.const 3)))
            (local.set $k (i32.add (local.get $k) (i32.const 2)))
            (br_if $pairs (i32.lt_u (local.get $k) (local.get $K))))
          (local.set $t (i32.add (local.get $t) (i32.const 4)))
          (br_if $quads (i32.lt_u (local.get $t) (local.get $m))))
        (local.set $r0 (local.get $r1))
        (br $chunks))))

  ;; gramStaged's 4 × 2 tile over the byte range [r0, r1) of rows (c offsets 16448 = STAGED_STRIDE, and its multiples).
  (func $stagedTile (param $c i32) (param $x0 i32) (param $x1 i32) (param $r0 i32) (param $r1 i32) (param $out i32) (param $outStride i32)
    (local $end i32) (local $pc i32) (local $p0 i32) (local $p1 i32) (local $v0 v128) (local $v1 v128) (local $ct v128) (local $o1 i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    ;; Three moving pointers and an end: few integer registers live in the loop, so none spills.
    (local.set $pc (i32.add (local.get $c) (local.get $r0)))
    (local.set $p0 (i32.add (local.get $x0) (local.get $r0)))
    (local.set $p1 (i32.add (local.get $x1) (local.get $r0)))
    (local.set $end (i32.add (local.get $c) (local.get $r1)))
    (loop $rows
      (local.set $v0 (v128.load (local.get $p0)))
      (local.set $v1 (v128.load (local.get $p1)))
      (local.set $ct (v128.load (local.get $pc)))
      (local.set $a00 (f64x2.relaxed_madd (local.get $ct) (local.get $v0) (local.get $a00)))
      (local.set $a01 (f64x2.relaxed_madd (local.get $ct) (local.get $v1) (local.get $a01)))
      (local.set $ct (v128.load offset=16448 (local.get $pc)))
      (local.set $a10 (f64x2.relaxed_madd (local.get $ct) (local.get $v0) (local.get $a10)))
      (local.set $a11 (f64x2.relaxed_madd (local.get $ct) (local.get $v1) (local.get $a11)))
      (local.set $ct (v128.load offset=32896 (local.get $pc)))
      (local.set $a20 (f64x2.relaxed_madd (local.get $ct) (local.get $v0) (local.get $a20)))
      (local.set $a21 (f64x2.relaxed_madd (local.get $ct) (local.get $v1) (local.get $a21)))
      (local.set $ct (v128.load offset=49344 (local.get $pc)))
      (local.set $a30 (f64x2.relaxed_madd (local.get $ct) (local.get $v0) (local.get $a30)))
      (local.set $a31 (f64x2.relaxed_madd (local.get $ct) (local.get $v1) (local.get $a31)))
      (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
      (local.set $p0 (i32.add (local.get $p0) (i32.const 16)))
      (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
      (br_if $rows (i32.lt_u (local.get $pc) (local.get $end))))
    (local.set $o1 (i32.add (local.get $out) (local.get $outStride)))
    ;; Lane sums added to out, written inline: a call here makes V8 spill the accumulators inside the loop.
    (f64.store (local.get $out) (f64.add (f64.load (local.get $out)) (f64.add (f64x2.extract_lane 0 (local.get $a00)) (f64x2.extract_lane 1 (local.get $a00)))))
    (f64.store offset=8 (local.get $out) (f64.add (f64.load offset=8 (local.get $out)) (f64.add (f64x2.extract_lane 0 (local.get $a10)) (f64x2.extract_lane 1 (local.get $a10)))))
    (f64.store offset=16 (local.get $out) (f64.add (f64.load offset=16 (local.get $out)) (f64.add (f64x2.extract_lane 0 (local.get $a20)) (f64x2.extract_lane 1 (local.get $a20)))))
    (f64.store offset=24 (local.get $out) (f64.add (f64.load offset=24 (local.get $out)) (f64.add (f64x2.extract_lane 0 (local.get $a30)) (f64x2.extract_lane 1 (local.get $a30)))))
    (f64.store (local.get $o1) (f64.add (f64.load (local.get $o1)) (f64.add (f64x2.extract_lane 0 (local.get $a01)) (f64x2.extract_lane 1 (local.get $a01)))))
    (f64.store offset=8 (local.get $o1) (f64.add (f64.load offset=8 (local.get $o1)) (f64.add (f64x2.extract_lane 0 (local.get $a11)) (f64x2.extract_lane 1 (local.get $a11)))))
    (f64.store offset=16 (local.get $o1) (f64.add (f64.load offset=16 (local.get $o1)) (f64.add (f64x2.extract_lane 0 (local.get $a21)) (f64x2.extract_lane 1 (local.get $a21)))))
    (f64.store offset=24 (local.get $o1) (f64.add (f64.load offset=24 (local.get $o1)) (f64.add (f64x2.extract_lane 0 (local.get $a31)) (f64x2.extract_lane 1 (local.get $a31))))))

  ;; y[k] −= a for k < len (centering a staged column in place).
  (func (export "subtract") (param $y i32) (param $a f64) (param $len i32)
    (local $i i32) (local $end i32) (local $av v128)
    (local.set $av (f64x2.splat (local.get $a)))
    (local.set $end (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3)))
    (if (local.get $end)
      (then
        (loop $pairs
          (v128.store (i32.add (local.get $y) (local.get $i))
            (f64x2.sub (v128.load (i32.add (local.get $y) (local.get $i))) (local.get $av)))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br_if $pairs (i32.lt_u (local.get $i) (local.get $end))))))
    (if (i32.and (local.get $len) (i32.const 1))
      (then
        (f64.store (i32.add (local.get $y) (local.get $end))
          (f64.sub (f64.load (i32.add (local.get $y) (local.get $end))) (local.get $a))))))

  ;; One coordinate-descent pass over the active set of the covariance-mode solver (gaussian.ts), so that a pass costs
  ;; no call out of the kernel per coordinate. For each j = list[a], a < count (i32 indices):
  ;;   β_new = S(g_j + v_j β_j, l1) / (v_j + l2), S the soft threshold; if it differs from β_j, d = β_new − β_j and
  ;;   every gradient g_k −= d · C_jk, C_j the Gram column at byte offset colOf[j] (i32), or with activeOnly only
  ;;   the gradients of the active set, the change then added to pending[j] for the caller to apply to the rest.
  ;; Returns max v_j d² (NaN if anything became NaN), glmnet's convergence measure.
  (func (export "cdPass") (param $list i32) (param $count i32) (param $beta i32) (param $grad i32) (param $variance i32)
                          (param $colOf i32) (param $l1 f64) (param $l2 f64) (param $p i32) (param $activeOnly i32)
                          (param $pending i32) (result f64)
    (local $a i32) (local $b i32) (local $j i32) (local $k i32) (local $col i32) (local $at i32)
    (local $bj f64) (local $vj f64) (local $z f64) (local $bNew f64) (local $d f64) (local $change f64)
    (if (i32.eqz (local.get $count)) (then (return (f64.const 0))))
    (loop $coordinates
      (local.set $j (i32.load (i32.add (local.get $list) (i32.shl (local.get $a) (i32.const 2)))))
      (local.set $at (i32.shl (local.get $j) (i32.const 3)))
      (local.set $bj (f64.load (i32.add (local.get $beta) (local.get $at))))
      (local.set $vj (f64.load (i32.add (local.get $variance) (local.get $at))))
      (local.set $z (f64.add (f64.load (i32.add (local.get $grad) (local.get $at))) (f64.mul (local.get $vj) (local.get $bj))))
      (local.set $bNew
        (f64.div
          (if (result f64) (f64.gt (local.get $z) (local.get $l1))
            (then (f64.sub (local.get $z) (local.get $l1)))
            (else (if (result f64) (f64.lt (local.get $z) (f64.neg (local.get $l1)))
              (then (f64.add (local.get $z) (local.get $l1)))
              (else (f64.const 0)))))
          (f64.add (local.get $vj) (local.get $l2))))
      (if (f64.ne (local.get $bNew) (local.get $bj))
        (then
          (local.set $d (f64.sub (local.get $bNew) (local.get $bj)))
          (f64.store (i32.add (local.get $beta) (local.get $at)) (local.get $bNew))
          (local.set $col (i32.load (i32.add (local.get $colOf) (i32.shl (local.get $j) (i32.const 2)))))
          (if (local.get $activeOnly)
            (then
              (local.set $b (i32.const 0))
              (loop $gather
                (local.set $k (i32.shl (i32.load (i32.add (local.get $list) (i32.shl (local.get $b) (i32.const 2)))) (i32.const 3)))
                (f64.store (i32.add (local.get $grad) (local.get $k))
                  (f64.sub (f64.load (i32.add (local.get $grad) (local.get $k)))
                    (f64.mul (local.get $d) (f64.load (i32.add (local.get $col) (local.get $k))))))
                (local.set $b (i32.add (local.get $b) (i32.const 1)))
                (br_if $gather (i32.lt_u (local.get $b) (local.get $count))))
              (f64.store (i32.add (local.get $pending) (local.get $at))
                (f64.add (f64.load (i32.add (local.get $pending) (local.get $at))) (local.get $d))))
            (else (call $axpy (local.get $grad) (local.get $col) (local.get $d) (i32.const 0) (local.get $p))))
          (local.set $change (f64.max (local.get $change) (f64.mul (local.get $vj) (f64.mul (local.get $d) (local.get $d)))))))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (br_if $coordinates (i32.lt_u (local.get $a) (local.get $count))))
    (local.get $change))

  ;; dst[r] = src[idx[r]] for r < count (f64 arrays, idx i32 element indices): rows of a Gram column or entries of a
  ;; per-feature array in active-list order, for the compact copy of the active set (gaussian.ts).
  (func (export "gather") (param $dst i32) (param $src i32) (param $idx i32) (param $count i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $idx) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $entries
        (br_if $done (i32.ge_u (local.get $idx) (local.get $end)))
        (f64.store (local.get $dst)
          (f64.load (i32.add (local.get $src) (i32.shl (i32.load (local.get $idx)) (i32.const 3)))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
        (local.set $idx (i32.add (local.get $idx) (i32.const 4)))
        (br $entries))))

  ;; The first j in [from, p) with keep[j] ≠ 0 and |g[j]| > l1 (g, keep: f64 arrays), or p: the next feature never active
  ;; that violates the KKT condition at β_j = 0 (gaussian.ts), found without a JavaScript loop over p.
  (func (export "nextViolator") (param $g i32) (param $keep i32) (param $from i32) (param $p i32) (param $l1 f64) (result i32)
    (local $j i32) (local $gj f64) (local $neg f64)
    (local.set $neg (f64.neg (local.get $l1)))
    (local.set $j (local.get $from))
    (block $done
      (loop $scan
        (br_if $done (i32.ge_u (local.get $j) (local.get $p)))
        (if (f64.ne (f64.load (i32.add (local.get $keep) (i32.shl (local.get $j) (i32.const 3)))) (f64.const 0))
          (then
            (local.set $gj (f64.load (i32.add (local.get $g) (i32.shl (local.get $j) (i32.const 3)))))
            (br_if $done (i32.or (f64.gt (local.get $gj) (local.get $l1)) (f64.lt (local.get $gj) (local.get $neg))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $scan)))
    (local.get $j))

  ;; y[k] −= a · x[k] for k < len; with a keep array (pointer ≠ 0) only where keep[k] is 1, not where it is 0.
  (func $axpy (export "axpy") (param $y i32) (param $x i32) (param $a f64) (param $keep i32) (param $len i32)
    (local $i i32) (local $end i32) (local $av v128) (local $py i32) (local $px i32) (local $end4 i32)
    (local.set $av (f64x2.splat (local.get $a)))
    (local.set $end (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3)))
    (if (i32.eqz (local.get $keep))
      (then
        ;; Four entries per step through two moving pointers and constant offsets: half the address arithmetic
        ;; of indexing both arrays (the gradient update is most of a coordinate-descent pass).
        (local.set $py (local.get $y))
        (local.set $px (local.get $x))
        (local.set $end4 (i32.add (local.get $y) (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 3))))
        (if (i32.lt_u (local.get $py) (local.get $end4))
          (then
            (loop $four
              (v128.store (local.get $py)
                (f64x2.relaxed_nmadd (local.get $av) (v128.load (local.get $px)) (v128.load (local.get $py))))
              (v128.store offset=16 (local.get $py)
                (f64x2.relaxed_nmadd (local.get $av) (v128.load offset=16 (local.get $px)) (v128.load offset=16 (local.get $py))))
              (local.set $py (i32.add (local.get $py) (i32.const 32)))
              (local.set $px (i32.add (local.get $px) (i32.const 32)))
              (br_if $four (i32.lt_u (local.get $py) (local.get $end4))))))
        (if (i32.and (local.get $len) (i32.const 2))
          (then
            (v128.store (local.get $py)
              (f64x2.relaxed_nmadd (local.get $av) (v128.load (local.get $px)) (v128.load (local.get $py))))))
        (if (i32.and (local.get $len) (i32.const 1))
          (then
            (f64.store (i32.add (local.get $y) (local.get $end))
              (f64.sub (f64.load (i32.add (local.get $y) (local.get $end)))
                (f64.mul (local.get $a) (f64.load (i32.add (local.get $x) (local.get $end))))))))
        (return)))
    ;; Weighted (a logistic fit's residual update, r −= v ∘ a x): four entries per step, then a pair; each entry the
    ;; same operations in the same order as one at a time.
    (local.set $end4 (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 3)))
    (if (local.get $end4)
      (then
        (loop $masked4
          (v128.store (i32.add (local.get $y) (local.get $i))
            (f64x2.sub (v128.load (i32.add (local.get $y) (local.get $i)))
              (f64x2.mul (v128.load (i32.add (local.get $keep) (local.get $i)))
                (f64x2.mul (local.get $av) (v128.load (i32.add (local.get $x) (local.get $i)))))))
          (v128.store offset=16 (i32.add (local.get $y) (local.get $i))
            (f64x2.sub (v128.load offset=16 (i32.add (local.get $y) (local.get $i)))
              (f64x2.mul (v128.load offset=16 (i32.add (local.get $keep) (local.get $i)))
                (f64x2.mul (local.get $av) (v128.load offset=16 (i32.add (local.get $x) (local.get $i)))))))
          (local.set $i (i32.add (local.get $i) (i32.const 32)))
          (br_if $masked4 (i32.lt_u (local.get $i) (local.get $end4))))))
    (if (i32.lt_u (local.get $i) (local.get $end))
      (then
        (v128.store (i32.add (local.get $y) (local.get $i))
          (f64x2.sub (v128.load (i32.add (local.get $y) (local.get $i)))
            (f64x2.mul (v128.load (i32.add (local.get $keep) (local.get $i)))
              (f64x2.mul (local.get $av) (v128.load (i32.add (local.get $x) (local.get $i)))))))))
    (if (i32.and (local.get $len) (i32.const 1))
      (then
        (f64.store (i32.add (local.get $y) (local.get $end))
          (f64.sub (f64.load (i32.add (local.get $y) (local.get $end)))
            (f64.mul (f64.load (i32.add (local.get $keep) (local.get $end)))
              (f64.mul (local.get $a) (f64.load (i32.add (local.get $x) (local.get $end))))))))))
  ;; Σ x[k]·y[k] for k < len, or Σ w[k]·x[k]·y[k] when w ≠ 0. The plain sum takes eight rows per step in four lane
  ;; pairs (four independent chains of multiply-adds: one chain waits on its last add), the weighted one four rows in
  ;; two; the pairs are added at the end.
  (func (export "dot") (param $x i32) (param $y i32) (param $w i32) (param $len i32) (result f64)
    (local $i i32) (local $end8 i32) (local $end4 i32) (local $end2 i32) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s f64)
    (local.set $end8 (i32.shl (i32.and (local.get $len) (i32.const -8)) (i32.const 3)))
    (local.set $end4 (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 3)))
    (local.set $end2 (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3)))
    (if (i32.eqz (local.get $w))
      (then
        (if (local.get $end8)
          (then
            (loop $plain8
              (local.set $a0 (f64x2.relaxed_madd
                (v128.load (i32.add (local.get $x) (local.get $i))) (v128.load (i32.add (local.get $y) (local.get $i))) (local.get $a0)))
              (local.set $a1 (f64x2.relaxed_madd
                (v128.load offset=16 (i32.add (local.get $x) (local.get $i))) (v128.load offset=16 (i32.add (local.get $y) (local.get $i))) (local.get $a1)))
              (local.set $a2 (f64x2.relaxed_madd
                (v128.load offset=32 (i32.add (local.get $x) (local.get $i))) (v128.load offset=32 (i32.add (local.get $y) (local.get $i))) (local.get $a2)))
              (local.set $a3 (f64x2.relaxed_madd
                (v128.load offset=48 (i32.add (local.get $x) (local.get $i))) (v128.load offset=48 (i32.add (local.get $y) (local.get $i))) (local.get $a3)))
              (local.set $i (i32.add (local.get $i) (i32.const 64)))
              (br_if $plain8 (i32.lt_u (local.get $i) (local.get $end8))))))
        (local.set $a0 (f64x2.add (local.get $a0) (local.get $a2)))
        (local.set $a1 (f64x2.add (local.get $a1) (local.get $a3)))
        (if (i32.lt_u (local.get $i) (local.get $end4))
          (then
            (local.set $a0 (f64x2.relaxed_madd
              (v128.load (i32.add (local.get $x) (local.get $i))) (v128.load (i32.add (local.get $y) (local.get $i))) (local.get $a0)))
            (local.set $a1 (f64x2.relaxed_madd
              (v128.load offset=16 (i32.add (local.get $x) (local.get $i))) (v128.load offset=16 (i32.add (local.get $y) (local.get $i))) (local.get $a1)))
            (local.set $i (i32.add (local.get $i) (i32.const 32)))))
        (if (i32.lt_u (local.get $i) (local.get $end2))
          (then
            (local.set $a0 (f64x2.add (local.get $a0)
              (f64x2.mul (v128.load (i32.add (local.get $x) (local.get $i))) (v128.load (i32.add (local.get $y) (local.get $i))))))))
        (local.set $s (f64.add
          (f64.add (f64x2.extract_lane 0 (local.get $a0)) (f64x2.extract_lane 1 (local.get $a0)))
          (f64.add (f64x2.extract_lane 0 (local.get $a1)) (f64x2.extract_lane 1 (local.get $a1)))))
        (if (i32.and (local.get $len) (i32.const 1))
          (then
            (local.set $s (f64.add (local.get $s)
              (f64.mul (f64.load (i32.add (local.get $x) (local.get $end2))) (f64.load (i32.add (local.get $y) (local.get $end2))))))))
        (return (local.get $s))))
    (if (local.get $end4)
      (then
        (loop $weighted
          (local.set $a0 (f64x2.add (local.get $a0)
            (f64x2.mul (v128.load (i32.add (local.get $w) (local.get $i)))
              (f64x2.mul (v128.load (i32.add (local.get $x) (local.get $i))) (v128.load (i32.add (local.get $y) (local.get $i)))))))
          (local.set $a1 (f64x2.add (local.get $a1)
            (f64x2.mul (v128.load offset=16 (i32.add (local.get $w) (local.get $i)))
              (f64x2.mul (v128.load offset=16 (i32.add (local.get $x) (local.get $i))) (v128.load offset=16 (i32.add (local.get $y) (local.get $i)))))))
          (local.set $i (i32.add (local.get $i) (i32.const 32)))
          (br_if $weighted (i32.lt_u (local.get $i) (local.get $end4))))))
    (if (i32.lt_u (local.get $i) (local.get $end2))
      (then
        (local.set $a0 (f64x2.add (local.get $a0)
          (f64x2.mul (v128.load (i32.add (local.get $w) (local.get $i)))
            (f64x2.mul (v128.load (i32.add (local.get $x) (local.get $i))) (v128.load (i32.add (local.get $y) (local.get $i)))))))))
    (local.set $s (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $a0)) (f64x2.extract_lane 1 (local.get $a0)))
      (f64.add (f64x2.extract_lane 0 (local.get $a1)) (f64x2.extract_lane 1 (local.get $a1)))))
    (if (i32.and (local.get $len) (i32.const 1))
      (then
        (local.set $s (f64.add (local.get $s)
          (f64.mul (f64.load (i32.add (local.get $w) (local.get $end2)))
            (f64.mul (f64.load (i32.add (local.get $x) (local.get $end2))) (f64.load (i32.add (local.get $y) (local.get $end2)))))))))
    (local.get $s))
)
