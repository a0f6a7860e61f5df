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
