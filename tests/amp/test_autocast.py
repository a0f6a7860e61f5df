"""torch.autocast: output dtypes per op and the dtypes of the gradients of the inputs, against
the table PyTorch wrote (tests/fixtures/autocast/cases.json, scripts/make_autocast_fixtures.py),
values against NumPy float64, the state functions, nesting, the decorator, the weight-cast
cache, the deprecated aliases and bad input."""
import builtins
import json
import os
import threading
import warnings

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "fixtures", "autocast", "cases.json")) as _f:
    CASES = json.load(_f)["cases"]
LP = {"bf16": torch.bfloat16, "f16": torch.float16}
NAMES = {torch.float32: "float32", torch.float64: "float64", torch.bfloat16: "bfloat16", torch.float16: "float16",
         torch.int64: "int64"}



def _inputs(spec, config, lp, rng):
    env, floats = {}, []
    for name, s in spec:
        if isinstance(s[0], str):
            env[name] = torch.tensor(rng.integers(0, s[2], size=s[1]), dtype=torch.int64)
            continue
        dt = torch.float64 if config == "f64" else torch.float32
        if config == "lp" and not floats:
            dt = lp
        env[name] = torch.tensor(rng.standard_normal(s)).to(dt).requires_grad_()
        floats.append(name)
    return env, floats


@pytest.mark.parametrize("key", [f"{lp}/{c}" for lp in LP for c in ("f32", "lp", "f64")])
@pytest.mark.parametrize("op", sorted(CASES))
def test_dtypes_match_pytorch(op, key):
    case = CASES[op]
    want = case["results"][key]
    lpn, config = key.split("/")
    env, floats = _inputs(case["inputs"], config, LP[lpn], np.random.default_rng(7))
    env.update(torch=torch, F=F)
    if "error" in want:
        with pytest.raises(getattr(builtins, want["error"])):
            with torch.autocast("cpu", dtype=LP[lpn]):
                eval(case["expr"], env)
        return
    with torch.autocast("cpu", dtype=LP[lpn]):
        out = eval(case["expr"], env)
    assert NAMES[out.dtype] == want["out"]
    out.float().sum().backward()
    got = {n: (None if env[n].grad is None else NAMES[env[n].grad.dtype]) for n in floats}
    assert got == want["grads"]


def _bf16_round(a):
    """float32 values rounded to bfloat16 (round to nearest even), as float64."""
    b = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    b = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16
    return b.astype(np.uint32).view(np.float32).astype(np.float64)


def test_linear_values_and_grads():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((6, 5)), rng.standard_normal((4, 5)), rng.standard_normal(4)
    xt = torch.tensor(x, dtype=torch.float32)
    wt = torch.tensor(w, dtype=torch.float32, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float32, requires_grad=True)
    with torch.autocast("cpu"):
        y = F.linear(xt, wt, bt)
    assert y.dtype == torch.bfloat16
    # Reference: the operands rounded to bfloat16, the product in float64; the result is
    # rounded to bfloat16 once more (relative error <= 2**-8 per rounding, plus accumulation).
    ref = _bf16_round(x) @ _bf16_round(w).T + _bf16_round(b)
    np.testing.assert_allclose(y.detach().float().numpy(), ref, rtol=2e-2, atol=2e-2)
    y.float().sum().backward()
    assert wt.grad.dtype == torch.float32 and bt.grad.dtype == torch.float32
    # d(sum(x @ w.T + b))/dw = column sums of x (rounded to bfloat16), per output row.
    np.testing.assert_allclose(wt.grad.detach().numpy(), np.tile(_bf16_round(x).sum(0), (4, 1)), rtol=2e-2, atol=5e-2)
    np.testing.assert_allclose(bt.grad.detach().numpy(), np.full(4, 6.0), rtol=0, atol=0)


def test_cross_entropy_value_in_float32():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((5, 3))
    t = np.array([0, 2, 1, 1, 0])
    with torch.autocast("cpu"):
        loss = F.cross_entropy(torch.tensor(logits, dtype=torch.bfloat16), torch.tensor(t))
    assert loss.dtype == torch.float32
    lb = _bf16_round(logits)
    ref = np.mean(np.log(np.exp(lb).sum(1)) - lb[np.arange(5), t])
    np.testing.assert_allclose(loss.item(), ref, rtol=1e-5)


def test_float16_and_float64_untouched():
    a = torch.randn(3, 4, dtype=torch.float64)
    b = torch.randn(4, 2, dtype=torch.float64)
    with torch.autocast("cpu", dtype=torch.float16):
        assert (a @ b).dtype == torch.float64
        assert (a.float() @ b.float()).dtype == torch.float16
        i = torch.ones(2, 2, dtype=torch.int64)
        assert (i @ i).dtype == torch.int64


def test_state_functions_and_nesting():
    assert not torch.is_autocast_enabled("cpu")
    assert torch.get_autocast_dtype("cpu") == torch.bfloat16
    assert torch.get_autocast_dtype("cuda") == torch.float16
    assert torch.get_autocast_cpu_dtype() == torch.bfloat16 and torch.get_autocast_gpu_dtype() == torch.float16
    a, b = torch.randn(2, 3), torch.randn(3, 2)
    with torch.autocast("cpu", dtype=torch.float16):
        assert torch.is_autocast_enabled("cpu") and torch.is_autocast_cpu_enabled()
        assert not torch.is_autocast_enabled()  # no argument: CUDA's
        assert torch.get_autocast_dtype("cpu") == torch.float16
        assert (a @ b).dtype == torch.float16
        with torch.autocast("cpu", enabled=False):
            assert not torch.is_autocast_enabled("cpu")
            assert (a @ b).dtype == torch.float32
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert (a @ b).dtype == torch.bfloat16
        assert (a @ b).dtype == torch.float16
    assert not torch.is_autocast_enabled("cpu")
    assert torch.get_autocast_dtype("cpu") == torch.bfloat16
    assert (a @ b).dtype == torch.float32


def test_exception_restores_state():
    with pytest.raises(ZeroDivisionError):
        with torch.autocast("cpu"):
            raise ZeroDivisionError
    assert not torch.is_autocast_enabled("cpu")
    assert (torch.randn(2, 2) @ torch.randn(2, 2)).dtype == torch.float32


def test_decorator_and_aliases():
    @torch.autocast("cpu")
    def f(a, b):
        assert torch.is_autocast_enabled("cpu")
        return a @ b

    assert f(torch.randn(2, 3), torch.randn(3, 2)).dtype == torch.bfloat16
    assert not torch.is_autocast_enabled("cpu")
    assert torch.amp.autocast is torch.autocast
    with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.autocast\(args...\)` is deprecated. Please use "
                                           r"`torch.amp.autocast\('cpu', args...\)` instead."):
        ctx = torch.cpu.amp.autocast()
    with ctx:
        assert (torch.randn(2, 3) @ torch.randn(3, 2)).dtype == torch.bfloat16
    import ferrotorch.cuda.amp as cuda_amp
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        c = cuda_amp.autocast()
    msgs = [str(x.message) for x in w]
    assert "`torch.cuda.amp.autocast(args...)` is deprecated. Please use `torch.amp.autocast('cuda', args...)` instead." in msgs
    if not torch.cuda.is_available():
        assert "CUDA is not available or torch_xla is imported. Disabling autocast." in msgs
        with c:
            assert not torch.is_autocast_enabled("cuda")
    with pytest.raises(TypeError, match="requires a callable"):
        torch.autocast("cpu")(3)


def test_thread_local():
    seen = []
    with torch.autocast("cpu"):
        t = threading.Thread(target=lambda: seen.append(torch.is_autocast_enabled("cpu")))
        t.start()
        t.join()
    assert seen == [False]


def test_weight_cast_cache():
    w = torch.randn(3, 3, requires_grad=True)
    x = torch.randn(2, 3)
    with torch.autocast("cpu"):
        y1 = x @ w
        y2 = x @ w
        # One cast node shared by both products: the cached bfloat16 copy of the weight.
        c1 = [f for f, _ in y1.grad_fn.next_functions if f is not None]
        c2 = [f for f, _ in y2.grad_fn.next_functions if f is not None]
        assert any(a == b for a in c1 for b in c2)
    with torch.autocast("cpu", cache_enabled=False):
        y3, y4 = x @ w, x @ w
        c3 = [f for f, _ in y3.grad_fn.next_functions if f is not None]
        c4 = [f for f, _ in y4.grad_fn.next_functions if f is not None]
        assert not any(a == b for a in c3 for b in c4)
    (y1.float().sum() + y2.float().sum()).backward()
    # d/dw sum(x @ w) twice = 2 * column sums of x, per row of w (bf16-rounded x).
    np.testing.assert_allclose(w.grad.detach().numpy(), 2 * np.tile(x.numpy().sum(0)[:, None], (1, 3)), rtol=2e-2, atol=2e-2)


def test_unsupported_dtype_warns_and_disables():
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                                         "CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently."):
        ctx = torch.autocast("cpu", dtype=torch.float64)
    with ctx:
        assert not torch.is_autocast_enabled("cpu")
        assert (torch.randn(2, 2) @ torch.randn(2, 2)).dtype == torch.float32


def test_bad_device_type():
    with pytest.raises(RuntimeError, match="User specified an unsupported autocast device_type 'xyz'"):
        torch.autocast("xyz")
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`, got: `<class 'int'>`"):
        torch.autocast(1)
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        torch.get_autocast_dtype("xyz")
    with pytest.raises(TypeError, match="argument 'enabled' \\(position 1\\) must be bool, not str"):
        torch.set_autocast_enabled("cpu")


def test_custom_fwd_casts_inputs():
    class Mul(torch.autograd.Function):
        @staticmethod
        @torch.amp.custom_fwd(device_type="cpu", cast_inputs=torch.float32)
        def forward(ctx, a, b):
            assert not torch.is_autocast_enabled("cpu")
            return a @ b

        @staticmethod
        @torch.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            return g, g

    a = torch.randn(2, 2, dtype=torch.bfloat16)
    with torch.autocast("cpu"):
        assert Mul.apply(a, torch.randn(2, 2)).dtype == torch.float32


def test_amp_kernels_exposed():
    assert torch._amp_foreach_non_finite_check_and_unscale_ is torch._C._amp_foreach_non_finite_check_and_unscale_
    assert torch._amp_update_scale_ is torch._C._amp_update_scale_
    assert torch.GradScaler is torch.amp.GradScaler
