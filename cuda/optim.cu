// ferrotorch fused optimizer steps (in place), f32 and f64.
//
// The per-element arithmetic is that of the CPU loops in rust/core/src/optim.rs
// (sgd_chunk / adam_chunk) op for op and in the same order, so a GPU step gives the same
// bits as a CPU step. The host computes the same constants as the CPU code, in double, and
// passes them as double; each is rounded once to T here (as the CPU's `T::c(v)`).
// Every operation uses an explicit round-to-nearest intrinsic (__fadd_rn, __dmul_rn, ...):
// NVRTC would otherwise contract a * b + c into an FMA (--fmad=true is its default), which
// the CPU loops never do; the intrinsics also keep division / sqrt IEEE-exact under
// --prec-div=false / --prec-sqrt=false. (Do not compile with --ftz=true: the CPU keeps
// subnormals.)
//
//   ft_sgd_<f32|f64>(T* p, const T* g, T* buf, long long n, double neg_lr,
//                    double weight_decay, double momentum, double one_minus_dampening,
//                    int nesterov, int maximize, int first)
//     neg_lr = -lr; one_minus_dampening = 1 - dampening (computed in double).
//     buf: the momentum buffer; used only when momentum != 0 (may be null otherwise).
//     first != 0: no buffer existed before this step; it is set to the update direction.
//     d = maximize ? -g : g;  if (weight_decay != 0) d = d + wd * p;
//     if momentum: buf = first ? d : buf * mom + (1 - damp) * d;
//                  d = nesterov ? d + mom * buf : buf;
//     p = p + neg_lr * d
//
//   ft_adam_<f32|f64>(T* p, const T* g, T* m, T* v, T* vmax, long long n,
//                     double neg_step_size, double bc2_sqrt, double eps, double w1,
//                     double one_minus_w1, double beta2, double one_minus_beta2,
//                     double decay, double weight_decay, int amsgrad, int maximize,
//                     int decoupled)
//     With step = the step count after its increment (>= 1), all in double:
//       bc1 = 1 - beta1^step, bc2 = 1 - beta2^step   (Rust f64::powi(step as i32))
//       neg_step_size = -(lr / bc1), bc2_sqrt = sqrt(bc2), w1 = 1 - beta1,
//       one_minus_w1 = 1 - w1 (NOT beta1: 1 - (1 - beta1) may differ in the last bit),
//       one_minus_beta2 = 1 - beta2, decay = 1 - lr * weight_decay.
//     vmax: the amsgrad buffer, used only when amsgrad != 0 (may be null otherwise).
//     gr = maximize ? -g : g;  x = p;
//     if decoupled (AdamW): x = x * decay;  else if weight_decay != 0: gr = gr + wd * x;
//     m = w1 < 0.5 ? m + w1 * (gr - m) : gr - (gr - m) * (1 - w1)     (PyTorch's lerp)
//     v = v * beta2 + (1 - beta2) * gr * gr
//     vv = amsgrad ? (vmax = (v > vmax || v is NaN) ? v : vmax) : v
//     p = x + neg_step_size * (m / (sqrt(vv) / bc2_sqrt + eps))
//
// All buffers contiguous, n elements. Launch: block 256, grid min(ceil(n / 256), 65535 * 8)
// (any grid works: grid-stride loop).
#ifndef FT_COMMON_CUH
#include "common.cuh"
#endif

// ---------------------------------------------------------------- uncontracted IEEE ops
#ifdef FT_CPU_EMU
// g++ in ISO C++ mode does not contract (-ffp-contract=off), and x86-64 SSE is IEEE.
FT_DEV float ft_opt_add(float a, float b) { return a + b; }
FT_DEV float ft_opt_sub(float a, float b) { return a - b; }
FT_DEV float ft_opt_mul(float a, float b) { return a * b; }
FT_DEV float ft_opt_div(float a, float b) { return a / b; }
FT_DEV float ft_opt_sqrt(float a) { return sqrtf(a); }
FT_DEV double ft_opt_add(double a, double b) { return a + b; }
FT_DEV double ft_opt_sub(double a, double b) { return a - b; }
FT_DEV double ft_opt_mul(double a, double b) { return a * b; }
FT_DEV double ft_opt_div(double a, double b) { return a / b; }
FT_DEV double ft_opt_sqrt(double a) { return sqrt(a); }
#else
FT_DEV float ft_opt_add(float a, float b) { return __fadd_rn(a, b); }
FT_DEV float ft_opt_sub(float a, float b) { return __fsub_rn(a, b); }
FT_DEV float ft_opt_mul(float a, float b) { return __fmul_rn(a, b); }
FT_DEV float ft_opt_div(float a, float b) { return __fdiv_rn(a, b); }
FT_DEV float ft_opt_sqrt(float a) { return __fsqrt_rn(a); }
FT_DEV double ft_opt_add(double a, double b) { return __dadd_rn(a, b); }
FT_DEV double ft_opt_sub(double a, double b) { return __dsub_rn(a, b); }
FT_DEV double ft_opt_mul(double a, double b) { return __dmul_rn(a, b); }
FT_DEV double ft_opt_div(double a, double b) { return __ddiv_rn(a, b); }
FT_DEV double ft_opt_sqrt(double a) { return __dsqrt_rn(a); }
#endif

// ---------------------------------------------------------------- SGD
template <class T>
FT_DEV void ft_sgd_impl(T* p, const T* g, T* buf, long long n, double neg_lr_d,
                        double weight_decay_d, double momentum_d, double one_minus_damp_d,
                        int nesterov, int maximize, int first) {
  const T lr = (T)neg_lr_d, wd = (T)weight_decay_d, mom = (T)momentum_d,
          damp = (T)one_minus_damp_d;
  const bool use_wd = weight_decay_d != 0.0;
  const bool use_mom = momentum_d != 0.0;
  FT_GRID_STRIDE(i, n) {
    const T x = p[i];
    T d = maximize ? -g[i] : g[i];
    if (use_wd) d = ft_opt_add(d, ft_opt_mul(wd, x));
    if (use_mom) {
      const T b = first ? d : ft_opt_add(ft_opt_mul(buf[i], mom), ft_opt_mul(damp, d));
      buf[i] = b;
      d = nesterov ? ft_opt_add(d, ft_opt_mul(mom, b)) : b;
    }
    p[i] = ft_opt_add(x, ft_opt_mul(lr, d));
  }
}

// ---------------------------------------------------------------- Adam / AdamW
template <class T>
FT_DEV void ft_adam_impl(T* p, const T* g, T* m, T* v, T* vmax, long long n,
                         double neg_step_size_d, double bc2_sqrt_d, double eps_d, double w1_d,
                         double one_minus_w1_d, double beta2_d, double one_minus_beta2_d,
                         double decay_d, double weight_decay_d, int amsgrad, int maximize,
                         int decoupled) {
  const T neg_step_size = (T)neg_step_size_d, bc2_sqrt = (T)bc2_sqrt_d, eps = (T)eps_d,
          w = (T)w1_d, wc = (T)one_minus_w1_d, b2 = (T)beta2_d,
          one_minus_b2 = (T)one_minus_beta2_d, decay = (T)decay_d, wd = (T)weight_decay_d;
  const bool lerp_lo = w1_d < 0.5;
  const bool l2 = !decoupled && weight_decay_d != 0.0;
  FT_GRID_STRIDE(i, n) {
    T x = p[i];
    T gr = maximize ? -g[i] : g[i];
    if (decoupled) x = ft_opt_mul(x, decay);
    if (l2) gr = ft_opt_add(gr, ft_opt_mul(wd, x));
    const T m0 = m[i];
    const T m1 = lerp_lo ? ft_opt_add(m0, ft_opt_mul(w, ft_opt_sub(gr, m0)))
                         : ft_opt_sub(gr, ft_opt_mul(ft_opt_sub(gr, m0), wc));
    m[i] = m1;
    const T v1 =
        ft_opt_add(ft_opt_mul(v[i], b2), ft_opt_mul(ft_opt_mul(one_minus_b2, gr), gr));
    v[i] = v1;
    T vv = v1;
    if (amsgrad) {
      const T old = vmax[i];
      vv = (v1 > old || v1 != v1) ? v1 : old;  // NaN propagates, as torch.maximum
      vmax[i] = vv;
    }
    const T denom = ft_opt_add(ft_opt_div(ft_opt_sqrt(vv), bc2_sqrt), eps);
    p[i] = ft_opt_add(x, ft_opt_mul(neg_step_size, ft_opt_div(m1, denom)));
  }
}

#define FT_INST_OPTIM(dt, _)                                                                 \
  FT_KERNEL ft_sgd_##dt(dt* p, const dt* g, dt* buf, long long n, double neg_lr,             \
                        double weight_decay, double momentum, double one_minus_dampening,    \
                        int nesterov, int maximize, int first) {                             \
    ft_sgd_impl<dt>(p, g, buf, n, neg_lr, weight_decay, momentum, one_minus_dampening,       \
                    nesterov, maximize, first);                                              \
  }                                                                                          \
  FT_KERNEL ft_adam_##dt(dt* p, const dt* g, dt* m, dt* v, dt* vmax, long long n,            \
                         double neg_step_size, double bc2_sqrt, double eps, double w1,       \
                         double one_minus_w1, double beta2, double one_minus_beta2,          \
                         double decay, double weight_decay, int amsgrad, int maximize,       \
                         int decoupled) {                                                    \
    ft_adam_impl<dt>(p, g, m, v, vmax, n, neg_step_size, bc2_sqrt, eps, w1, one_minus_w1,    \
                     beta2, one_minus_beta2, decay, weight_decay, amsgrad, maximize,         \
                     decoupled);                                                             \
  }
FT_ON_f32(FT_INST_OPTIM, _)
FT_ON_f64(FT_INST_OPTIM, _)

// ================================================================ the other optimizers
//   ft_<algo>_<f32|f64>(T* p, const T* g, T* s0, T* s1, T* s2, long long n,
//                       double c0, ..., double c9, int flags)
// for algo in rmsprop, adagrad, adadelta, adamax, nadam, radam, asgd, rprop, sparse_adam:
// the loops of rust/core/src/optim.rs (`<algo>_chunk`) op for op, with the host constants
// c0..c9 and flag bits of its `prepare` (each constant rounded once to T). s0..s2 are the
// state slots of `Algo::slots` (null when unused). Flags: 1 maximize, 2 weight_decay != 0,
// 4 / 8 per algorithm (FT_OPT_A / FT_OPT_B, see `F_A` / `F_B` there).
#define FT_OPT_MAX 1
#define FT_OPT_WD 2
#define FT_OPT_A 4
#define FT_OPT_B 8

FT_DEV float ft_opt_abs(float a) { return fabsf(a); }
FT_DEV double ft_opt_abs(double a) { return fabs(a); }

// PyTorch's lerp (as adam's): lo = weight < 0.5; 1 - weight computed in T.
template <class T>
FT_DEV T ft_opt_lerp(T a, T b, T w, bool lo) {
  return lo ? ft_opt_add(a, ft_opt_mul(w, ft_opt_sub(b, a)))
            : ft_opt_sub(b, ft_opt_mul(ft_opt_sub(b, a), ft_opt_sub((T)1, w)));
}

template <class T>
FT_DEV T ft_opt_grad(T g, T x, T wd, int flags) {
  T r = (flags & FT_OPT_MAX) ? -g : g;
  if (flags & FT_OPT_WD) r = ft_opt_add(r, ft_opt_mul(wd, x));
  return r;
}

#define FT_OPT_PARAMS                                                                        \
  T *p, const T *g, T *s0, T *s1, T *s2, long long n, double c0, double c1, double c2,       \
      double c3, double c4, double c5, double c6, double c7, double c8, double c9, int flags

template <class T>
FT_DEV void ft_rmsprop_impl(FT_OPT_PARAMS) {
  const T lr = (T)c0, wd = (T)c1, alpha = (T)c2, w = (T)c3, eps = (T)c4, mom = (T)c5;
  const bool lo = w < (T)0.5;
  FT_GRID_STRIDE(i, n) {
    const T gr = ft_opt_grad(g[i], p[i], wd, flags);
    const T s = ft_opt_add(ft_opt_mul(s0[i], alpha), ft_opt_mul(ft_opt_mul(w, gr), gr));
    s0[i] = s;
    T avg;
    if (flags & FT_OPT_A) {
      const T a = ft_opt_lerp(s2[i], gr, w, lo);
      s2[i] = a;
      avg = ft_opt_sqrt(ft_opt_add(s, ft_opt_mul(-a, a)));
    } else {
      avg = ft_opt_sqrt(s);
    }
    avg = ft_opt_add(avg, eps);
    if (flags & FT_OPT_B) {
      const T b = ft_opt_add(ft_opt_mul(s1[i], mom), ft_opt_div(gr, avg));
      s1[i] = b;
      p[i] = ft_opt_add(p[i], ft_opt_mul(lr, b));
    } else {
      p[i] = ft_opt_add(p[i], ft_opt_mul(lr, ft_opt_div(gr, avg)));
    }
  }
}

template <class T>
FT_DEV void ft_adagrad_impl(FT_OPT_PARAMS) {
  const T clr = (T)c0, wd = (T)c1, eps = (T)c2;
  FT_GRID_STRIDE(i, n) {
    const T gr = ft_opt_grad(g[i], p[i], wd, flags);
    const T s = ft_opt_add(s0[i], ft_opt_mul(gr, gr));
    s0[i] = s;
    p[i] = ft_opt_add(p[i], ft_opt_mul(clr, ft_opt_div(gr, ft_opt_add(ft_opt_sqrt(s), eps))));
  }
}

template <class T>
FT_DEV void ft_adadelta_impl(FT_OPT_PARAMS) {
  const T lr = (T)c0, wd = (T)c1, rho = (T)c2, w = (T)c3, eps = (T)c4;
  FT_GRID_STRIDE(i, n) {
    const T gr = ft_opt_grad(g[i], p[i], wd, flags);
    const T s = ft_opt_add(ft_opt_mul(s0[i], rho), ft_opt_mul(ft_opt_mul(w, gr), gr));
    s0[i] = s;
    const T std = ft_opt_sqrt(ft_opt_add(s, eps));
    const T delta = ft_opt_mul(ft_opt_div(ft_opt_sqrt(ft_opt_add(s1[i], eps)), std), gr);
    s1[i] = ft_opt_add(ft_opt_mul(s1[i], rho), ft_opt_mul(ft_opt_mul(w, delta), delta));
    p[i] = ft_opt_add(p[i], ft_opt_mul(lr, delta));
  }
}

template <class T>
FT_DEV void ft_adamax_impl(FT_OPT_PARAMS) {
  const T clr = (T)c0, wd = (T)c1, w = (T)c2, b2 = (T)c3, eps = (T)c4;
  const bool lo = w < (T)0.5;
  FT_GRID_STRIDE(i, n) {
    const T gr = ft_opt_grad(g[i], p[i], wd, flags);
    const T m1 = ft_opt_lerp(s0[i], gr, w, lo);
    s0[i] = m1;
    const T a = ft_opt_mul(s1[i], b2), b = ft_opt_add(ft_opt_abs(gr), eps);
    const T e = (a != a) ? a : ((b != b || b > a) ? b : a);  // torch.maximum: NaN wins
    s1[i] = e;
    p[i] = ft_opt_add(p[i], ft_opt_mul(clr, ft_opt_div(m1, e)));
  }
}

template <class T>
FT_DEV void ft_nadam_impl(FT_OPT_PARAMS) {
  const T cg = (T)c0, cm = (T)c1, wd = (T)c2, decay = (T)c3, w = (T)c4, b2 = (T)c5,
          omb2 = (T)c6, bc2 = (T)c7, eps = (T)c8;
  const bool lo = w < (T)0.5;
  const bool dec = (flags & FT_OPT_A) && (flags & FT_OPT_WD);
  const int gflags = (flags & FT_OPT_A) ? (flags & ~FT_OPT_WD) : flags;
  FT_GRID_STRIDE(i, n) {
    T x = p[i];
    if (dec) x = ft_opt_mul(x, decay);
    const T gr = ft_opt_grad(g[i], x, wd, gflags);
    const T m1 = ft_opt_lerp(s0[i], gr, w, lo);
    s0[i] = m1;
    const T v1 = ft_opt_add(ft_opt_mul(s1[i], b2), ft_opt_mul(ft_opt_mul(omb2, gr), gr));
    s1[i] = v1;
    const T denom = ft_opt_add(ft_opt_sqrt(ft_opt_div(v1, bc2)), eps);
    x = ft_opt_add(x, ft_opt_mul(cg, ft_opt_div(gr, denom)));
    p[i] = ft_opt_add(x, ft_opt_mul(cm, ft_opt_div(m1, denom)));
  }
}

template <class T>
FT_DEV void ft_radam_impl(FT_OPT_PARAMS) {
  const T wd = (T)c0, decay = (T)c1, w = (T)c2, b2 = (T)c3, omb2 = (T)c4, bc1 = (T)c5,
          lr = (T)c6, bc2s = (T)c7, eps = (T)c8, rect = (T)c9;
  const bool lo = w < (T)0.5;
  const bool dec = (flags & FT_OPT_A) && (flags & FT_OPT_WD);
  const int gflags = (flags & FT_OPT_A) ? (flags & ~FT_OPT_WD) : flags;
  FT_GRID_STRIDE(i, n) {
    T x = p[i];
    if (dec) x = ft_opt_mul(x, decay);
    const T gr = ft_opt_grad(g[i], x, wd, gflags);
    const T m1 = ft_opt_lerp(s0[i], gr, w, lo);
    s0[i] = m1;
    const T v1 = ft_opt_add(ft_opt_mul(s1[i], b2), ft_opt_mul(ft_opt_mul(omb2, gr), gr));
    s1[i] = v1;
    T upd = ft_opt_mul(ft_opt_div(m1, bc1), lr);
    if (flags & FT_OPT_B)
      upd = ft_opt_mul(ft_opt_mul(upd, ft_opt_div(bc2s, ft_opt_add(ft_opt_sqrt(v1), eps))), rect);
    p[i] = ft_opt_sub(x, upd);
  }
}

template <class T>
FT_DEV void ft_asgd_impl(FT_OPT_PARAMS) {
  const T decay = (T)c0, neg_eta = (T)c1, wd = (T)c2, mu = (T)c3;
  FT_GRID_STRIDE(i, n) {
    const T gr = ft_opt_grad(g[i], p[i], wd, flags);
    const T x = ft_opt_add(ft_opt_mul(p[i], decay), ft_opt_mul(neg_eta, gr));
    p[i] = x;
    s0[i] = (flags & FT_OPT_A) ? ft_opt_add(s0[i], ft_opt_mul(ft_opt_sub(x, s0[i]), mu)) : x;
  }
}

template <class T>
FT_DEV void ft_rprop_impl(FT_OPT_PARAMS) {
  const T etaminus = (T)c0, etaplus = (T)c1, smin = (T)c2, smax = (T)c3;
  const T zero = (T)0, one = (T)1;
  FT_GRID_STRIDE(i, n) {
    T gr = (flags & FT_OPT_MAX) ? -g[i] : g[i];
    const T prod = ft_opt_mul(gr, s0[i]);
    const T fac = prod > zero ? etaplus : (prod < zero ? etaminus : one);  // sign(NaN) = 0
    T s = ft_opt_mul(s1[i], fac);
    s = s < smin ? smin : s;  // clamp: min(max(s, lo), hi), NaN propagates
    s = s > smax ? smax : s;
    s1[i] = s;
    if (fac == etaminus) gr = zero;
    const T sign = gr > zero ? one : (gr < zero ? -one : zero);
    p[i] = ft_opt_add(p[i], ft_opt_mul(-sign, s));
    s0[i] = gr;
  }
}

template <class T>
FT_DEV void ft_sparse_adam_impl(FT_OPT_PARAMS) {
  const T neg_step = (T)c0, w1 = (T)c1, w2 = (T)c2, eps = (T)c3;
  FT_GRID_STRIDE(i, n) {
    if (g[i] == (T)0) continue;  // only the gradient's nonzero entries
    const T gr = (flags & FT_OPT_MAX) ? -g[i] : g[i];
    const T m0 = s0[i], v0 = s1[i];
    const T mu = ft_opt_mul(ft_opt_sub(gr, m0), w1);
    s0[i] = ft_opt_add(m0, mu);
    const T vu = ft_opt_mul(ft_opt_sub(ft_opt_mul(gr, gr), v0), w2);
    s1[i] = ft_opt_add(v0, vu);
    const T denom = ft_opt_add(ft_opt_sqrt(ft_opt_add(vu, v0)), eps);
    p[i] = ft_opt_add(p[i], ft_opt_mul(neg_step, ft_opt_div(ft_opt_add(mu, m0), denom)));
  }
}

#define FT_OPT_ARGS p, g, s0, s1, s2, n, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, flags
#define FT_OPT_KERNEL(algo, dt)                                                              \
  FT_KERNEL ft_##algo##_##dt(dt *p, const dt *g, dt *s0, dt *s1, dt *s2, long long n,        \
                             double c0, double c1, double c2, double c3, double c4,          \
                             double c5, double c6, double c7, double c8, double c9,          \
                             int flags) {                                                    \
    ft_##algo##_impl<dt>(FT_OPT_ARGS);                                                       \
  }
#define FT_INST_OPTIM2(dt, _)                                                                \
  FT_OPT_KERNEL(rmsprop, dt)                                                                 \
  FT_OPT_KERNEL(adagrad, dt)                                                                 \
  FT_OPT_KERNEL(adadelta, dt)                                                                \
  FT_OPT_KERNEL(adamax, dt)                                                                  \
  FT_OPT_KERNEL(nadam, dt)                                                                   \
  FT_OPT_KERNEL(radam, dt)                                                                   \
  FT_OPT_KERNEL(asgd, dt)                                                                    \
  FT_OPT_KERNEL(rprop, dt)                                                                   \
  FT_OPT_KERNEL(sparse_adam, dt)
FT_ON_f32(FT_INST_OPTIM2, _)
FT_ON_f64(FT_INST_OPTIM2, _)

// ================================================================ gradient scaling (amp)
//   ft_amp_unscale_<f32|f64>(T* g, long long n, const float* inv_scale, float* found_inf)
//     PyTorch's _amp_foreach_non_finite_check_and_unscale_ over one contiguous gradient:
//     *found_inf = 1.0f when some g[i] is inf or NaN (never reset here: one flag collects a
//     whole group); g[i] = g[i] * (T)*inv_scale unless *inv_scale == 1. Racing stores all
//     write the same value.
//   ft_amp_update_scale(float* scale, int* tracker, const float* found_inf,
//                       double growth_factor, double backoff_factor, int growth_interval)
//     PyTorch's _amp_update_scale_ (one thread does the work; any grid):
//     found: scale *= backoff, tracker = 0; else tracker + 1 == interval: scale *= growth
//     when the result is finite, tracker = 0; else tracker += 1. Float32 arithmetic.
template <class T>
FT_DEV void ft_amp_unscale_impl(T* g, long long n, const float* inv_scale, float* found_inf) {
  const float inv = *inv_scale;
  const T invt = (T)inv;
  int bad = 0;
  FT_GRID_STRIDE(i, n) {
    const T v = g[i];
    bad |= !(v - v == (T)0);  // inf - inf and NaN - NaN are NaN
    if (inv != 1.0f) g[i] = ft_opt_mul(v, invt);
  }
  if (bad) *found_inf = 1.0f;
}

#define FT_INST_AMP(dt, _)                                                                   \
  FT_KERNEL ft_amp_unscale_##dt(dt* g, long long n, const float* inv_scale, float* found_inf) { \
    ft_amp_unscale_impl<dt>(g, n, inv_scale, found_inf);                                     \
  }
FT_ON_f32(FT_INST_AMP, _)
FT_ON_f64(FT_INST_AMP, _)

FT_KERNEL ft_amp_update_scale(float* scale, int* tracker, const float* found_inf,
                              double growth_factor, double backoff_factor, int growth_interval) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  if (*found_inf != 0.0f) {
    *scale = ft_opt_mul(*scale, (float)backoff_factor);
    *tracker = 0;
  } else {
    const int ok = *tracker + 1;
    if (ok == growth_interval) {
      const float grown = ft_opt_mul(*scale, (float)growth_factor);
      if (grown - grown == 0.0f) *scale = grown;
      *tracker = 0;
    } else {
      *tracker = ok;
    }
  }
}
