// ferrotorch elementwise kernels.
//
// Every exported kernel is `extern "C" __global__`, named ft_<op>_<dtype>, dtype one of
// bool u8 i8 i16 i32 i64 f16 bf16 f32 f64. Inputs are strided (Layout by value, already
// broadcast to the output shape: stride 0 on broadcast dims), `out` is contiguous unless a
// Layout is given for it. Any grid/block shape works (grid-stride loops).
//
//   unary   ft_<op>_<dt>(const T* x, Layout lx, T* out, long long n)
//   pred    ft_<op>_<dt>(const T* x, Layout lx, bool* out, long long n)      isnan.. logical_not
//   binary  ft_<op>_<dt>(const T* a, Layout la, const T* b, Layout lb, T* out, long long n)
//   compare ft_<op>_<dt>(const T* a, Layout la, const T* b, Layout lb, bool* out, long long n)
//   where   ft_where_<dt>(const bool* c, Layout lc, const T* a, Layout la, const T* b,
//                         Layout lb, T* out, long long n)
//   lerp    ft_lerp_<dt>(const T* a, Layout la, const T* b, Layout lb, const T* w, Layout lw,
//                        T* out, long long n)                  out = a + w * (b - a)
//   cast    ft_cast_<src>_<dst>(const S* x, Layout lx, D* out, long long n)
//   copy    ft_copy_<dt>(const T* x, Layout lx, T* out, Layout lo, long long n)  strided out
//   fill    ft_fill_<dt>(T* out, Layout lo, T value, long long n)               strided out
//
// f16/bf16 are computed in float and rounded once; integer arithmetic wraps. Integer
// division/remainder by zero gives 0 (no trap).
#ifndef FT_COMMON_CUH
#include "common.cuh"
#endif

// ================================================================ scalar helpers
FT_DEV float ft_fmod(float a, float b) { return fmodf(a, b); }
FT_DEV double ft_fmod(double a, double b) { return fmod(a, b); }
FT_DEV float ft_floor(float a) { return floorf(a); }
FT_DEV double ft_floor(double a) { return floor(a); }
FT_DEV float ft_copysign(float a, float b) { return copysignf(a, b); }
FT_DEV double ft_copysign(double a, double b) { return copysign(a, b); }
FT_DEV float ft_pow_f(float a, float b) { return powf(a, b); }
FT_DEV double ft_pow_f(double a, double b) { return pow(a, b); }
FT_DEV float ft_atan2(float a, float b) { return atan2f(a, b); }
FT_DEV double ft_atan2(double a, double b) { return atan2(a, b); }

template <class C> FT_DEV bool ft_nz(C x) { return x != (C)0; }

// NaN-propagating max/min (torch.maximum / torch.minimum)
template <class C> FT_DEV C ft_maximum(C a, C b) { return (a != a || a > b) ? a : b; }
template <class C> FT_DEV C ft_minimum(C a, C b) { return (a != a || a < b) ? a : b; }

// negation with wrap-around for integers
template <class C> FT_DEV C ft_wrap_neg(C a) { return (C)(0ull - (u64)a); }

template <class C> FT_DEV C ft_div(C a, C b) {
  if constexpr (ft_is_float<C>::value) {
    return a / b;
  } else {  // truncating integer division
    if (b == 0) return (C)0;
    if constexpr (ft_is_signed<C>::value) {
      if (b == (C)-1) return ft_wrap_neg(a);
    }
    return (C)(a / b);
  }
}

// C fmod: result has the sign of a
template <class C> FT_DEV C ft_fmod_any(C a, C b) {
  if constexpr (ft_is_float<C>::value) {
    return ft_fmod(a, b);
  } else {
    if (b == 0) return (C)0;
    if constexpr (ft_is_signed<C>::value) {
      if (b == (C)-1) return (C)0;
    }
    return (C)(a % b);
  }
}

// Python remainder: result has the sign of b
template <class C> FT_DEV C ft_remainder(C a, C b) {
  C r = ft_fmod_any(a, b);
  if constexpr (ft_is_signed<C>::value) {
    if (r != (C)0 && ((r < (C)0) != (b < (C)0))) r = (C)(r + b);
  }
  return r;
}

// Shifts with PyTorch's semantics (ops/elementwise.rs `shift`): a count < 0 or >= the bit
// width gives 0, or -1 for a right shift of a negative value; a left shift wraps.
template <class C> FT_DEV C ft_shift(C a, C b, bool left) {
  const long long bits = (long long)sizeof(C) * 8;
  long long v = (long long)a, s = (long long)b;
  if (s < 0 || s >= bits) return (left || v >= 0) ? (C)0 : (C)-1;
  if (left) return (C)((unsigned long long)v << s);
  return (C)(v >> s);  // u8 values are non-negative: the arithmetic shift is the logical one
}

// Python floor division (PyTorch's div_floor for floats)
template <class C> FT_DEV C ft_floor_divide(C a, C b) {
  if constexpr (ft_is_float<C>::value) {
    if (b == (C)0) return a / b;
    C mod = ft_fmod(a, b);
    C div = (a - mod) / b;
    if (mod != (C)0 && ((b < (C)0) != (mod < (C)0))) div -= (C)1;
    C fl;
    if (div != (C)0) {
      fl = ft_floor(div);
      if (div - fl > (C)0.5) fl += (C)1;
    } else {
      fl = ft_copysign((C)0, a / b);
    }
    return fl;
  } else {
    if (b == 0) return (C)0;
    if constexpr (ft_is_signed<C>::value) {
      if (b == (C)-1) return ft_wrap_neg(a);
      C q = (C)(a / b);
      if ((C)(a % b) != (C)0 && ((a < (C)0) != (b < (C)0))) q = (C)(q - 1);
      return q;
    } else {
      return (C)(a / b);
    }
  }
}

template <class C> FT_DEV C ft_pow(C a, C b) {
  if constexpr (ft_is_float<C>::value) {
    return ft_pow_f(a, b);
  } else {
    if constexpr (ft_is_signed<C>::value) {
      if (b < (C)0) {
        if (a == (C)1) return (C)1;
        if (a == (C)-1) return (b & 1) ? (C)-1 : (C)1;
        return (C)0;
      }
    }
    u64 r = 1, base = (u64)a, e = (u64)b;
    while (e) {
      if (e & 1) r *= base;
      base *= base;
      e >>= 1;
    }
    return (C)r;
  }
}

template <class C> FT_DEV C ft_lerp(C s, C e, C w) {
  C d = e - s;
  return (w < (C)0.5) ? s + w * d : e - d * ((C)1 - w);
}

// integer unary helpers
template <class C> FT_DEV C ft_iabs(C x) {
  if constexpr (ft_is_signed<C>::value) return x < (C)0 ? ft_wrap_neg(x) : x;
  else return x;
}
template <class C> FT_DEV C ft_isign(C x) {
  if constexpr (ft_is_signed<C>::value) return (C)((x > (C)0) - (x < (C)0));
  else return (C)(x > (C)0);
}
template <class C> FT_DEV C ft_irelu(C x) {
  if constexpr (ft_is_signed<C>::value) return x > (C)0 ? x : (C)0;
  else return x;
}
template <class C> FT_DEV C ft_bnot(C x) {
  if constexpr (ft_same<C, bool>::value) return !x;
  else return (C)~x;
}

// ================================================================ op tables
// Unary float ops: X(name, float expression of x, double expression of x).
#define FT_UNARY_FLOAT_OPS(X)                                                          \
  X(abs, fabsf(x), fabs(x))                                                            \
  X(neg, -x, -x)                                                                       \
  X(sign, x > 0.f ? 1.f : (x < 0.f ? -1.f : x), x > 0. ? 1. : (x < 0. ? -1. : x))      \
  X(exp, expf(x), exp(x))                                                              \
  X(exp2, exp2f(x), exp2(x))                                                           \
  X(expm1, expm1f(x), expm1(x))                                                        \
  X(log, logf(x), log(x))                                                              \
  X(log2, log2f(x), log2(x))                                                           \
  X(log10, log10f(x), log10(x))                                                        \
  X(log1p, log1pf(x), log1p(x))                                                        \
  X(sqrt, sqrtf(x), sqrt(x))                                                           \
  X(rsqrt, rsqrtf(x), rsqrt(x))                                                        \
  X(square, x * x, x * x)                                                              \
  X(sin, sinf(x), sin(x))                                                              \
  X(cos, cosf(x), cos(x))                                                              \
  X(tan, tanf(x), tan(x))                                                              \
  X(asin, asinf(x), asin(x))                                                           \
  X(acos, acosf(x), acos(x))                                                           \
  X(atan, atanf(x), atan(x))                                                           \
  X(sinh, sinhf(x), sinh(x))                                                           \
  X(cosh, coshf(x), cosh(x))                                                           \
  X(tanh, tanhf(x), tanh(x))                                                           \
  X(asinh, asinhf(x), asinh(x))                                                        \
  X(acosh, acoshf(x), acosh(x))                                                        \
  X(atanh, atanhf(x), atanh(x))                                                        \
  X(sigmoid, 1.f / (1.f + expf(-x)), 1. / (1. + exp(-x)))                              \
  X(relu, x != x ? x : (x > 0.f ? x : 0.f), x != x ? x : (x > 0. ? x : 0.))            \
  X(erf, erff(x), erf(x))                                                              \
  X(erfinv, erfinvf(x), erfinv(x))                                                     \
  X(floor, floorf(x), floor(x))                                                        \
  X(ceil, ceilf(x), ceil(x))                                                           \
  X(round, rintf(x), rint(x))                                                          \
  X(trunc, truncf(x), trunc(x))                                                        \
  X(frac, x - truncf(x), x - trunc(x))                                                 \
  X(reciprocal, 1.f / x, 1. / x)                                                       \
  X(silu, x / (1.f + expf(-x)), x / (1. + exp(-x)))                                    \
  X(gelu, 0.5f * x * (1.f + erff(x * 0.7071067811865476f)),                            \
    0.5 * x * (1. + erf(x * 0.7071067811865476)))                                      \
  X(gelu_tanh,                                                                         \
    0.5f * x * (1.f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x))),       \
    0.5 * x * (1. + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))))            \
  X(softplus, x > 20.f ? x : log1pf(expf(x)), x > 20. ? x : log1p(exp(x)))             \
  X(mish, x * tanhf(x > 20.f ? x : log1pf(expf(x))),                                   \
    x * tanh(x > 20. ? x : log1p(exp(x))))                                             \
  X(hardsigmoid, x <= -3.f ? 0.f : (x >= 3.f ? 1.f : x / 6.f + 0.5f),                  \
    x <= -3. ? 0. : (x >= 3. ? 1. : x / 6. + 0.5))                                     \
  X(hardswish, x <= -3.f ? 0.f : (x >= 3.f ? x : x * (x + 3.f) / 6.f),                 \
    x <= -3. ? 0. : (x >= 3. ? x : x * (x + 3.) / 6.))

// Unary integer ops (u8 i8 i16 i32 i64): X(name, expression of x of type T)
#define FT_UNARY_INT_OPS(X) \
  X(abs, ft_iabs(x))        \
  X(neg, ft_wrap_neg(x))    \
  X(sign, ft_isign(x))      \
  X(square, (T)(x * x))     \
  X(relu, ft_irelu(x))

// Unary ops with bool output: X(name, expression of x (compute type), dtype set)
#define FT_UNARY_PRED_OPS(X)         \
  X(isnan, x != x, FLOAT)            \
  X(isinf, x == x && (x - x) != (x - x), FLOAT) \
  X(isfinite, (x - x) == (x - x), FLOAT) \
  X(logical_not, !ft_nz(x), ALL)

// Binary ops with output dtype = input dtype: X(name, expression of a, b (compute type C), set)
#define FT_BINARY_OPS(X)                             \
  X(add, a + b, NUMERIC)                             \
  X(sub, a - b, NUMERIC)                             \
  X(mul, a * b, NUMERIC)                             \
  X(div, ft_div(a, b), NUMERIC)                      \
  X(pow, ft_pow(a, b), NUMERIC)                      \
  X(fmod, ft_fmod_any(a, b), NUMERIC)                \
  X(remainder, ft_remainder(a, b), NUMERIC)          \
  X(floor_divide, ft_floor_divide(a, b), NUMERIC)    \
  X(atan2, ft_atan2(a, b), FLOAT)                    \
  X(maximum, ft_maximum(a, b), ALL)                  \
  X(minimum, ft_minimum(a, b), ALL)                  \
  X(bitwise_and, a & b, INTBOOL)                     \
  X(bitwise_or, a | b, INTBOOL)                      \
  X(bitwise_xor, a ^ b, INTBOOL)                     \
  X(bitwise_left_shift, ft_shift(a, b, true), INT)   \
  X(bitwise_right_shift, ft_shift(a, b, false), INT)

// Binary ops with bool output
#define FT_COMPARE_OPS(X)                              \
  X(eq, a == b, ALL)                                   \
  X(ne, a != b, ALL)                                   \
  X(lt, a < b, ALL)                                    \
  X(le, a <= b, ALL)                                   \
  X(gt, a > b, ALL)                                    \
  X(ge, a >= b, ALL)                                   \
  X(logical_and, ft_nz(a) && ft_nz(b), ALL)            \
  X(logical_or, ft_nz(a) || ft_nz(b), ALL)             \
  X(logical_xor, ft_nz(a) != ft_nz(b), ALL)

// ================================================================ generic bodies
template <class T, class Op> FT_DEV void ft_unary_float(const T* x, const Layout& lx, T* out,
                                                        long long n) {
  FT_GRID_STRIDE(i, n) {
    T v = x[ft_offset(lx, i)];
    if constexpr (ft_same<T, double>::value) out[i] = Op::d(v);
    else if constexpr (ft_same<T, float>::value) out[i] = Op::f(v);
    else out[i] = ft_half_from_f32<T>(Op::f(ft_half_to_f32(v)));
  }
}

template <class T, class O, class Op> FT_DEV void ft_unary_gen(const T* x, const Layout& lx,
                                                               O* out, long long n) {
  typedef typename ft_compute<T>::type C;
  FT_GRID_STRIDE(i, n) { out[i] = ft_cast<O>(Op::template f<C>(ft_cast<C>(x[ft_offset(lx, i)]))); }
}

template <class T, class O, class Op>
FT_DEV void ft_binary(const T* a, const Layout& la, const T* b, const Layout& lb, O* out,
                      long long n) {
  typedef typename ft_compute<T>::type C;
  FT_GRID_STRIDE(i, n) {
    C x = ft_cast<C>(a[ft_offset(la, i)]);
    C y = ft_cast<C>(b[ft_offset(lb, i)]);
    out[i] = ft_cast<O>(Op::template f<C>(x, y));
  }
}

// ================================================================ instantiation
// unary float
#define FT_DEF_UFLOAT(name, fexpr, dexpr)                       \
  struct ft_uf_##name {                                         \
    static FT_DEV float f(float x) { return fexpr; }            \
    static FT_DEV double d(double x) { return dexpr; }          \
  };
FT_UNARY_FLOAT_OPS(FT_DEF_UFLOAT)
#define FT_INST_UFLOAT(dt, name)                                                  \
  FT_KERNEL ft_##name##_##dt(const dt* x, Layout lx, dt* out, long long n) {      \
    ft_unary_float<dt, ft_uf_##name>(x, lx, out, n);                              \
  }
#define FT_ROW_UFLOAT(name, fexpr, dexpr) FT_FOR_FLOAT(FT_INST_UFLOAT, name)
FT_UNARY_FLOAT_OPS(FT_ROW_UFLOAT)

// unary int
#define FT_DEF_UINT(name, expr)                            \
  struct ft_ui_##name {                                    \
    template <class T> static FT_DEV T f(T x) { return expr; } \
  };
FT_UNARY_INT_OPS(FT_DEF_UINT)
#define FT_INST_UINT(dt, name)                                                    \
  FT_KERNEL ft_##name##_##dt(const dt* x, Layout lx, dt* out, long long n) {      \
    ft_unary_gen<dt, dt, ft_ui_##name>(x, lx, out, n);                            \
  }
#define FT_ROW_UINT(name, expr) FT_FOR_INT(FT_INST_UINT, name)
FT_UNARY_INT_OPS(FT_ROW_UINT)

// bitwise_not (ints and bool)
struct ft_ui_bitwise_not {
  template <class T> static FT_DEV T f(T x) { return ft_bnot(x); }
};
FT_FOR_INTBOOL(FT_INST_UINT, bitwise_not)

// unary predicates -> bool
#define FT_DEF_UPRED(name, expr, set)                             \
  struct ft_up_##name {                                           \
    template <class C> static FT_DEV bool f(C x) { return expr; } \
  };
FT_UNARY_PRED_OPS(FT_DEF_UPRED)
#define FT_INST_UPRED(dt, name)                                                   \
  FT_KERNEL ft_##name##_##dt(const dt* x, Layout lx, bool* out, long long n) {    \
    ft_unary_gen<dt, bool, ft_up_##name>(x, lx, out, n);                          \
  }
#define FT_ROW_UPRED(name, expr, set) FT_FOR_##set(FT_INST_UPRED, name)
FT_UNARY_PRED_OPS(FT_ROW_UPRED)

// binary, same-dtype output
#define FT_DEF_BIN(name, expr, set)                                   \
  struct ft_b_##name {                                                \
    template <class C> static FT_DEV C f(C a, C b) { return (C)(expr); } \
  };
FT_BINARY_OPS(FT_DEF_BIN)
#define FT_INST_BIN(dt, name)                                                            \
  FT_KERNEL ft_##name##_##dt(const dt* a, Layout la, const dt* b, Layout lb, dt* out,   \
                             long long n) {                                              \
    ft_binary<dt, dt, ft_b_##name>(a, la, b, lb, out, n);                                \
  }
#define FT_ROW_BIN(name, expr, set) FT_FOR_##set(FT_INST_BIN, name)
FT_BINARY_OPS(FT_ROW_BIN)

// binary, bool output
#define FT_DEF_CMP(name, expr, set)                                     \
  struct ft_c_##name {                                                  \
    template <class C> static FT_DEV bool f(C a, C b) { return expr; }  \
  };
FT_COMPARE_OPS(FT_DEF_CMP)
#define FT_INST_CMP(dt, name)                                                            \
  FT_KERNEL ft_##name##_##dt(const dt* a, Layout la, const dt* b, Layout lb, bool* out, \
                             long long n) {                                              \
    ft_binary<dt, bool, ft_c_##name>(a, la, b, lb, out, n);                              \
  }
#define FT_ROW_CMP(name, expr, set) FT_FOR_##set(FT_INST_CMP, name)
FT_COMPARE_OPS(FT_ROW_CMP)

// where(cond, a, b): raw element copy, every dtype
#define FT_INST_WHERE(dt, _)                                                                \
  FT_KERNEL ft_where_##dt(const bool* c, Layout lc, const dt* a, Layout la, const dt* b,   \
                          Layout lb, dt* out, long long n) {                                \
    FT_GRID_STRIDE(i, n) { out[i] = c[ft_offset(lc, i)] ? a[ft_offset(la, i)] : b[ft_offset(lb, i)]; } \
  }
FT_FOR_ALL(FT_INST_WHERE, _)

// lerp(start, end, weight), float dtypes (PyTorch's two-sided formula)
#define FT_INST_LERP(dt, _)                                                                 \
  FT_KERNEL ft_lerp_##dt(const dt* a, Layout la, const dt* b, Layout lb, const dt* w,      \
                         Layout lw, dt* out, long long n) {                                 \
    typedef ft_compute<dt>::type C;                                                         \
    FT_GRID_STRIDE(i, n) {                                                                  \
      out[i] = ft_cast<dt>(ft_lerp<C>(ft_cast<C>(a[ft_offset(la, i)]),                      \
                                      ft_cast<C>(b[ft_offset(lb, i)]),                      \
                                      ft_cast<C>(w[ft_offset(lw, i)])));                    \
    }                                                                                       \
  }
FT_FOR_FLOAT(FT_INST_LERP, _)

// cast: ft_cast_<src>_<dst>, all 10 x 10 (the identity ones are strided -> contiguous copies)
#define FT_INST_CAST(dst, src)                                                    \
  FT_KERNEL ft_cast_##src##_##dst(const src* x, Layout lx, dst* out, long long n) { \
    FT_GRID_STRIDE(i, n) { out[i] = ft_cast<dst>(x[ft_offset(lx, i)]); }          \
  }
#define FT_CAST_FROM(src, _) FT_FOR_EVERY(FT_INST_CAST, src)
FT_FOR_ALL(FT_CAST_FROM, _)

// strided -> strided copy, and fill of a strided output
#define FT_INST_COPY(dt, _)                                                                  \
  FT_KERNEL ft_copy_##dt(const dt* x, Layout lx, dt* out, Layout lo, long long n) {         \
    FT_GRID_STRIDE(i, n) { out[ft_offset(lo, i)] = x[ft_offset(lx, i)]; }                   \
  }                                                                                          \
  FT_KERNEL ft_fill_##dt(dt* out, Layout lo, dt value, long long n) {                       \
    FT_GRID_STRIDE(i, n) { out[ft_offset(lo, i)] = value; }                                 \
  }
FT_FOR_ALL(FT_INST_COPY, _)
