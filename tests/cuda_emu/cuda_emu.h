// CPU emulation of the small CUDA subset used by cuda/*.cu, so the kernel sources compile as
// plain C++20 with g++ and run on the CPU (tests only; nothing here ships).
//
// Build a kernel file with:  g++ -std=c++20 -pthread -fwrapv -include cuda_emu.h -I cuda
//                                -x c++ cuda/elementwise.cu
// Model: blocks run one after another; the threads of a block are real std::threads, one per
// CUDA thread, so __syncthreads() is a std::barrier over the block and warp shuffles are a
// per-warp exchange buffer between two barrier phases over the warp's threads. Only 1-D
// grids/blocks are supported. __shared__ variables become `static` (one instance, used by
// the one block that runs at a time). A thread that returns early drops out of its block's
// and warp's barriers, as exited threads do on the GPU (sm_70+).
#ifndef FT_CUDA_EMU_H
#define FT_CUDA_EMU_H

#define FT_CPU_EMU 1

#include <math.h>
#include <string.h>

#include <atomic>
#include <barrier>
#include <functional>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

// ------------------------------------------------------------------ qualifiers
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __shared__ static

// ------------------------------------------------------------------ built-in variables
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;

namespace ft_emu {

struct Warp {
  std::barrier<> bar;
  int nthreads;
  alignas(16) unsigned char buf[32][16];
  explicit Warp(int n) : bar(n), nthreads(n) {}
};

struct Block {
  std::barrier<> bar;
  std::vector<std::unique_ptr<Warp>> warps;
  explicit Block(int n) : bar(n) {
    for (int w = 0; w * 32 < n; ++w) warps.emplace_back(new Warp(n - w * 32 < 32 ? n - w * 32 : 32));
  }
};

inline thread_local Block* cur_block = nullptr;
inline thread_local int cur_tid = 0;

// Run `body` as the kernel: grid.x blocks in sequence, block.x threads each.
inline void run(dim3 grid, dim3 block, const std::function<void()>& body) {
  if (grid.y != 1 || grid.z != 1 || block.y != 1 || block.z != 1)
    throw std::invalid_argument("cuda_emu: only 1-D launches are supported");
  if (block.x == 0 || block.x > 1024 || grid.x == 0)
    throw std::invalid_argument("cuda_emu: bad launch configuration");
  gridDim = grid;
  blockDim = block;
  const int nt = (int)block.x;
  for (unsigned b = 0; b < grid.x; ++b) {
    Block blk(nt);
    std::vector<std::thread> threads;
    threads.reserve(nt);
    for (int t = 0; t < nt; ++t) {
      threads.emplace_back([&blk, &body, t, b] {
        cur_block = &blk;
        cur_tid = t;
        threadIdx = dim3((unsigned)t);
        blockIdx = dim3(b);
        body();
        blk.warps[t >> 5]->bar.arrive_and_drop();
        blk.bar.arrive_and_drop();
      });
    }
    for (auto& th : threads) th.join();
  }
}

template <class T> inline T shfl_from(T v, int src) {
  static_assert(sizeof(T) <= 16, "shuffle of a too large type");
  Warp& w = *cur_block->warps[cur_tid >> 5];
  const int lane = cur_tid & 31;
  if (src < 0 || src >= w.nthreads) src = lane;
  memcpy(w.buf[lane], &v, sizeof(T));
  w.bar.arrive_and_wait();
  T r;
  memcpy(&r, w.buf[src], sizeof(T));
  w.bar.arrive_and_wait();
  return r;
}

}  // namespace ft_emu

// ------------------------------------------------------------------ synchronisation
inline void __syncthreads() { ft_emu::cur_block->bar.arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) {
  ft_emu::cur_block->warps[ft_emu::cur_tid >> 5]->bar.arrive_and_wait();
}

// Warp shuffles: every thread of the warp must take part (full mask), as in our kernels.
template <class T> inline T __shfl_sync(unsigned, T v, int src, int width = 32) {
  const int lane = ft_emu::cur_tid & 31;
  return ft_emu::shfl_from(v, (lane / width) * width + (src % width));
}
template <class T> inline T __shfl_xor_sync(unsigned, T v, int mask, int width = 32) {
  const int lane = ft_emu::cur_tid & 31;
  int src = lane ^ mask;
  if (src / width != lane / width) src = lane;
  return ft_emu::shfl_from(v, src);
}
template <class T> inline T __shfl_up_sync(unsigned, T v, unsigned d, int width = 32) {
  const int lane = ft_emu::cur_tid & 31;
  int src = lane - (int)d;
  if (src < (lane / width) * width) src = lane;
  return ft_emu::shfl_from(v, src);
}
template <class T> inline T __shfl_down_sync(unsigned, T v, unsigned d, int width = 32) {
  const int lane = ft_emu::cur_tid & 31;
  int src = lane + (int)d;
  if (src >= (lane / width + 1) * width) src = lane;
  return ft_emu::shfl_from(v, src);
}

// ------------------------------------------------------------------ atomics
template <class T> inline T ft_emu_atomic_add(T* p, T v) { return std::atomic_ref<T>(*p).fetch_add(v); }
inline float atomicAdd(float* p, float v) { return ft_emu_atomic_add(p, v); }
inline double atomicAdd(double* p, double v) { return ft_emu_atomic_add(p, v); }
inline int atomicAdd(int* p, int v) { return ft_emu_atomic_add(p, v); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return ft_emu_atomic_add(p, v); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  return ft_emu_atomic_add(p, v);
}
inline unsigned atomicCAS(unsigned* p, unsigned cmp, unsigned val) {
  std::atomic_ref<unsigned>(*p).compare_exchange_strong(cmp, val);
  return cmp;  // the old value either way
}
inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long cmp,
                                    unsigned long long val) {
  std::atomic_ref<unsigned long long>(*p).compare_exchange_strong(cmp, val);
  return cmp;
}

// ------------------------------------------------------------------ intrinsics / math
inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
inline long long __double_as_longlong(double d) { long long u; memcpy(&u, &d, 8); return u; }
inline double __longlong_as_double(long long u) { double d; memcpy(&d, &u, 8); return d; }
inline unsigned __umulhi(unsigned a, unsigned b) {
  return (unsigned)(((unsigned long long)a * b) >> 32);
}
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }

// erfinv: Giles' approximation refined by Newton steps on erf (tests compare erf(erfinv(y))).
inline double erfinv(double y) {
  if (y != y || y < -1.0 || y > 1.0) return NAN;
  if (y == 1.0) return INFINITY;
  if (y == -1.0) return -INFINITY;
  double w = -log((1.0 - y) * (1.0 + y)), x;
  if (w < 5.0) {
    w -= 2.5;
    double p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w; p = -3.5233877e-06 + p * w; p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;  p = -0.00125372503 + p * w; p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;    p = 1.50140941 + p * w;
    x = p * y;
  } else {
    w = sqrt(w) - 3.0;
    double p = -0.000200214257;
    p = 0.000100950558 + p * w; p = 0.00134934322 + p * w; p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;  p = -0.0076224613 + p * w; p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;     p = 2.83297682 + p * w;
    x = p * y;
  }
  for (int k = 0; k < 3; ++k) x -= (erf(x) - y) / (1.1283791670955126 * exp(-x * x));
  return x;
}
inline float erfinvf(float y) { return (float)erfinv((double)y); }

// ------------------------------------------------------------------ host-side launch
// launch(kernel, grid, block, args...): runs the kernel on the emulated device.
template <class... P, class... A>
inline void launch(void (*kernel)(P...), dim3 grid, dim3 block, A... args) {
  ft_emu::run(grid, block, [&] { kernel(args...); });
}

#endif  // FT_CUDA_EMU_H
