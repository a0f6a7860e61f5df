// ferrotorch row sort (stable), one block per row.
//
//   ft_sort_<dt>(const T* x, Layout lx, T* vals, long long* idx, long long outer,
//                long long inner, int descending)                       all 10 dtypes
//
// Rows as in reduce.cu: the host puts the sorted dim last; element j of row r is
// x[ft_offset(lx, r * inner + j)]. Outputs are contiguous [outer, inner]: `vals` holds the
// sorted elements (bit-exact copies of the inputs, so -0.0 and NaN payloads survive) and
// `idx` their positions j in the row.
//
// Order (PyTorch's stable sort): equal keys keep their input order in BOTH directions
// (descending is not the reverse of ascending for ties); NaN is larger than every number
// (ascending: NaNs last, descending: NaNs first), NaNs keep their input order among
// themselves; -0.0 == 0.0 (a tie). f16/bf16 keys are compared as float.
//
// Method: every key is mapped to a u64 whose unsigned order is the sort order (descending:
// the bitwise complement), and the (key, j) pairs are sorted by a bitonic network in shared
// memory, lexicographically, so j breaks ties (stability). The row is padded to the next
// power of two with (~0, j >= inner) pairs, which sort after every real element.
//
// Limits / launch: inner <= FT_SORT_MAX (static shared memory: 2048 x (8 + 4) bytes = 24 KiB);
// for longer rows the kernel writes nothing and the host uses the merge sort below. Any
// blockDim works (a power of two, e.g. 256, is recommended); grid: min(outer, 65535), blocks
// loop over rows.
//
// Rows longer than FT_SORT_MAX: a stable merge sort in global memory, same order:
//   ft_sort_keys_<dt>(const T* x, Layout lx, u64* key, long long* idx, long long outer,
//                     long long inner, int descending)
//        key[e] = ft_sort_key(x[e]) ^ (descending ? ~0 : 0), idx[e] = j (e = r * inner + j)
//   ft_sort_merge(const u64* kin, const long long* iin, u64* kout, long long* iout,
//                 long long outer, long long inner, long long width)
//        merges each pair of sorted runs [s, s+w), [s+w, s+2w) of every row (s a multiple
//        of 2w); pass with w = 1, 2, 4, ... until w >= inner. (key, j) pairs are distinct in
//        a row, so each element's output position is its rank in its run plus the number of
//        pairs before it in the other run (one binary search): ties need no special case.
//   ft_sort_take_<dt>(const T* x, Layout lx, const long long* idx, T* vals, long long outer,
//                     long long inner)
//        vals[r * inner + t] = x[r * inner + idx[r * inner + t]] (bit-exact copies)
// All three: one thread per element, grid-stride, any grid/block.
#ifndef FT_COMMON_CUH
#include "common.cuh"
#endif

#define FT_SORT_MAX 2048

// u64 whose unsigned order is the ascending sort order of v (NaN largest, -0.0 == 0.0).
template <class T> FT_DEV u64 ft_sort_key(T v) {
  if constexpr (ft_same<T, double>::value) {
    if (v != v) return ~0ull;                        // every NaN: one key, above +inf
    if (v == 0.0) v = 0.0;                           // -0.0 -> +0.0
    u64 u = (u64)__double_as_longlong(v);
    return (u >> 63) ? ~u : (u | 0x8000000000000000ull);
  } else if constexpr (ft_is_float<T>::value) {  // f16 / bf16 / f32: compare as float
    float f = ft_cast<float>(v);
    if (f != f) return ~0ull;
    if (f == 0.0f) f = 0.0f;
    u32 u = __float_as_uint(f);
    return (u64)((u >> 31) ? ~u : (u | 0x80000000u));  // +inf -> 0xff800000 < ~0ull
  } else if constexpr (ft_is_signed<T>::value) {
    return (u64)(i64)v ^ 0x8000000000000000ull;
  } else {  // bool, u8
    return (u64)v;
  }
}

// (ka, ia) before (kb, ib)?
FT_DEV bool ft_sort_before(u64 ka, int ia, u64 kb, int ib) {
  return ka < kb || (ka == kb && ia < ib);
}

template <class T>
FT_DEV void ft_sort_rows(const T* x, const Layout& lx, T* vals, long long* idx, long long outer,
                         long long inner, int descending) {
  __shared__ u64 skey[FT_SORT_MAX];
  __shared__ int sidx[FT_SORT_MAX];
  if (inner <= 0 || inner > FT_SORT_MAX) return;
  int n2 = 1;
  while (n2 < inner) n2 <<= 1;
  const int half = n2 >> 1;
  const u64 flip = descending ? ~0ull : 0ull;
  FT_NO_UNROLL for (long long row = blockIdx.x; row < outer; row += gridDim.x) {
    const long long base = row * inner;
    FT_NO_UNROLL for (int t = threadIdx.x; t < n2; t += blockDim.x) {
      skey[t] = t < inner ? ft_sort_key<T>(x[ft_offset(lx, base + t)]) ^ flip : ~0ull;
      sidx[t] = t;  // padding gets j >= inner: after any real key, even ~0
    }
    __syncthreads();
    // Bitonic network over n2 elements: stage (k, j) compares i with i + j, ascending when
    // bit k of i is clear. Pair p -> i = (p with a 0 bit inserted at position log2(j)).
    FT_NO_UNROLL for (int k = 2; k <= n2; k <<= 1) {
      FT_NO_UNROLL for (int j = k >> 1; j > 0; j >>= 1) {
        FT_NO_UNROLL for (int p = threadIdx.x; p < half; p += blockDim.x) {
          const int i = ((p & ~(j - 1)) << 1) | (p & (j - 1));
          const int l = i + j;
          const u64 ki = skey[i], kl = skey[l];
          const int ii = sidx[i], il = sidx[l];
          const bool up = (i & k) == 0;
          if (ft_sort_before(kl, il, ki, ii) == up) {  // out of order for this direction
            skey[i] = kl;
            skey[l] = ki;
            sidx[i] = il;
            sidx[l] = ii;
          }
        }
        __syncthreads();
      }
    }
    FT_NO_UNROLL for (int t = threadIdx.x; t < inner; t += blockDim.x) {
      const int j = sidx[t];
      idx[base + t] = j;
      vals[base + t] = x[ft_offset(lx, base + j)];
    }
    __syncthreads();  // shared arrays are rewritten for the next row
  }
}

#define FT_INST_SORT(dt, _)                                                                \
  FT_KERNEL ft_sort_##dt(const dt* x, Layout lx, dt* vals, long long* idx, long long outer, \
                         long long inner, int descending) {                                \
    ft_sort_rows<dt>(x, lx, vals, idx, outer, inner, descending);                          \
  }
FT_FOR_ALL(FT_INST_SORT, _)

// ================================================================ long rows: merge sort
template <class T>
FT_DEV void ft_sort_keys_rows(const T* x, const Layout& lx, u64* key, long long* idx,
                              long long outer, long long inner, int descending) {
  const u64 flip = descending ? ~0ull : 0ull;
  FT_GRID_STRIDE(e, outer * inner) {
    key[e] = ft_sort_key<T>(x[ft_offset(lx, e)]) ^ flip;
    idx[e] = e % inner;
  }
}

FT_KERNEL ft_sort_merge(const u64* kin, const long long* iin, u64* kout, long long* iout,
                        long long outer, long long inner, long long width) {
  FT_GRID_STRIDE(e, outer * inner) {
    const long long base = e - e % inner, p = e - base;
    const long long s = p - p % (2 * width);
    const long long mid = s + width < inner ? s + width : inner;
    const long long end = s + 2 * width < inner ? s + 2 * width : inner;
    const u64 k = kin[e];
    const long long j = iin[e];
    // The other run, and this element's rank in its own run.
    long long lo = mid, hi = end, rank = p - s;
    if (p >= mid) {
      lo = s;
      hi = mid;
      rank = p - mid;
    }
    long long a = lo, b = hi;  // first position in the other run not before (k, j)
    while (a < b) {
      const long long m = a + ((b - a) >> 1);
      const u64 km = kin[base + m];
      if (km < k || (km == k && iin[base + m] < j)) a = m + 1;
      else b = m;
    }
    const long long o = base + s + rank + (a - lo);
    kout[o] = k;
    iout[o] = j;
  }
}

template <class T>
FT_DEV void ft_sort_take_rows(const T* x, const Layout& lx, const long long* idx, T* vals,
                              long long outer, long long inner) {
  FT_GRID_STRIDE(e, outer * inner) {
    vals[e] = x[ft_offset(lx, e - e % inner + idx[e])];
  }
}

#define FT_INST_SORT_LONG(dt, _)                                                            \
  FT_KERNEL ft_sort_keys_##dt(const dt* x, Layout lx, u64* key, long long* idx,              \
                              long long outer, long long inner, int descending) {            \
    ft_sort_keys_rows<dt>(x, lx, key, idx, outer, inner, descending);                        \
  }                                                                                          \
  FT_KERNEL ft_sort_take_##dt(const dt* x, Layout lx, const long long* idx, dt* vals,        \
                              long long outer, long long inner) {                            \
    ft_sort_take_rows<dt>(x, lx, idx, vals, outer, inner);                                   \
  }
FT_FOR_ALL(FT_INST_SORT_LONG, _)
