"""RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop and SparseAdam.

* against NumPy float64 re-implementations of PyTorch's documented updates (tests/_optim_refs.py,
  written from the algorithm boxes of the torch.optim docs), 6 steps of random gradients, every option, float32 and
  float64 parameters, maximize and weight decay;
* against real PyTorch trajectories (tests/fixtures/optim/trajectories.json, written by
  scripts/make_optim_fixtures.py) on a small problem, gradients by autograd;
* state_dict layout, a mid-run round trip, and a PyTorch-written state_dict
  (tests/fixtures/optim/state_dicts.pt) that loads and continues as PyTorch's run did;
* PyTorch's exceptions for bad arguments (checked against PyTorch 2.15).
"""
import copy
import json
import os

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import optim
from _optim_refs import CASES, OPTIONS, REFS

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "optim")
DTYPES = [torch.float32, torch.float64]
TOLS = {torch.float32: dict(rtol=2e-5, atol=2e-6), torch.float64: dict(rtol=1e-11, atol=1e-12)}
SHAPES = [(5,), (2, 3), ()]
STEPS = 6


def _grads(rng, shapes, name):
    gs = [rng.standard_normal(s) for s in shapes]
    if name == "SparseAdam":  # some entries are zero: not part of the (sparse) gradient
        gs = [np.where(rng.random(s) < 0.3, 0.0, g) for g, s in zip(gs, shapes)]
    return gs


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name, kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_float64_reference(name, kw, dtype):
    rng = np.random.default_rng(hash((name, str(kw))) % 2**32)
    init = [rng.standard_normal(s) for s in SHAPES]
    params = [torch.tensor(v, dtype=dtype, requires_grad=True) for v in init]
    opt = getattr(optim, name)(params, **kw)
    ref_p = [np.asarray(torch.tensor(v, dtype=dtype).double().numpy()) for v in init]
    ref_s = [{} for _ in params]
    for _ in range(STEPS):
        gs = _grads(rng, SHAPES, name)
        for p, g in zip(params, gs):
            p.grad = torch.tensor(g, dtype=dtype)
        opt.step()
        # the reference sees the gradients as the parameters' dtype holds them
        gs = [np.asarray(torch.tensor(g, dtype=dtype).double().numpy()) for g in gs]
        ref_p = [REFS[name](p, g, s, kw) for p, g, s in zip(ref_p, gs, ref_s)]
    for p, r in zip(params, ref_p):
        assert p.dtype == dtype
        np.testing.assert_allclose(p.detach().double().numpy(), r, **TOLS[dtype], err_msg=f"{name} {kw}")


@pytest.mark.parametrize("name", list(OPTIONS))
def test_parameters_without_grad_and_non_contiguous(name):
    # A parameter without gradient is skipped (no state); a transposed parameter / gradient is updated
    # in place through its own strides.
    rng = np.random.default_rng(3)
    base = rng.standard_normal((3, 4))
    p = torch.tensor(base, requires_grad=True)
    q = torch.tensor([1.0, 2.0], requires_grad=True)
    opt = getattr(optim, name)([p, q], lr=0.1)
    ref_p, s = base.copy(), {}
    h = {"lr": 0.1}
    for _ in range(3):
        g = rng.standard_normal((4, 3))
        p.grad = torch.tensor(g).t()  # non-contiguous gradient
        opt.step()
        ref_p = REFS[name](ref_p, g.T.copy(), s, h)
    np.testing.assert_allclose(p.detach().numpy(), ref_p, rtol=1e-11, atol=1e-12)
    assert q.detach().tolist() == [1.0, 2.0]
    if name != "Adagrad":  # Adagrad creates every parameter's state in its constructor, as PyTorch
        assert len(opt.state[q]) == 0


# ---- PyTorch fixture -------------------------------------------------------------------------
with open(os.path.join(FIXTURES, "trajectories.json")) as _f:
    FIX = json.load(_f)
PROB = FIX["problem"]


def _params(dtype, values=None):
    if values is None:
        values = [PROB["X1"], PROB["X2"]]
    shapes = [(3,), (2, 2)]
    return [torch.tensor(np.reshape(v, s), dtype=dtype, requires_grad=True) for v, s in zip(values, shapes)]


def _loss(ps):
    total = 0
    for p, w, t in zip(ps, (PROB["W1"], PROB["W2"]), (PROB["T1"], PROB["T2"])):
        w = torch.tensor(w, dtype=p.dtype)
        t = torch.tensor(t, dtype=p.dtype)
        total = total + (w * (p - t) ** 2).sum() + 0.1 * (p ** 4).sum()
    return total


def _kwargs(kw):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()}


def _run(name, opt, ps, start, stop, dtype):
    traj, extra = [], []
    calls = [0]

    def closure():
        calls[0] += 1
        opt.zero_grad()
        loss = _loss(ps)
        loss.backward()
        return loss

    for k in range(start, stop):
        if name == "LBFGS":
            opt.step(closure)
            st = opt.state[ps[0]]
            extra.append([st["func_evals"], st["n_iter"], calls[0]])
        else:
            closure()
            if name == "SparseAdam":
                for p, m in zip(ps, PROB["MASKS"][k % len(PROB["MASKS"])]):
                    p.grad = p.grad * torch.tensor(m, dtype=dtype)
            opt.step()
        traj.append([p.detach().double().numpy().ravel().tolist() for p in ps])
    return traj, extra


def _fix_tol(dtype, name):
    if dtype == "float64":
        return dict(rtol=1e-9, atol=1e-10)
    # float32: a few ulps per step; LBFGS's line search amplifies them
    return dict(rtol=1e-3, atol=1e-4) if name == "LBFGS" else dict(rtol=1e-5, atol=1e-6)


FIX_IDS = [f"{c['name']}-{i // 2}-{c['dtype']}" for i, c in enumerate(FIX["cases"])]


@pytest.mark.parametrize("case", FIX["cases"], ids=FIX_IDS)
def test_matches_pytorch_trajectory(case):
    name, dtype = case["name"], getattr(torch, case["dtype"])
    ps = _params(dtype)
    opt = getattr(optim, name)(ps, **_kwargs(case["kwargs"]))
    traj, extra = _run(name, opt, ps, 0, FIX["steps"], dtype)
    for k, (got, want) in enumerate(zip(traj, case["trajectory"])):
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, **_fix_tol(case["dtype"], name), err_msg=f"step {k + 1}")
    if name == "LBFGS":
        # closure evaluations, state['func_evals'] and state['n_iter'] as PyTorch's. In float32, once
        # near the optimum, last-bit differences of the loss (our autograd rounds differently) can
        # move a tolerance_change stop by an iteration: there the first 4 steps are compared.
        n = len(extra) if case["dtype"] == "float64" else 4
        assert extra[:n] == case["lbfgs"][:n]


RESUME_CASES = [c for c in FIX["cases"] if "resume" in c]


@pytest.fixture(scope="module")
def torch_state_dicts():
    return torch.load(os.path.join(FIXTURES, "state_dicts.pt"))


@pytest.mark.parametrize("case", RESUME_CASES, ids=[f"{c['name']}-{c['resume']['key']}" for c in RESUME_CASES])
def test_pytorch_state_dict_loads_and_continues(case, torch_state_dicts):
    name, dtype = case["name"], getattr(torch, case["dtype"])
    sd = torch_state_dicts[case["resume"]["key"]]
    ps = _params(dtype, case["resume"]["at"])
    opt = getattr(optim, name)(ps, **_kwargs(case["kwargs"]))
    opt.load_state_dict(sd)
    traj, extra = _run(name, opt, ps, FIX["resume_at"], FIX["steps"], dtype)
    for got, want in zip(traj, case["resume"]["tail"]):
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, **_fix_tol(case["dtype"], name))
    if name == "LBFGS":
        assert [e[:2] for e in extra] == [e[:2] for e in case["resume"]["lbfgs"]]
    else:
        # and our state_dict has PyTorch's layout (keys, dtypes, scalar state types)
        ours = opt.state_dict()
        assert set(ours["param_groups"][0]) == set(sd["param_groups"][0])
        for k, st in sd["state"].items():
            assert set(ours["state"][k]) == set(st)
            for key, v in st.items():
                if isinstance(v, torch.Tensor):
                    assert ours["state"][k][key].dtype == v.dtype and ours["state"][k][key].shape == v.shape, key
                else:
                    assert type(ours["state"][k][key]) is type(v), key


# ---- state_dict --------------------------------------------------------------------------------
STATE_KEYS = {
    "RMSprop": {"step", "square_avg", "momentum_buffer", "grad_avg"},
    "Adagrad": {"step", "sum"},
    "Adadelta": {"step", "square_avg", "acc_delta"},
    "Adamax": {"step", "exp_avg", "exp_inf"},
    "NAdam": {"step", "mu_product", "exp_avg", "exp_avg_sq"},
    "RAdam": {"step", "exp_avg", "exp_avg_sq"},
    "ASGD": {"step", "eta", "mu", "ax"},
    "Rprop": {"step", "prev", "step_size"},
    "SparseAdam": {"step", "exp_avg", "exp_avg_sq"},
}
GROUP_KEYS = {
    "RMSprop": {"lr", "momentum", "alpha", "eps", "centered", "weight_decay", "capturable", "foreach", "maximize",
                "differentiable"},
    "Adagrad": {"lr", "lr_decay", "eps", "weight_decay", "initial_accumulator_value", "foreach", "maximize",
                "differentiable", "fused"},
    "Adadelta": {"lr", "rho", "eps", "weight_decay", "maximize", "capturable", "foreach", "differentiable"},
    "Adamax": {"lr", "betas", "eps", "weight_decay", "foreach", "maximize", "differentiable", "capturable"},
    "NAdam": {"lr", "betas", "eps", "weight_decay", "momentum_decay", "decoupled_weight_decay", "maximize",
              "foreach", "capturable", "differentiable"},
    "RAdam": {"lr", "betas", "eps", "weight_decay", "maximize", "foreach", "capturable", "decoupled_weight_decay",
              "differentiable"},
    "ASGD": {"lr", "lambd", "alpha", "t0", "weight_decay", "foreach", "maximize", "differentiable", "capturable"},
    "Rprop": {"lr", "etas", "step_sizes", "foreach", "maximize", "differentiable", "capturable"},
    "SparseAdam": {"lr", "betas", "eps", "maximize"},
}
FULL = {"RMSprop": {"momentum": 0.9, "centered": True}}


@pytest.mark.parametrize("name", list(OPTIONS))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_state_dict_round_trip_continues_identically(name, dtype):
    rng = np.random.default_rng(11)
    kw = dict(FULL.get(name, {}), lr=0.05)
    params = [torch.tensor(rng.standard_normal(s), dtype=dtype, requires_grad=True) for s in SHAPES]
    opt = getattr(optim, name)(params, **kw)
    for _ in range(3):
        for p, g in zip(params, _grads(rng, SHAPES, name)):
            p.grad = torch.tensor(g, dtype=dtype)
        opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1, 2]
    assert set(sd["param_groups"][0]) - {"params"} == GROUP_KEYS[name]
    assert set(sd["state"]) == {0, 1, 2} and set(sd["state"][1]) == STATE_KEYS[name]
    step = sd["state"][1]["step"]
    if name == "SparseAdam":
        assert step == 3 and type(step) is int
    else:
        assert step.dtype == torch.float32 and step.shape == () and step.item() == 3.0
    for key in STATE_KEYS[name] - {"step", "mu_product", "eta", "mu"}:
        assert sd["state"][1][key].dtype == dtype and sd["state"][1][key].shape == (2, 3)

    clones = [p.detach().clone().requires_grad_() for p in params]
    opt2 = getattr(optim, name)(clones, lr=1.0)
    opt2.load_state_dict(copy.deepcopy(sd))
    assert opt2.param_groups[0]["lr"] == 0.05
    for _ in range(3):
        for p, c, g in zip(params, clones, _grads(rng, SHAPES, name)):
            p.grad = torch.tensor(g, dtype=dtype)
            c.grad = torch.tensor(g, dtype=dtype)
        opt.step()
        opt2.step()
    for p, c in zip(params, clones):
        if name == "NAdam" and dtype == torch.float64:
            # load_state_dict casts mu_product to the parameter's dtype (PyTorch's policy: only `step`
            # keeps its dtype), so the loaded copy continues with a float64 product: close, not equal.
            np.testing.assert_allclose(p.detach().numpy(), c.detach().numpy(), rtol=1e-8)
            assert opt2.state[c]["mu_product"].dtype == torch.float64
        else:
            assert np.array_equal(p.detach().numpy(), c.detach().numpy())


def test_scalar_state_follows_pytorch():
    # NAdam's mu_product: float32 product of the mu_t (hand-computed from the formula); ASGD's eta / mu.
    p = torch.zeros(2, requires_grad=True)
    opt = optim.NAdam([p])
    mu = [0.9 * (1 - 0.5 * 0.96 ** (t * 4e-3)) for t in (1, 2)]
    for _ in range(2):
        p.grad = torch.ones(2)
        opt.step()
    want = np.float32(np.float32(np.float32(1.0) * np.float32(mu[0])) * np.float32(mu[1]))
    assert opt.state[p]["mu_product"].item() == float(want)
    assert opt.state[p]["mu_product"].dtype == torch.float32

    q = torch.zeros(2, requires_grad=True)
    opt = optim.ASGD([q], lr=0.1, t0=1)
    for _ in range(3):
        q.grad = torch.ones(2)
        opt.step()
    st = opt.state[q]
    assert st["eta"].item() == float(np.float32(0.1 / (1 + 1e-4 * 0.1 * 3) ** 0.75))
    assert st["mu"].item() == 0.5 and st["step"].item() == 3.0


def test_old_style_int_steps_load():
    # Checkpoints from before `step` became a tensor stored it as a number.
    p = torch.zeros(3, requires_grad=True)
    opt = optim.RMSprop([p], lr=0.1)
    p.grad = torch.ones(3)
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    sd["state"][0]["step"] = 1
    opt2 = optim.RMSprop([p], lr=0.1)
    opt2.load_state_dict(sd)
    assert isinstance(opt2.state[p]["step"], torch.Tensor) and opt2.state[p]["step"].item() == 1.0


def test_one_rust_call_per_group(monkeypatch):
    from ferrotorch import _C
    real = _C._optim_step
    calls = []

    def spy(algo, params, *args):
        calls.append((algo, len(params)))
        return real(algo, params, *args)

    monkeypatch.setattr(_C, "_optim_step", spy)
    a = [torch.randn(3, requires_grad=True) for _ in range(4)]
    b = [torch.randn(2, 2, requires_grad=True) for _ in range(3)]
    for name in OPTIONS:
        calls.clear()
        opt = getattr(optim, name)([{"params": a}, {"params": b, "lr": 0.01}])
        for p in a + b:
            p.grad = torch.ones_like(p)
        opt.step()
        assert [n for _, n in calls] == [4, 3], name


# ---- errors (types and messages as PyTorch 2.15's) ------------------------------------------------
ERRORS = [
    ("RMSprop", {"lr": -1.0}, ValueError, "Invalid learning rate: -1.0"),
    ("RMSprop", {"eps": -1e-3}, ValueError, "Invalid epsilon value: -0.001"),
    ("RMSprop", {"momentum": -0.5}, ValueError, "Invalid momentum value: -0.5"),
    ("RMSprop", {"weight_decay": -0.1}, ValueError, "Invalid weight_decay value: -0.1"),
    ("RMSprop", {"alpha": -0.1}, ValueError, "Invalid alpha value: -0.1"),
    ("Adagrad", {"lr": -1.0}, ValueError, "Invalid learning rate: -1.0"),
    ("Adagrad", {"lr_decay": -1.0}, ValueError, "Invalid lr_decay value: -1.0"),
    ("Adagrad", {"weight_decay": -1.0}, ValueError, "Invalid weight_decay value: -1.0"),
    ("Adagrad", {"initial_accumulator_value": -1.0}, ValueError, "Invalid initial_accumulator_value value: -1.0"),
    ("Adagrad", {"eps": -1.0}, ValueError, "Invalid epsilon value: -1.0"),
    ("Adagrad", {"fused": True, "foreach": True}, RuntimeError, "`fused` and `foreach` cannot be `True` together."),
    ("Adadelta", {"lr": -1.0}, ValueError, "Invalid learning rate: -1.0"),
    ("Adadelta", {"rho": 1.5}, ValueError, "Invalid rho value: 1.5"),
    ("Adadelta", {"eps": -1.0}, ValueError, "Invalid epsilon value: -1.0"),
    ("Adadelta", {"weight_decay": -1.0}, ValueError, "Invalid weight_decay value: -1.0"),
    ("Adamax", {"betas": (1.0, 0.999)}, ValueError, "Invalid beta parameter at index 0: 1.0"),
    ("Adamax", {"betas": (0.9, -0.1)}, ValueError, "Invalid beta parameter at index 1: -0.1"),
    ("Adamax", {"eps": -1.0}, ValueError, "Invalid epsilon value: -1.0"),
    ("NAdam", {"momentum_decay": -1.0}, ValueError, "Invalid momentum_decay value: -1.0"),
    ("NAdam", {"weight_decay": -1.0}, ValueError, "Invalid weight_decay value: -1.0"),
    ("RAdam", {"lr": -0.5}, ValueError, "Invalid learning rate: -0.5"),
    ("RAdam", {"betas": (0.9, 1.0)}, ValueError, "Invalid beta parameter at index 1: 1.0"),
    ("ASGD", {"lambd": -1.0}, ValueError, "Invalid lambd value: -1.0"),
    ("ASGD", {"alpha": -1.0}, ValueError, "Invalid alpha value: -1.0"),
    ("ASGD", {"weight_decay": -1.0}, ValueError, "Invalid weight_decay value: -1.0"),
    ("Rprop", {"etas": (1.5, 1.2)}, ValueError, "Invalid eta values: 1.5, 1.2"),
    ("Rprop", {"etas": (0.5, 0.9)}, ValueError, "Invalid eta values: 0.5, 0.9"),
    ("Rprop", {"lr": -1.0}, ValueError, "Invalid learning rate: -1.0"),
    ("SparseAdam", {"lr": 0.0}, ValueError, "Invalid learning rate: 0.0"),
    ("SparseAdam", {"eps": 0.0}, ValueError, "Invalid epsilon value: 0.0"),
    ("SparseAdam", {"betas": (0.9, 1.0)}, ValueError, "Invalid beta parameter at index 1: 1.0"),
    ("LBFGS", {"lr": -1.0}, ValueError, "Invalid learning rate: -1.0"),
]


@pytest.mark.parametrize("name, kw, exc, msg", ERRORS, ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_bad_arguments(name, kw, exc, msg):
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(exc) as info:
        getattr(optim, name)([p], **kw)
    assert str(info.value) == msg


def test_lbfgs_rejects_two_groups():
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"^LBFGS doesn't support per-parameter options \(parameter groups\)$"):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])


def test_lbfgs_unknown_line_search():
    p = torch.zeros(2, requires_grad=True)
    opt = optim.LBFGS([p], line_search_fn="armijo")

    def closure():
        opt.zero_grad()
        loss = ((p - 1) ** 2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="^only 'strong_wolfe' is supported$"):
        opt.step(closure)


@pytest.mark.parametrize("name", ["RMSprop", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "Adadelta"])
def test_capturable_on_cpu_raises(name):
    p = torch.zeros(2, requires_grad=True)
    opt = getattr(optim, name)([p], capturable=True)
    p.grad = torch.ones(2)
    with pytest.raises(AssertionError, match="^If capturable=True, .* must be on supported devices: "):
        opt.step()


def test_defaults_as_pytorch():
    p = torch.zeros(2, requires_grad=True)
    assert optim.RMSprop([p]).defaults["lr"] == 1e-2 and optim.RMSprop([p]).defaults["alpha"] == 0.99
    assert optim.Adadelta([p]).defaults["lr"] == 1.0 and optim.Adadelta([p]).defaults["eps"] == 1e-6
    assert optim.Adagrad([p]).defaults["eps"] == 1e-10
    assert optim.Adamax([p]).defaults["lr"] == 2e-3 and optim.NAdam([p]).defaults["momentum_decay"] == 4e-3
    assert optim.ASGD([p]).defaults["t0"] == 1e6 and optim.Rprop([p]).defaults["step_sizes"] == (1e-6, 50)
    lb = optim.LBFGS([p])
    assert lb.defaults["max_eval"] == 25 and lb.defaults["history_size"] == 100
    assert optim.LBFGS([p], max_iter=7).defaults["max_eval"] == 8  # max_iter * 5 // 4
