"""Random calls with random (mostly bad) arguments must end in an ordinary Python exception.

"A Rust panic reaching Python is a bug", and so is an aborted interpreter: a failed
allocation in Rust (`vec![0; 2**40]`) aborts the process, and an unchecked size
computation can wrap in a release build. This drives every public `ferrotorch`
function, every `nn.functional` function and every Tensor method with random tensors
(all dtypes, 0-d/empty/strided/expanded, some requiring grad), ints from -2**63 to
2**63, floats incl. NaN/inf, None, lists, dtypes and strings, and checks that each call
either returns or raises an `Exception` subclass (pyo3's PanicException derives from
BaseException only). Ops that take an index or a mask sometimes get a huge one (one element
expanded to 2**34..2**40), which no index scratch can hold: an out-of-memory RuntimeError,
never an abort. The child's address space is capped 4 GiB above what its imports map, so a
huge request fails the same way on every machine instead of being granted and paged in.
About one argument in 100 is instead a list nested 100 to 50,000 deep
(drawn from a second random stream, so the other calls stay the same): no recursion over
nested data may overflow the native stack. Against the build before the nesting fixes each
seed dies of SIGSEGV on one (`Tensor.logical_xor`, `__pow__`, `fmod_` of a list operand).

The calls run in a child process so that an abort fails this test with the offending
call named instead of taking pytest down. Fixed seeds: the same calls on every run.
Session 7's fuzzing with this generator (about a million calls) found the bugs that the
regression tests in test_errors.py now pin down one by one; against the build before
those fixes each of these three seeds stops on one of them (a panic in chunk of a 0-d
tensor, a capacity-overflow panic in repeat_interleave).
"""
import os
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(r'''
    import inspect, random, resource, sys, warnings
    import numpy as np
    import ferrotorch as ft
    import ferrotorch.nn.functional as F
    warnings.simplefilter("ignore")
    seed, n = int(sys.argv[1]), int(sys.argv[2])
    R = random.Random(seed)
    # Huge index tensors come from their own stream, so R's sequence (the calls below) is
    # the same as without them.
    H = random.Random(seed + 1000)
    # Address space capped 4 GiB above what the imports map: a huge request fails in here
    # as it would on a small machine, instead of being granted and paged in.
    _vm = [int(ln.split()[1]) * 1024 for ln in open("/proc/self/status") if ln.startswith("VmSize:")][0]
    resource.setrlimit(resource.RLIMIT_AS, (_vm + (4 << 30),) * 2)
    ft.manual_seed(seed)
    DT = [ft.bool, ft.uint8, ft.int8, ft.int16, ft.int32, ft.int64, ft.float16, ft.bfloat16, ft.float32, ft.float64]

    def rtensor():
        shape = [R.choice([0, 1, 1, 2, 3, 5]) for _ in range(R.choice([0, 0, 1, 1, 2, 2, 3, 4]))]
        t = (ft.randn(*shape, dtype=ft.float64) * 3).to(R.choice(DT))
        r = R.random()
        if r < 0.15 and t.dim() >= 2:
            t = t.transpose(0, 1)
        elif r < 0.25 and t.dim() >= 1 and t.shape[0] > 1:
            t = t[::2]
        elif r < 0.3 and t.dim() >= 1:
            t = t.unsqueeze(0).expand(2, *t.shape)
        if R.random() < 0.1 and t.is_floating_point():
            t.requires_grad_(True)
        return t

    def huge_index():
        # One element expanded to 2**34..2**40: index scratch for it cannot be had. No dim
        # between 2**5 and 2**33: a dim of 2**20 lets an op do 2**20-sized work (seconds
        # in a debug build) before the huge part fails.
        e = H.randint(34, 40)
        shape = H.choice([[2 ** e], [1, 2 ** e], [2 ** e, 1], [2 ** e, 2]])
        dt = H.choice([ft.int64, ft.int64, ft.int32, ft.bool, ft.uint8])
        return ft.zeros([1] * len(shape), dtype=dt).expand(*shape)

    # Ops that take an index or mask: where a huge index tensor is put in an argument.
    # (Not embedding: it bounds-checks every one of the 2**34+ indices before its output fails
    # to allocate, 36 s of legitimate work in a release build; test_memory.py has big-index cases.)
    INDEXY = ("getitem", "setitem", "index", "gather", "scatter", "take", "select", "put",
              "repeat_interleave", "mask")

    # Deep nesting comes from a stream of its own, so that R draws the same calls as before.
    RD = random.Random(seed + 2000)

    def nest(n):
        x = RD.choice([1.0, 2, True, []])
        for _ in range(n):
            x = [x]
        return x

    # Nested deeper than any recursion over the data may go (tensor(), indexing, as_tensor,
    # a list operand...); built once (building is the cost) and passed again and again.
    DEEP = {n: nest(n) for n in (100, 1000, 10000, 30000, 50000)}
    DEPTH = {id(x): n for n, x in DEEP.items()}  # (they live to the end: the ids stay theirs)

    def deep():
        return DEEP[RD.choice(list(DEEP))]

    def rarg():
        a = rarg_()
        return deep() if RD.random() < 0.01 else a

    def rarg_():
        r = R.random()
        if r < 0.45: return rtensor()
        if r < 0.65: return R.choice([-5, -2, -1, 0, 1, 2, 3, 7, 2 ** 40, -2 ** 63, 2 ** 63])
        if r < 0.72: return R.choice([0.5, -1.5, float("nan"), float("inf"), 1e300])
        if r < 0.78: return R.choice([None, True, False])
        if r < 0.86: return [R.choice([-1, 0, 1, 2, 3]) for _ in range(R.randint(0, 3))]
        if r < 0.9: return tuple(R.choice([-1, 0, 1, 2]) for _ in range(R.randint(0, 3)))
        if r < 0.95: return R.choice(DT)
        return R.choice(["sum", "mean", "none", "abc", slice(None, None, -1), Ellipsis, np.arange(3)])

    # Functions that change global state or touch files are left out.
    skip = {"manual_seed", "set_num_threads", "set_default_dtype", "set_default_device", "set_default_tensor_type",
            "set_printoptions",
            "save", "load", "seed", "initial_seed", "set_grad_enabled", "compile", "use_deterministic_algorithms",
            "set_rng_state"}
    funcs = [("ft." + k, getattr(ft, k)) for k in sorted(dir(ft))
             if not k.startswith("_") and k not in skip and callable(getattr(ft, k)) and not inspect.isclass(getattr(ft, k))]
    funcs += [("F." + k, getattr(F, k)) for k in sorted(dir(F)) if not k.startswith("_") and callable(getattr(F, k))]
    skip_m = {"set_", "storage", "untyped_storage", "share_memory_", "register_hook", "backward", "apply_", "map_",
              "tolist", "numpy", "pin_memory", "cuda"}
    methods = [k for k in sorted(dir(ft.Tensor)) if not k.startswith("__") and k not in skip_m
               and callable(getattr(ft.Tensor, k, None))]
    methods += ["__getitem__", "__setitem__", "__add__", "__matmul__", "__pow__", "__floordiv__", "__mod__",
                "__lshift__", "__truediv__"]
    KW = ["dim", "keepdim", "dtype", "out", "p", "reduction", "weight", "inplace", "correction", "descending", "k", "value"]

    def describe(args, kw):
        def d(a):
            if isinstance(a, ft.Tensor):
                return f"Tensor{tuple(a.shape)}:{a.dtype}"
            # repr of a deep list is a RecursionError itself
            return f"<list nested {DEPTH[id(a)]} deep>" if id(a) in DEPTH else repr(a)
        return ", ".join([d(a) for a in args] + [f"{k}={d(v)}" for k, v in kw.items()])

    for i in range(n):
        if R.random() < 0.55:
            name, fn = R.choice(funcs)
            self_desc = ""
        else:
            t0 = rtensor()
            name = "Tensor." + R.choice(methods)
            fn = getattr(t0, name[7:], None)
            self_desc = f" on Tensor{tuple(t0.shape)}:{t0.dtype}"
            if fn is None:
                continue
        args = [rarg() for _ in range(R.choice([0, 1, 1, 2, 2, 3, 4]))]
        kw = {k: rarg() for k in R.sample(KW, R.randint(1, 2))} if R.random() < 0.3 else {}
        if args and any(w in name for w in INDEXY) and H.random() < 0.3:
            args[H.randrange(len(args))] = huge_index()
        call = f"{name}({describe(args, kw)}){self_desc}"
        # Written before the call: an abort leaves the call on stderr for the parent.
        sys.stderr.write("CALL " + call + "\n")
        sys.stderr.flush()
        try:
            fn(*args, **kw)
        except Exception:
            pass
        except BaseException as e:  # PanicException and friends
            print(f"NOT AN Exception: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''} from {call}")
            sys.exit(3)
    print("ok", n)
''')


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_calls_raise_python_exceptions_only(seed, tmp_path):
    script = tmp_path / "fuzz_child.py"
    script.write_text(CHILD)
    env = dict(os.environ, RUST_BACKTRACE="0")
    p = subprocess.run([sys.executable, str(script), str(seed), "12000"], capture_output=True, text=True,
                       timeout=600, env=env)
    last = [line for line in p.stderr.splitlines() if line.startswith("CALL ")][-1:] or ["(none)"]
    assert p.returncode == 0 and p.stdout.strip().splitlines()[-1:] == ["ok 12000"], (
        f"exit code {p.returncode}; stdout: {p.stdout.strip()[-500:]!r}; last call: {last[0][5:]}")
