"""torch.optim.Adam and AdamW against a NumPy float64 re-implementation of PyTorch's algorithm.

Covers amsgrad / maximize / weight decay combinations over several steps on float32 and float64
parameters (0-d, non-contiguous parameter, non-contiguous gradient), per-parameter step counts
when some gradients are missing, per-group hyper-parameters, tensor hyper-parameters, the state
layout and state_dict round trips (with dtype casting), the validation errors and convergence.
"""
import copy
import itertools

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import optim
from _helpers import assert_close, to_np

DTYPES = [torch.float32, torch.float64]
TOLS = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-12, atol=1e-12)}


# ---- reference -------------------------------------------------------------------------------
class RefAdam:
    """NumPy float64 Adam/AdamW: Kingma & Ba with PyTorch's eps placement and AMSGrad variant."""

    def __init__(self, values, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False, decoupled=False):
        self.p = [np.array(v, dtype=np.float64) for v in values]
        n = len(values)
        self.m, self.v, self.vmax = [None] * n, [None] * n, [None] * n
        self.t = [0] * n
        self.lr, (self.b1, self.b2), self.eps = lr, betas, eps
        self.wd, self.amsgrad, self.maximize, self.decoupled = weight_decay, amsgrad, maximize, decoupled

    def step(self, grads):
        for i, g in enumerate(grads):
            if g is None:
                continue
            if self.m[i] is None:
                self.m[i] = np.zeros_like(self.p[i])
                self.v[i] = np.zeros_like(self.p[i])
                self.vmax[i] = np.zeros_like(self.p[i])
            self.t[i] += 1
            t = self.t[i]
            g = -g if self.maximize else g.copy()
            if self.wd:
                if self.decoupled:
                    self.p[i] = self.p[i] * (1 - self.lr * self.wd)
                else:
                    g = g + self.wd * self.p[i]
            self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * g
            self.v[i] = self.b2 * self.v[i] + (1 - self.b2) * g * g
            m_hat = self.m[i] / (1 - self.b1 ** t)
            v = self.v[i]
            if self.amsgrad:
                self.vmax[i] = np.maximum(self.vmax[i], self.v[i])
                v = self.vmax[i]
            v_hat = v / (1 - self.b2 ** t)
            self.p[i] = self.p[i] - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


# ---- data ------------------------------------------------------------------------------------
def make_params(dtype, seed=0):
    """Leaf tensors: 0-d, 1-d, 2-d (gets a non-contiguous grad), 3-d and a transposed (non-contiguous) leaf."""
    rng = np.random.default_rng(seed)
    params = [torch.tensor(rng.uniform(-1, 1, s), dtype=dtype).requires_grad_()
              for s in [(), (5,), (3, 4), (2, 3, 2)]]
    params.append(torch.tensor(rng.uniform(-1, 1, (4, 3)), dtype=dtype).t().requires_grad_())
    return params


def random_grad(p, rng):
    shape = tuple(p.shape)
    if shape == (3, 4) and p.is_contiguous():
        return torch.tensor(rng.uniform(-1, 1, (4, 3)), dtype=p.dtype).t()
    return torch.tensor(rng.uniform(-1, 1, shape), dtype=p.dtype)


def set_grads(params, rng, skip=()):
    out = []
    for i, p in enumerate(params):
        if i in skip:
            p.grad = None
            out.append(None)
        else:
            g = random_grad(p, rng)
            p.grad = g
            out.append(to_np(g).astype(np.float64))
    return out


def check_params(params, ref_values, dtype):
    for p, r in zip(params, ref_values):
        assert p.dtype == dtype
        assert_close(p, r, **TOLS[dtype])


def build(cls, params, **kw):
    opt = cls(params, **kw)
    g = opt.param_groups[0]
    ref = RefAdam([to_np(p) for p in params], lr=g["lr"], betas=g["betas"], eps=g["eps"],
                  weight_decay=g["weight_decay"], amsgrad=g["amsgrad"], maximize=g["maximize"],
                  decoupled=cls is optim.AdamW)
    return opt, ref


# ---- every option combination -----------------------------------------------------------------
COMBOS = list(itertools.product([optim.Adam, optim.AdamW], [False, True], [False, True], [0.0, 0.1]))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("cls, amsgrad, maximize, wd", COMBOS,
                         ids=[f"{c.__name__}-amsgrad={a}-maximize={m}-wd={w}" for c, a, m, w in COMBOS])
def test_adam_matches_reference(cls, amsgrad, maximize, wd, dtype):
    params = make_params(dtype)
    ptrs = [p.data_ptr() for p in params]
    # Large lr and a small beta2 so that the moments, the bias corrections and the AMSGrad maximum
    # all matter within a few steps.
    opt, ref = build(cls, params, lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=wd, amsgrad=amsgrad,
                     maximize=maximize)
    rng = np.random.default_rng(1)
    for _ in range(6):
        grads = set_grads(params, rng)
        opt.step()
        ref.step(grads)
        check_params(params, ref.p, dtype)
        for p, g in zip(params, grads):
            assert_close(p.grad, g, **TOLS[dtype])  # gradients are not modified
    assert [p.data_ptr() for p in params] == ptrs
    assert all(p.is_leaf and p.requires_grad for p in params)

    keys = {"step", "exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if amsgrad else set())
    for i, p in enumerate(params):
        st = opt.state[p]
        assert set(st) == keys
        step = st["step"]
        assert torch.is_tensor(step) and step.dim() == 0 and step.dtype == torch.float32
        assert step.item() == 6.0
        for k in keys - {"step"}:
            assert st[k].dtype == dtype and tuple(st[k].shape) == tuple(p.shape)
        assert_close(st["exp_avg"], ref.m[i], **TOLS[dtype])
        assert_close(st["exp_avg_sq"], ref.v[i], **TOLS[dtype])
        if amsgrad:
            assert_close(st["max_exp_avg_sq"], ref.vmax[i], **TOLS[dtype])


def test_adam_first_step_hand_computed():
    # Step 1: m_hat = g, v_hat = g^2, so every entry moves by lr * sign(g) (up to eps).
    p = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor([0.5, -4.0, 1e-3], dtype=torch.float64)
    optim.Adam([p], lr=0.1, eps=0.0).step()
    assert_close(p, np.array([0.9, -1.9, 2.9]))


def test_adamw_decay_is_decoupled_from_the_moments():
    # A zero gradient leaves the moments at zero: AdamW then only shrinks the parameter, while
    # Adam's L2 term enters the moments and moves the parameter by ~lr.
    pw = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    pw.grad = torch.zeros(1, dtype=torch.float64)
    optw = optim.AdamW([pw], lr=0.1, weight_decay=0.5)
    optw.step()
    assert_close(pw, np.array([2.0 * (1 - 0.1 * 0.5)]))
    assert_close(optw.state[pw]["exp_avg"], np.array([0.0]))

    pa = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    pa.grad = torch.zeros(1, dtype=torch.float64)
    opta = optim.Adam([pa], lr=0.1, weight_decay=0.5)
    opta.step()
    assert_close(pa, np.array([2.0 - 0.1 * 1.0 / (1.0 + 1e-8)]))
    assert_close(opta.state[pa]["exp_avg"], np.array([0.1 * 0.5 * 2.0]))


def test_adam_decoupled_weight_decay_flag_equals_adamw():
    a, b = make_params(torch.float64), make_params(torch.float64)
    opt_a = optim.Adam(a, lr=0.05, weight_decay=0.2, decoupled_weight_decay=True)
    opt_b = optim.AdamW(b, lr=0.05, weight_decay=0.2)
    ref = RefAdam([to_np(p) for p in a], lr=0.05, weight_decay=0.2, decoupled=True)
    rng = np.random.default_rng(2)
    for _ in range(5):
        grads = set_grads(a, rng)
        for x, y in zip(a, b):
            y.grad = x.grad.clone()
        opt_a.step()
        opt_b.step()
        ref.step(grads)
    check_params(a, ref.p, torch.float64)
    check_params(b, ref.p, torch.float64)


# ---- step counts, skipped parameters, groups ---------------------------------------------------
@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
def test_params_without_grad_are_skipped_and_steps_are_per_parameter(cls):
    dtype = torch.float64
    params = make_params(dtype)
    before = [to_np(p) for p in params]
    opt, ref = build(cls, params, lr=0.05, weight_decay=0.1, amsgrad=True)
    rng = np.random.default_rng(3)
    for step in range(6):
        # Parameter 1 never has a gradient; parameter 3 only from the fourth step on, so its bias
        # corrections must use its own count (3), not the optimizer's (6).
        grads = set_grads(params, rng, skip={1} if step >= 3 else {1, 3})
        opt.step()
        ref.step(grads)
    check_params(params, ref.p, dtype)
    np.testing.assert_array_equal(to_np(params[1]), before[1])
    assert params[1] not in opt.state
    assert opt.state[params[0]]["step"].item() == 6.0
    assert opt.state[params[3]]["step"].item() == 3.0


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_param_groups_with_their_own_hyper_parameters(dtype):
    params = make_params(dtype)
    g0, g1 = params[:3], params[3:]
    opt = optim.Adam([{"params": g0}, {"params": g1, "lr": 0.2, "betas": (0.5, 0.7), "amsgrad": True}],
                     lr=0.01, weight_decay=0.05)
    assert opt.param_groups[0]["betas"] == (0.9, 0.999) and opt.param_groups[1]["weight_decay"] == 0.05
    ref0 = RefAdam([to_np(p) for p in g0], lr=0.01, weight_decay=0.05)
    ref1 = RefAdam([to_np(p) for p in g1], lr=0.2, betas=(0.5, 0.7), weight_decay=0.05, amsgrad=True)
    rng = np.random.default_rng(4)
    for _ in range(5):
        grads = set_grads(params, rng)
        opt.step()
        ref0.step(grads[:3])
        ref1.step(grads[3:])
    check_params(g0, ref0.p, dtype)
    check_params(g1, ref1.p, dtype)
    assert "max_exp_avg_sq" not in opt.state[g0[0]] and "max_exp_avg_sq" in opt.state[g1[0]]


def test_tensor_lr_and_betas():
    p = torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64, requires_grad=True)
    # float64 tensors, so the hyper-parameters hold exactly the reference's values.
    f64 = dict(dtype=torch.float64)
    opt = optim.Adam([p], lr=torch.tensor(0.1, **f64), betas=(torch.tensor(0.8, **f64), torch.tensor(0.95, **f64)))
    ref = RefAdam([to_np(p)], lr=0.1, betas=(0.8, 0.95))
    rng = np.random.default_rng(5)
    for _ in range(5):
        grads = set_grads([p], rng)
        opt.step()
        ref.step(grads)
    assert_close(p, ref.p[0])


def test_step_dtype_follows_float64_default_dtype():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p = torch.zeros(2, requires_grad=True)
        p.grad = torch.ones(2)
        opt = optim.Adam([p])
        opt.step()
        assert opt.state[p]["step"].dtype == torch.float64
    finally:
        torch.set_default_dtype(old)


# ---- state_dict --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
def test_state_dict_round_trip_continues_identically(cls, dtype):
    params = make_params(dtype)
    opt, ref = build(cls, params, lr=0.05, weight_decay=0.1, amsgrad=True)
    rng = np.random.default_rng(6)
    for _ in range(3):
        grads = set_grads(params, rng)
        opt.step()
        ref.step(grads)

    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == list(range(len(params)))
    assert set(sd["state"][2]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert sd["state"][2]["step"].item() == 3.0

    clones = [p.detach().clone().requires_grad_() for p in params]
    opt2 = cls(clones, lr=1.0)
    opt2.load_state_dict(copy.deepcopy(sd))
    assert opt2.param_groups[0]["lr"] == 0.05 and opt2.param_groups[0]["amsgrad"] is True
    st = opt2.state[clones[2]]
    assert st["step"].dtype == torch.float32 and st["step"].item() == 3.0
    assert st["exp_avg"].dtype == dtype

    for _ in range(3):
        grads = set_grads(params, rng)
        for c, p in zip(clones, params):
            c.grad = p.grad.clone()
        opt.step()
        opt2.step()
        ref.step(grads)
    check_params(clones, ref.p, dtype)
    for p, c in zip(params, clones):
        assert torch.equal(p.detach(), c.detach())
    assert opt2.state[clones[2]]["step"].item() == 6.0


def test_load_state_dict_casts_moments_to_param_dtype_and_keeps_step_float32():
    p32 = torch.tensor([1.0, -2.0], dtype=torch.float32, requires_grad=True)
    p32.grad = torch.tensor([0.5, 0.25], dtype=torch.float32)
    opt = optim.Adam([p32], lr=0.1)
    opt.step()
    p64 = torch.tensor([0.9, -2.1], dtype=torch.float64, requires_grad=True)
    opt64 = optim.Adam([p64], lr=0.1)
    opt64.load_state_dict(opt.state_dict())
    st = opt64.state[p64]
    assert st["exp_avg"].dtype == torch.float64 and st["exp_avg_sq"].dtype == torch.float64
    assert st["step"].dtype == torch.float32
    # Continue in float64 from the float32 moments (0.1 * g and 0.001 * g^2 are the stored values).
    ref = RefAdam([to_np(p64)], lr=0.1)
    ref.t[0] = 1
    ref.m[0] = to_np(st["exp_avg"]).astype(np.float64)
    ref.v[0] = to_np(st["exp_avg_sq"]).astype(np.float64)
    ref.vmax[0] = np.zeros(2)
    assert_close(st["exp_avg"], np.array([0.05, 0.025]), rtol=1e-6, atol=1e-8)
    p64.grad = torch.tensor([1.0, -1.0], dtype=torch.float64)
    opt64.step()
    ref.step([np.array([1.0, -1.0])])
    assert_close(p64, ref.p[0])


def test_adamw_state_dict_from_adam_stays_decoupled():
    p = torch.zeros(2, requires_grad=True)
    sd = optim.Adam([p], weight_decay=0.1).state_dict()
    assert sd["param_groups"][0]["decoupled_weight_decay"] is False
    q = torch.zeros(2, requires_grad=True)
    opt = optim.AdamW([q])
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True
    assert opt.param_groups[0]["weight_decay"] == 0.1


# ---- validation ------------------------------------------------------------------------------
def _p():
    return [torch.zeros(2, requires_grad=True)]


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
@pytest.mark.parametrize("kwargs, msg", [
    (dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (dict(betas=(-0.1, 0.999)), "Invalid beta parameter at index 0: -0.1"),
    (dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    (dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (dict(betas=(0, 0.99)), "betas must be either both floats or both Tensors"),
])
def test_constructor_validation(cls, kwargs, msg):
    with pytest.raises(ValueError) as info:
        cls(_p(), **kwargs)
    assert str(info.value) == msg


def test_tensor_hyper_parameter_validation():
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optim.Adam(_p(), lr=torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="lr as a Tensor is not supported for capturable=False and foreach=True"):
        optim.Adam(_p(), lr=torch.tensor(0.1), foreach=True)
    with pytest.raises(ValueError, match="betas must be either both floats or both Tensors"):
        optim.Adam(_p(), betas=(torch.tensor(0.9), 0.999))
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together."):
        optim.Adam(_p(), fused=True, foreach=True)
    with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
        optim.AdamW(_p(), fused=True, differentiable=True)


def test_defaults_and_repr():
    assert optim.AdamW(_p()).defaults["weight_decay"] == 1e-2
    assert optim.AdamW(_p()).defaults["decoupled_weight_decay"] is True
    opt = optim.Adam([{"params": _p()}, {"params": _p(), "lr": 0.5, "amsgrad": True}])
    expected = "Adam ("
    for lr, ams in [(0.001, False), (0.5, True)]:
        i = 0 if lr == 0.001 else 1
        expected += (f"\nParameter Group {i}\n    amsgrad: {ams}\n    betas: (0.9, 0.999)\n    capturable: False\n"
                     f"    decoupled_weight_decay: False\n    differentiable: False\n    eps: 1e-08\n"
                     f"    foreach: None\n    fused: None\n    lr: {lr}\n    maximize: False\n    weight_decay: 0\n")
    assert repr(opt) == expected + ")"
    assert repr(optim.AdamW(_p())).startswith("AdamW (\nParameter Group 0\n    amsgrad: False\n")


# ---- convergence ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs", [(optim.Adam, {}), (optim.Adam, dict(amsgrad=True)),
                                         (optim.AdamW, dict(weight_decay=0.0))],
                         ids=["adam", "amsgrad", "adamw"])
def test_least_squares_converges(cls, kwargs):
    rng = np.random.default_rng(7)
    A = rng.uniform(-1, 1, (40, 4))
    b = A @ np.array([1.5, -2.0, 0.5, 3.0]) + 0.01 * rng.standard_normal(40)
    solution = np.linalg.lstsq(A, b, rcond=None)[0]
    At, bt = torch.tensor(A), torch.tensor(b)
    x = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    opt = cls([x], lr=0.05, **kwargs)
    for i in range(600):
        if i == 400:
            opt.param_groups[0]["lr"] = 0.005  # anneal so the iterate settles at the minimum
        opt.zero_grad()
        loss = ((At @ x - bt) ** 2).mean()
        loss.backward()
        opt.step()
    assert_close(x, solution, rtol=0, atol=1e-3)


def test_old_checkpoint_with_numeric_step_is_converted():
    p = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor([0.5, -0.5], dtype=torch.float64)
    opt = optim.Adam([p], lr=0.1, betas=(0.5, 0.6))
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    sd["state"][0]["step"] = 1  # what old PyTorch versions saved
    q = torch.tensor(to_np(p), dtype=torch.float64, requires_grad=True)
    opt2 = optim.Adam([q], lr=0.1)
    opt2.load_state_dict(sd)
    step = opt2.state[q]["step"]
    assert torch.is_tensor(step) and step.dtype == torch.float32 and step.item() == 1.0
    # Continuing uses t = 2 in the bias corrections.
    ref = RefAdam([to_np(q)], lr=0.1, betas=(0.5, 0.6))
    ref.t[0] = 1
    ref.m[0] = to_np(opt2.state[q]["exp_avg"])
    ref.v[0] = to_np(opt2.state[q]["exp_avg_sq"])
    ref.vmax[0] = np.zeros(2)
    q.grad = torch.tensor([1.0, 0.25], dtype=torch.float64)
    opt2.step()
    ref.step([np.array([1.0, 0.25])])
    assert_close(q, ref.p[0])


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
def test_state_of_the_wrong_shape_raises(cls):
    # A state dict saved for parameters of other shapes loads (only group sizes are checked) but
    # the step must refuse it rather than read past the state's end.
    src = torch.zeros(2, requires_grad=True)
    src.grad = torch.ones(2)
    opt = cls([src])
    opt.step()
    p = torch.zeros(3, requires_grad=True)
    opt2 = cls([p])
    opt2.load_state_dict(opt.state_dict())
    p.grad = torch.ones(3)
    with pytest.raises(RuntimeError):
        opt2.step()
