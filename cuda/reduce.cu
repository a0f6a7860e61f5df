// ferrotorch reduction / scan / softmax kernels.
//
// The host permutes the reduced dims last and describes the input with a Layout whose
// (row-major) shape is [outer dims..., reduced dims...]; element j of row r is at linear
// index r * inner + j. `out` is contiguous: one value per row (reductions) or [outer, inner]
// (scans, softmax). For a contiguous input pass ndim=1, shape=[outer*inner], stride 1.
//
//   ft_{sum,prod}_<dt>(const T* x, Layout lx, S* out, long long outer, long long inner)
//        all 10 dtypes; S = T for float dtypes, i64 for int/bool (PyTorch promotion);
//        accumulates in float (f16/bf16/f32), double (f64), i64 (int/bool)
//   ft_mean_<dt>(...same..., T* out, ...)                  float dtypes; sum / inner
//   ft_{max,min}_<dt>(..., T* out, ...)                    all dtypes, NaN propagates
//   ft_{argmax,argmin}_<dt>(..., long long* out, ...)      all dtypes, first occurrence,
//                                                          NaN counts as the extreme
//   ft_{var,std}_<dt>(const T* x, Layout lx, T* out, long long outer, long long inner,
//                     double correction)                   float dtypes, Welford/Chan;
//                                                          divisor max(0, inner - correction)
//   ft_{cumsum,cumprod}_<dt>(const T* x, Layout lx, S* out, long long outer, long long inner)
//        all dtypes, S as for sum; out is [outer, inner] contiguous
//   ft_{softmax,log_softmax}_<dt>(const T* x, Layout lx, T* out, long long outer,
//                                 long long inner)         float dtypes, out [outer, inner]
//
// Launch: blockDim.x must be a multiple of 32 (<= 1024); any grid works. Reductions and
// softmax use one warp per row when inner <= FT_WARP_ROW_MAX (recommended grid:
// ceil(outer / (blockDim.x / 32))), else one block per row (grid: outer, capped at 65535;
// blocks loop over rows). Scans always use one block per row.
#ifndef FT_COMMON_CUH
#include "common.cuh"
#endif

#define FT_WARP_ROW_MAX 512

// ================================================================ accumulators
FT_DEV float ft_sqrt(float x) { return sqrtf(x); }
FT_DEV double ft_sqrt(double x) { return sqrt(x); }
FT_DEV float ft_exp(float x) { return expf(x); }
FT_DEV double ft_exp(double x) { return exp(x); }
FT_DEV float ft_log(float x) { return logf(x); }
FT_DEV double ft_log(double x) { return log(x); }

template <class V> struct ft_argacc { V v; long long i; };
template <class V> struct ft_welford { V mean; V m2; long long n; };

template <class V> FT_DEV ft_argacc<V> ft_shfl_xor(ft_argacc<V> a, int m) {
  ft_argacc<V> r;
  r.v = ft_shfl_xor(a.v, m);
  r.i = ft_shfl_xor(a.i, m);
  return r;
}
template <class V> FT_DEV ft_welford<V> ft_shfl_xor(ft_welford<V> a, int m) {
  ft_welford<V> r;
  r.mean = ft_shfl_xor(a.mean, m);
  r.m2 = ft_shfl_xor(a.m2, m);
  r.n = ft_shfl_xor(a.n, m);
  return r;
}

template <class V> FT_DEV V ft_lowest() {
  if constexpr (ft_same<V, float>::value) return -__uint_as_float(0x7f800000u);
  else if constexpr (ft_same<V, double>::value) return -__longlong_as_double(0x7ff0000000000000ll);
  else return (V)(-0x7fffffffffffffffll - 1);
}
template <class V> FT_DEV V ft_highest() {
  if constexpr (ft_same<V, float>::value) return __uint_as_float(0x7f800000u);
  else if constexpr (ft_same<V, double>::value) return __longlong_as_double(0x7ff0000000000000ll);
  else return (V)0x7fffffffffffffffll;
}

// Reduction ops: A init(); A map(T v, long long j); A comb(A, A); O fin(A, inner, param)
template <class T> struct ft_r_sum {
  typedef typename ft_accum<T>::type A;
  typedef typename ft_sum_out<T>::type O;
  static FT_DEV A init() { return (A)0; }
  static FT_DEV A map(T v, long long) { return ft_cast<A>(v); }
  static FT_DEV A comb(A a, A b) { return a + b; }
  static FT_DEV O fin(A a, long long, double) { return ft_cast<O>(a); }
};
template <class T> struct ft_r_mean : ft_r_sum<T> {
  typedef typename ft_accum<T>::type A;
  typedef T O;
  static FT_DEV O fin(A a, long long inner, double) { return ft_cast<O>(a / (A)inner); }
};
template <class T> struct ft_r_prod {
  typedef typename ft_accum<T>::type A;
  typedef typename ft_sum_out<T>::type O;
  static FT_DEV A init() { return (A)1; }
  static FT_DEV A map(T v, long long) { return ft_cast<A>(v); }
  static FT_DEV A comb(A a, A b) { return a * b; }
  static FT_DEV O fin(A a, long long, double) { return ft_cast<O>(a); }
};
template <class T> struct ft_r_max {
  typedef typename ft_accum<T>::type A;
  typedef T O;
  static FT_DEV A init() { return ft_lowest<A>(); }
  static FT_DEV A map(T v, long long) { return ft_cast<A>(v); }
  static FT_DEV A comb(A a, A b) { return (a != a || a > b) ? a : b; }
  static FT_DEV O fin(A a, long long, double) { return ft_cast<O>(a); }
};
template <class T> struct ft_r_min {
  typedef typename ft_accum<T>::type A;
  typedef T O;
  static FT_DEV A init() { return ft_highest<A>(); }
  static FT_DEV A map(T v, long long) { return ft_cast<A>(v); }
  static FT_DEV A comb(A a, A b) { return (a != a || a < b) ? a : b; }
  static FT_DEV O fin(A a, long long, double) { return ft_cast<O>(a); }
};
template <class T, bool MAX> struct ft_r_arg {
  typedef typename ft_accum<T>::type V;
  typedef ft_argacc<V> A;
  typedef long long O;
  static FT_DEV A init() {
    A a;
    a.v = MAX ? ft_lowest<V>() : ft_highest<V>();
    a.i = 0x7fffffffffffffffll;
    return a;
  }
  static FT_DEV A map(T v, long long j) {
    A a;
    a.v = ft_cast<V>(v);
    a.i = j;
    return a;
  }
  static FT_DEV A comb(A a, A b) {
    bool an = a.v != a.v, bn = b.v != b.v;
    bool take_a;
    if (an || bn) take_a = an && (!bn || a.i < b.i);
    else if (a.v != b.v) take_a = MAX ? a.v > b.v : a.v < b.v;
    else take_a = a.i < b.i;
    return take_a ? a : b;
  }
  static FT_DEV O fin(A a, long long, double) { return a.i; }
};
template <class T, bool STD> struct ft_r_var {
  typedef typename ft_accum<T>::type V;
  typedef ft_welford<V> A;
  typedef T O;
  static FT_DEV A init() {
    A a;
    a.mean = (V)0;
    a.m2 = (V)0;
    a.n = 0;
    return a;
  }
  static FT_DEV A map(T v, long long) {
    A a;
    a.mean = ft_cast<V>(v);
    a.m2 = (V)0;
    a.n = 1;
    return a;
  }
  static FT_DEV A comb(A a, A b) {
    if (a.n == 0) return b;
    if (b.n == 0) return a;
    A r;
    r.n = a.n + b.n;
    V nb_over_n = (V)b.n / (V)r.n;
    V delta = b.mean - a.mean;
    r.mean = a.mean + delta * nb_over_n;
    r.m2 = a.m2 + b.m2 + delta * delta * (V)a.n * nb_over_n;
    return r;
  }
  static FT_DEV O fin(A a, long long, double correction) {
    double div = (double)a.n - correction;
    if (div < 0.0) div = 0.0;
    V var = a.m2 / (V)div;
    if constexpr (STD) var = ft_sqrt(var);
    return ft_cast<O>(var);
  }
};

// ================================================================ warp / block reduce
template <class R, class A> FT_DEV A ft_warp_allreduce(A v) {
  for (int m = 16; m > 0; m >>= 1) v = R::comb(v, ft_shfl_xor(v, m));
  return v;
}

// Result returned to every thread of the block. `smem` holds 32 partials.
template <class R, class A> FT_DEV A ft_block_allreduce(A v, A* smem) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nw = (blockDim.x + 31) >> 5;
  v = ft_warp_allreduce<R>(v);
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < nw ? smem[lane] : R::init();
    v = ft_warp_allreduce<R>(v);
    if (lane == 0) smem[0] = v;
  }
  __syncthreads();
  v = smem[0];
  __syncthreads();  // smem may be reused right after
  return v;
}

// ================================================================ row reduction
template <class T, class R>
FT_DEV void ft_reduce_rows(const T* x, const Layout& lx, typename R::O* out, long long outer,
                           long long inner, double param) {
  typedef typename R::A A;
  __shared__ A smem[32];
  const int lane = threadIdx.x & 31;
  if (inner <= FT_WARP_ROW_MAX) {  // one warp per row
    const long long nwarps = ((long long)gridDim.x * blockDim.x) >> 5;
    const long long row0 = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    FT_NO_UNROLL for (long long row = row0; row < outer; row += nwarps) {
      A acc = R::init();
      FT_NO_UNROLL for (long long j = lane; j < inner; j += 32)
        acc = R::comb(acc, R::map(x[ft_offset(lx, row * inner + j)], j));
      acc = ft_warp_allreduce<R>(acc);
      if (lane == 0) out[row] = R::fin(acc, inner, param);
    }
  } else {  // one block per row
    FT_NO_UNROLL for (long long row = blockIdx.x; row < outer; row += gridDim.x) {
      A acc = R::init();
      FT_NO_UNROLL for (long long j = threadIdx.x; j < inner; j += blockDim.x)
        acc = R::comb(acc, R::map(x[ft_offset(lx, row * inner + j)], j));
      acc = ft_block_allreduce<R>(acc, smem);
      if (threadIdx.x == 0) out[row] = R::fin(acc, inner, param);
    }
  }
}

#define FT_INST_RED(dt, name, ...)                                                          \
  FT_KERNEL ft_##name##_##dt(const dt* x, Layout lx, __VA_ARGS__::O* out, long long outer,  \
                             long long inner) {                                             \
    ft_reduce_rows<dt, __VA_ARGS__>(x, lx, out, outer, inner, 0.0);                         \
  }
#define FT_INST_REDUCE_ALL(dt, _)                        \
  FT_INST_RED(dt, sum, ft_r_sum<dt>)                     \
  FT_INST_RED(dt, prod, ft_r_prod<dt>)                   \
  FT_INST_RED(dt, max, ft_r_max<dt>)                     \
  FT_INST_RED(dt, min, ft_r_min<dt>)                     \
  FT_INST_RED(dt, argmax, ft_r_arg<dt, true>)            \
  FT_INST_RED(dt, argmin, ft_r_arg<dt, false>)
FT_FOR_ALL(FT_INST_REDUCE_ALL, _)

#define FT_INST_VAR(dt, name, STD)                                                          \
  FT_KERNEL ft_##name##_##dt(const dt* x, Layout lx, dt* out, long long outer,              \
                             long long inner, double correction) {                          \
    ft_reduce_rows<dt, ft_r_var<dt, STD>>(x, lx, out, outer, inner, correction);            \
  }
#define FT_INST_REDUCE_FLOAT(dt, _)  \
  FT_INST_RED(dt, mean, ft_r_mean<dt>) \
  FT_INST_VAR(dt, var, false)        \
  FT_INST_VAR(dt, std, true)
FT_FOR_FLOAT(FT_INST_REDUCE_FLOAT, _)

// ================================================================ scans (cumsum / cumprod)
template <class T, class R>
FT_DEV void ft_scan_rows(const T* x, const Layout& lx, typename R::O* out, long long outer,
                         long long inner) {
  typedef typename R::A A;
  __shared__ A wtot[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nw = (blockDim.x + 31) >> 5;
  FT_NO_UNROLL for (long long row = blockIdx.x; row < outer; row += gridDim.x) {
    A carry = R::init();
    FT_NO_UNROLL for (long long base = 0; base < inner; base += blockDim.x) {
      const long long j = base + threadIdx.x;
      A v = j < inner ? R::map(x[ft_offset(lx, row * inner + j)], j) : R::init();
      for (int d = 1; d < 32; d <<= 1) {  // inclusive warp scan
        A t = ft_shfl_up(v, d);
        if (lane >= d) v = R::comb(t, v);
      }
      if (lane == 31) wtot[warp] = v;
      __syncthreads();
      if (warp == 0) {  // scan of the warp totals
        A w = lane < nw ? wtot[lane] : R::init();
        for (int d = 1; d < 32; d <<= 1) {
          A t = ft_shfl_up(w, d);
          if (lane >= d) w = R::comb(t, w);
        }
        wtot[lane] = w;
      }
      __syncthreads();
      if (warp > 0) v = R::comb(wtot[warp - 1], v);
      v = R::comb(carry, v);
      if (j < inner) out[row * inner + j] = R::fin(v, inner, 0.0);
      carry = R::comb(carry, wtot[nw - 1]);
      __syncthreads();
    }
  }
}

#define FT_INST_SCAN(dt, _)                                                                 \
  FT_KERNEL ft_cumsum_##dt(const dt* x, Layout lx, ft_r_sum<dt>::O* out, long long outer,   \
                           long long inner) {                                               \
    ft_scan_rows<dt, ft_r_sum<dt>>(x, lx, out, outer, inner);                               \
  }                                                                                         \
  FT_KERNEL ft_cumprod_##dt(const dt* x, Layout lx, ft_r_prod<dt>::O* out, long long outer, \
                            long long inner) {                                              \
    ft_scan_rows<dt, ft_r_prod<dt>>(x, lx, out, outer, inner);                              \
  }
FT_FOR_ALL(FT_INST_SCAN, _)

// ================================================================ softmax over rows
template <class A> struct ft_r_fmax {
  static FT_DEV A init() { return ft_lowest<A>(); }
  static FT_DEV A comb(A a, A b) { return (a != a || a > b) ? a : b; }
};
template <class A> struct ft_r_fsum {
  static FT_DEV A init() { return (A)0; }
  static FT_DEV A comb(A a, A b) { return a + b; }
};

template <class T, bool LOG>
FT_DEV void ft_softmax_rows(const T* x, const Layout& lx, T* out, long long outer,
                            long long inner) {
  typedef typename ft_accum<T>::type A;
  __shared__ A smem[32];
  const int lane = threadIdx.x & 31;
  const bool warp_mode = inner <= FT_WARP_ROW_MAX;
  const long long step = warp_mode ? 32 : blockDim.x;
  const long long first = warp_mode ? lane : threadIdx.x;
  const long long row0 =
      warp_mode ? ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5 : (long long)blockIdx.x;
  const long long rstep = warp_mode ? ((long long)gridDim.x * blockDim.x) >> 5 : gridDim.x;
  FT_NO_UNROLL for (long long row = row0; row < outer; row += rstep) {
    const long long base = row * inner;
    A m = ft_lowest<A>();
    FT_NO_UNROLL for (long long j = first; j < inner; j += step)
      m = ft_r_fmax<A>::comb(m, ft_cast<A>(x[ft_offset(lx, base + j)]));
    m = warp_mode ? ft_warp_allreduce<ft_r_fmax<A>>(m) : ft_block_allreduce<ft_r_fmax<A>>(m, smem);
    A s = (A)0;
    FT_NO_UNROLL for (long long j = first; j < inner; j += step)
      s += ft_exp(ft_cast<A>(x[ft_offset(lx, base + j)]) - m);
    s = warp_mode ? ft_warp_allreduce<ft_r_fsum<A>>(s) : ft_block_allreduce<ft_r_fsum<A>>(s, smem);
    const A ls = ft_log(s);
    const A inv = (A)1 / s;
    FT_NO_UNROLL for (long long j = first; j < inner; j += step) {
      A v = ft_cast<A>(x[ft_offset(lx, base + j)]) - m;
      out[base + j] = ft_cast<T>(LOG ? v - ls : ft_exp(v) * inv);
    }
  }
}

#define FT_INST_SOFTMAX(dt, _)                                                               \
  FT_KERNEL ft_softmax_##dt(const dt* x, Layout lx, dt* out, long long outer, long long inner) { \
    ft_softmax_rows<dt, false>(x, lx, out, outer, inner);                                     \
  }                                                                                          \
  FT_KERNEL ft_log_softmax_##dt(const dt* x, Layout lx, dt* out, long long outer,            \
                                long long inner) {                                           \
    ft_softmax_rows<dt, true>(x, lx, out, outer, inner);                                      \
  }
FT_FOR_FLOAT(FT_INST_SOFTMAX, _)
