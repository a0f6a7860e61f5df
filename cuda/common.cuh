// ferrotorch CUDA kernels: shared definitions.
//
// Self-contained: includes nothing (no <cuda_fp16.h>, no system headers), so NVRTC can
// compile it without a CUDA toolkit. Every kernel file starts with
//     #ifndef FT_COMMON_CUH
//     #include "common.cuh"
//     #endif
// so the host may either pass `-I<dir of this file>` or simply prepend this file's text to
// the kernel source (concat!(include_str!("common.cuh"), include_str!("elementwise.cu"))):
// the #include inside the skipped #ifndef group is then never looked up.
//
// Under FT_CPU_EMU (tests/cuda_emu/cuda_emu.h) the inline PTX is replaced by portable code
// so the same sources compile as plain C++ with g++.
//
// Dtype selection: FT_DT_<NAME> (NAME = BOOL U8 I8 I16 I32 I64 F16 BF16 F32 F64) is 1 or 0
// and defaults to FT_DT_DEFAULT (default 1). A module can be built for a single dtype with
//     -DFT_DT_DEFAULT=0 -DFT_DT_F32=1
// which keeps every kernel whose (first) dtype is f32, casts from f32 to all 10 dtypes
// included; per-dtype modules compile ~10x faster than the whole file, which matters for a
// first-use NVRTC compile. The CPU emulation build uses the same switches.
#ifndef FT_COMMON_CUH
#define FT_COMMON_CUH

// ---------------------------------------------------------------- attributes
#ifdef FT_CPU_EMU
#define FT_DEV inline
#define FT_DEV_NOINLINE inline
#else
#define FT_DEV __device__ __forceinline__
#define FT_DEV_NOINLINE __device__ __noinline__
#endif
#define FT_KERNEL extern "C" __global__ void
#ifdef FT_CPU_EMU
#define FT_NO_UNROLL
#else
#define FT_NO_UNROLL _Pragma("unroll 1")
#endif

// ---------------------------------------------------------------- fixed-width integers
typedef signed char i8;
typedef unsigned char u8;
typedef short i16;
typedef unsigned short u16;
typedef int i32;
typedef unsigned int u32;
typedef long long i64;
typedef unsigned long long u64;
typedef float f32;
typedef double f64;

// Storage-only half types (bit patterns). Arithmetic goes through float.
struct f16 { u16 bits; };
struct bf16 { u16 bits; };

// ---------------------------------------------------------------- type traits
template <class A, class B> struct ft_same { static const bool value = false; };
template <class A> struct ft_same<A, A> { static const bool value = true; };

template <class T> struct ft_is_half { static const bool value = false; };
template <> struct ft_is_half<f16> { static const bool value = true; };
template <> struct ft_is_half<bf16> { static const bool value = true; };

template <class T> struct ft_is_float { static const bool value = ft_is_half<T>::value; };
template <> struct ft_is_float<float> { static const bool value = true; };
template <> struct ft_is_float<double> { static const bool value = true; };

template <class T> struct ft_is_signed { static const bool value = (T)(-1) < (T)0; };
template <> struct ft_is_signed<bool> { static const bool value = false; };
template <> struct ft_is_signed<f16> { static const bool value = true; };
template <> struct ft_is_signed<bf16> { static const bool value = true; };

// Compute type of elementwise math: halves in float, everything else in itself.
template <class T> struct ft_compute { typedef T type; };
template <> struct ft_compute<f16> { typedef float type; };
template <> struct ft_compute<bf16> { typedef float type; };

// Accumulator of reductions/scans: f16/bf16/f32 -> float, f64 -> double, int/bool -> i64.
template <class T> struct ft_accum { typedef i64 type; };
template <> struct ft_accum<f16> { typedef float type; };
template <> struct ft_accum<bf16> { typedef float type; };
template <> struct ft_accum<float> { typedef float type; };
template <> struct ft_accum<double> { typedef double type; };

// Output type of sum/prod/cumsum/cumprod: float dtypes keep their dtype, int/bool -> i64
// (PyTorch promotes integer sums to int64).
template <class T> struct ft_sum_out { typedef i64 type; };
template <> struct ft_sum_out<f16> { typedef f16 type; };
template <> struct ft_sum_out<bf16> { typedef bf16 type; };
template <> struct ft_sum_out<float> { typedef float type; };
template <> struct ft_sum_out<double> { typedef double type; };

// ---------------------------------------------------------------- half conversions
// f32 -> bf16: round to nearest even; NaN stays a (quiet) NaN with the sign kept.
FT_DEV bf16 ft_f32_to_bf16(float f) {
  u32 u = __float_as_uint(f);
  bf16 r;
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    r.bits = (u16)((u >> 16) | 0x40u);
  } else {
    u += 0x7fffu + ((u >> 16) & 1u);
    r.bits = (u16)(u >> 16);
  }
  return r;
}
FT_DEV float ft_bf16_to_f32(bf16 h) { return __uint_as_float(((u32)h.bits) << 16); }

#ifdef FT_CPU_EMU
// Portable IEEE binary16 conversions (round to nearest even), same results as cvt.rn.f16.f32.
FT_DEV f16 ft_f32_to_f16(float f) {
  u32 x = __float_as_uint(f);
  u32 sign = (x >> 16) & 0x8000u;
  u32 ax = x & 0x7fffffffu;
  f16 r;
  if (ax >= 0x7f800000u) {  // inf / nan
    r.bits = (u16)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0u));
  } else if (ax >= 0x477ff000u) {  // >= 65520 rounds to inf
    r.bits = (u16)(sign | 0x7c00u);
  } else if (ax < 0x38800000u) {  // result is subnormal (or zero): units of 2^-24
    float v = __uint_as_float(ax) * 16777216.0f;  // exact scaling
    r.bits = (u16)(sign | (u32)rintf(v));        // rintf: ties to even; 1024 -> min normal
  } else {
    u32 e = (ax >> 23) - 127u + 15u;
    u32 m = ax & 0x7fffffu;
    u32 h = (e << 10) | (m >> 13);
    u32 rem = m & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
    r.bits = (u16)(sign | h);
  }
  return r;
}
FT_DEV float ft_f16_to_f32(f16 h) {
  u32 sign = ((u32)h.bits & 0x8000u) << 16;
  u32 e = ((u32)h.bits >> 10) & 0x1fu;
  u32 m = (u32)h.bits & 0x3ffu;
  if (e == 0) {
    float v = (float)m * 5.9604644775390625e-8f;  // m * 2^-24, exact
    return __uint_as_float(__float_as_uint(v) | sign);
  }
  if (e == 31) return __uint_as_float(sign | 0x7f800000u | (m << 13));
  return __uint_as_float(sign | ((e - 15u + 127u) << 23) | (m << 13));
}
// double -> float rounding toward zero (cvt.rz.f32.f64)
FT_DEV float ft_f64_to_f32_rz(double d) {
  float f = (float)d;
  if (f == f && fabs((double)f) > fabs(d)) f = nextafterf(f, 0.0f);
  return f;
}
#else
FT_DEV f16 ft_f32_to_f16(float f) {
  f16 r;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(r.bits) : "f"(f));
  return r;
}
FT_DEV float ft_f16_to_f32(f16 h) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h.bits));
  return f;
}
FT_DEV float ft_f64_to_f32_rz(double d) {
  float f;
  asm("cvt.rz.f32.f64 %0, %1;" : "=f"(f) : "d"(d));
  return f;
}
#endif

// double -> float with round-to-odd: rounding that float to f16/bf16 afterwards gives the
// correctly rounded (nearest-even) result of the direct double -> f16/bf16 conversion.
FT_DEV float ft_f64_to_f32_odd(double d) {
  float f = ft_f64_to_f32_rz(d);
  if (f == f && (double)f != d) f = __uint_as_float(__float_as_uint(f) | 1u);
  return f;
}

FT_DEV float ft_half_to_f32(f16 h) { return ft_f16_to_f32(h); }
FT_DEV float ft_half_to_f32(bf16 h) { return ft_bf16_to_f32(h); }
template <class H> FT_DEV H ft_half_from_f32(float f);
template <> FT_DEV f16 ft_half_from_f32<f16>(float f) { return ft_f32_to_f16(f); }
template <> FT_DEV bf16 ft_half_from_f32<bf16>(float f) { return ft_f32_to_bf16(f); }

// ---------------------------------------------------------------- ft_cast<To>(From)
// PyTorch conversion semantics:
//  * to bool: x != 0 (NaN -> true);
//  * float -> 8/16/32-bit int: through int64 (C truncation toward zero, then wrap), so
//    -1.0 -> u8 255; out-of-range / NaN -> unspecified (as in PyTorch);
//  * -> f16/bf16: round to nearest even, a single rounding from f32, f64 and all ints
//    (i64 values beyond 2^53 are first rounded to double);
//  * f16/bf16 -> anything: exact widening to float first.
template <class To, class From> FT_DEV To ft_cast(From x) {
  if constexpr (ft_same<To, From>::value) {
    return x;
  } else if constexpr (ft_is_half<From>::value) {
    return ft_cast<To>(ft_half_to_f32(x));
  } else if constexpr (ft_is_half<To>::value) {
    if constexpr (ft_same<From, double>::value || ft_same<From, i64>::value ||
                  ft_same<From, i32>::value)
      return ft_half_from_f32<To>(ft_f64_to_f32_odd((double)x));
    else
      return ft_half_from_f32<To>((float)x);
  } else if constexpr (ft_same<To, bool>::value) {
    return x != (From)0;
  } else if constexpr (ft_is_float<From>::value && !ft_is_float<To>::value &&
                       sizeof(To) < 8) {
    return (To)(i64)x;
  } else {
    return (To)x;
  }
}

// ---------------------------------------------------------------- strided layout
#define FT_MAX_DIMS 8
// A strided view, in elements. Passed BY VALUE to kernels (C layout: int ndim; 4 bytes of
// padding; i64 shape[8]; i64 strides[8]; i64 offset -> 144 bytes, 8-byte aligned).
// `shape` is the logical (row-major) shape being iterated; broadcast dims have stride 0.
struct Layout {
  int ndim;
  long long shape[FT_MAX_DIMS];
  long long strides[FT_MAX_DIMS];
  long long offset;
};

// Row-major linear index in l.shape -> element offset (incl. l.offset). The general path
// is out of line so that the ~600 kernels of a module share one copy of it.
FT_DEV_NOINLINE long long ft_offset_general(Layout l, long long linear) {
  long long off = l.offset;
FT_NO_UNROLL
  for (int d = l.ndim - 1; d >= 0; --d) {
    long long s = l.shape[d];
    long long q = linear / s;
    off += (linear - q * s) * l.strides[d];
    linear = q;
  }
  return off;
}
FT_DEV long long ft_offset(const Layout& l, long long linear) {
  if (l.ndim == 1 && l.strides[0] == 1) return l.offset + linear;  // contiguous fast path
  return ft_offset_general(l, linear);
}

// Like ft_offset but the coordinates come from `shape_of` (whose shape is iterated) and
// are applied to `target`'s strides, with the coordinate of dim `dim` replaced by `repl`.
FT_DEV long long ft_offset_repl(const Layout& shape_of, const Layout& target, long long linear,
                                int dim, long long repl) {
  long long off = target.offset;
FT_NO_UNROLL
  for (int d = shape_of.ndim - 1; d >= 0; --d) {
    long long s = shape_of.shape[d];
    long long q = linear / s;
    long long c = (d == dim) ? repl : linear - q * s;
    off += c * target.strides[d];
    linear = q;
  }
  return off;
}

// Grid-stride loop over [0, n) (not unrolled: keeps the modules small; the host sizes the
// grid so that most threads run one iteration).
#define FT_GRID_STRIDE(i, n)                                                       \
  FT_NO_UNROLL for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
       i += (long long)blockDim.x * gridDim.x)

// ---------------------------------------------------------------- warp helpers
#define FT_FULL_MASK 0xffffffffu
template <class T> FT_DEV T ft_shfl_xor(T v, int m) { return __shfl_xor_sync(FT_FULL_MASK, v, m); }
template <class T> FT_DEV T ft_shfl_up(T v, int d) { return __shfl_up_sync(FT_FULL_MASK, v, d); }

// ---------------------------------------------------------------- dtype lists
// Each dtype name is also its C++ type name (bool, u8, ..., f64), so one token serves as
// kernel-name suffix and type.
#ifndef FT_DT_DEFAULT
#define FT_DT_DEFAULT 1
#endif
#ifndef FT_DT_BOOL
#define FT_DT_BOOL FT_DT_DEFAULT
#endif
#ifndef FT_DT_U8
#define FT_DT_U8 FT_DT_DEFAULT
#endif
#ifndef FT_DT_I8
#define FT_DT_I8 FT_DT_DEFAULT
#endif
#ifndef FT_DT_I16
#define FT_DT_I16 FT_DT_DEFAULT
#endif
#ifndef FT_DT_I32
#define FT_DT_I32 FT_DT_DEFAULT
#endif
#ifndef FT_DT_I64
#define FT_DT_I64 FT_DT_DEFAULT
#endif
#ifndef FT_DT_F16
#define FT_DT_F16 FT_DT_DEFAULT
#endif
#ifndef FT_DT_BF16
#define FT_DT_BF16 FT_DT_DEFAULT
#endif
#ifndef FT_DT_F32
#define FT_DT_F32 FT_DT_DEFAULT
#endif
#ifndef FT_DT_F64
#define FT_DT_F64 FT_DT_DEFAULT
#endif
// FT_ON_<dt>(M, a) expands to M(dt, a) when the dtype is enabled, else to nothing.
#if FT_DT_BOOL
#define FT_ON_bool(M, a) M(bool, a)
#else
#define FT_ON_bool(M, a)
#endif
#if FT_DT_U8
#define FT_ON_u8(M, a) M(u8, a)
#else
#define FT_ON_u8(M, a)
#endif
#if FT_DT_I8
#define FT_ON_i8(M, a) M(i8, a)
#else
#define FT_ON_i8(M, a)
#endif
#if FT_DT_I16
#define FT_ON_i16(M, a) M(i16, a)
#else
#define FT_ON_i16(M, a)
#endif
#if FT_DT_I32
#define FT_ON_i32(M, a) M(i32, a)
#else
#define FT_ON_i32(M, a)
#endif
#if FT_DT_I64
#define FT_ON_i64(M, a) M(i64, a)
#else
#define FT_ON_i64(M, a)
#endif
#if FT_DT_F16
#define FT_ON_f16(M, a) M(f16, a)
#else
#define FT_ON_f16(M, a)
#endif
#if FT_DT_BF16
#define FT_ON_bf16(M, a) M(bf16, a)
#else
#define FT_ON_bf16(M, a)
#endif
#if FT_DT_F32
#define FT_ON_f32(M, a) M(f32, a)
#else
#define FT_ON_f32(M, a)
#endif
#if FT_DT_F64
#define FT_ON_f64(M, a) M(f64, a)
#else
#define FT_ON_f64(M, a)
#endif

// FT_FOR_<SET>(M, a) expands M(dtype, a) for every enabled dtype of SET.
#define FT_FOR_FLOAT(M, a) FT_ON_f16(M, a) FT_ON_bf16(M, a) FT_ON_f32(M, a) FT_ON_f64(M, a)
#define FT_FOR_INT(M, a) FT_ON_u8(M, a) FT_ON_i8(M, a) FT_ON_i16(M, a) FT_ON_i32(M, a) FT_ON_i64(M, a)
#define FT_FOR_INTBOOL(M, a) FT_ON_bool(M, a) FT_FOR_INT(M, a)
#define FT_FOR_NUMERIC(M, a) FT_FOR_INT(M, a) FT_FOR_FLOAT(M, a)
#define FT_FOR_ALL(M, a) FT_ON_bool(M, a) FT_FOR_NUMERIC(M, a)
// Every dtype regardless of FT_DT_* (cast destinations: a module built for one dtype holds
// the casts from that dtype to all 10). Separate macro so it can nest inside FT_FOR_ALL.
#define FT_FOR_EVERY(M, a)                                                               \
  M(bool, a) M(u8, a) M(i8, a) M(i16, a) M(i32, a) M(i64, a) M(f16, a) M(bf16, a) M(f32, a) \
      M(f64, a)

#endif  // FT_COMMON_CUH
