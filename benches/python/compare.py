#!/usr/bin/env python3
"""ferrotorch vs NumPy (and PyTorch when importable), same workloads, one process, one run.

    .venv/bin/python benches/python/compare.py            # full sizes
    .venv/bin/python benches/python/compare.py --quick    # small sizes (CI smoke run)

Times are best-of-N wall clock, the libraries' rounds interleaved. Ratios are ferrotorch time / other time (lower is better
for ferrotorch); the goal column restates DESIGN.md's performance goal as a ratio of times
against PyTorch and says whether this run met it. Timings never decide a test.
"""
import argparse
import os
import platform
import sys
import time
import timeit


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and few rounds (smoke run)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                    help="where ferrotorch and torch run the workloads (numpy stays on the CPU; "
                         "CUDA timings synchronize after every call)")
    ap.add_argument("--repeat", type=int, default=None, help="rounds per measurement (best is kept)")
    ap.add_argument("--threads", type=int, default=None,
                    help="worker threads for every library (sets OMP/OpenBLAS/MKL/RAYON_NUM_THREADS "
                         "before import, and torch.set_num_threads); default: each library's own")
    ap.add_argument("--only", default=None, metavar="TEXT",
                    help="measure only the workloads whose name contains TEXT (case-insensitive), e.g. "
                         "--only 'state dict' or --only load")
    ap.add_argument("--settle", type=float, default=0.2,
                    help="seconds to idle before each measurement, so the thread pools of the library "
                         "measured before (OpenMP, OpenBLAS, rayon) stop spinning and competing for cores")
    return ap.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else parse_args([])
if ARGS.threads:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402  (after the thread settings)

import ferrotorch as ft  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is optional
    torch = None
else:
    if ARGS.threads:
        torch.set_num_threads(ARGS.threads)


# --------------------------------------------------------------------------- timing
class Measurement:
    """One backend's side of a workload: warmed up once, then timed one round at a time.

    The libraries' rounds are interleaved (ft, np, torch, ft, np, torch, ...) and each keeps
    its best round. On a shared VM the speed of the machine drifts over seconds; measuring
    one library's rounds all before the other's turned that drift into ratio errors of 10-20%
    between runs, while interleaved rounds see the same machine. Rejected: more rounds per
    library in one block (slower, and still biased by drift).
    """

    def __init__(self, job, number_stmt, min_time=0.02):
        self.best = float("inf")
        if isinstance(job, tuple):  # (stmt, env) for timeit: no Python call frame around it
            timer = timeit.Timer(job[0], globals=job[1])
            timer.timeit(number=min(number_stmt, 1000))  # warm-up
            self.round = lambda: timer.timeit(number=number_stmt) / number_stmt
            return
        fn = job
        # Warm-up for both libraries alike: at least 3 calls and ~0.1 s, so allocator caches,
        # optimizer state and thread pools are in their steady state (a training step's first
        # calls allocate what later ones reuse). The last call gives the first estimate.
        t_end = time.perf_counter() + 0.1
        for i in range(1000):
            t0 = time.perf_counter()
            fn()
            one = time.perf_counter() - t0
            if i >= 2 and time.perf_counter() >= t_end:
                break
        number = max(1, min(100_000, int(min_time / max(one, 1e-9))))

        def round_():
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            return (time.perf_counter() - t0) / number
        self.round = round_

    def run_round(self):
        self.best = min(self.best, self.round())


def fmt_time(s):
    if s is None:
        return "n/a"
    if isinstance(s, str):
        return s
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


# --------------------------------------------------------------------------- workloads
class Workload:
    """name; per-backend factories returning a no-argument callable (or a (stmt, env) pair for timeit)."""

    def __init__(self, name, goal=None, flops=None):
        self.name, self.goal, self.flops = name, goal, flops  # goal: (max ft/torch time ratio, text)
        self.makers = {}

    def on(self, backend, maker):
        self.makers[backend] = maker
        return self


def dev_sync(lib):
    """The library's device synchronisation for the chosen device (None on the CPU)."""
    return lib.cuda.synchronize if ARGS.device == "cuda" else None


def synced(lib, fn):
    """fn, then wait for the device: a CUDA call only queues work."""
    sync = dev_sync(lib)
    if sync is None:
        return fn

    def run():
        fn()
        sync()
    return run


def small_graph_step(x):
    def step():
        x.grad = None
        y = (x * x).sin().tanh() + x
        y.sum().backward()
    return step


def mlp_fwd_bwd(lib, xs, ys):
    """2-layer MLP forward + backward (no optimizer)."""
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(784, 512), lib.nn.ReLU(), lib.nn.Linear(512, 10)).to(ARGS.device)
    x, y = lib.from_numpy(xs).to(ARGS.device), lib.from_numpy(ys).to(ARGS.device)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        model.zero_grad()
        loss_fn(model(x), y).backward()
    return synced(lib, step)


def mlp_train_step(lib, xs, ys, optimizer="Adam", **opt_kwargs):
    """One full training step: forward, cross-entropy, backward, optimizer (default Adam) update."""
    lib.manual_seed(0)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    model.to(ARGS.device)
    opt = getattr(lib.optim, optimizer)(model.parameters(), lr=1e-3, **opt_kwargs)
    x, y = lib.from_numpy(xs).to(ARGS.device), lib.from_numpy(ys).to(ARGS.device)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return synced(lib, step)


def style_lbfgs_step(lib, weights, content, style):
    """One L-BFGS iteration of examples/neural_style.py (PyTorch's neural style tutorial): the
    tutorial's model (Normalization, VGG-19 up to its conv_5 = conv3_1, ContentLoss at conv_4,
    StyleLoss with Gram matrices at conv_1..5) on the same weights and images in both libraries;
    the step is `LBFGS([img], max_iter=1).step(closure)`: one closure evaluation (clamp_ under
    no_grad, forward, backward) and one L-BFGS direction and update."""
    nn, F = lib.nn, lib.nn.functional
    dev = ARGS.device

    def gram(x):
        a, b, c, d = x.size()
        f = x.view(a * b, c * d)
        return lib.mm(f, f.t()).div(a * b * c * d)

    class Tap(nn.Module):  # ContentLoss (gram=False) / StyleLoss (gram=True)
        def __init__(self, target, use_gram):
            super().__init__()
            self.use_gram = use_gram
            self.target = (gram(target) if use_gram else target).detach()

        def forward(self, x):
            self.loss = F.mse_loss(gram(x) if self.use_gram else x, self.target)
            return x

    class Normalization(nn.Module):
        def __init__(self):
            super().__init__()
            self.mean = lib.tensor([0.485, 0.456, 0.406], device=dev).view(-1, 1, 1)
            self.std = lib.tensor([0.229, 0.224, 0.225], device=dev).view(-1, 1, 1)

        def forward(self, img):
            return (img - self.mean) / self.std

    content_img, style_img = lib.from_numpy(content).to(dev), lib.from_numpy(style).to(dev)
    model, losses, n_conv = nn.Sequential(Normalization()), [], 0
    for wb in weights:  # None = 2x2 max pool, else the (weight, bias) of a 3x3 conv + ReLU
        if wb is None:
            model.add_module(f"pool_{n_conv}", nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        n_conv += 1
        conv = nn.Conv2d(wb[0].shape[1], wb[0].shape[0], kernel_size=3, padding=1)
        with lib.no_grad():
            conv.weight.copy_(lib.from_numpy(wb[0]))
            conv.bias.copy_(lib.from_numpy(wb[1]))
        model.add_module(f"conv_{n_conv}", conv.to(dev))
        for use_gram, tag, on in ((False, "content", n_conv == 4), (True, "style", True)):
            if on:
                tap = Tap(model(style_img if use_gram else content_img), use_gram)
                model.add_module(f"{tag}_loss_{n_conv}", tap)
                losses.append((tap, 1e6 if use_gram else 1.0))
        if n_conv < 5:
            model.add_module(f"relu_{n_conv}", nn.ReLU())
    model.eval()
    model.requires_grad_(False)
    img = content_img.clone().requires_grad_(True)
    opt = lib.optim.LBFGS([img], max_iter=1)

    def closure():
        with lib.no_grad():
            img.clamp_(0, 1)
        opt.zero_grad()
        model(img)
        loss = sum(tap.loss * weight for tap, weight in losses)
        loss.backward()
        return loss

    return synced(lib, lambda: opt.step(closure))


def linear_fwd_bwd(lib, x, w):
    """F.linear forward + backward on a 3-d input: both input and weight need gradients."""
    def step():
        x.grad = w.grad = None
        lib.nn.functional.linear(x, w).sum().backward()
    return synced(lib, step)


def loader_epoch(lib, xs, ys):
    """Iterate one shuffled epoch of a TensorDataset (batch 128, main process)."""
    data = lib.utils.data
    ds = data.TensorDataset(lib.from_numpy(xs), lib.from_numpy(ys))
    loader = data.DataLoader(ds, batch_size=128, shuffle=True, generator=lib.Generator().manual_seed(0))

    def epoch():
        for xb, yb in loader:
            pass
    return epoch


def build_workloads(q):
    rng = np.random.default_rng(0)

    def f32(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    libs = {"ferrotorch": ft, "torch": torch}
    dev = ARGS.device
    tensor = {name: (lambda lib: (lambda arr: lib.from_numpy(arr).to(dev)))(lib) for name, lib in libs.items() if lib}
    W = []

    # 1-element a + b: Python overhead of one op.
    w = Workload("1-element a + b", goal=(0.5, "<= 0.5x torch"))
    one_a, one_b = np.ones(1, np.float32), np.ones(1, np.float32)
    w.on("numpy", lambda: ("a + b", {"a": one_a, "b": one_b}))
    for name in tensor:
        # On CUDA the statement waits for the device too (`s` is its synchronize).
        w.on(name, (lambda lib: lambda: ("a + b" if dev == "cpu" else "a + b; s()",
                                         {"a": lib.ones(1, device=dev), "b": lib.ones(1, device=dev),
                                          "s": dev_sync(lib)}))(libs[name]))
    W.append(w)

    # f32 matmul.
    for n in q["matmul"]:
        w = Workload(f"matmul f32 {n}x{n}", goal=(1 / 0.9, ">= 0.9x torch GFLOP/s"), flops=2 * n ** 3)
        a, b = f32(n, n), f32(n, n)
        w.on("numpy", (lambda a, b: lambda: (lambda: a @ b))(a, b))
        for name, mk in tensor.items():
            # a and b are bound now: the elementwise cases below rebind those names.
            w.on(name, (lambda mk, a, b, lib: lambda: (lambda x, y: synced(lib, lambda: x @ y))(mk(a), mk(b)))(mk, a, b, libs[name]))
        W.append(w)

    # 16M elementwise with a fresh output, and a full reduction.
    n = q["elems"]
    a, b = f32(n), f32(n)
    label = f"{n // (1024 * 1024)}M" if n >= 1024 * 1024 else f"{n // 1024}K"
    cases = [
        (f"add {label} f32 (new output)", (0.7, "<= 0.7x torch time"), lambda x, y: x + y, np.add),
        (f"exp {label} f32 (new output)", (0.7, "<= 0.7x torch time"), lambda x, y: x.exp(), lambda x, y: np.exp(x)),
        (f"sum {label} f32", (1.0, ">= torch (time <= 1x)"), lambda x, y: x.sum(), lambda x, y: np.sum(x)),
    ]
    for title, goal, tfn, nfn in cases:
        w = Workload(title, goal=goal)
        w.on("numpy", (lambda nfn: lambda: (lambda: nfn(a, b)))(nfn))
        for name, mk in tensor.items():
            w.on(name, (lambda mk, tfn, lib: lambda: (lambda x, y: synced(lib, lambda: tfn(x, y)))(mk(a), mk(b)))(mk, tfn, libs[name]))
        W.append(w)

    # Unary sweep (issue 20): every unary float kernel on 4M contiguous float32, inputs inside each op's
    # domain (randn; |x| + 0.5 for the logs and sqrt; |x| + 1.5 for acosh; 0.99 tanh(x) for (-1, 1)).
    n = q["unary"]
    base = f32(n)
    doms = {"real": base, "pos": np.abs(base) + 0.5, "ge1": np.abs(base) + 1.5, "unit": 0.99 * np.tanh(base)}
    doms = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in doms.items()}
    label = f"{n // (1024 * 1024)}M" if n >= 1024 * 1024 else f"{n // 1024}K"
    unary = [  # (name, domain, torch/ferrotorch call, NumPy call or None)
        ("exp", "real", lambda lib, x: x.exp(), np.exp), ("exp2", "real", lambda lib, x: x.exp2(), np.exp2),
        ("expm1", "real", lambda lib, x: x.expm1(), np.expm1), ("log", "pos", lambda lib, x: x.log(), np.log),
        ("log2", "pos", lambda lib, x: x.log2(), np.log2), ("log10", "pos", lambda lib, x: x.log10(), np.log10),
        ("log1p", "pos", lambda lib, x: x.log1p(), np.log1p), ("sqrt", "pos", lambda lib, x: x.sqrt(), np.sqrt),
        ("rsqrt", "pos", lambda lib, x: x.rsqrt(), None), ("reciprocal", "real", lambda lib, x: x.reciprocal(), np.reciprocal),
        ("sin", "real", lambda lib, x: x.sin(), np.sin), ("cos", "real", lambda lib, x: x.cos(), np.cos),
        ("tan", "real", lambda lib, x: x.tan(), np.tan), ("asin", "unit", lambda lib, x: x.asin(), np.arcsin),
        ("acos", "unit", lambda lib, x: x.acos(), np.arccos), ("atan", "real", lambda lib, x: x.atan(), np.arctan),
        ("sinh", "real", lambda lib, x: x.sinh(), np.sinh), ("cosh", "real", lambda lib, x: x.cosh(), np.cosh),
        ("tanh", "real", lambda lib, x: x.tanh(), np.tanh), ("asinh", "real", lambda lib, x: x.asinh(), np.arcsinh),
        ("acosh", "ge1", lambda lib, x: x.acosh(), np.arccosh), ("atanh", "unit", lambda lib, x: x.atanh(), np.arctanh),
        ("sigmoid", "real", lambda lib, x: x.sigmoid(), None), ("erf", "real", lambda lib, x: x.erf(), None),
        ("erfc", "real", lambda lib, x: lib.erfc(x), None), ("erfinv", "unit", lambda lib, x: x.erfinv(), None),
        ("gelu", "real", lambda lib, x: lib.nn.functional.gelu(x), None),
        ("gelu tanh", "real", lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh"), None),
        ("silu", "real", lambda lib, x: lib.nn.functional.silu(x), None),
        ("softplus", "real", lambda lib, x: lib.nn.functional.softplus(x), None),
        ("mish", "real", lambda lib, x: lib.nn.functional.mish(x), None),
    ]
    for op, dom, tfn, nfn in unary:
        w = Workload(f"unary {op} {label} f32", goal=(1.0, "<= 1.0x torch time"))
        arr = doms[dom]
        if nfn is not None:
            w.on("numpy", (lambda nfn, arr: lambda: (lambda: nfn(arr)))(nfn, arr))
        for name, mk in tensor.items():
            w.on(name, (lambda mk, tfn, lib, arr: lambda: (lambda x: synced(lib, lambda: tfn(lib, x)))(mk(arr)))(
                mk, tfn, libs[name], arr))
        W.append(w)

    # Transposed copy.
    n = q["transpose"]
    x = f32(n, n)
    w = Workload(f"transposed copy {n}x{n}")
    w.on("numpy", lambda: (lambda: np.ascontiguousarray(x.T)))
    for name, mk in tensor.items():
        w.on(name, (lambda mk, lib: lambda: (lambda t: synced(lib, lambda: t.t().contiguous()))(mk(x)))(mk, libs[name]))
    W.append(w)

    # topk of one long lane (issue 18): selection, not a full sort. NumPy: argpartition, then
    # the k selected sorted (what topk(sorted=True) returns).
    n = q["topk"]
    x = f32(n)
    label = f"{n / 1e6:g}M"

    def np_topk(a, k):
        i = np.argpartition(a, -k)[-k:]
        i = i[np.argsort(-a[i], kind="stable")]
        return a[i], i
    for k in (10, 1000):
        w = Workload(f"topk {label} f32, k={k}", goal=(1.0, "<= 1.0x torch time"))
        w.on("numpy", (lambda k: lambda: (lambda: np_topk(x, k)))(k))
        for name, mk in tensor.items():
            w.on(name, (lambda mk, k, lib: lambda: (lambda t: synced(lib, lambda: t.topk(k)))(mk(x)))(mk, k, libs[name]))
        W.append(w)

    # Training workloads (issues 3 and 4): each library's own nn / optim / DataLoader.
    mlp_batch = q["mlp_batch"]
    xs, ys = f32(mlp_batch, 784), rng.integers(0, 10, mlp_batch)
    w = Workload(f"MLP 784-512-10 fwd+bwd (b{mlp_batch})")
    for name in tensor:
        w.on(name, (lambda lib: lambda: mlp_fwd_bwd(lib, xs, ys))(libs[name]))
    W.append(w)
    w = Workload(f"MLP 784-512-512-10 Adam step (b{mlp_batch})", goal=(1.0, "<= 1.0x torch time"))
    for name in tensor:
        w.on(name, (lambda lib: lambda: mlp_train_step(lib, xs, ys))(libs[name]))
    W.append(w)
    # The fused steps of the other optimizers (issue 19): RMSprop with momentum, Adagrad.
    for opt_name, opt_kw in (("RMSprop", {"momentum": 0.9}), ("Adagrad", {})):
        w = Workload(f"MLP 784-512-512-10 {opt_name} step (b{mlp_batch})", goal=(1.0, "<= 1.0x torch time"))
        for name in tensor:
            w.on(name, (lambda lib, o, k: lambda: mlp_train_step(lib, xs, ys, o, **k))(libs[name], opt_name, opt_kw))
        W.append(w)
    # Neural style transfer (issue 19's case study): one L-BFGS iteration on the image, the
    # tutorial's model on seeded random VGG-19 weights (He init, torchvision's) shared by both.
    side = q["style_px"]
    cfg, c_in, vgg = [64, 64, "M", 128, 128, "M", 256], 3, []
    for v in cfg:
        if v == "M":
            vgg.append(None)
        else:
            vgg.append((f32(v, c_in, 3, 3) * np.float32(np.sqrt(2.0 / (v * 9))), np.zeros(v, np.float32)))
            c_in = v
    content, style = (rng.random((1, 3, side, side), dtype=np.float32) for _ in range(2))
    w = Workload(f"style transfer L-BFGS iteration ({side}px)", goal=(1.0, "<= 1.0x torch time"))
    for name in tensor:
        w.on(name, (lambda lib: lambda: style_lbfgs_step(lib, vgg, content, style))(libs[name]))
    W.append(w)

    # Linear on a 3-d input (issue 20): the weight gradient must be one GEMM over the folded
    # batch, not per-batch products summed.
    lx3, lw3 = f32(16, 64, 256), f32(1024, 256) * 0.05
    w = Workload("linear fwd+bwd 16x64x256 @ 1024x256^T", goal=(0.6, "<= 0.6x torch time"))
    for name, mk in tensor.items():
        w.on(name, (lambda mk, lib: lambda: linear_fwd_bwd(lib, mk(lx3).requires_grad_(), mk(lw3).requires_grad_()))(
            mk, libs[name]))
    W.append(w)
    rows_n = q["loader_rows"]
    lx, ly = f32(rows_n, 784), rng.integers(0, 10, rows_n)
    w = Workload(f"DataLoader epoch ({rows_n // 1000}k rows, b128, shuffle)", goal=(1.0, "<= 1.0x torch time"))
    for name in tensor:
        if dev == "cpu":  # host-side work: not a device workload
            w.on(name, (lambda lib: lambda: loader_epoch(lib, lx, ly))(libs[name]))
    W.append(w)

    # Checkpoints (CPU only): save / load of a state dict of q["ckpt_params"] float32
    # parameters (1000-wide matrices), and loads whose time should not grow with the file
    # (mmap=True, safetensors) at that size and at 1/100 of it.
    if dev == "cpu":
        import atexit
        import shutil
        import tempfile
        tmp = tempfile.mkdtemp(prefix="ft_bench_")
        atexit.register(shutil.rmtree, tmp, True)
        n_params = q["ckpt_params"]
        rows = 1000
        mats = [f32(rows, 1000) for _ in range(max(1, n_params // (rows * 1000)))]
        mb = sum(m.nbytes for m in mats) / 2 ** 20
        # The same number of tensors, each 1/100 of the size: what differs is only the bytes.
        small = [m[:rows // 100] for m in mats]
        small_mb = sum(m.nbytes for m in small) / 2 ** 20
        for name in tensor:
            lib = libs[name]
            sd = {f"layer{i}.weight": lib.from_numpy(m) for i, m in enumerate(mats)}
            lib.save(sd, os.path.join(tmp, f"{name}.pt"))
            lib.save({f"layer{i}.weight": lib.from_numpy(m.copy()) for i, m in enumerate(small)},
                     os.path.join(tmp, f"{name}_small.pt"))
        w = Workload(f"save state dict ({mb:.0f} MB, {len(mats)} tensors)", goal=(1.0, "<= 1.0x torch time"))
        for name in tensor:
            w.on(name, (lambda lib, name: lambda: (lambda sd: lambda: lib.save(sd, os.path.join(tmp, f"{name}_w.pt")))(
                {f"layer{i}.weight": lib.from_numpy(m) for i, m in enumerate(mats)}))(libs[name], name))
        W.append(w)
        w = Workload(f"load state dict ({mb:.0f} MB)", goal=(1.0, "<= 1.0x torch time"))
        for name in tensor:
            w.on(name, (lambda lib, name: lambda: (lambda: lib.load(os.path.join(tmp, f"{name}.pt"))))(libs[name], name))
        W.append(w)
        sizes = ((f"{len(mats)} tensors, {mb:.0f} MB", ""), (f"{len(mats)} tensors, {small_mb:.1f} MB", "_small"))
        for label, suffix in sizes:
            w = Workload(f"load mmap=True ({label})", goal=None)
            for name in tensor:
                w.on(name, (lambda lib, name, suffix: lambda: (lambda: lib.load(os.path.join(tmp, f"{name}{suffix}.pt"),
                                                                            mmap=True)))(libs[name], name, suffix))
            W.append(w)
        try:
            import safetensors.torch as st_torch
        except ImportError:
            st_torch = None
        st_libs = {"ferrotorch": __import__("ferrotorch.safetensors", fromlist=["load_file"])}
        if torch is not None and st_torch is not None:
            st_libs["torch"] = st_torch
        for name, stl in st_libs.items():
            lib = libs[name]
            sd = {f"layer{i}.weight": lib.from_numpy(m) for i, m in enumerate(mats)}
            stl.save_file(sd, os.path.join(tmp, f"{name}.safetensors"))
            stl.save_file({f"layer{i}.weight": lib.from_numpy(m.copy()) for i, m in enumerate(small)},
                          os.path.join(tmp, f"{name}_small.safetensors"))
        for label, suffix in sizes:
            w = Workload(f"safetensors load_file ({label})", goal=None)
            for name, stl in st_libs.items():
                w.on(name, (lambda stl, name, suffix: lambda: (
                    lambda: stl.load_file(os.path.join(tmp, f"{name}{suffix}.safetensors"))))(stl, name, suffix))
            W.append(w)

    # Small graph forward + backward (no NumPy equivalent).
    w = Workload("small graph fwd+bwd (4 ops, 16)", goal=(0.3, "<= 0.3x torch"))
    for name in tensor:
        lib = libs[name]
        w.on(name, (lambda lib: lambda: synced(lib, small_graph_step(lib.randn(16, requires_grad=True, device=dev))))(lib))
    W.append(w)
    return W


# --------------------------------------------------------------------------- main
def cpu_times():
    """The aggregate `cpu` line of /proc/stat (user, nice, system, idle, iowait, irq, softirq,
    steal, ...) in ticks, or None where there is none (not Linux)."""
    try:
        with open("/proc/stat") as fh:
            return [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None


def main():
    args = ARGS
    if args.quick:
        q = {"matmul": [128, 256], "elems": 1 << 20, "transpose": 1024, "repeat": 3, "number": 20_000,
             "mlp_batch": 32, "style_px": 32, "loader_rows": 2000, "ckpt_params": 4_000_000, "topk": 1 << 20,
             "unary": 1 << 18}
    else:
        q = {"matmul": [1024, 2048], "elems": 16 << 20, "transpose": 4096, "repeat": 7, "number": 200_000,
             "mlp_batch": 256, "style_px": 128, "loader_rows": 20_000, "ckpt_params": 100_000_000, "topk": 20_000_000,
             "unary": 4 << 20}
    repeat = args.repeat or q["repeat"]
    if args.device == "cuda":
        if not ft.cuda.is_available():
            sys.exit("compare.py --device cuda: ferrotorch finds no CUDA device on this machine")
        if torch is not None and not torch.cuda.is_available():
            print("torch has no CUDA device here: its column is left out")
            globals()["torch"] = None

    same = torch is not None and ft is torch
    print(f"python {platform.python_version()} | {os.cpu_count()} CPUs | numpy {np.__version__} | "
          f"ferrotorch {getattr(ft, '__version__', '?')} | "
          f"torch {torch.__version__ if torch is not None else 'not installed'}"
          f"{' (ferrotorch IS torch: shim)' if same else ''}")
    print(f"threads: {args.threads or 'library default'}"
          f"{f' (torch: {torch.get_num_threads()})' if torch is not None else ''} | device: {args.device} | "
          f"best of {repeat}{' | --quick' if args.quick else ''}")
    print()

    backends = ["ferrotorch", "numpy"] + (["torch"] if torch is not None else [])
    rows, errors = [], []
    cpu0 = cpu_times()
    for w in build_workloads(q):
        if args.only and args.only.lower() not in w.name.lower():
            continue
        res, meas = {}, {}
        for be in backends:
            maker = w.makers.get(be)
            res[be] = None
            if maker is None:
                continue
            try:
                meas[be] = Measurement(maker(), q["number"])
            except Exception as e:  # an unsupported op must not end the run
                res[be] = "error"
                errors.append(f"{w.name} [{be}]: {type(e).__name__}: {e}")
        for _ in range(repeat):
            for be, m in list(meas.items()):
                time.sleep(args.settle)  # let other libraries' spinning worker threads go to sleep
                try:
                    m.run_round()
                except Exception as e:
                    res[be] = "error"
                    errors.append(f"{w.name} [{be}]: {type(e).__name__}: {e}")
                    del meas[be]
        for be, m in meas.items():
            res[be] = m.best
        meas.clear()  # free this workload's data before the next one is built
        rows.append((w, res))
        print(f"measured [{len(rows)}] {w.name}", flush=True)

    def cell(w, t):
        if not isinstance(t, float):
            return fmt_time(t)
        return fmt_time(t) + (f" ({w.flops / t / 1e9:.3g} GFLOP/s)" if w.flops else "")

    def ratio(a, b):
        return a / b if isinstance(a, float) and isinstance(b, float) else None

    head = ["workload", "ferrotorch", "numpy", "torch", "ft/np", "ft/torch", "goal (DESIGN.md)", "met"]
    table = []
    for w, res in rows:
        r_np, r_t = ratio(res["ferrotorch"], res["numpy"]), ratio(res["ferrotorch"], res.get("torch"))
        if w.goal is None:
            goal, met = "-", ""
        else:
            goal = w.goal[1]
            met = "n/a" if r_t is None else ("yes" if r_t <= w.goal[0] else "NO")
        table.append([w.name, cell(w, res["ferrotorch"]), cell(w, res["numpy"]),
                      cell(w, res.get("torch")) if torch is not None else "n/a",
                      f"{r_np:.2f}" if r_np is not None else "-",
                      f"{r_t:.2f}" if r_t is not None else "-", goal, met])
    widths = [max(len(str(r[i])) for r in [head] + table) for i in range(len(head))]

    def line(r):
        return "  ".join(str(c).ljust(wd) if i in (0, 6, 7) else str(c).rjust(wd)
                         for i, (c, wd) in enumerate(zip(r, widths))).rstrip()

    print()
    print(line(head))
    print(line(["-" * wd for wd in widths]))
    for r in table:
        print(line(r))
    print("\nratios are time ratios: < 1 means ferrotorch is faster")
    cpu1 = cpu_times()
    if cpu0 and cpu1:
        busy = sum(cpu1) - sum(cpu0)
        steal = cpu1[7] - cpu0[7] if len(cpu1) > 7 else 0
        # Steal is time a virtual CPU was runnable but the hypervisor ran another guest: on a
        # shared VM it, not the libraries, sets the noise floor of every figure above.
        print(f"CPU steal during the run: {100.0 * steal / max(busy, 1):.0f}% of CPU time (from /proc/stat)")
    if errors:
        print("\nerrors:")
        for e in errors:
            print("  " + e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
