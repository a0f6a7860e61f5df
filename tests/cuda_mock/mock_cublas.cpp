// Mock cuBLAS (libcublas.so.13) for the mock CUDA driver (mock_cuda.cpp): column-major GEMM on
// the CPU, accumulated in double. Test fixture only.
//
//   C[i + j*ldc] = alpha * sum_p op(A)[i,p] * op(B)[p,j] + beta * C[i + j*ldc]
//
// with BLAS conventions: beta == 0 ignores C's old contents (even NaN), alpha == 0 or k == 0
// does not read A and B. Checks like real cuBLAS: a handle from cublasCreate_v2
// (CUBLAS_STATUS_NOT_INITIALIZED), sizes / leading dimensions / ops (CUBLAS_STATUS_INVALID_VALUE),
// the dtype / compute-type combination (CUBLAS_STATUS_NOT_SUPPORTED); and, as a GPU would fault,
// the exact byte extent each operand touches must lie inside one live allocation of the mock
// driver (CUBLAS_STATUS_EXECUTION_FAILED). Every failure prints one "[mock_cublas] ..." line.
//
// Numerics: f16/bf16 inputs are widened exactly; results are rounded once (round to nearest
// even) to the output type. TF32 is emulated: with CUBLAS_COMPUTE_32F_FAST_TF32, or
// CUBLAS_COMPUTE_32F with math mode CUBLAS_TF32_TENSOR_OP_MATH on f32 inputs, the inputs are
// rounded to TF32 (10 mantissa bits) as tensor cores do.
//
// The driver's allocation table is reached through ft_mock_cuda_check_range, exported by the
// mock libcuda.so; this library is linked against it (DT_NEEDED libcuda.so, RUNPATH $ORIGIN),
// so the lookup works however the two libraries were loaded (dlopen RTLD_LOCAL included).
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mutex>
#include <set>
#include <vector>

#define FT_API extern "C" __attribute__((visibility("default")))

extern "C" int ft_mock_cuda_check_range(unsigned long long addr, size_t bytes);

namespace {

enum {
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_NOT_INITIALIZED = 1,
  CUBLAS_STATUS_ALLOC_FAILED = 3,
  CUBLAS_STATUS_INVALID_VALUE = 7,
  CUBLAS_STATUS_ARCH_MISMATCH = 8,
  CUBLAS_STATUS_MAPPING_ERROR = 11,
  CUBLAS_STATUS_EXECUTION_FAILED = 13,
  CUBLAS_STATUS_INTERNAL_ERROR = 14,
  CUBLAS_STATUS_NOT_SUPPORTED = 15,
  CUBLAS_STATUS_LICENSE_ERROR = 16,
};
enum { CUDA_R_32F = 0, CUDA_R_64F = 1, CUDA_R_16F = 2, CUDA_R_16BF = 14 };
enum {
  CUBLAS_COMPUTE_32F = 68,
  CUBLAS_COMPUTE_32F_PEDANTIC = 69,
  CUBLAS_COMPUTE_64F = 70,
  CUBLAS_COMPUTE_64F_PEDANTIC = 71,
  CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
};
enum { CUBLAS_TF32_TENSOR_OP_MATH = 3, CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION = 16 };

const char* status_name(int s) {
  switch (s) {
    case 0: return "CUBLAS_STATUS_SUCCESS";
    case 1: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case 3: return "CUBLAS_STATUS_ALLOC_FAILED";
    case 7: return "CUBLAS_STATUS_INVALID_VALUE";
    case 8: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case 11: return "CUBLAS_STATUS_MAPPING_ERROR";
    case 13: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case 14: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case 15: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case 16: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "CUBLAS_STATUS_UNKNOWN";
  }
}

int fail(int code, const char* fn, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
int fail(int code, const char* fn, const char* fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "[mock_cublas] %s: %s (%s)\n", fn, msg, status_name(code));
  fflush(stderr);
  return code;
}

struct Handle {
  void* stream = nullptr;
  int math_mode = 0;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
};

std::mutex g_mu;
std::set<Handle*>& handles() {
  static std::set<Handle*>* h = new std::set<Handle*>();
  return *h;
}

int bad_handle(const char* fn, void* h) {
  return fail(CUBLAS_STATUS_NOT_INITIALIZED, fn, "invalid handle %p (cublasCreate_v2?)", h);
}

Handle* get_handle(void* h) {
  std::lock_guard<std::mutex> g(g_mu);
  return handles().count((Handle*)h) ? (Handle*)h : nullptr;
}

// ---------------------------------------------------------------- bit-exact conversions
inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0) {  // zero / subnormal: m * 2^-24, exact in float
    float v = (float)m * 5.9604644775390625e-8f;
    return u2f(f2u(v) | sign);
  }
  if (e == 31) return u2f(sign | 0x7f800000u | (m << 13));
  return u2f(sign | ((e - 15u + 127u) << 23) | (m << 13));
}

// float -> IEEE half, round to nearest even; NaN stays a quiet NaN.
uint16_t f32_to_f16(float f) {
  const uint32_t x = f2u(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
  if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  // >= 65520 (or inf) -> inf
  if (ax < 0x38800000u) {                                     // subnormal half (or zero)
    // value in units of 2^-24, rounded to nearest even (exact scaling, then rint)
    float v = u2f(ax) * 16777216.0f;
    return (uint16_t)(sign | (uint32_t)nearbyintf(v));
  }
  uint32_t h = (((ax >> 23) - 127u + 15u) << 10) | ((ax >> 13) & 0x3ffu);
  const uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // carries into the exponent as needed
  return (uint16_t)(sign | h);
}

float bf16_to_f32(uint16_t b) { return u2f((uint32_t)b << 16); }

uint16_t f32_to_bf16(float f) {
  uint32_t u = f2u(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

// double -> float rounded to odd: converting that float to half/bf16 with round-to-nearest-even
// gives the correctly rounded double -> half/bf16 result (no double rounding).
float f64_to_f32_odd(double d) {
  float f = (float)d;
  if (f != f) return f;
  if (fabs((double)f) > fabs(d)) f = nextafterf(f, 0.0f);  // now rounded toward zero
  if ((double)f != d) f = u2f(f2u(f) | 1u);
  return f;
}

float round_tf32(float f) {
  uint32_t u = f2u(f);
  if ((u & 0x7f800000u) == 0x7f800000u) return f;  // inf / nan unchanged
  u += 0xfffu + ((u >> 13) & 1u);
  return u2f(u & 0xffffe000u);
}

// ---------------------------------------------------------------- element access
size_t type_size(int t) {
  switch (t) {
    case CUDA_R_32F: return 4;
    case CUDA_R_64F: return 8;
    case CUDA_R_16F: return 2;
    case CUDA_R_16BF: return 2;
    default: return 0;
  }
}

double load(const void* p, int t, long long i) {
  switch (t) {
    case CUDA_R_32F: return ((const float*)p)[i];
    case CUDA_R_64F: return ((const double*)p)[i];
    case CUDA_R_16F: return f16_to_f32(((const uint16_t*)p)[i]);
    default: return bf16_to_f32(((const uint16_t*)p)[i]);
  }
}

void store(void* p, int t, long long i, double v) {
  switch (t) {
    case CUDA_R_32F: ((float*)p)[i] = (float)v; break;
    case CUDA_R_64F: ((double*)p)[i] = v; break;
    case CUDA_R_16F: ((uint16_t*)p)[i] = f32_to_f16(f64_to_f32_odd(v)); break;
    default: ((uint16_t*)p)[i] = f32_to_bf16(f64_to_f32_odd(v)); break;
  }
}

// Byte extent [lo, hi) touched by `batch` matrices of rows x cols (leading dimension ld,
// element size es) placed `stride` elements apart; false when nothing is touched.
bool extent(long long rows, long long cols, long long ld, long long stride, long long batch,
            size_t es, __int128* lo, __int128* hi) {
  if (rows <= 0 || cols <= 0 || batch <= 0) return false;
  const __int128 last = (__int128)(cols - 1) * ld + (rows - 1);
  const __int128 bspan = (__int128)(batch - 1) * stride;
  const __int128 first = bspan < 0 ? bspan : 0;
  const __int128 top = (bspan > 0 ? bspan : 0) + last;
  *lo = first * (__int128)es;
  *hi = (top + 1) * (__int128)es;
  return true;
}

int check_operand(const char* fn, const char* what, const void* ptr, long long rows,
                  long long cols, long long ld, long long stride, long long batch, size_t es) {
  __int128 lo, hi;
  if (!extent(rows, cols, ld, stride, batch, es, &lo, &hi)) return CUBLAS_STATUS_SUCCESS;
  const __int128 start = (__int128)(uintptr_t)ptr + lo;
  const __int128 bytes = hi - lo;
  if (ptr == nullptr || start < 0 || bytes > (__int128)SIZE_MAX ||
      !ft_mock_cuda_check_range((unsigned long long)start, (size_t)bytes))
    return fail(CUBLAS_STATUS_EXECUTION_FAILED, fn,
                "%s (%p: %lld x %lld, ld %lld, stride %lld, batch %lld) touches bytes "
                "[%+lld, %+lld) which are not inside one live device allocation",
                what, ptr, rows, cols, ld, stride, batch, (long long)lo, (long long)hi);
  return CUBLAS_STATUS_SUCCESS;
}

struct GemmArgs {
  int transa, transb;
  long long m, n, k;
  const void* alpha;
  const void* A;
  int Atype;
  long long lda, strideA;
  const void* B;
  int Btype;
  long long ldb, strideB;
  const void* beta;
  void* C;
  int Ctype;
  long long ldc, strideC;
  long long batch;
  int compute;
};

int gemm(const char* fn, void* hptr, const GemmArgs& g) {
  Handle* h = get_handle(hptr);
  if (!h) return bad_handle(fn, hptr);
  if (g.transa < 0 || g.transa > 2 || g.transb < 0 || g.transb > 2)
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "bad transa/transb %d/%d", g.transa, g.transb);
  if (g.m < 0 || g.n < 0 || g.k < 0 || g.batch < 0)
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "negative size m=%lld n=%lld k=%lld batch=%lld",
                g.m, g.n, g.k, g.batch);
  const bool ta = g.transa != 0, tb = g.transb != 0;  // OP_C == OP_T for real types
  const long long arows = ta ? g.k : g.m, acols = ta ? g.m : g.k;
  const long long brows = tb ? g.n : g.k, bcols = tb ? g.k : g.n;
  if (g.lda < (arows > 1 ? arows : 1))
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "lda=%lld < max(1, %lld)", g.lda, arows);
  if (g.ldb < (brows > 1 ? brows : 1))
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "ldb=%lld < max(1, %lld)", g.ldb, brows);
  if (g.ldc < (g.m > 1 ? g.m : 1))
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "ldc=%lld < max(1, %lld)", g.ldc, g.m);

  // supported (A/B type, C type, compute type) combinations, as in cublasGemmEx's table
  bool ok = false, scalar_double = false, tf32 = false;
  const int ab = g.Atype;
  if (g.Atype == g.Btype) {
    if (g.compute == CUBLAS_COMPUTE_64F || g.compute == CUBLAS_COMPUTE_64F_PEDANTIC) {
      ok = ab == CUDA_R_64F && g.Ctype == CUDA_R_64F;
      scalar_double = true;
    } else if (g.compute == CUBLAS_COMPUTE_32F || g.compute == CUBLAS_COMPUTE_32F_PEDANTIC) {
      ok = (ab == CUDA_R_32F && g.Ctype == CUDA_R_32F) ||
           ((ab == CUDA_R_16F || ab == CUDA_R_16BF) && (g.Ctype == ab || g.Ctype == CUDA_R_32F));
      tf32 = g.compute == CUBLAS_COMPUTE_32F && ab == CUDA_R_32F &&
             (h->math_mode & 0xf) == CUBLAS_TF32_TENSOR_OP_MATH;
    } else if (g.compute == CUBLAS_COMPUTE_32F_FAST_TF32) {
      ok = ab == CUDA_R_32F && g.Ctype == CUDA_R_32F;
      tf32 = true;
    }
  }
  if (!ok)
    return fail(CUBLAS_STATUS_NOT_SUPPORTED, fn,
                "unsupported combination Atype=%d Btype=%d Ctype=%d computeType=%d", g.Atype,
                g.Btype, g.Ctype, g.compute);
  if (!g.alpha || !g.beta) return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "alpha/beta is null");
  if (g.m == 0 || g.n == 0 || g.batch == 0) return CUBLAS_STATUS_SUCCESS;

  const double alpha = scalar_double ? *(const double*)g.alpha : *(const float*)g.alpha;
  const double beta = scalar_double ? *(const double*)g.beta : *(const float*)g.beta;
  const bool read_ab = g.k > 0 && alpha != 0.0;

  const size_t esa = type_size(g.Atype), esb = type_size(g.Btype), esc = type_size(g.Ctype);
  if (read_ab) {
    if (int r = check_operand(fn, "A", g.A, arows, acols, g.lda, g.strideA, g.batch, esa)) return r;
    if (int r = check_operand(fn, "B", g.B, brows, bcols, g.ldb, g.strideB, g.batch, esb)) return r;
  }
  if (int r = check_operand(fn, "C", g.C, g.m, g.n, g.ldc, g.strideC, g.batch, esc)) return r;

  // op(A) as m x k row-major doubles, op(B) as n x k row-major doubles: contiguous dot products
  std::vector<double> a, b;
  if (read_ab) {
    a.resize((size_t)(g.m * g.k));
    b.resize((size_t)(g.n * g.k));
  }
  for (long long bi = 0; bi < g.batch; ++bi) {
    const char* Ab = (const char*)g.A + (ptrdiff_t)(bi * g.strideA) * (ptrdiff_t)esa;
    const char* Bb = (const char*)g.B + (ptrdiff_t)(bi * g.strideB) * (ptrdiff_t)esb;
    char* Cb = (char*)g.C + (ptrdiff_t)(bi * g.strideC) * (ptrdiff_t)esc;
    if (read_ab) {
      for (long long i = 0; i < g.m; ++i)
        for (long long p = 0; p < g.k; ++p) {
          double v = load(Ab, g.Atype, ta ? p + i * g.lda : i + p * g.lda);
          a[(size_t)(i * g.k + p)] = tf32 ? (double)round_tf32((float)v) : v;
        }
      for (long long j = 0; j < g.n; ++j)
        for (long long p = 0; p < g.k; ++p) {
          double v = load(Bb, g.Btype, tb ? j + p * g.ldb : p + j * g.ldb);
          b[(size_t)(j * g.k + p)] = tf32 ? (double)round_tf32((float)v) : v;
        }
    }
    for (long long j = 0; j < g.n; ++j)
      for (long long i = 0; i < g.m; ++i) {
        double acc = 0.0;
        if (read_ab) {
          const double* ar = &a[(size_t)(i * g.k)];
          const double* br = &b[(size_t)(j * g.k)];
          for (long long p = 0; p < g.k; ++p) acc += ar[p] * br[p];
        }
        const long long ci = i + j * g.ldc;
        double r = alpha * acc;
        if (beta != 0.0) r += beta * load(Cb, g.Ctype, ci);
        store(Cb, g.Ctype, ci, r);
      }
  }
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

// ============================================================================ C ABI
FT_API int cublasCreate_v2(void** handle) {
  if (!handle) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasCreate_v2", "null pointer");
  Handle* h = new Handle();
  std::lock_guard<std::mutex> g(g_mu);
  handles().insert(h);
  *handle = h;
  return CUBLAS_STATUS_SUCCESS;
}

FT_API int cublasDestroy_v2(void* handle) {
  std::lock_guard<std::mutex> g(g_mu);
  auto it = handles().find((Handle*)handle);
  if (it == handles().end())
    return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasDestroy_v2", "invalid handle %p", handle);
  handles().erase(it);
  delete (Handle*)handle;
  return CUBLAS_STATUS_SUCCESS;
}

FT_API int cublasSetStream_v2(void* handle, void* stream) {
  Handle* h = get_handle(handle);
  if (!h) return bad_handle("cublasSetStream_v2", handle);
  h->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}


FT_API int cublasSetMathMode(void* handle, int mode) {
  Handle* h = get_handle(handle);
  if (!h) return bad_handle("cublasSetMathMode", handle);
  const int base = mode & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
  if (base < 0 || base > 3)
    return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasSetMathMode", "bad mode %d", mode);
  h->math_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

FT_API int cublasGetMathMode(void* handle, int* mode) {
  Handle* h = get_handle(handle);
  if (!h) return bad_handle("cublasGetMathMode", handle);
  if (!mode) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetMathMode", "null pointer");
  *mode = h->math_mode;
  return CUBLAS_STATUS_SUCCESS;
}






FT_API int cublasGemmStridedBatchedEx(void* handle, int transa, int transb, int m, int n, int k,
                                      const void* alpha, const void* A, int Atype, int lda,
                                      long long strideA, const void* B, int Btype, int ldb,
                                      long long strideB, const void* beta, void* C, int Ctype,
                                      int ldc, long long strideC, int batchCount, int computeType,
                                      int algo) {
  (void)algo;
  GemmArgs g{transa, transb, m, n, k, alpha, A, Atype, lda, strideA, B, Btype, ldb, strideB,
             beta, C, Ctype, ldc, strideC, batchCount, computeType};
  return gemm("cublasGemmStridedBatchedEx", handle, g);
}





