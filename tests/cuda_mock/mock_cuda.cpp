// Mock CUDA driver (libcuda.so) that runs ferrotorch's real kernels (cuda/*.cu) on the CPU
// through the emulation header tests/cuda_emu/cuda_emu.h. Test fixture only: it lets the Rust
// runtime (cudarc, dynamic loading) be exercised end to end on a machine without a GPU.
//
// Device memory is host memory: a CUdeviceptr is the address of a host buffer, so kernels and
// the mock cuBLAS dereference it directly. What the mock checks (returning the real error
// code and printing one "[mock_cuda] ..." line to stderr):
//  * cuInit first (CUDA_ERROR_NOT_INITIALIZED), a current, live context for memory, module
//    and launch calls (CUDA_ERROR_INVALID_CONTEXT: the per-thread binding real CUDA needs);
//  * every memcpy/memset range lies inside one live allocation, and the host side of
//    HtoD/DtoH is not device memory (CUDA_ERROR_INVALID_VALUE);
//  * cuModuleLoadData: PTX text (.version/.target) for at most sm_90;
//    cuModuleGetFunction: the PTX text declares `.entry <name>` and the kernel exists
//    (CUDA_ERROR_NOT_FOUND);
//  * cuLaunchKernel: 1-D launch, 1 <= block <= 1024, no `extra`; every pointer parameter is
//    null or inside a live allocation of the launching device (CUDA_ERROR_ILLEGAL_ADDRESS) and
//    aligned for its pointee type (CUDA_ERROR_MISALIGNED_ADDRESS); after the run, guard bytes
//    around every allocation are verified, so a kernel writing out of bounds is reported as
//    CUDA_ERROR_ILLEGAL_ADDRESS.
// Fresh allocations are filled with 0xFF bytes (NaN for floats, -1 for ints): real device
// memory is not zeroed either. Releasing a primary context's last reference frees its memory
// and modules. Kernels run synchronously, one launch at a time (see "kernel runners").
//
// Environment: FT_MOCK_CUDA_DEVICES (0..4, default 1; 0 makes cuInit fail with
// CUDA_ERROR_NO_DEVICE like a driver without a GPU), FT_MOCK_CUDA_TRACE=1 (one stderr line per
// launch), FT_MOCK_CUDA_EXEC=emu (every launch through ft_emu::run, one std::thread per CUDA
// thread: slow, for cross-checking the faster default runners).
//
// This file has two parts. The first (kernel registry interface) is also included by the
// registry translation units that build_mock.py generates, with FT_MOCK_REGISTRY_ONLY defined:
// each of them #includes one cuda/*.cu file and lists its kernels with FT_MOCK_KERNEL(name),
// so parameter types are deduced by the compiler (no hand-written signatures).

// ============================================================================ registry part
#ifndef FT_MOCK_REGISTRY_H
#define FT_MOCK_REGISTRY_H

#include <stddef.h>

#include <type_traits>
#include <utility>

namespace ft_mock {

struct KernelEntry {
  const char* name;
  void (*call)(void* fn, void** argv);  // calls fn with *(A_i*)argv[i]
  void* fn;
  int nparams;
  const unsigned char* ptr_align;  // per parameter: 0 = not a pointer, else alignof(pointee)
  const unsigned short* size;      // per parameter: sizeof
};

template <class T> constexpr unsigned char ptr_align_of() {
  if constexpr (std::is_pointer<T>::value) {
    typedef typename std::remove_cv<typename std::remove_pointer<T>::type>::type P;
    if constexpr (std::is_void<P>::value) return 1;
    else return (unsigned char)alignof(P);
  } else {
    return 0;
  }
}

template <class F> struct Invoke;
template <class... A> struct Invoke<void (*)(A...)> {
  template <size_t... I> static void call_impl(void* fn, void** argv, std::index_sequence<I...>) {
    reinterpret_cast<void (*)(A...)>(fn)(*static_cast<A*>(argv[I])...);
  }
  static void call(void* fn, void** argv) { call_impl(fn, argv, std::index_sequence_for<A...>{}); }
  static constexpr int nparams = (int)sizeof...(A);
  static constexpr unsigned char align[sizeof...(A) + 1] = {ptr_align_of<A>()..., 0};
  static constexpr unsigned short size[sizeof...(A) + 1] = {(unsigned short)sizeof(A)..., 0};
};

}  // namespace ft_mock

#define FT_MOCK_KERNEL(k)                                                                   \
  {#k, &::ft_mock::Invoke<decltype(&k)>::call, reinterpret_cast<void*>(&k),                \
   ::ft_mock::Invoke<decltype(&k)>::nparams, ::ft_mock::Invoke<decltype(&k)>::align,        \
   ::ft_mock::Invoke<decltype(&k)>::size}

// One table per generated registry TU; build_mock.py generates ft_mock_all_tables().
// `sync_free`: no kernel of the file can reach a barrier or warp shuffle (build_mock.py knows
// from the compiled object: the TU's sync hooks below are never referenced), so its launches
// may run the CUDA threads one after another on the calling thread.
struct FtMockTable {
  const ft_mock::KernelEntry* entries;
  size_t count;
  const char* file;
  int sync_free;
};
const FtMockTable* ft_mock_all_tables(size_t* ntables);

namespace ft_mock {
// Called by every __syncthreads / __syncwarp / __shfl_*_sync in the kernel files (the registry
// TUs wrap them with macros). Throws when the launch runs sequentially: that would mean the
// sync-free classification is wrong, which must fail loudly (CUDA_ERROR_LAUNCH_FAILED), not
// deadlock.
void on_sync(const char* what);
}  // namespace ft_mock

#endif  // FT_MOCK_REGISTRY_H

// ============================================================================ driver part
#ifndef FT_MOCK_REGISTRY_ONLY

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <exception>
#include <map>
#include <semaphore>
#include <stdexcept>
#include <thread>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "cuda_emu.h"

#define FT_API extern "C" __attribute__((visibility("default")))

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

namespace {

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NOT_INITIALIZED = 3,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_DEVICE = 101,
  CUDA_ERROR_INVALID_IMAGE = 200,
  CUDA_ERROR_INVALID_CONTEXT = 201,
  CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
  CUDA_ERROR_INVALID_PTX = 218,
  CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
  CUDA_ERROR_INVALID_HANDLE = 400,
  CUDA_ERROR_NOT_FOUND = 500,
  CUDA_ERROR_ILLEGAL_ADDRESS = 700,
  CUDA_ERROR_MISALIGNED_ADDRESS = 716,
  CUDA_ERROR_LAUNCH_FAILED = 719,
  CUDA_ERROR_UNKNOWN = 999,
};

struct ErrInfo {
  int code;
  const char* name;
  const char* text;
};
const ErrInfo kErrors[] = {
    {0, "CUDA_SUCCESS", "no error"},
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {3, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {4, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {101, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {200, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {201, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {209, "CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device"},
    {218, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
     "the provided PTX was compiled with an unsupported toolchain."},
    {400, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {700, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {716, "CUDA_ERROR_MISALIGNED_ADDRESS", "misaligned address"},
    {719, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {999, "CUDA_ERROR_UNKNOWN", "unknown error"},
};
const ErrInfo* find_error(int code) {
  for (const ErrInfo& e : kErrors)
    if (e.code == code) return &e;
  return nullptr;
}

// Print "[mock_cuda] <fn>: <why> (<ERROR_NAME>)" and return the code.
CUresult fail(CUresult code, const char* fn, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
CUresult fail(CUresult code, const char* fn, const char* fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const ErrInfo* e = find_error(code);
  fprintf(stderr, "[mock_cuda] %s: %s (%s)\n", fn, msg, e ? e->name : "?");
  fflush(stderr);
  return code;
}

constexpr int kMaxDevices = 4;
constexpr size_t kTotalMem = 16ull << 30;
constexpr size_t kAlign = 256;  // real cuMemAlloc alignment (>= the 64 bytes promised)
constexpr size_t kGuard = 256;  // guard bytes before and (at least) after every allocation
constexpr unsigned char kGuardByte = 0xA5;
constexpr unsigned char kFreshByte = 0xFF;
constexpr int kDeviceCC = 90;  // compute capability 9.0

struct Module;
class Pool;

struct Context {
  int device;
  int refcount = 0;
  bool active = false;
};

struct Allocation {
  unsigned char* base;  // what aligned_alloc returned
  size_t bytes;         // user size
  size_t total;         // bytes from base (guards included)
  int device;
};

struct Function {
  Module* module;
  const ft_mock::KernelEntry* entry;
};

struct Module {
  Context* ctx;
  std::string ptx;
  std::set<std::string> entries;  // names after `.entry` in the PTX text
  std::map<std::string, std::unique_ptr<Function>> functions;
};

struct Stream {
  Context* ctx;
};

struct Event {
  Context* ctx;
  bool recorded = false;
};

struct State {
  std::mutex mu;
  bool initialized = false;
  int ndevices = 1;
  Context ctxs[kMaxDevices];
  std::map<uintptr_t, Allocation> allocs;  // keyed by the user pointer
  size_t live_bytes = 0;
  std::map<Module*, std::unique_ptr<Module>> modules;
  std::set<Function*> functions;
  std::map<Stream*, std::unique_ptr<Stream>> streams;
  std::map<Event*, std::unique_ptr<Event>> events;
  std::unordered_map<std::string, const ft_mock::KernelEntry*> registry;
  std::set<const ft_mock::KernelEntry*> sync_free;
  bool exec_emu = false;  // FT_MOCK_CUDA_EXEC=emu
  Pool* pool = nullptr;
  std::unordered_map<std::string, unsigned long long> launches;
  unsigned long long total_launches = 0;
  bool trace = false;
};

State& S() {
  static State* s = new State();  // never destroyed: safe to use from atexit handlers
  return *s;
}

thread_local Context* t_current = nullptr;
thread_local bool t_sequential = false;  // this thread runs a sync-free kernel sequentially

// ---------------------------------------------------------------------------- kernel runners
// Three ways to run a launch, all following cuda_emu.h's model (1-D, blocks one after another):
//  * emu: ft_emu::run itself (one new std::thread per CUDA thread);
//  * pool: the same, but the std::threads are kept and reused across blocks and launches
//    (identical per-thread state: cur_block, cur_tid, threadIdx, blockIdx, barrier drop on exit);
//  * sequential: for kernels that never synchronize (see FtMockTable::sync_free) the CUDA threads
//    of a block run one after another on the calling thread, a valid schedule for them.
// FT_MOCK_CUDA_EXEC=emu forces the first for every launch; default: sequential when sync-free,
// else pool.
class Pool {
 public:
  void run(dim3 grid, dim3 block, const std::function<void()>& body) {
    const int nt = (int)block.x;
    while ((int)workers_.size() < nt) spawn((int)workers_.size());
    gridDim = grid;
    blockDim = block;
    body_ = &body;
    for (unsigned b = 0; b < grid.x; ++b) {
      ft_emu::Block blk(nt);
      blk_ = &blk;
      block_idx_ = b;
      remaining_.store(nt);
      for (int t = 0; t < nt; ++t) go_[t]->release();
      finished_.acquire();
    }
  }

 private:
  void spawn(int t) {
    go_.emplace_back(new std::binary_semaphore(0));
    std::binary_semaphore* go = go_.back().get();
    workers_.emplace_back([this, t, go] {
      for (;;) {
        go->acquire();
        ft_emu::Block& blk = *blk_;
        ft_emu::cur_block = &blk;
        ft_emu::cur_tid = t;
        threadIdx = dim3((unsigned)t);
        blockIdx = dim3(block_idx_);
        (*body_)();
        blk.warps[t >> 5]->bar.arrive_and_drop();
        blk.bar.arrive_and_drop();
        if (remaining_.fetch_sub(1) == 1) finished_.release();
      }
    });
    workers_.back().detach();
  }

  std::vector<std::thread> workers_;
  std::vector<std::unique_ptr<std::binary_semaphore>> go_;
  std::binary_semaphore finished_{0};
  std::atomic<int> remaining_{0};
  const std::function<void()>* body_ = nullptr;
  ft_emu::Block* blk_ = nullptr;
  unsigned block_idx_ = 0;
};

void run_sequential(dim3 grid, dim3 block, const std::function<void()>& body) {
  gridDim = grid;
  blockDim = block;
  ft_emu::Block* saved_block = ft_emu::cur_block;
  ft_emu::cur_block = nullptr;
  t_sequential = true;
  try {
    for (unsigned b = 0; b < grid.x; ++b)
      for (unsigned t = 0; t < block.x; ++t) {
        ft_emu::cur_tid = (int)t;
        threadIdx = dim3(t);
        blockIdx = dim3(b);
        body();
      }
  } catch (...) {
    t_sequential = false;
    ft_emu::cur_block = saved_block;
    throw;
  }
  t_sequential = false;
  ft_emu::cur_block = saved_block;
}

const std::unordered_map<std::string, const ft_mock::KernelEntry*>& registry_locked() {
  State& s = S();
  if (s.registry.empty()) {
    size_t nt = 0;
    const FtMockTable* tables = ft_mock_all_tables(&nt);
    for (size_t t = 0; t < nt; ++t)
      for (size_t i = 0; i < tables[t].count; ++i) {
        s.registry.emplace(tables[t].entries[i].name, &tables[t].entries[i]);
        if (tables[t].sync_free) s.sync_free.insert(&tables[t].entries[i]);
      }
  }
  return s.registry;
}

bool valid_ctx(const Context* c) {
  State& s = S();
  for (int d = 0; d < s.ndevices; ++d)
    if (c == &s.ctxs[d]) return true;
  return false;
}

// Checks done by every call that needs cuInit and a current live context.
CUresult need_ctx(const char* fn) {
  State& s = S();
  if (!s.initialized) return fail(CUDA_ERROR_NOT_INITIALIZED, fn, "cuInit has not been called");
  if (t_current == nullptr)
    return fail(CUDA_ERROR_INVALID_CONTEXT, fn, "no current context on this thread (cuCtxSetCurrent)");
  if (!t_current->active)
    return fail(CUDA_ERROR_INVALID_CONTEXT, fn, "the current context (device %d) was released",
                t_current->device);
  return CUDA_SUCCESS;
}

// Live allocation containing [addr, addr + n) (n >= 1), or null.
const Allocation* find_alloc(uintptr_t addr, size_t n) {
  State& s = S();
  auto it = s.allocs.upper_bound(addr);
  if (it == s.allocs.begin()) return nullptr;
  --it;
  const uintptr_t start = it->first;
  const size_t bytes = it->second.bytes;
  if (addr < start || addr - start >= bytes) return nullptr;
  if (n > bytes - (addr - start)) return nullptr;
  return &it->second;
}

// Describe where `addr` is relative to the nearest allocations (for error messages).
std::string describe(uintptr_t addr) {
  State& s = S();
  char buf[256];
  auto it = s.allocs.upper_bound(addr);
  if (it != s.allocs.begin()) {
    auto prev = std::prev(it);
    uintptr_t end = prev->first + prev->second.bytes;
    if (addr >= prev->first && addr < end) {
      snprintf(buf, sizeof buf, "inside allocation 0x%llx (%zu bytes) at offset %llu",
               (unsigned long long)prev->first, prev->second.bytes,
               (unsigned long long)(addr - prev->first));
    } else {
      snprintf(buf, sizeof buf, "%llu bytes past the end of allocation 0x%llx (%zu bytes)",
               (unsigned long long)(addr - end), (unsigned long long)prev->first,
               prev->second.bytes);
    }
    return buf;
  }
  snprintf(buf, sizeof buf, "below every live allocation (%zu live)", s.allocs.size());
  return buf;
}

CUresult check_range(const char* fn, const char* what, CUdeviceptr p, size_t n) {
  if (find_alloc((uintptr_t)p, n)) return CUDA_SUCCESS;
  return fail(CUDA_ERROR_INVALID_VALUE, fn,
              "%s range [0x%llx, +%zu) is not inside one live allocation (start is %s)", what,
              (unsigned long long)p, n, describe((uintptr_t)p).c_str());
}

// The host side of HtoD / DtoH must be host memory: on a GPU a device address there faults.
CUresult check_host(const char* fn, const char* what, const void* p, size_t n) {
  State& s = S();
  const uintptr_t lo = (uintptr_t)p, hi = lo + n;
  auto it = s.allocs.lower_bound(lo);
  if (it != s.allocs.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second.bytes > lo) it = prev;
  }
  if (it != s.allocs.end() && it->first < hi)
    return fail(CUDA_ERROR_INVALID_VALUE, fn,
                "host %s [%p, +%zu) overlaps device allocation 0x%llx (a device pointer passed "
                "as a host pointer?)", what, p, n, (unsigned long long)it->first);
  return CUDA_SUCCESS;
}

bool valid_stream(void* st, Context* ctx) {
  uintptr_t v = (uintptr_t)st;
  if (v == 0 || v == 1 || v == 2) return true;  // null, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD
  auto it = S().streams.find((Stream*)st);
  return it != S().streams.end() && it->second->ctx == ctx;
}

void fill_guards(const Allocation& a) {
  memset(a.base, kGuardByte, kGuard);
  memset(a.base + kGuard + a.bytes, kGuardByte, a.total - kGuard - a.bytes);
}

bool guards_intact(const Allocation& a, size_t* first_bad) {
  const unsigned char* lo = a.base;
  for (size_t i = 0; i < kGuard; ++i)
    if (lo[i] != kGuardByte) {
      *first_bad = i;  // < kGuard: before the start
      return false;
    }
  const unsigned char* hi = a.base + kGuard + a.bytes;
  const size_t nhi = a.total - kGuard - a.bytes;
  for (size_t i = 0; i < nhi; ++i)
    if (hi[i] != kGuardByte) {
      *first_bad = kGuard + a.bytes + i;
      return false;
    }
  return true;
}

void free_alloc_locked(std::map<uintptr_t, Allocation>::iterator it) {
  State& s = S();
  s.live_bytes -= it->second.bytes;
  free(it->second.base);
  s.allocs.erase(it);
}

void unload_module_locked(Module* m) {
  State& s = S();
  for (auto& kv : m->functions) s.functions.erase(kv.second.get());
  s.modules.erase(m);
}

// A context whose refcount dropped to 0 is destroyed: its memory, modules and streams go.
void destroy_ctx_locked(Context* c) {
  State& s = S();
  c->active = false;
  for (auto it = s.allocs.begin(); it != s.allocs.end();) {
    auto next = std::next(it);
    if (it->second.device == c->device) free_alloc_locked(it);
    it = next;
  }
  std::vector<Module*> mods;
  for (auto& kv : s.modules)
    if (kv.second->ctx == c) mods.push_back(kv.first);
  for (Module* m : mods) unload_module_locked(m);
  for (auto it = s.streams.begin(); it != s.streams.end();) {
    auto next = std::next(it);
    if (it->second->ctx == c) s.streams.erase(it);
    it = next;
  }
  for (auto it = s.events.begin(); it != s.events.end();) {
    auto next = std::next(it);
    if (it->second->ctx == c) s.events.erase(it);
    it = next;
  }
}

bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '$';
}

// Names declared as `.entry <name>` in PTX text.
std::set<std::string> ptx_entries(const std::string& ptx) {
  std::set<std::string> out;
  size_t pos = 0;
  while ((pos = ptx.find(".entry", pos)) != std::string::npos) {
    const size_t start = pos;
    size_t p = pos + 6;
    pos = p;
    if (start > 0 && (is_ident_char(ptx[start - 1]) || ptx[start - 1] == '.'))
      continue;  // part of a longer token
    if (p >= ptx.size() || !(ptx[p] == ' ' || ptx[p] == '\t' || ptx[p] == '\n' || ptx[p] == '\r'))
      continue;
    while (p < ptx.size() && (ptx[p] == ' ' || ptx[p] == '\t' || ptx[p] == '\n' || ptx[p] == '\r')) ++p;
    size_t q = p;
    while (q < ptx.size() && is_ident_char(ptx[q])) ++q;
    if (q > p) out.insert(ptx.substr(p, q - p));
  }
  return out;
}

// Kernel names (`ft_` identifiers) in an ELF image (a CUBIN): the strings of its symbol
// table. The size comes from the ELF64 header (section headers end the file).
std::set<std::string> elf_entries(const unsigned char* img) {
  std::set<std::string> out;
  unsigned long long shoff = 0;
  unsigned short shentsize = 0, shnum = 0;
  memcpy(&shoff, img + 0x28, 8);
  memcpy(&shentsize, img + 0x3A, 2);
  memcpy(&shnum, img + 0x3C, 2);
  const size_t size = shoff + (size_t)shentsize * shnum;
  for (size_t i = 0; i + 3 < size; ++i) {
    if (img[i] == 'f' && img[i + 1] == 't' && img[i + 2] == '_' && (i == 0 || img[i - 1] == 0)) {
      size_t j = i;
      while (j < size && is_ident_char((char)img[j])) ++j;
      if (j < size && img[j] == 0) out.insert(std::string((const char*)img + i, j - i));
    }
  }
  return out;
}

// Value of the first `.target sm_XY[a|f]` directive (XY as a number), -1 when absent.
int ptx_target(const std::string& ptx) {
  size_t pos = ptx.find(".target");
  if (pos == std::string::npos) return -1;
  size_t p = pos + 7;
  while (p < ptx.size() && (ptx[p] == ' ' || ptx[p] == '\t')) ++p;
  if (ptx.compare(p, 3, "sm_") != 0) return -1;
  return atoi(ptx.c_str() + p + 3);
}

}  // namespace

// ============================================================================ C ABI
FT_API CUresult cuGetErrorName(CUresult e, const char** str) {
  if (!str) return CUDA_ERROR_INVALID_VALUE;
  const ErrInfo* info = find_error(e);
  *str = info ? info->name : nullptr;
  return info ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

FT_API CUresult cuGetErrorString(CUresult e, const char** str) {
  if (!str) return CUDA_ERROR_INVALID_VALUE;
  const ErrInfo* info = find_error(e);
  *str = info ? info->text : nullptr;
  return info ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

namespace {
// fork(): hold the lock across it so the child's copy is consistent; the child has none of the
// pool's worker threads, so it starts a new pool when it launches.
void atfork_prepare() { S().mu.lock(); }
void atfork_parent() { S().mu.unlock(); }
void atfork_child() {
  S().pool = nullptr;  // the parent's pool object is leaked on purpose
  S().mu.unlock();
}
}  // namespace

FT_API CUresult cuInit(unsigned int flags) {
  static std::once_flag atfork_once;
  std::call_once(atfork_once, [] { pthread_atfork(atfork_prepare, atfork_parent, atfork_child); });
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  if (flags != 0) return fail(CUDA_ERROR_INVALID_VALUE, "cuInit", "flags must be 0 (got %u)", flags);
  if (s.initialized) return CUDA_SUCCESS;
  int n = 1;
  if (const char* env = getenv("FT_MOCK_CUDA_DEVICES")) {
    char* end = nullptr;
    long v = strtol(env, &end, 10);
    if (end == env || *end != 0 || v < 0 || v > kMaxDevices) {
      fprintf(stderr, "[mock_cuda] cuInit: ignoring FT_MOCK_CUDA_DEVICES=%s (want 0..%d)\n", env,
              kMaxDevices);
    } else {
      n = (int)v;
    }
  }
  const char* tr = getenv("FT_MOCK_CUDA_TRACE");
  s.trace = tr && *tr && strcmp(tr, "0") != 0;
  const char* ex = getenv("FT_MOCK_CUDA_EXEC");
  s.exec_emu = ex && strcmp(ex, "emu") == 0;
  if (ex && *ex && !s.exec_emu && strcmp(ex, "fast") != 0)
    fprintf(stderr, "[mock_cuda] cuInit: ignoring FT_MOCK_CUDA_EXEC=%s (want emu or fast)\n", ex);
  if (n == 0) return fail(CUDA_ERROR_NO_DEVICE, "cuInit", "FT_MOCK_CUDA_DEVICES=0");
  s.ndevices = n;
  for (int d = 0; d < n; ++d) s.ctxs[d].device = d;
  s.initialized = true;
  return CUDA_SUCCESS;
}

FT_API CUresult cuDriverGetVersion(int* v) {
  if (!v) return fail(CUDA_ERROR_INVALID_VALUE, "cuDriverGetVersion", "null pointer");
  *v = 13000;
  return CUDA_SUCCESS;
}

#define NEED_INIT(fn)                                                                   \
  do {                                                                                  \
    if (!S().initialized) return fail(CUDA_ERROR_NOT_INITIALIZED, fn, "cuInit has not been called"); \
  } while (0)
#define NEED_DEVICE(fn, d)                                                              \
  do {                                                                                  \
    if ((d) < 0 || (d) >= S().ndevices)                                                 \
      return fail(CUDA_ERROR_INVALID_DEVICE, fn, "device %d out of range (%d device(s))", (int)(d), \
                  S().ndevices);                                                        \
  } while (0)

FT_API CUresult cuDeviceGetCount(int* n) {
  std::lock_guard<std::mutex> g(S().mu);
  NEED_INIT("cuDeviceGetCount");
  if (!n) return fail(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetCount", "null pointer");
  *n = S().ndevices;
  return CUDA_SUCCESS;
}

FT_API CUresult cuDeviceGet(CUdevice* d, int ordinal) {
  std::lock_guard<std::mutex> g(S().mu);
  NEED_INIT("cuDeviceGet");
  if (!d) return fail(CUDA_ERROR_INVALID_VALUE, "cuDeviceGet", "null pointer");
  NEED_DEVICE("cuDeviceGet", ordinal);
  *d = ordinal;
  return CUDA_SUCCESS;
}

FT_API CUresult cuDeviceGetName(char* name, int len, CUdevice d) {
  std::lock_guard<std::mutex> g(S().mu);
  NEED_INIT("cuDeviceGetName");
  NEED_DEVICE("cuDeviceGetName", d);
  if (!name || len <= 0) return fail(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetName", "bad buffer");
  snprintf(name, (size_t)len, "%s", "Mock CUDA Device (CPU emulation)");
  return CUDA_SUCCESS;
}

FT_API CUresult cuDeviceGetAttribute(int* v, int attrib, CUdevice d) {
  std::lock_guard<std::mutex> g(S().mu);
  NEED_INIT("cuDeviceGetAttribute");
  NEED_DEVICE("cuDeviceGetAttribute", d);
  if (!v) return fail(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetAttribute", "null pointer");
  if (attrib <= 0)
    return fail(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetAttribute", "bad attribute %d", attrib);
  switch (attrib) {
    case 1: *v = 1024; break;        // MAX_THREADS_PER_BLOCK
    case 2: *v = 1024; break;        // MAX_BLOCK_DIM_X
    case 5: *v = 2147483647; break;  // MAX_GRID_DIM_X
    case 10: *v = 32; break;         // WARP_SIZE
    case 16: *v = 4; break;          // MULTIPROCESSOR_COUNT
    case 75: *v = kDeviceCC / 10; break;  // COMPUTE_CAPABILITY_MAJOR
    case 76: *v = kDeviceCC % 10; break;  // COMPUTE_CAPABILITY_MINOR
    default: *v = 0;
  }
  return CUDA_SUCCESS;
}

FT_API CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice d) {
  std::lock_guard<std::mutex> g(S().mu);
  NEED_INIT("cuDeviceTotalMem_v2");
  NEED_DEVICE("cuDeviceTotalMem_v2", d);
  if (!bytes) return fail(CUDA_ERROR_INVALID_VALUE, "cuDeviceTotalMem_v2", "null pointer");
  *bytes = kTotalMem;
  return CUDA_SUCCESS;
}

FT_API CUresult cuDevicePrimaryCtxRetain(void** c, CUdevice d) {
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  NEED_INIT("cuDevicePrimaryCtxRetain");
  NEED_DEVICE("cuDevicePrimaryCtxRetain", d);
  if (!c) return fail(CUDA_ERROR_INVALID_VALUE, "cuDevicePrimaryCtxRetain", "null pointer");
  Context& ctx = s.ctxs[d];
  ctx.refcount++;
  ctx.active = true;
  *c = &ctx;
  return CUDA_SUCCESS;
}

FT_API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  NEED_INIT("cuDevicePrimaryCtxRelease_v2");
  NEED_DEVICE("cuDevicePrimaryCtxRelease_v2", d);
  Context& ctx = s.ctxs[d];
  if (ctx.refcount <= 0)
    return fail(CUDA_ERROR_INVALID_CONTEXT, "cuDevicePrimaryCtxRelease_v2",
                "primary context of device %d is not retained", d);
  if (--ctx.refcount == 0) destroy_ctx_locked(&ctx);
  return CUDA_SUCCESS;
}

FT_API CUresult cuCtxSetCurrent(void* c) {
  std::lock_guard<std::mutex> g(S().mu);
  NEED_INIT("cuCtxSetCurrent");
  Context* ctx = (Context*)c;
  if (ctx && !valid_ctx(ctx))
    return fail(CUDA_ERROR_INVALID_CONTEXT, "cuCtxSetCurrent", "%p is not a context", c);
  if (ctx && !ctx->active)
    return fail(CUDA_ERROR_INVALID_CONTEXT, "cuCtxSetCurrent",
                "context of device %d was released (retain it first)", ctx->device);
  t_current = ctx;
  return CUDA_SUCCESS;
}

FT_API CUresult cuCtxGetCurrent(void** c) {
  std::lock_guard<std::mutex> g(S().mu);
  NEED_INIT("cuCtxGetCurrent");
  if (!c) return fail(CUDA_ERROR_INVALID_VALUE, "cuCtxGetCurrent", "null pointer");
  *c = t_current;
  return CUDA_SUCCESS;
}

FT_API CUresult cuCtxGetDevice(CUdevice* d) {
  std::lock_guard<std::mutex> g(S().mu);
  if (CUresult r = need_ctx("cuCtxGetDevice")) return r;
  if (!d) return fail(CUDA_ERROR_INVALID_VALUE, "cuCtxGetDevice", "null pointer");
  *d = t_current->device;
  return CUDA_SUCCESS;
}

FT_API CUresult cuCtxSynchronize(void) {
  std::lock_guard<std::mutex> g(S().mu);
  return need_ctx("cuCtxSynchronize");  // launches are synchronous
}

FT_API CUresult cuStreamCreate(void** st, unsigned int flags) {
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  if (CUresult r = need_ctx("cuStreamCreate")) return r;
  if (!st) return fail(CUDA_ERROR_INVALID_VALUE, "cuStreamCreate", "null pointer");
  (void)flags;
  auto p = std::make_unique<Stream>();
  p->ctx = t_current;
  Stream* raw = p.get();
  s.streams.emplace(raw, std::move(p));
  *st = raw;
  return CUDA_SUCCESS;
}

FT_API CUresult cuStreamDestroy_v2(void* st) {
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  NEED_INIT("cuStreamDestroy_v2");
  auto it = s.streams.find((Stream*)st);
  if (it == s.streams.end())
    return fail(CUDA_ERROR_INVALID_HANDLE, "cuStreamDestroy_v2", "unknown stream %p", st);
  s.streams.erase(it);
  return CUDA_SUCCESS;
}

FT_API CUresult cuStreamSynchronize(void* st) {
  std::lock_guard<std::mutex> g(S().mu);
  if (CUresult r = need_ctx("cuStreamSynchronize")) return r;
  if (!valid_stream(st, t_current))
    return fail(CUDA_ERROR_INVALID_HANDLE, "cuStreamSynchronize", "unknown stream %p", st);
  return CUDA_SUCCESS;
}

// Events (harmless extras, for cudarc's safe API): work is synchronous, so a recorded event
// has always completed.
FT_API CUresult cuEventCreate(void** ev, unsigned int flags) {
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  if (CUresult r = need_ctx("cuEventCreate")) return r;
  if (!ev) return fail(CUDA_ERROR_INVALID_VALUE, "cuEventCreate", "null pointer");
  (void)flags;
  auto e = std::make_unique<Event>();
  e->ctx = t_current;
  Event* raw = e.get();
  s.events.emplace(raw, std::move(e));
  *ev = raw;
  return CUDA_SUCCESS;
}

namespace {
Event* find_event(void* ev) {
  auto it = S().events.find((Event*)ev);
  return it == S().events.end() ? nullptr : it->second.get();
}
}  // namespace

FT_API CUresult cuEventDestroy_v2(void* ev) {
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  NEED_INIT("cuEventDestroy_v2");
  if (!find_event(ev))
    return fail(CUDA_ERROR_INVALID_HANDLE, "cuEventDestroy_v2", "unknown event %p", ev);
  s.events.erase((Event*)ev);
  return CUDA_SUCCESS;
}

FT_API CUresult cuEventRecord(void* ev, void* st) {
  std::lock_guard<std::mutex> g(S().mu);
  if (CUresult r = need_ctx("cuEventRecord")) return r;
  Event* e = find_event(ev);
  if (!e) return fail(CUDA_ERROR_INVALID_HANDLE, "cuEventRecord", "unknown event %p", ev);
  if (!valid_stream(st, e->ctx))
    return fail(CUDA_ERROR_INVALID_HANDLE, "cuEventRecord", "unknown stream %p", st);
  e->recorded = true;
  return CUDA_SUCCESS;
}

FT_API CUresult cuEventQuery(void* ev) {
  std::lock_guard<std::mutex> g(S().mu);
  NEED_INIT("cuEventQuery");
  if (!find_event(ev))
    return fail(CUDA_ERROR_INVALID_HANDLE, "cuEventQuery", "unknown event %p", ev);
  return CUDA_SUCCESS;
}

FT_API CUresult cuEventSynchronize(void* ev) {
  std::lock_guard<std::mutex> g(S().mu);
  NEED_INIT("cuEventSynchronize");
  if (!find_event(ev))
    return fail(CUDA_ERROR_INVALID_HANDLE, "cuEventSynchronize", "unknown event %p", ev);
  return CUDA_SUCCESS;
}

FT_API CUresult cuEventElapsedTime_v2(float* ms, void* start, void* end) {
  std::lock_guard<std::mutex> g(S().mu);
  NEED_INIT("cuEventElapsedTime_v2");
  Event* a = find_event(start);
  Event* b = find_event(end);
  if (!ms || !a || !b)
    return fail(CUDA_ERROR_INVALID_HANDLE, "cuEventElapsedTime_v2", "unknown event / null pointer");
  if (!a->recorded || !b->recorded)
    return fail(CUDA_ERROR_INVALID_HANDLE, "cuEventElapsedTime_v2", "event not recorded");
  *ms = 0.0f;  // no timing: everything already ran synchronously
  return CUDA_SUCCESS;
}

FT_API CUresult cuEventElapsedTime(float* ms, void* start, void* end) {
  return cuEventElapsedTime_v2(ms, start, end);
}

FT_API CUresult cuStreamWaitEvent(void* st, void* ev, unsigned int flags) {
  std::lock_guard<std::mutex> g(S().mu);
  if (CUresult r = need_ctx("cuStreamWaitEvent")) return r;
  (void)flags;
  if (!find_event(ev))
    return fail(CUDA_ERROR_INVALID_HANDLE, "cuStreamWaitEvent", "unknown event %p", ev);
  if (!valid_stream(st, t_current))
    return fail(CUDA_ERROR_INVALID_HANDLE, "cuStreamWaitEvent", "unknown stream %p", st);
  return CUDA_SUCCESS;
}

FT_API CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  if (CUresult r = need_ctx("cuMemAlloc_v2")) return r;
  if (!p) return fail(CUDA_ERROR_INVALID_VALUE, "cuMemAlloc_v2", "null result pointer");
  if (bytes == 0) return fail(CUDA_ERROR_INVALID_VALUE, "cuMemAlloc_v2", "bytes == 0");
  if (bytes > kTotalMem - s.live_bytes)
    return fail(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc_v2",
                "%zu bytes requested, %zu of %zu bytes free", bytes, kTotalMem - s.live_bytes,
                kTotalMem);
  // [guard][user bytes][guard, rounded up to the alignment]
  const size_t total = kGuard + ((bytes + kGuard + kAlign - 1) / kAlign) * kAlign;
  unsigned char* base = (unsigned char*)aligned_alloc(kAlign, total);
  if (!base)
    return fail(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc_v2", "host allocation of %zu bytes failed",
                total);
  Allocation a{base, bytes, total, t_current->device};
  fill_guards(a);
  memset(base + kGuard, kFreshByte, bytes);
  uintptr_t user = (uintptr_t)(base + kGuard);
  s.allocs.emplace(user, a);
  s.live_bytes += bytes;
  *p = (CUdeviceptr)user;
  return CUDA_SUCCESS;
}

FT_API CUresult cuMemFree_v2(CUdeviceptr p) {
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  if (CUresult r = need_ctx("cuMemFree_v2")) return r;
  auto it = s.allocs.find((uintptr_t)p);
  if (it == s.allocs.end())
    return fail(CUDA_ERROR_INVALID_VALUE, "cuMemFree_v2",
                "0x%llx is not the start of a live allocation (%s; double free?)",
                (unsigned long long)p, describe((uintptr_t)p).c_str());
  free_alloc_locked(it);
  return CUDA_SUCCESS;
}

FT_API CUresult cuMemGetInfo_v2(size_t* free_b, size_t* total) {
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  if (CUresult r = need_ctx("cuMemGetInfo_v2")) return r;
  if (!free_b || !total) return fail(CUDA_ERROR_INVALID_VALUE, "cuMemGetInfo_v2", "null pointer");
  *free_b = kTotalMem - s.live_bytes;
  *total = kTotalMem;
  return CUDA_SUCCESS;
}

namespace {

CUresult memcpy_htod(const char* fn, CUdeviceptr dst, const void* src, size_t n) {
  std::lock_guard<std::mutex> g(S().mu);
  if (CUresult r = need_ctx(fn)) return r;
  if (n == 0) return CUDA_SUCCESS;
  if (!src) return fail(CUDA_ERROR_INVALID_VALUE, fn, "null host pointer");
  if (CUresult r = check_host(fn, "source", src, n)) return r;
  if (CUresult r = check_range(fn, "destination", dst, n)) return r;
  memcpy((void*)(uintptr_t)dst, src, n);
  return CUDA_SUCCESS;
}

CUresult memcpy_dtoh(const char* fn, void* dst, CUdeviceptr src, size_t n) {
  std::lock_guard<std::mutex> g(S().mu);
  if (CUresult r = need_ctx(fn)) return r;
  if (n == 0) return CUDA_SUCCESS;
  if (!dst) return fail(CUDA_ERROR_INVALID_VALUE, fn, "null host pointer");
  if (CUresult r = check_host(fn, "destination", dst, n)) return r;
  if (CUresult r = check_range(fn, "source", src, n)) return r;
  memcpy(dst, (const void*)(uintptr_t)src, n);
  return CUDA_SUCCESS;
}

CUresult memcpy_dtod(const char* fn, CUdeviceptr dst, CUdeviceptr src, size_t n) {
  std::lock_guard<std::mutex> g(S().mu);
  if (CUresult r = need_ctx(fn)) return r;
  if (n == 0) return CUDA_SUCCESS;
  if (CUresult r = check_range(fn, "source", src, n)) return r;
  if (CUresult r = check_range(fn, "destination", dst, n)) return r;
  memmove((void*)(uintptr_t)dst, (const void*)(uintptr_t)src, n);
  return CUDA_SUCCESS;
}

CUresult memset_d(const char* fn, CUdeviceptr dst, const void* value, size_t width, size_t n) {
  std::lock_guard<std::mutex> g(S().mu);
  if (CUresult r = need_ctx(fn)) return r;
  if (n == 0) return CUDA_SUCCESS;
  if (n > SIZE_MAX / width) return fail(CUDA_ERROR_INVALID_VALUE, fn, "count overflows");
  if (dst % width) return fail(CUDA_ERROR_INVALID_VALUE, fn, "destination not %zu-byte aligned", width);
  if (CUresult r = check_range(fn, "destination", dst, n * width)) return r;
  unsigned char* d = (unsigned char*)(uintptr_t)dst;
  if (width == 1) {
    memset(d, *(const unsigned char*)value, n);
  } else {
    for (size_t i = 0; i < n; ++i) memcpy(d + i * width, value, width);
  }
  return CUDA_SUCCESS;
}

CUresult check_stream(const char* fn, void* st) {
  std::lock_guard<std::mutex> g(S().mu);
  if (CUresult r = need_ctx(fn)) return r;
  if (!valid_stream(st, t_current)) return fail(CUDA_ERROR_INVALID_HANDLE, fn, "unknown stream %p", st);
  return CUDA_SUCCESS;
}

}  // namespace

FT_API CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
  return memcpy_htod("cuMemcpyHtoD_v2", dst, src, n);
}
FT_API CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
  return memcpy_dtoh("cuMemcpyDtoH_v2", dst, src, n);
}
FT_API CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
  return memcpy_dtod("cuMemcpyDtoD_v2", dst, src, n);
}
FT_API CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char v, size_t n) {
  return memset_d("cuMemsetD8_v2", dst, &v, 1, n);
}
FT_API CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int v, size_t n) {
  return memset_d("cuMemsetD32_v2", dst, &v, 4, n);
}
// Async variants (harmless extras): synchronous here, stream must be valid.
FT_API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, void* st) {
  if (CUresult r = check_stream("cuMemcpyHtoDAsync_v2", st)) return r;
  return memcpy_htod("cuMemcpyHtoDAsync_v2", dst, src, n);
}
FT_API CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, void* st) {
  if (CUresult r = check_stream("cuMemcpyDtoHAsync_v2", st)) return r;
  return memcpy_dtoh("cuMemcpyDtoHAsync_v2", dst, src, n);
}
FT_API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, void* st) {
  if (CUresult r = check_stream("cuMemcpyDtoDAsync_v2", st)) return r;
  return memcpy_dtod("cuMemcpyDtoDAsync_v2", dst, src, n);
}
FT_API CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char v, size_t n, void* st) {
  if (CUresult r = check_stream("cuMemsetD8Async", st)) return r;
  return memset_d("cuMemsetD8Async", dst, &v, 1, n);
}

FT_API CUresult cuModuleLoadData(void** m, const void* image) {
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  if (CUresult r = need_ctx("cuModuleLoadData")) return r;
  if (!m || !image) return fail(CUDA_ERROR_INVALID_VALUE, "cuModuleLoadData", "null pointer");
  const char* text = (const char*)image;
  // FT_MOCK_CUDA_OLD_DRIVER=1: a driver older than the NVRTC that made the PTX. It refuses
  // every PTX image (CUDA_ERROR_UNSUPPORTED_PTX_VERSION) and takes CUBINs (ELF), whose
  // kernels are the `ft_*` names in their symbol strings.
  const char* old_env = getenv("FT_MOCK_CUDA_OLD_DRIVER");
  const bool old_driver = old_env && *old_env && strcmp(old_env, "0") != 0;
  if (memcmp(text, "\x7f" "ELF", 4) == 0) {
    if (!old_driver)
      return fail(CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData",
                  "cubin/ELF images are only taken with FT_MOCK_CUDA_OLD_DRIVER=1 (pass PTX text)");
    auto mod = std::make_unique<Module>();
    mod->ctx = t_current;
    mod->ptx = ".version (cubin)";
    mod->entries = elf_entries((const unsigned char*)image);
    if (mod->entries.empty())
      return fail(CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData", "ELF image without ft_* kernels");
    Module* raw = mod.get();
    s.modules.emplace(raw, std::move(mod));
    *m = raw;
    return CUDA_SUCCESS;
  }
  if (old_driver)
    return fail(CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "cuModuleLoadData",
                "FT_MOCK_CUDA_OLD_DRIVER=1: PTX from a newer NVRTC cannot be JIT-compiled");
  auto mod = std::make_unique<Module>();
  mod->ctx = t_current;
  mod->ptx = text;
  if (mod->ptx.find(".version") == std::string::npos || mod->ptx.find(".target") == std::string::npos)
    return fail(CUDA_ERROR_INVALID_PTX, "cuModuleLoadData",
                "image is not PTX text (no .version/.target directive)");
  int target = ptx_target(mod->ptx);
  if (target < 0)
    return fail(CUDA_ERROR_INVALID_PTX, "cuModuleLoadData", "unreadable .target directive");
  if (target > kDeviceCC)
    return fail(CUDA_ERROR_NO_BINARY_FOR_GPU, "cuModuleLoadData",
                "PTX targets sm_%d but the device is compute capability %d.%d", target,
                kDeviceCC / 10, kDeviceCC % 10);
  mod->entries = ptx_entries(mod->ptx);
  Module* raw = mod.get();
  s.modules.emplace(raw, std::move(mod));
  *m = raw;
  return CUDA_SUCCESS;
}

FT_API CUresult cuModuleUnload(void* m) {
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  NEED_INIT("cuModuleUnload");
  if (!s.modules.count((Module*)m))
    return fail(CUDA_ERROR_INVALID_HANDLE, "cuModuleUnload", "unknown module %p", m);
  unload_module_locked((Module*)m);
  return CUDA_SUCCESS;
}

FT_API CUresult cuModuleGetFunction(void** f, void* m, const char* name) {
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  NEED_INIT("cuModuleGetFunction");
  if (!f || !name) return fail(CUDA_ERROR_INVALID_VALUE, "cuModuleGetFunction", "null pointer");
  auto it = s.modules.find((Module*)m);
  if (it == s.modules.end())
    return fail(CUDA_ERROR_INVALID_HANDLE, "cuModuleGetFunction", "unknown module %p", m);
  Module* mod = it->second.get();
  auto fit = mod->functions.find(name);
  if (fit != mod->functions.end()) {
    *f = fit->second.get();
    return CUDA_SUCCESS;
  }
  if (!mod->entries.count(name))
    return fail(CUDA_ERROR_NOT_FOUND, "cuModuleGetFunction",
                "the module's PTX has no `.entry %s` (%zu entries; wrong per-dtype module?)", name,
                mod->entries.size());
  const auto& reg = registry_locked();
  auto rit = reg.find(name);
  if (rit == reg.end())
    return fail(CUDA_ERROR_NOT_FOUND, "cuModuleGetFunction",
                "kernel %s is declared in the PTX but is not one of the mock's %zu compiled kernels",
                name, reg.size());
  auto fn = std::make_unique<Function>();
  fn->module = mod;
  fn->entry = rit->second;
  Function* raw = fn.get();
  mod->functions.emplace(name, std::move(fn));
  s.functions.insert(raw);
  *f = raw;
  return CUDA_SUCCESS;
}

FT_API CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                               unsigned by, unsigned bz, unsigned shared_bytes, void* st,
                               void** params, void** extra) {
  static const char* fn = "cuLaunchKernel";
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);  // held for the whole run: launches are serialized
  if (CUresult r = need_ctx(fn)) return r;
  Function* func = (Function*)f;
  if (!s.functions.count(func))
    return fail(CUDA_ERROR_INVALID_HANDLE, fn, "unknown function %p (module unloaded?)", f);
  const ft_mock::KernelEntry* e = func->entry;
  const char* kname = e->name;
  if (func->module->ctx != t_current)
    return fail(CUDA_ERROR_INVALID_HANDLE, fn, "%s: its module belongs to device %d, current is %d",
                kname, func->module->ctx->device, t_current->device);
  if (gy != 1 || gz != 1 || by != 1 || bz != 1)
    return fail(CUDA_ERROR_INVALID_VALUE, fn,
                "%s: only 1-D launches are used (grid %ux%ux%u, block %ux%ux%u)", kname, gx, gy,
                gz, bx, by, bz);
  if (gx < 1 || bx < 1 || bx > 1024)
    return fail(CUDA_ERROR_INVALID_VALUE, fn, "%s: bad launch configuration grid %u block %u", kname,
                gx, bx);
  if (shared_bytes > 48 * 1024)
    return fail(CUDA_ERROR_INVALID_VALUE, fn, "%s: %u bytes of dynamic shared memory", kname,
                shared_bytes);
  if (extra != nullptr)
    return fail(CUDA_ERROR_INVALID_VALUE, fn, "%s: `extra` is not supported (use kernelParams)",
                kname);
  if (!valid_stream(st, t_current))
    return fail(CUDA_ERROR_INVALID_HANDLE, fn, "%s: unknown stream %p", kname, st);
  if (e->nparams > 0 && params == nullptr)
    return fail(CUDA_ERROR_INVALID_VALUE, fn,
                "%s: kernelParams is null but the kernel takes %d parameters", kname, e->nparams);
  for (int i = 0; i < e->nparams; ++i) {
    if (params[i] == nullptr)
      return fail(CUDA_ERROR_INVALID_VALUE, fn, "%s: kernelParams[%d] is null", kname, i);
    if (!e->ptr_align[i]) continue;
    uintptr_t p = (uintptr_t) * (void**)params[i];
    if (p == 0) continue;
    const Allocation* a = find_alloc(p, 1);
    if (!a)
      return fail(CUDA_ERROR_ILLEGAL_ADDRESS, fn, "%s: pointer parameter %d (0x%llx) is %s", kname, i,
                  (unsigned long long)p, describe(p).c_str());
    if (a->device != t_current->device)
      return fail(CUDA_ERROR_ILLEGAL_ADDRESS, fn,
                  "%s: pointer parameter %d (0x%llx) was allocated on device %d, launch is on %d",
                  kname, i, (unsigned long long)p, a->device, t_current->device);
    if (p % e->ptr_align[i])
      return fail(CUDA_ERROR_MISALIGNED_ADDRESS, fn,
                  "%s: pointer parameter %d (0x%llx) is not %d-byte aligned", kname, i,
                  (unsigned long long)p, (int)e->ptr_align[i]);
  }
  const bool sequential = !s.exec_emu && s.sync_free.count(e);
  if (s.trace) {
    fprintf(stderr, "[mock_cuda] launch %s grid %u block %u (%s)\n", kname, gx, bx,
            s.exec_emu ? "emu" : sequential ? "sequential" : "pool");
    fflush(stderr);
  }
  try {
    const std::function<void()> body = [e, params] { e->call(e->fn, params); };
    if (s.exec_emu) {
      ft_emu::run(dim3(gx), dim3(bx), body);
    } else if (sequential) {
      run_sequential(dim3(gx), dim3(bx), body);
    } else {
      if (!s.pool) s.pool = new Pool();  // never destroyed (detached workers)
      s.pool->run(dim3(gx), dim3(bx), body);
    }
  } catch (const std::exception& ex) {
    return fail(CUDA_ERROR_LAUNCH_FAILED, fn, "%s threw: %s", kname, ex.what());
  } catch (...) {
    return fail(CUDA_ERROR_LAUNCH_FAILED, fn, "%s threw a C++ exception", kname);
  }
  s.launches[kname]++;
  s.total_launches++;
  // Out-of-bounds writes land in the guard bytes around some allocation.
  CUresult rc = CUDA_SUCCESS;
  for (auto& kv : s.allocs) {
    size_t bad = 0;
    if (!guards_intact(kv.second, &bad)) {
      long long off = (long long)bad - (long long)kGuard;
      if (rc == CUDA_SUCCESS)
        rc = fail(CUDA_ERROR_ILLEGAL_ADDRESS, fn,
                  "%s wrote out of bounds: byte offset %lld of allocation 0x%llx (%zu bytes)", kname,
                  off, (unsigned long long)kv.first, kv.second.bytes);
      fill_guards(kv.second);
    }
  }
  return rc;
}

void ft_mock::on_sync(const char* what) {
  if (t_sequential)
    throw std::logic_error(std::string(what) +
                           " called by a kernel classified as sync-free (build_mock.py bug)");
}

// ============================================================================ test helpers
// 1 when [addr, addr + bytes) lies inside one live allocation (bytes == 0: addr inside or at
// the end of one), else 0. Used by the mock cuBLAS.
FT_API int ft_mock_cuda_check_range(unsigned long long addr, size_t bytes) {
  std::lock_guard<std::mutex> g(S().mu);
  if (bytes == 0) return find_alloc((uintptr_t)addr, 1) || find_alloc((uintptr_t)addr - 1, 1) ? 1 : 0;
  return find_alloc((uintptr_t)addr, bytes) ? 1 : 0;
}

// Number of successful launches of kernel `name` (all kernels when name is null).
FT_API unsigned long long ft_mock_cuda_launch_count(const char* name) {
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  if (!name) return s.total_launches;
  auto it = s.launches.find(name);
  return it == s.launches.end() ? 0 : it->second;
}

// Live allocations (count, bytes): lets a test detect leaks.
FT_API void ft_mock_cuda_live_allocations(size_t* count, size_t* bytes) {
  State& s = S();
  std::lock_guard<std::mutex> g(s.mu);
  if (count) *count = s.allocs.size();
  if (bytes) *bytes = s.live_bytes;
}

// How launches of kernel `name` run: 1 sequentially (sync-free), 0 on the thread pool,
// -1 unknown kernel.
FT_API int ft_mock_cuda_kernel_is_sync_free(const char* name) {
  std::lock_guard<std::mutex> g(S().mu);
  auto it = registry_locked().find(name ? name : "");
  if (it == registry_locked().end()) return -1;
  return S().sync_free.count(it->second) ? 1 : 0;
}

// Number of kernels compiled into the mock.
FT_API size_t ft_mock_cuda_kernel_count(void) {
  std::lock_guard<std::mutex> g(S().mu);
  return registry_locked().size();
}

#endif  // FT_MOCK_REGISTRY_ONLY
