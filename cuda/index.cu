// ferrotorch indexing and random-number kernels.
//
// ============================================================================ RANDOM NUMBERS
// Generator: Philox4x32-10 (Salmon et al., Random123), bit-exact definition below; the CPU
// backend implements the same stream. Constants:
//   M0 = 0xD2511F53, M1 = 0xCD9E8D57 (multipliers), W0 = 0x9E3779B9, W1 = 0xBB67AE85 (key bumps)
// One round on counter c = (c0, c1, c2, c3) with key k = (k0, k1):
//   (hi0, lo0) = 64-bit product M0 * c0 split in halves; (hi1, lo1) = M1 * c2
//   c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
// Philox4x32-10(c, k): 10 rounds; after each of the first 9 rounds k0 += W0, k1 += W1
// (mod 2^32). Known answer: c = 0, k = 0 -> (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8).
//
// Stream of a generator state (seed: u64, offset: u64):
//   key   = (seed & 0xffffffff, seed >> 32)
//   block b (u64) = Philox4x32-10(counter = (b & 0xffffffff, b >> 32, 0, 0), key)
//   word  w[k]   = lane (k % 4) of block (k / 4),  k = 0, 1, 2, ...
// `offset` counts 32-bit words and MUST be a multiple of 4 (the low 2 bits are ignored);
// element i of a call reads words starting at offset:
//   ft_philox_bits     u32  e[i] = w[offset + i]
//   uniform f32             u[i] = (w[offset + i] >> 8) * 2^-24                 in [0, 1)
//                           e[i] = fmaf(u[i], high - low, low)   (high - low in f32)
//   uniform f64             q[i] = ((u64)w[offset + 2i + 1] << 32) | w[offset + 2i]
//                           u[i] = (q[i] >> 11) * 2^-53                         in [0, 1)
//                           e[i] = fma(u[i], high - low, low)
//   normal f32 (Box-Muller on word pairs): for p = i / 2,
//                           a = ((w[offset + 2p] >> 8) + 1) * 2^-24             in (0, 1]
//                           b = (w[offset + 2p + 1] >> 8) * 2^-24               in [0, 1)
//                           r = sqrtf(-2 * logf(a)),  t = 6.2831853071795865f * b
//                           z = (i even) ? r * cosf(t) : r * sinf(t)
//                           e[i] = fmaf(z, std, mean)
//   normal f64: for p = i / 2, with q(k) = ((u64)w[offset + k + 1] << 32) | w[offset + k],
//                           a = 1 - (q(4p) >> 11) * 2^-53,  b = (q(4p + 2) >> 11) * 2^-53
//                           (1 - u: exact, and the CPU's Generator::normal_f64 form)
//                           r = sqrt(-2 * log(a)),  t = 6.283185307179586 * b
//                           z = (i even) ? r * cos(t) : r * sin(t);  e[i] = fma(z, std, mean)
//   randint (i64):          e[i] = low + (long long)(q[i] % span)   (q[i] as for uniform f64;
//                           wrapping add, span = high - low as u64 > 0)
// Words consumed by a call of n elements (advance offset by this, a multiple of 4):
//   bits, uniform f32, normal f32: 4 * ceil(n / 4);  uniform f64, normal f64, randint:
//   4 * ceil(n / 2).
// Uniform and bits outputs are bit-exact across backends (fma is fused on both). Normal
// outputs go through logf/cosf/sinf, so they match a CPU implementation of the formula up
// to the last-ulp differences of the two math libraries.
//
//   ft_philox_bits(unsigned int* out, long long n, u64 seed, u64 offset)
//   ft_philox_uniform_f32(float* out, long long n, u64 seed, u64 offset, float low, float high)
//   ft_philox_uniform_f64(double* out, long long n, u64 seed, u64 offset, double low, double high)
//   ft_philox_normal_f32(float* out, long long n, u64 seed, u64 offset, float mean, float std)
//   ft_philox_normal_f64(double* out, long long n, u64 seed, u64 offset, double mean, double std)
//   ft_philox_randint(long long* out, long long n, u64 seed, u64 offset, long long low, u64 span)
// Launch: any grid/block; one thread per 4-word block (grid-stride).
//
// ============================================================================ INDEXING
// Index tensors are int64 (host converts); negative indices are wrapped once (+ size);
// an index still out of range reads 0 (gather, index_select) or is skipped (scatter*).
//   ft_gather_<dt>(const T* x, Layout lx, const long long* idx, Layout lidx, T* out,
//                  long long n, int dim)
//        out (contiguous, shape = lidx.shape, n elements) [..., j, ...] = x[..., idx[..., j, ...], ...]
//        lx: x's strides (its shape is only used for dim's size), lidx: index shape+strides.
//   ft_scatter_add_<dt>(T* out, Layout lout, const long long* idx, Layout lidx, const T* src,
//                       Layout lsrc, long long n, int dim)          numeric dtypes, atomic
//        in place: out[..., idx[e], ...] += src[e] for every element e of the index
//        (n = numel(idx); lsrc iterates the index shape with src's strides)
//   ft_scatter_<dt>(same signature)                                  all dtypes, assignment
//   ft_index_select_<dt>(const T* x, Layout lx, const long long* idx, long long nidx, T* out,
//                        long long n, int dim)
//        out contiguous with x's shape except shape[dim] = nidx; idx contiguous
//   ft_masked_fill_<dt>(T* out, Layout lout, const bool* mask, Layout lmask, T value, long long n)
//        in place on a strided out; mask broadcast to out's shape
#ifndef FT_COMMON_CUH
#include "common.cuh"
#endif

// ================================================================ Philox
struct ft_u32x4 { u32 x, y, z, w; };

FT_DEV ft_u32x4 ft_philox4x32_10(ft_u32x4 c, u32 k0, u32 k1) {
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const u32 hi0 = __umulhi(0xD2511F53u, c.x), lo0 = 0xD2511F53u * c.x;
    const u32 hi1 = __umulhi(0xCD9E8D57u, c.z), lo1 = 0xCD9E8D57u * c.z;
    ft_u32x4 o;
    o.x = hi1 ^ c.y ^ k0;
    o.y = lo1;
    o.z = hi0 ^ c.w ^ k1;
    o.w = lo0;
    c = o;
  }
  return c;
}

// the 4 words of block (offset / 4 + q)
FT_DEV void ft_philox_block(u64 seed, u64 offset, long long q, u32 w[4]) {
  const u64 b = (offset >> 2) + (u64)q;
  ft_u32x4 c;
  c.x = (u32)b;
  c.y = (u32)(b >> 32);
  c.z = 0;
  c.w = 0;
  c = ft_philox4x32_10(c, (u32)seed, (u32)(seed >> 32));
  w[0] = c.x;
  w[1] = c.y;
  w[2] = c.z;
  w[3] = c.w;
}

FT_DEV float ft_u01_f32(u32 w) { return (float)(w >> 8) * 5.9604644775390625e-8f; }
FT_DEV float ft_u01_f32_open0(u32 w) { return (float)((w >> 8) + 1u) * 5.9604644775390625e-8f; }
FT_DEV u64 ft_pack64(u32 lo, u32 hi) { return ((u64)hi << 32) | lo; }
FT_DEV double ft_u01_f64(u64 q) { return (double)(q >> 11) * 1.1102230246251565e-16; }

FT_KERNEL ft_philox_bits(u32* out, long long n, u64 seed, u64 offset) {
  FT_GRID_STRIDE(q, (n + 3) / 4) {
    u32 w[4];
    ft_philox_block(seed, offset, q, w);
    for (int k = 0; k < 4; ++k)
      if (4 * q + k < n) out[4 * q + k] = w[k];
  }
}

FT_KERNEL ft_philox_uniform_f32(float* out, long long n, u64 seed, u64 offset, float low,
                                float high) {
  const float span = high - low;
  FT_GRID_STRIDE(q, (n + 3) / 4) {
    u32 w[4];
    ft_philox_block(seed, offset, q, w);
    for (int k = 0; k < 4; ++k)
      if (4 * q + k < n) out[4 * q + k] = fmaf(ft_u01_f32(w[k]), span, low);
  }
}

FT_KERNEL ft_philox_uniform_f64(double* out, long long n, u64 seed, u64 offset, double low,
                                double high) {
  const double span = high - low;
  FT_GRID_STRIDE(q, (n + 1) / 2) {
    u32 w[4];
    ft_philox_block(seed, offset, q, w);
    for (int k = 0; k < 2; ++k)
      if (2 * q + k < n) out[2 * q + k] = fma(ft_u01_f64(ft_pack64(w[2 * k], w[2 * k + 1])), span, low);
  }
}

FT_KERNEL ft_philox_normal_f32(float* out, long long n, u64 seed, u64 offset, float mean,
                               float stdv) {
  FT_GRID_STRIDE(q, (n + 3) / 4) {
    u32 w[4];
    ft_philox_block(seed, offset, q, w);
    for (int p = 0; p < 2; ++p) {
      const float r = sqrtf(-2.0f * logf(ft_u01_f32_open0(w[2 * p])));
      const float t = 6.2831853071795865f * ft_u01_f32(w[2 * p + 1]);
      const long long e = 4 * q + 2 * p;
      if (e < n) out[e] = fmaf(r * cosf(t), stdv, mean);
      if (e + 1 < n) out[e + 1] = fmaf(r * sinf(t), stdv, mean);
    }
  }
}

FT_KERNEL ft_philox_normal_f64(double* out, long long n, u64 seed, u64 offset, double mean,
                               double stdv) {
  FT_GRID_STRIDE(q, (n + 1) / 2) {
    u32 w[4];
    ft_philox_block(seed, offset, q, w);
    const double r = sqrt(-2.0 * log(1.0 - ft_u01_f64(ft_pack64(w[0], w[1]))));
    const double t = 6.283185307179586 * ft_u01_f64(ft_pack64(w[2], w[3]));
    const long long e = 2 * q;
    if (e < n) out[e] = fma(r * cos(t), stdv, mean);
    if (e + 1 < n) out[e + 1] = fma(r * sin(t), stdv, mean);
  }
}

FT_KERNEL ft_philox_randint(long long* out, long long n, u64 seed, u64 offset, long long low,
                            u64 span) {
  FT_GRID_STRIDE(q, (n + 1) / 2) {
    u32 w[4];
    ft_philox_block(seed, offset, q, w);
    for (int k = 0; k < 2; ++k)
      if (2 * q + k < n) out[2 * q + k] = (long long)((u64)low + ft_pack64(w[2 * k], w[2 * k + 1]) % span);
  }
}

// ================================================================ atomics
template <class T> FT_DEV u32 ft_to_bits(T v) {
  if constexpr (ft_is_half<T>::value) return v.bits;
  else if constexpr (sizeof(T) == 1) return (u32)(u8)v;
  else return (u32)(u16)v;
}
template <class T> FT_DEV T ft_from_bits(u32 b) {
  if constexpr (ft_is_half<T>::value) {
    T r;
    r.bits = (u16)b;
    return r;
  } else if constexpr (sizeof(T) == 1) {
    return (T)(u8)b;
  } else {
    return (T)(u16)b;
  }
}

// 8/16-bit atomic add through a CAS loop on the enclosing aligned 32-bit word.
template <class T> FT_DEV void ft_atomic_add_small(T* p, T v) {
  typedef typename ft_compute<T>::type C;
  u32* base = (u32*)((unsigned long long)p & ~3ull);
  const u32 shift = (u32)((unsigned long long)p & 3ull) * 8u;
  const u32 mask = (sizeof(T) == 1 ? 0xffu : 0xffffu) << shift;
  u32 old = *(volatile u32*)base, assumed;
  do {
    assumed = old;
    const T cur = ft_from_bits<T>((assumed & mask) >> shift);
    const T nv = ft_cast<T>(ft_cast<C>(cur) + ft_cast<C>(v));
    const u32 nw = (assumed & ~mask) | ((ft_to_bits(nv) << shift) & mask);
    old = atomicCAS(base, assumed, nw);
  } while (old != assumed);
}

template <class T> FT_DEV void ft_atomic_add(T* p, T v) {
  if constexpr (ft_same<T, float>::value || ft_same<T, double>::value || ft_same<T, i32>::value)
    atomicAdd(p, v);
  else if constexpr (ft_same<T, i64>::value)
    atomicAdd((unsigned long long*)p, (unsigned long long)v);
  else
    ft_atomic_add_small(p, v);
}

// ================================================================ gather / scatter
FT_DEV bool ft_wrap_index(long long& v, long long size) {
  if (v < 0) v += size;
  return v >= 0 && v < size;
}

#define FT_INST_GATHER(dt, _)                                                                 \
  FT_KERNEL ft_gather_##dt(const dt* x, Layout lx, const long long* idx, Layout lidx, dt* out, \
                           long long n, int dim) {                                            \
    FT_GRID_STRIDE(i, n) {                                                                    \
      long long v = idx[ft_offset(lidx, i)];                                                  \
      out[i] = ft_wrap_index(v, lx.shape[dim]) ? x[ft_offset_repl(lidx, lx, i, dim, v)]       \
                                               : ft_cast<dt>(0);                              \
    }                                                                                         \
  }                                                                                           \
  FT_KERNEL ft_scatter_##dt(dt* out, Layout lout, const long long* idx, Layout lidx,          \
                            const dt* src, Layout lsrc, long long n, int dim) {               \
    FT_GRID_STRIDE(i, n) {                                                                    \
      long long v = idx[ft_offset(lidx, i)];                                                  \
      if (ft_wrap_index(v, lout.shape[dim]))                                                  \
        out[ft_offset_repl(lidx, lout, i, dim, v)] = src[ft_offset(lsrc, i)];                 \
    }                                                                                         \
  }                                                                                           \
  FT_KERNEL ft_index_select_##dt(const dt* x, Layout lx, const long long* idx, long long nidx, \
                                 dt* out, long long n, int dim) {                             \
    FT_GRID_STRIDE(i, n) {                                                                    \
      long long off = lx.offset, lin = i;                                                     \
      bool ok = true;                                                                         \
      for (int d = lx.ndim - 1; d >= 0; --d) {                                                \
        const long long s = d == dim ? nidx : lx.shape[d];                                    \
        const long long q = lin / s;                                                          \
        long long c = lin - q * s;                                                            \
        lin = q;                                                                              \
        if (d == dim) {                                                                       \
          c = idx[c];                                                                         \
          ok = ft_wrap_index(c, lx.shape[d]);                                                 \
        }                                                                                     \
        off += c * lx.strides[d];                                                             \
      }                                                                                       \
      out[i] = ok ? x[off] : ft_cast<dt>(0);                                                  \
    }                                                                                         \
  }                                                                                           \
  FT_KERNEL ft_masked_fill_##dt(dt* out, Layout lout, const bool* mask, Layout lmask,         \
                                dt value, long long n) {                                      \
    FT_GRID_STRIDE(i, n) {                                                                    \
      if (mask[ft_offset(lmask, i)]) out[ft_offset(lout, i)] = value;                         \
    }                                                                                         \
  }
FT_FOR_ALL(FT_INST_GATHER, _)

#define FT_INST_SCATTER_ADD(dt, _)                                                             \
  FT_KERNEL ft_scatter_add_##dt(dt* out, Layout lout, const long long* idx, Layout lidx,       \
                                const dt* src, Layout lsrc, long long n, int dim) {            \
    FT_GRID_STRIDE(i, n) {                                                                     \
      long long v = idx[ft_offset(lidx, i)];                                                   \
      if (ft_wrap_index(v, lout.shape[dim]))                                                   \
        ft_atomic_add(out + ft_offset_repl(lidx, lout, i, dim, v), src[ft_offset(lsrc, i)]);   \
    }                                                                                          \
  }
FT_FOR_NUMERIC(FT_INST_SCATTER_ADD, _)
