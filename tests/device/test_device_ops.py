"""The same tests on every device: `device` is "cpu" and "cuda" (the cuda half skips
where no CUDA device exists; `scripts/test.sh` also runs this file against the mock CUDA
driver of tests/cuda_mock, which executes the real kernels on the CPU).

Every result is checked against NumPy in float64 (or exact integer arithmetic), so the
CPU and CUDA paths are held to the same independent reference.
"""
import os

import numpy as np
import pytest

import ferrotorch as torch

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"))]


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


def test_cuda_present_when_required():
    """scripts/test_cuda_mock.sh sets FT_REQUIRE_CUDA=1: the cuda half must run there, not skip."""
    if os.environ.get("FT_REQUIRE_CUDA") == "1":
        assert torch.cuda.is_available(), "FT_REQUIRE_CUDA=1 but ferrotorch found no CUDA device"
        assert torch.cuda.device_count() >= 1
        assert isinstance(torch.cuda.get_device_name(0), str)
    else:
        assert torch.cuda.is_available() == (torch.cuda.device_count() > 0)


def rng(seed=0):
    return np.random.default_rng(seed)


def to(dev, a, requires_grad=False):
    t = torch.tensor(a, device=dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def close(t, ref, tol=1e-5):
    assert t.device.type in ("cpu", "cuda")
    got = t.detach().cpu().numpy().astype(np.float64)
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)


# ---- placement and transfers ------------------------------------------------------


def test_creation_and_round_trip(device):
    a = rng().standard_normal((3, 4)).astype(np.float32)
    t = to(device, a)
    assert t.device.type == device and t.is_cuda == (device == "cuda")
    np.testing.assert_array_equal(t.cpu().numpy(), a)
    z = torch.zeros(2, 3, device=device)
    o = torch.ones(2, 3, dtype=torch.int64, device=device)
    f = torch.full((2, 2), 7.5, device=device)
    assert z.device.type == device and o.device.type == device
    np.testing.assert_array_equal(z.cpu().numpy(), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(o.cpu().numpy(), np.ones((2, 3), np.int64))
    np.testing.assert_array_equal(f.cpu().numpy(), np.full((2, 2), 7.5, np.float32))
    ar = torch.arange(0, 10, 3, device=device)
    assert ar.tolist() == [0, 3, 6, 9]
    assert torch.eye(3, device=device).sum().item() == 3.0


def test_to_with_dtype_and_back(device):
    a = np.array([[1.5, -2.25], [3.0, 4.75]], np.float64)
    t = torch.tensor(a).to(device)
    u = t.to(torch.float32).to(torch.int32)
    assert u.dtype == torch.int32 and u.device.type == device
    assert u.tolist() == [[1, -2], [3, 4]]
    back = t.t().contiguous().cpu()
    np.testing.assert_array_equal(back.numpy(), a.T)


def test_noncontiguous_copy_to_device(device):
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    src = torch.tensor(a).permute(2, 0, 1)[:, :, ::2]  # strided CPU view
    t = src.to(device)
    np.testing.assert_array_equal(t.cpu().numpy(), a.transpose(2, 0, 1)[:, :, ::2])
    dst = torch.zeros(4, 2, 2, device=device)
    dst.copy_(src)
    np.testing.assert_array_equal(dst.cpu().numpy(), a.transpose(2, 0, 1)[:, :, ::2])


def test_item_and_print(device):
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    assert t[1, 0].item() == 3.0
    s = repr(t)
    assert "3." in s
    assert ("device='cuda:0'" in s) == (device == "cuda")


# ---- elementwise --------------------------------------------------------------------
# (every elementwise op, its forms, dtypes, layouts and gradients on every device: test_op_table.py)


def test_scalars_promotion_and_comparisons(device):
    x = torch.tensor([1, 2, 3, 4], device=device)
    y = x * 2.5  # int tensor * Python float -> float32
    assert y.dtype == torch.float32 and y.device.type == device
    assert y.tolist() == [2.5, 5.0, 7.5, 10.0]
    assert (x > 2).tolist() == [False, False, True, True]
    assert (x // 3).tolist() == [0, 0, 1, 1]
    z = x + torch.tensor(10)  # a 0-d CPU tensor joins tensors of any device
    assert z.device.type == device and z.tolist() == [11, 12, 13, 14]


def test_where_and_inplace(device):
    a = rng(4).standard_normal((3, 4)).astype(np.float32)
    t = to(device, a)
    w = torch.where(t > 0, t, torch.zeros_like(t))
    close(w, np.where(a > 0, a, 0).astype(np.float64))
    t.mul_(2).add_(1)
    close(t, a.astype(np.float64) * 2 + 1)


# ---- reductions and row ops ---------------------------------------------------------


@pytest.mark.parametrize("dims", [None, 0, 1, (0, 2)])
def test_sum_mean(device, dims):
    a = rng(5).standard_normal((3, 700, 2)).astype(np.float32)  # long rows use the block path
    t = to(device, a)
    if dims is None:
        close(t.sum(), a.astype(np.float64).sum(), tol=1e-4)
        close(t.mean(), a.astype(np.float64).mean(), tol=1e-5)
    else:
        close(t.sum(dims), a.astype(np.float64).sum(axis=dims), tol=1e-4)
        close(t.mean(dims, keepdim=True), a.astype(np.float64).mean(axis=dims, keepdims=True), tol=1e-5)


def test_max_argmax_var_int_sum(device):
    a = rng(6).standard_normal((4, 9)).astype(np.float32)
    t = to(device, a)
    v, i = t.max(1)
    np.testing.assert_array_equal(i.cpu().numpy(), a.argmax(1))
    close(v, a.max(1).astype(np.float64))
    assert t.argmin().item() == int(a.argmin())
    close(t.var(1), a.astype(np.float64).var(1, ddof=1), tol=1e-5)
    close(t.std(0, unbiased=False), a.astype(np.float64).std(0), tol=1e-5)
    it = torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=torch.int32, device=device)
    s = it.sum(0)
    assert s.dtype == torch.int64 and s.tolist() == [5, 7, 9]
    assert bool((t > -10).all()) and not bool((t > 10).any())


def test_softmax_and_cumsum(device):
    a = rng(7).standard_normal((3, 5)).astype(np.float32)
    t = to(device, a)
    e = np.exp(a.astype(np.float64) - a.max(0, keepdims=True))
    close(t.softmax(0), e / e.sum(0, keepdims=True))
    close(torch.log_softmax(t, dim=1), a - a.max(1, keepdims=True) - np.log(np.exp(a - a.max(1, keepdims=True)).sum(1, keepdims=True)), tol=1e-5)
    close(t.cumsum(1), np.cumsum(a.astype(np.float64), 1), tol=1e-5)


# ---- matmul -------------------------------------------------------------------------


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_mm_transposed_operands(device, ta, tb):
    a = rng(8).standard_normal((5, 7)).astype(np.float32)
    b = rng(9).standard_normal((7, 3)).astype(np.float32)
    A = to(device, a.T.copy()).t() if ta else to(device, a)
    B = to(device, b.T.copy()).t() if tb else to(device, b)
    close(A @ B, a.astype(np.float64) @ b.astype(np.float64), tol=1e-4)


def test_bmm_and_broadcast_matmul(device):
    a = rng(10).standard_normal((2, 4, 3))
    b = rng(11).standard_normal((3, 5))
    close(to(device, a) @ to(device, b), a @ b, tol=1e-10)  # float64
    c = rng(12).standard_normal((2, 3, 6))
    close(torch.bmm(to(device, a), to(device, c)), a @ c, tol=1e-10)


# ---- autograd -----------------------------------------------------------------------


def test_mlp_gradients_match_numpy(device):
    r = rng(13)
    x = r.standard_normal((6, 4))
    w1 = r.standard_normal((4, 5))
    w2 = r.standard_normal((5, 3))
    tgt = np.array([0, 2, 1, 1, 0, 2])
    X, W1, W2 = to(device, x), to(device, w1, True), to(device, w2, True)
    h = (X @ W1).relu()
    loss = torch.nn.functional.cross_entropy(h @ W2, torch.tensor(tgt, device=device))
    loss.backward()
    # NumPy float64 reference of the same forward and backward.
    hp = x @ w1
    hr = np.maximum(hp, 0)
    z = hr @ w2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    ref_loss = -np.log(p[np.arange(6), tgt]).mean()
    dz = p.copy()
    dz[np.arange(6), tgt] -= 1
    dz /= 6
    dw2 = hr.T @ dz
    dh = dz @ w2.T * (hp > 0)
    dw1 = x.T @ dh
    close(loss, ref_loss, tol=1e-10)
    assert W1.grad.device.type == device
    close(W1.grad, dw1, tol=1e-10)
    close(W2.grad, dw2, tol=1e-10)


def test_gradient_flows_across_devices(device):
    x = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    y = (x.to(device) * 3).sum()
    y.backward()
    assert x.grad.device.type == "cpu"
    assert x.grad.tolist() == [3.0, 3.0, 3.0]


# ---- errors -------------------------------------------------------------------------


def test_cuda_errors_without_moving_data(device):
    if device == "cpu":
        if torch.cuda.is_available():
            pytest.skip("checks the no-device behaviour")
        with pytest.raises(RuntimeError):
            torch.zeros(2, device="cuda")
        with pytest.raises(RuntimeError):
            torch.ones(2).cuda()
        return
    a = torch.ones(3, device="cuda")
    b = torch.ones(3)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        a + b
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        a.numpy()
    assert a.tolist() == [1.0, 1.0, 1.0] and b.tolist() == [1.0, 1.0, 1.0]
    assert torch.cuda.memory_allocated() > 0


def test_training_steps_match_numpy_adam(device):
    # Linear regression with Adam for three steps, checked against a NumPy float64
    # re-implementation of the same forward, backward and update.
    r = rng(14)
    x = r.standard_normal((8, 3))
    y = r.standard_normal((8, 2))
    w0 = r.standard_normal((2, 3))
    b0 = r.standard_normal(2)
    lin = torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(w0))
        lin.bias.copy_(torch.tensor(b0))
    lin.to(device)
    assert lin.weight.device.type == device
    opt = torch.optim.Adam(lin.parameters(), lr=0.1)
    X, Y = to(device, x), to(device, y)
    w, b = w0.copy(), b0.copy()
    m = [np.zeros_like(w), np.zeros_like(b)]
    v = [np.zeros_like(w), np.zeros_like(b)]
    for step in range(1, 4):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(lin(X), Y)
        loss.backward()
        opt.step()
        err = x @ w.T + b - y
        grads = [2 * err.T @ x / err.size, 2 * err.sum(0) / err.size]
        for i, (p, g) in enumerate(zip([w, b], grads)):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            mh, vh = m[i] / (1 - 0.9 ** step), v[i] / (1 - 0.999 ** step)
            p -= 0.1 * mh / (np.sqrt(vh) + 1e-8)
    assert lin.weight.device.type == device
    close(lin.weight, w, tol=1e-10)
    close(lin.bias, b, tol=1e-10)


def test_indexing_and_cat(device):
    a = np.arange(20, dtype=np.float32).reshape(4, 5)
    t = to(device, a)
    idx = torch.tensor([3, 0, 3], device=device)
    np.testing.assert_array_equal(t[idx].cpu().numpy(), a[[3, 0, 3]])
    np.testing.assert_array_equal(t[t > 12].cpu().numpy(), a[a > 12])
    np.testing.assert_array_equal(t[:, 1::2].cpu().numpy(), a[:, 1::2])
    c = torch.cat([t, t[:2]], 0)
    np.testing.assert_array_equal(c.cpu().numpy(), np.concatenate([a, a[:2]], 0))
    np.testing.assert_array_equal(torch.stack([t[0], t[1]], 1).cpu().numpy(), np.stack([a[0], a[1]], 1))
    u = t.clone()
    u[idx[:2]] = 0.0
    ref = a.copy()
    ref[[3, 0]] = 0
    np.testing.assert_array_equal(u.cpu().numpy(), ref)
    g = t.gather(1, torch.tensor([[4, 0], [1, 1], [0, 0], [2, 3]], device=device))
    np.testing.assert_array_equal(g.cpu().numpy(), np.take_along_axis(a, np.array([[4, 0], [1, 1], [0, 0], [2, 3]]), 1))
    s, i = t.sort(1, descending=True)
    np.testing.assert_array_equal(s.cpu().numpy(), -np.sort(-a, 1))
    assert s.device.type == device and i.device.type == device


# ---- dtype sweep --------------------------------------------------------------------

DTYPES = {
    "float16": (np.float16, 1e-3), "bfloat16": (np.float32, 1e-2), "float32": (np.float32, 1e-6),
    "float64": (np.float64, 1e-12), "int32": (np.int32, 0), "int64": (np.int64, 0), "uint8": (np.uint8, 0),
    "int16": (np.int16, 0), "int8": (np.int8, 0),
}


def sample(dtype_name, shape, seed):
    r = rng(seed)
    if dtype_name in ("uint8",):
        return r.integers(0, 20, shape).astype(np.uint8)
    if dtype_name.startswith("int"):
        return r.integers(-20, 20, shape).astype(DTYPES[dtype_name][0])
    return (r.standard_normal(shape) * 4).astype(np.float32)


def as_values(t):
    """A tensor's values as float64 NumPy (bfloat16 through float32)."""
    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        t = t.float()
    return t.numpy().astype(np.float64)


@pytest.mark.parametrize("name", list(DTYPES))
def test_dtype_sweep_arith_compare_reduce(device, name):
    dt = getattr(torch, name)
    a_np, b_np = sample(name, (3, 5), 20), sample(name, (5,), 21)
    a = torch.tensor(a_np).to(dt).to(device)
    b = torch.tensor(b_np).to(dt).to(device)
    # the reference sees the values as stored in dtype (rounded for the half types)
    A, B = as_values(a), as_values(b)
    tol = DTYPES[name][1]
    s = a + b
    assert s.dtype == dt and s.device.type == device
    ref = A + B
    if not dt.is_floating_point:
        # NumPy's integer arithmetic wraps around as PyTorch's does
        with np.errstate(over="ignore"):
            np.testing.assert_array_equal(s.cpu().numpy(), a_np + b_np)
            np.testing.assert_array_equal((a * b).cpu().numpy(), a_np * b_np)
    else:
        np.testing.assert_allclose(as_values(s), ref, rtol=tol * 4, atol=tol * 4)
        np.testing.assert_allclose(as_values(a * b), A * B, rtol=tol * 4, atol=tol * 20)
    np.testing.assert_array_equal(as_values(a > b), (A > B).astype(np.float64))
    np.testing.assert_array_equal(as_values(torch.maximum(a, b)), np.maximum(A, B))
    # sums of integers are int64; of floats, the dtype (accumulated in float)
    total = a.sum()
    assert total.dtype == (dt if dt.is_floating_point else torch.int64)
    np.testing.assert_allclose(as_values(total), A.sum(), rtol=tol * 10 + 1e-12, atol=tol * 50)
    v, i = a.max(0)
    np.testing.assert_array_equal(as_values(v), A.max(0))
    np.testing.assert_array_equal(i.cpu().numpy(), A.argmax(0))
    # casts to every other dtype of the sweep agree with the CPU cast
    for other in ("float32", "int64", "float16"):
        got = a.to(getattr(torch, other))
        want = a.cpu().to(getattr(torch, other))
        np.testing.assert_array_equal(as_values(got), as_values(want))


def test_bool_and_empty_and_scalar_tensors(device):
    m = torch.tensor([[True, False], [False, False]], device=device)
    assert (~m).tolist() == [[False, True], [True, True]]
    assert (m | ~m).all().item() and m.any().item() and not m.all().item()
    assert m.sum().item() == 1 and m.sum().dtype == torch.int64
    e = torch.zeros(0, 3, device=device)
    assert (e + 1).shape == (0, 3) and e.sum().item() == 0.0
    assert e.sum(0).tolist() == [0.0, 0.0, 0.0]
    z = torch.tensor(2.5, device=device)
    assert (z * z).item() == 6.25 and z.exp().dim() == 0
    assert torch.isnan(torch.tensor([1.0, float("nan")], device=device)).tolist() == [False, True]
    assert torch.isfinite(torch.tensor([1.0, float("inf")], device=device)).tolist() == [True, False]


def test_random_factories_match_cpu_stream(device):
    torch.manual_seed(123)
    a = torch.rand(5, device=device)
    torch.manual_seed(123)
    b = torch.rand(5)
    assert a.device.type == device
    np.testing.assert_array_equal(a.cpu().numpy(), b.numpy())
    # the stream continues identically after a draw, for float64 and odd sizes too
    torch.manual_seed(5)
    c = [torch.rand(3, device=device), torch.rand(7, dtype=torch.float64, device=device), torch.rand(2, device=device)]
    torch.manual_seed(5)
    d = [torch.rand(3), torch.rand(7, dtype=torch.float64), torch.rand(2)]
    for x, y in zip(c, d):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x.cpu().numpy(), y.numpy())
    assert all(0.0 <= v < 1.0 for v in c[1].tolist())
    torch.manual_seed(7)
    n = torch.randn(1000, dtype=torch.float64, device=device)
    assert abs(n.mean().item()) < 0.15 and abs(n.std().item() - 1) < 0.1


def _draws(device):
    """rand, randn and randint interleaved (odd sizes, several dtypes), and the in-place forms."""
    g = torch.Generator().manual_seed(11)
    out = [torch.randn(5, device=device, generator=g), torch.rand(3, device=device, generator=g),
           torch.randn(2, 3, dtype=torch.float64, device=device, generator=g),
           torch.randint(-3, 9, (7,), device=device, generator=g),
           torch.randn(4, dtype=torch.float16, device=device, generator=g),
           torch.randint(0, 2**40, (3,), dtype=torch.int64, device=device, generator=g),
           torch.randint(5, (2, 2), dtype=torch.float32, device=device, generator=g),
           torch.empty(6, device=device).normal_(2.0, 0.5, generator=g),
           torch.empty(5, device=device).uniform_(-1.0, 1.0, generator=g),
           torch.rand(2, device=device, generator=g)]
    return out


def test_random_draws_match_cpu_stream(device):
    # The CPU draws are the reference stream; on CUDA the Philox kernels read the same
    # counter blocks, so values agree (normals up to the last bit of the device's libm).
    got, ref = _draws(device), _draws("cpu")
    for x, y in zip(got, ref):
        assert x.device.type == device and x.dtype == y.dtype and x.shape == y.shape
        if x.dtype.is_floating_point:
            np.testing.assert_allclose(x.cpu().double().numpy(), y.double().numpy(), rtol=1e-6, atol=1e-7)
        else:
            np.testing.assert_array_equal(x.cpu().numpy(), y.numpy())
    ints = got[3].cpu().numpy()
    assert ints.min() >= -3 and ints.max() < 9
    big = torch.randint(-2**62, 2**62, (4000,), device=device).cpu().numpy()
    assert big.min() < -2**61 and big.max() > 2**61  # the whole span is reached
    with pytest.raises(RuntimeError, match="from=3 >= to=3"):
        torch.randint(3, 3, (2,), device=device)
    with pytest.raises(RuntimeError, match="normal"):
        torch.randn(3, dtype=torch.int64, device=device)


def test_sampling_matches_cpu_stream(device):
    # bernoulli / multinomial are compositions of rand, cumsum, topk: the same Philox
    # draws give the same samples on every device.
    w = np.array([[0.1, 0.0, 0.3, 0.6], [1.0, 1.0, 1.0, 1.0]])
    def draws(dev):
        g = torch.Generator().manual_seed(21)
        t = to(dev, w)
        return [torch.multinomial(t, 50, replacement=True, generator=g),
                torch.multinomial(t[:, [0, 2, 3]], 3, generator=g),
                torch.bernoulli(t / 2, generator=g),
                torch.bernoulli(t, 0.25, generator=g)]
    for x, y in zip(draws(device), draws("cpu")):
        assert x.device.type == device and x.dtype == y.dtype
        np.testing.assert_array_equal(x.cpu().numpy(), y.numpy())
    assert (draws(device)[0].cpu().numpy()[0] != 1).all()  # zero weight never drawn


def test_nan_to_num(device):
    a = np.array([[np.nan, np.inf, -np.inf, 1.5], [-2.0, np.nan, 0.0, np.inf]], np.float32)
    x = to(device, a, requires_grad=True)
    for kw, ref in [({}, np.nan_to_num(a)),
                    ({"nan": 7.0, "posinf": 100.0, "neginf": -50.0},
                     np.nan_to_num(a, nan=7.0, posinf=100.0, neginf=-50.0))]:
        y = x.nan_to_num(**kw)
        assert y.device.type == device
        np.testing.assert_array_equal(y.detach().cpu().numpy(), ref)
    y.sum().backward()  # d/dx is 1 where x is finite, 0 where it was replaced
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.isfinite(a).astype(np.float32))
    h = to(device, np.array([np.inf, -np.inf, np.nan], np.float16)).nan_to_num()
    np.testing.assert_array_equal(h.cpu().numpy(), np.array([65504, -65504, 0], np.float16))


@pytest.mark.parametrize("n", [7, 300, 2500])  # 2500: longer than one CUDA block sorts (merge passes)
def test_sort_stable_with_nan_and_ties(device, n):
    r = rng(30)
    a = r.integers(-5, 5, (3, n)).astype(np.float32)
    a[0, ::7] = np.nan
    t = to(device, a)
    for desc in (False, True):
        v, i = t.sort(dim=1, descending=desc, stable=True)
        # NumPy reference: NaN is the largest value; ties keep their input order both ways.
        key = np.where(np.isnan(a), np.inf, a)
        rank = np.where(np.isnan(a), 1, 0)  # NaN after +inf ascending
        order = np.lexsort((np.arange(n)[None, :].repeat(3, 0), rank, key), axis=1) if not desc else \
            np.lexsort((np.arange(n)[None, :].repeat(3, 0), -rank, -key), axis=1)
        np.testing.assert_array_equal(i.cpu().numpy(), order)
        np.testing.assert_array_equal(v.cpu().numpy(), np.take_along_axis(a, order, 1))
    vals, idx = t.topk(3, dim=1)
    assert vals.shape == (3, 3) and idx.device.type == device


def test_sort_gradient_and_dims(device):
    a = rng(31).standard_normal((4, 3, 5))
    x = to(device, a, requires_grad=True)
    v, i = x.sort(1)
    np.testing.assert_array_equal(v.detach().cpu().numpy(), np.sort(a, 1))
    (v * to(device, np.arange(60.0).reshape(4, 3, 5))).sum().backward()
    ref = np.zeros_like(a)
    np.put_along_axis(ref, np.argsort(a, 1, kind="stable"), np.arange(60.0).reshape(4, 3, 5), 1)
    close(x.grad, ref, tol=1e-12)


def test_sgd_momentum_nesterov_matches_numpy(device):
    r = rng(32)
    w0, g_seq = r.standard_normal((3, 4)), [r.standard_normal((3, 4)) for _ in range(3)]
    p = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float32, device=device))
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    w, buf = w0.astype(np.float64), None
    for g in g_seq:
        p.grad = torch.tensor(g, dtype=torch.float32, device=device)
        opt.step()
        gf = g.astype(np.float32).astype(np.float64) + 0.01 * w
        buf = gf if buf is None else 0.9 * buf + gf
        w = w - 0.1 * (gf + 0.9 * buf)
    assert p.device.type == device
    close(p, w, tol=1e-5)


def test_pickle_keeps_device(device):
    import io
    import pickle
    a = np.array([[1.0, -2.5], [3.0, 0.25]], np.float32)
    t = to(device, a)
    p = torch.nn.Parameter(to(device, a))
    u, q = pickle.loads(pickle.dumps((t, p)))
    assert u.device.type == device and q.device.type == device and isinstance(q, torch.nn.Parameter)
    np.testing.assert_array_equal(u.cpu().numpy(), a)
    buf = io.BytesIO()
    torch.save({"w": t}, buf)
    buf.seek(0)
    w = torch.load(buf, map_location="cpu")["w"]  # mapped at load
    assert w.device.type == "cpu"
    np.testing.assert_array_equal(w.numpy(), a)


# ---- the fused steps of RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop, SparseAdam
from _optim_refs import CASES as _OPT_CASES, REFS as _OPT_REFS  # noqa: E402


@pytest.mark.parametrize("name, kw", _OPT_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(_OPT_CASES)])
def test_optimizer_steps_match_numpy(device, name, kw):
    # Every option against the float64 reference; on CUDA the kernel (cuda/optim.cu) must also give the
    # CPU loop's bits, step by step, in float32 and float64.
    for dt in (torch.float32, torch.float64):
        r = rng(41)
        w0 = r.standard_normal((3, 5))
        gs = [r.standard_normal((3, 5)) for _ in range(4)]
        if name == "SparseAdam":
            gs = [np.where(r.random((3, 5)) < 0.3, 0.0, g) for g in gs]
        runs = {}
        for dev in {device, "cpu"}:
            p = torch.nn.Parameter(torch.tensor(w0, dtype=dt, device=dev))
            opt = getattr(torch.optim, name)([p], **kw)
            traj = []
            for g in gs:
                p.grad = torch.tensor(g, dtype=dt, device=dev)
                opt.step()
                assert p.device.type == dev
                traj.append(p.detach().cpu().numpy().copy())
            runs[dev] = traj
        for a, b in zip(runs[device], runs["cpu"]):
            np.testing.assert_array_equal(a, b)
        ref, s = torch.tensor(w0, dtype=dt).double().numpy(), {}
        for g in gs:
            ref = _OPT_REFS[name](ref, torch.tensor(g, dtype=dt).double().numpy(), s, kw)
        tol = 2e-5 if dt == torch.float32 else 1e-11
        np.testing.assert_allclose(runs[device][-1], ref, rtol=tol, atol=tol)
