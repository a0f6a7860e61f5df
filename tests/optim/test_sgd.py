"""torch.optim.SGD against a NumPy float64 re-implementation of PyTorch's documented algorithm.

Covers every option combination (momentum, dampening, nesterov, weight decay, maximize) over
several steps on float32 and float64 parameters of several shapes (a 0-d one, a non-contiguous
parameter and a non-contiguous gradient), per-group hyper-parameters, parameters without gradient,
state_dict round trips, a tensor lr, the constructor's validation errors and a least-squares fit.
"""
import copy
import itertools

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import optim
from _helpers import assert_close, to_np

DTYPES = [torch.float32, torch.float64]
# The float32 run rounds every operation of every step; the reference never does.
TOLS = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-12, atol=1e-12)}


# ---- reference -------------------------------------------------------------------------------
class RefSGD:
    """NumPy float64 SGD (PyTorch's formulation: the first momentum buffer is the raw update)."""

    def __init__(self, values, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 maximize=False):
        self.p = [np.array(v, dtype=np.float64) for v in values]
        self.buf = [None] * len(values)
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov, self.maximize = weight_decay, nesterov, maximize

    def step(self, grads):
        for i, g in enumerate(grads):
            if g is None:
                continue
            d = -g if self.maximize else g.copy()
            if self.weight_decay:
                d = d + self.weight_decay * self.p[i]
            if self.momentum:
                if self.buf[i] is None:
                    self.buf[i] = d.copy()
                else:
                    self.buf[i] = self.momentum * self.buf[i] + (1 - self.dampening) * d
                d = d + self.momentum * self.buf[i] if self.nesterov else self.buf[i]
            self.p[i] = self.p[i] - self.lr * d


# ---- data ------------------------------------------------------------------------------------
def make_params(dtype, seed=0):
    """Leaf tensors: 0-d, 1-d, 2-d (gets a non-contiguous grad), 3-d and a transposed (non-contiguous) leaf."""
    rng = np.random.default_rng(seed)
    params = [torch.tensor(rng.uniform(-1, 1, s), dtype=dtype).requires_grad_()
              for s in [(), (5,), (3, 4), (2, 3, 2)]]
    params.append(torch.tensor(rng.uniform(-1, 1, (4, 3)), dtype=dtype).t().requires_grad_())
    return params


def random_grad(p, rng):
    """A gradient for p; for the contiguous (3, 4) parameter it is a transposed, non-contiguous view."""
    shape = tuple(p.shape)
    if shape == (3, 4) and p.is_contiguous():
        return torch.tensor(rng.uniform(-1, 1, (4, 3)), dtype=p.dtype).t()
    return torch.tensor(rng.uniform(-1, 1, shape), dtype=p.dtype)


def set_grads(params, rng, skip=()):
    """Assign fresh gradients (None for indices in `skip`); returns them as float64 arrays."""
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


# ---- every option combination -----------------------------------------------------------------
def _valid_options():
    out = []
    for momentum, dampening, nesterov, wd, maximize in itertools.product(
            [0.0, 0.9], [0.0, 0.3], [False, True], [0.0, 0.1], [False, True]):
        if nesterov and (momentum == 0 or dampening != 0):
            continue
        out.append(dict(momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=wd,
                        maximize=maximize))
    return out


OPTIONS = _valid_options()


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_sgd_matches_reference(opts, dtype):
    params = make_params(dtype)
    ptrs = [p.data_ptr() for p in params]
    ref = RefSGD([to_np(p) for p in params], lr=0.1, **opts)
    opt = optim.SGD(params, lr=0.1, **opts)
    rng = np.random.default_rng(1)
    for _ in range(6):
        grads = set_grads(params, rng)
        opt.step()
        ref.step(grads)
        check_params(params, ref.p, dtype)
        # The gradients are inputs only: maximize / weight decay must not rewrite them.
        for p, g in zip(params, grads):
            assert_close(p.grad, g, **TOLS[dtype])
    # Updated in place: same storage, still leaves that require grad.
    assert [p.data_ptr() for p in params] == ptrs
    assert all(p.is_leaf and p.requires_grad and p.grad_fn is None for p in params)
    if opts["momentum"]:
        for p, b in zip(params, ref.buf):
            buf = opt.state[p]["momentum_buffer"]
            assert buf.dtype == dtype and tuple(buf.shape) == tuple(p.shape)
            assert_close(buf, b, **TOLS[dtype])
    else:
        # Plain SGD keeps no state at all.
        assert len(opt.state) == 0
        assert opt.state_dict()["state"] == {}


def test_first_momentum_buffer_is_a_copy_of_the_update():
    p = torch.tensor([1.0, 2.0], requires_grad=True)
    g = torch.tensor([0.5, -1.0])
    p.grad = g
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.2)
    opt.step()
    buf = opt.state[p]["momentum_buffer"]
    # First step: buf = g + wd * p (dampening does not apply yet), and it owns its memory.
    assert_close(buf, np.array([0.5 + 0.2 * 1.0, -1.0 + 0.2 * 2.0]))
    assert buf.data_ptr() != g.data_ptr()
    assert_close(g, np.array([0.5, -1.0]))
    assert_close(p, np.array([1.0 - 0.1 * 0.7, 2.0 - 0.1 * -0.6]))


def test_plain_sgd_hand_computed():
    p = torch.tensor([[1.0, -2.0], [0.5, 0.0]], dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor([[0.1, 0.2], [-0.3, 4.0]], dtype=torch.float64)
    optim.SGD([p], lr=0.5).step()
    assert_close(p, np.array([[0.95, -2.1], [0.65, -2.0]]))


# ---- groups, skipped parameters, lr as a tensor ----------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_param_groups_with_their_own_hyper_parameters(dtype):
    params = make_params(dtype)
    g0, g1 = params[:2], params[2:]
    opt = optim.SGD([{"params": g0, "lr": 0.2, "nesterov": True},
                     {"params": g1, "momentum": 0.5, "weight_decay": 0.1}],
                    lr=0.05, momentum=0.9)
    assert opt.param_groups[0]["momentum"] == 0.9 and opt.param_groups[0]["lr"] == 0.2
    assert opt.param_groups[1]["lr"] == 0.05 and opt.param_groups[1]["nesterov"] is False
    ref0 = RefSGD([to_np(p) for p in g0], lr=0.2, momentum=0.9, nesterov=True)
    ref1 = RefSGD([to_np(p) for p in g1], lr=0.05, momentum=0.5, weight_decay=0.1)
    rng = np.random.default_rng(3)
    for _ in range(5):
        grads = set_grads(params, rng)
        opt.step()
        ref0.step(grads[:2])
        ref1.step(grads[2:])
    check_params(g0, ref0.p, dtype)
    check_params(g1, ref1.p, dtype)


def test_group_lr_changed_between_steps_is_used():
    p = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = torch.tensor([1.0], dtype=torch.float64)
    opt.step()
    opt.param_groups[0]["lr"] = 0.5  # what an LR scheduler does
    opt.step()
    assert_close(p, np.array([1.0 - 0.1 - 0.5]))


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_params_without_grad_are_skipped(momentum):
    dtype = torch.float64
    params = make_params(dtype)
    before = [to_np(p) for p in params]
    ref = RefSGD(before, lr=0.1, momentum=momentum, weight_decay=0.1)
    opt = optim.SGD(params, lr=0.1, momentum=momentum, weight_decay=0.1)
    rng = np.random.default_rng(4)
    for step in range(5):
        # Parameter 1 never has a gradient; parameter 3 only from the third step on.
        grads = set_grads(params, rng, skip={1} if step >= 2 else {1, 3})
        opt.step()
        ref.step(grads)
    check_params(params, ref.p, dtype)
    np.testing.assert_array_equal(to_np(params[1]), before[1])  # untouched, despite weight decay
    assert params[1] not in opt.state
    if momentum:
        assert_close(opt.state[params[3]]["momentum_buffer"], ref.buf[3])


def test_step_with_no_gradients_at_all_changes_nothing():
    params = make_params(torch.float32)
    before = [to_np(p) for p in params]
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    opt.step()
    for p, b in zip(params, before):
        np.testing.assert_array_equal(to_np(p), b)
    assert len(opt.state) == 0


def test_tensor_lr():
    p = torch.tensor([1.0, -1.0], dtype=torch.float64, requires_grad=True)
    opt = optim.SGD([p], lr=torch.tensor(0.25), momentum=0.5)
    ref = RefSGD([to_np(p)], lr=0.25, momentum=0.5)
    rng = np.random.default_rng(5)
    for _ in range(5):
        grads = set_grads([p], rng)
        opt.step()
        ref.step(grads)
    assert_close(p, ref.p[0])


def test_step_does_not_record_autograd_history():
    p = torch.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    assert p.is_leaf and p.grad_fn is None
    assert opt.state[p]["momentum_buffer"].requires_grad is False
    # The updated parameter can be used in a new graph and differentiated as usual.
    p.grad = None
    (3 * p).sum().backward()
    assert_close(p.grad, np.array([3.0, 3.0]))


# ---- state_dict --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_state_dict_round_trip_continues_identically(dtype):
    opts = dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.05)
    params = make_params(dtype)
    ref = RefSGD([to_np(p) for p in params], **opts)
    opt = optim.SGD(params, **opts)
    rng = np.random.default_rng(6)
    for _ in range(3):
        grads = set_grads(params, rng)
        opt.step()
        ref.step(grads)

    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sd["param_groups"][0]["params"] == list(range(len(params)))
    assert sorted(sd["state"]) == list(range(len(params)))
    assert set(sd["state"][0]) == {"momentum_buffer"}

    # A fresh optimizer over copies of the parameters, with other hyper-parameters: the loaded
    # ones win.
    clones = [p.detach().clone().requires_grad_() for p in params]
    opt2 = optim.SGD(clones, lr=0.5)
    opt2.load_state_dict(copy.deepcopy(sd))
    assert opt2.param_groups[0]["lr"] == 0.1 and opt2.param_groups[0]["momentum"] == 0.9
    assert opt2.param_groups[0]["params"][0] is clones[0]

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


def test_load_state_dict_casts_buffers_to_param_dtype():
    p32 = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True)
    p32.grad = torch.tensor([0.5, 0.25], dtype=torch.float32)
    opt = optim.SGD([p32], lr=0.1, momentum=0.9)
    opt.step()
    p64 = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    opt64 = optim.SGD([p64], lr=0.1, momentum=0.9)
    opt64.load_state_dict(opt.state_dict())
    buf = opt64.state[p64]["momentum_buffer"]
    assert buf.dtype == torch.float64
    assert_close(buf, np.array([0.5, 0.25]))
    p64.grad = torch.tensor([1.0, 1.0], dtype=torch.float64)
    opt64.step()
    # buf = 0.9 * [0.5, 0.25] + [1, 1]
    assert_close(p64, np.array([1.0 - 0.1 * 1.45, 2.0 - 0.1 * 1.225]))


# ---- validation ------------------------------------------------------------------------------
def _p():
    return [torch.zeros(2, requires_grad=True)]


@pytest.mark.parametrize("kwargs, exc, msg", [
    (dict(lr=-1), ValueError, "Invalid learning rate: -1"),
    (dict(lr=-0.5), ValueError, "Invalid learning rate: -0.5"),
    (dict(momentum=-0.1), ValueError, "Invalid momentum value: -0.1"),
    (dict(weight_decay=-0.01), ValueError, "Invalid weight_decay value: -0.01"),
    (dict(nesterov=True), ValueError, "Nesterov momentum requires a momentum and zero dampening"),
    (dict(nesterov=True, momentum=0.9, dampening=0.1), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    (dict(fused=True, foreach=True), RuntimeError, "`fused` and `foreach` cannot be `True` together."),
    (dict(fused=True, differentiable=True), RuntimeError, "`fused` does not support `differentiable`"),
])
def test_constructor_validation(kwargs, exc, msg):
    with pytest.raises(exc) as info:
        optim.SGD(_p(), **kwargs)
    assert str(info.value) == msg


def test_tensor_lr_must_have_one_element():
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optim.SGD(_p(), lr=torch.tensor([0.1, 0.2]))


def test_defaults_and_repr():
    opt = optim.SGD(_p())
    assert opt.defaults == {"lr": 1e-3, "momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": False,
                            "maximize": False, "foreach": None, "differentiable": False, "fused": None}
    assert repr(opt) == ("SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n"
                         "    foreach: None\n    fused: None\n    lr: 0.001\n    maximize: False\n"
                         "    momentum: 0\n    nesterov: False\n    weight_decay: 0\n)")


# ---- convergence ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9, nesterov=True)],
                         ids=["plain", "momentum", "nesterov"])
def test_least_squares_converges(kwargs):
    rng = np.random.default_rng(7)
    A = rng.uniform(-1, 1, (40, 4))
    b = A @ np.array([1.5, -2.0, 0.5, 3.0]) + 0.01 * rng.standard_normal(40)
    solution = np.linalg.lstsq(A, b, rcond=None)[0]
    At, bt = torch.tensor(A), torch.tensor(b)
    x = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    opt = optim.SGD([x], **kwargs)
    for _ in range(400):
        opt.zero_grad()
        loss = ((At @ x - bt) ** 2).mean()
        loss.backward()
        opt.step()
    assert_close(x, solution, rtol=0, atol=1e-6)


def test_momentum_buffer_of_the_wrong_shape_raises():
    # A state dict saved for parameters of other shapes loads (only group sizes are checked) but
    # the step must refuse it rather than read past the buffer's end.
    src = torch.zeros(2, requires_grad=True)
    src.grad = torch.ones(2)
    opt = optim.SGD([src], lr=0.1, momentum=0.9)
    opt.step()
    p = torch.zeros(3, requires_grad=True)
    opt2 = optim.SGD([p], lr=0.1, momentum=0.9)
    opt2.load_state_dict(opt.state_dict())
    p.grad = torch.ones(3)
    with pytest.raises(RuntimeError):
        opt2.step()
