// C entry point of the CPU-emulation library for the Python tests (ctypes).
//
//   int emu_launch(const char* sig, void* kernel, unsigned grid, unsigned block, void** argv)
//
// `sig` spells the kernel's parameter list, one letter per parameter:
//   p pointer   L Layout (by value)   q long long   Q unsigned long long   i int
//   f float     d double              H 2-byte value (f16/bf16/i16)        B 1-byte value
//   I 4-byte int value
// argv[k] points at the k-th argument's value. Returns 0 on success, -1 for an unknown
// signature, -2 when the launch threw (bad configuration).
#include "cuda_emu.h"

#include <string.h>

#include <utility>

#include "common.cuh"

namespace {

template <char C> struct SigT;
template <> struct SigT<'p'> { typedef void* type; };
template <> struct SigT<'L'> { typedef Layout type; };
template <> struct SigT<'q'> { typedef long long type; };
template <> struct SigT<'Q'> { typedef unsigned long long type; };
template <> struct SigT<'i'> { typedef int type; };
template <> struct SigT<'I'> { typedef int type; };
template <> struct SigT<'f'> { typedef float type; };
template <> struct SigT<'d'> { typedef double type; };
template <> struct SigT<'H'> { typedef unsigned short type; };
template <> struct SigT<'B'> { typedef unsigned char type; };

template <class... Ts, size_t... I>
void call_impl(void* fn, void** argv, std::index_sequence<I...>) {
  reinterpret_cast<void (*)(Ts...)>(fn)(*static_cast<Ts*>(argv[I])...);
}

template <char... Cs>
bool try_sig(const char* sig, void* fn, unsigned grid, unsigned block, void** argv) {
  static const char s[] = {Cs..., 0};
  if (strcmp(sig, s) != 0) return false;
  ft_emu::run(dim3(grid), dim3(block), [&] {
    call_impl<typename SigT<Cs>::type...>(fn, argv, std::index_sequence_for<SigT<Cs>...>{});
  });
  return true;
}

}  // namespace

extern "C" int emu_launch(const char* sig, void* fn, unsigned grid, unsigned block, void** argv) {
  try {
    bool ok =
        // unary / cast / predicate; reductions, scans, softmax
        try_sig<'p', 'L', 'p', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'p', 'q', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'p', 'q', 'q', 'd'>(sig, fn, grid, block, argv) ||
        // binary, ternary, copy
        try_sig<'p', 'L', 'p', 'L', 'p', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'p', 'L', 'p', 'L', 'p', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'p', 'L', 'q'>(sig, fn, grid, block, argv) ||
        // fill
        try_sig<'p', 'L', 'f', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'd', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'H', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'B', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'I', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'q', 'q'>(sig, fn, grid, block, argv) ||
        // masked_fill
        try_sig<'p', 'L', 'p', 'L', 'f', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'p', 'L', 'd', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'p', 'L', 'H', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'p', 'L', 'B', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'p', 'L', 'I', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'p', 'L', 'q', 'q'>(sig, fn, grid, block, argv) ||
        // gather, scatter(_add), index_select
        try_sig<'p', 'L', 'p', 'L', 'p', 'q', 'i'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'p', 'L', 'p', 'L', 'q', 'i'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'p', 'q', 'p', 'q', 'i'>(sig, fn, grid, block, argv) ||
        // philox
        try_sig<'p', 'q', 'Q', 'Q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'q', 'Q', 'Q', 'f', 'f'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'q', 'Q', 'Q', 'd', 'd'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'q', 'Q', 'Q', 'q', 'Q'>(sig, fn, grid, block, argv) ||
        // sort
        try_sig<'p', 'L', 'p', 'p', 'q', 'q', 'i'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'p', 'p', 'p', 'q', 'q', 'q'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'L', 'p', 'p', 'q', 'q'>(sig, fn, grid, block, argv) ||
        // optimizer steps: sgd, adam
        try_sig<'p', 'p', 'p', 'q', 'd', 'd', 'd', 'd', 'i', 'i', 'i'>(sig, fn, grid, block,
                                                                      argv) ||
        try_sig<'p', 'p', 'p', 'p', 'p', 'q', 'd', 'd', 'd', 'd', 'd', 'd', 'd', 'd', 'd', 'i', 'i',
                'i'>(sig, fn, grid, block, argv) ||
        // the other optimizers: ft_<algo>(p, g, s0, s1, s2, n, c0..c9, flags)
        try_sig<'p', 'p', 'p', 'p', 'p', 'q', 'd', 'd', 'd', 'd', 'd', 'd', 'd', 'd', 'd', 'd',
                'i'>(sig, fn, grid, block, argv) ||
        // gradient scaling: amp_unscale, amp_update_scale
        try_sig<'p', 'q', 'p', 'p'>(sig, fn, grid, block, argv) ||
        try_sig<'p', 'p', 'p', 'd', 'd', 'i'>(sig, fn, grid, block, argv);
    return ok ? 0 : -1;
  } catch (...) {
    return -2;
  }
}
