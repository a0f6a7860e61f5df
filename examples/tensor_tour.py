"""A short tour of ferrotorch's tensor API, written as PyTorch code.

Run: bash scripts/main.sh   (or .venv/bin/python examples/tensor_tour.py once the wheel is installed)
"""
import time

import numpy as np
import ferrotorch as torch


def section(title):
    print(f"\n== {title} " + "=" * max(0, 60 - len(title)))


def best_of(fn, repeat=5):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


torch.manual_seed(0)

section("creation")
a = torch.arange(6).reshape(2, 3)
print("arange(6).reshape(2, 3):\n", a, sep="")
print("zeros(2, 2, dtype=float64):\n", torch.zeros(2, 2, dtype=torch.float64), sep="")
print("full((2,), 7.5):", torch.full((2,), 7.5))
print("linspace(0, 1, 5):", torch.linspace(0, 1, 5))
print("randn(2, 3).shape:", torch.randn(2, 3).shape)

section("dtype promotion")
i = torch.tensor([1, 2, 3])
f = torch.tensor([0.5, 0.25, 0.125])
print("int64 + float32 ->", (i + f).dtype)
print("int64 * 2.5     ->", (i * 2.5).dtype)
print("int64 / int64   ->", (i / i).dtype)
print("float32 + float64 ->", (f + torch.ones(3, dtype=torch.float64)).dtype)
print("int64 > 1       ->", (i > 1).dtype, (i > 1).tolist())

section("broadcasting")
col = torch.tensor([[10.0], [20.0]])          # (2, 1)
row = torch.tensor([1.0, 2.0, 3.0])           # (3,)
print("(2,1) + (3,) ->", tuple((col + row).shape), (col + row).tolist())

section("views share memory")
base = torch.zeros(3, 4)
v = base.t()                                   # (4, 3) transposed view
v[1, 2] = 5.0
print("after v[1, 2] = 5 on base.t(): base[2, 1] =", base[2, 1].item())
print("t() is contiguous:", v.is_contiguous(), "| strides:", v.stride())
flat = base.view(-1)
flat.fill_(1.0)
print("after base.view(-1).fill_(1): base.sum() =", base.sum().item())

section("indexing")
x = torch.arange(12).reshape(3, 4)
print("x[1]       =", x[1].tolist())
print("x[:, 1::2] =", x[:, 1::2].tolist())
print("x[x > 8]   =", x[x > 8].tolist())
print("x[[0, 2]]  =", x[[0, 2]].tolist())

section("reductions")
y = torch.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
print("sum:", y.sum().item(), "| mean(dim=0):", y.mean(dim=0).tolist())
print("max(dim=1):", y.max(dim=1).values.tolist(), "argmax:", y.argmax(dim=1).tolist())
print("std:", round(y.std().item(), 6), "| prod:", y.prod().item())

section("matmul vs numpy")
m1, m2 = torch.randn(64, 128), torch.randn(128, 32)
ref = m1.numpy().astype(np.float64) @ m2.numpy().astype(np.float64)
err = np.abs((m1 @ m2).numpy() - ref).max()
print(f"(64x128) @ (128x32): shape {tuple((m1 @ m2).shape)}, max abs error vs float64 numpy {err:.2e}")

section("numpy interop")
arr = np.arange(4, dtype=np.float32)
t = torch.from_numpy(arr)
arr[0] = 100.0
print("from_numpy shares memory: t[0] =", t[0].item())
back = t.numpy()
back[1] = -1.0
print(".numpy() shares memory: t[1] =", t[1].item(), "| dtype:", t.dtype)

section("autograd")
xg = torch.tensor(3.5, requires_grad=True)
out = (xg - 1) * (xg - 2) * (xg - 3)
out.backward()
print(f"f(x) = (x-1)(x-2)(x-3) at 3.5: f = {out.item():.4f}, df/dx = {xg.grad.item():.4f} (expected 5.75)")

section("timings (best of 5)")
n = 1024
am, bm = torch.randn(n, n), torch.randn(n, n)
an, bn = am.numpy(), bm.numpy()
t_ft, t_np = best_of(lambda: am @ bm), best_of(lambda: an @ bn)
gf = 2 * n ** 3 / 1e9
print(f"matmul {n}x{n} f32: ferrotorch {t_ft * 1e3:7.2f} ms ({gf / t_ft:6.1f} GFLOP/s) | "
      f"numpy {t_np * 1e3:7.2f} ms ({gf / t_np:6.1f} GFLOP/s)")
N = 4 * 1024 * 1024
xa, xb = torch.randn(N), torch.randn(N)
na, nb = xa.numpy(), xb.numpy()
t_ft, t_np = best_of(lambda: xa + xb), best_of(lambda: na + nb)
print(f"add of 4M f32:     ferrotorch {t_ft * 1e3:7.2f} ms | numpy {t_np * 1e3:7.2f} ms "
      f"(ratio {t_ft / t_np:.2f})")
