"""torch.optim.LBFGS: convergence on Rosenbrock and on a least-squares problem (against
np.linalg.lstsq), with and without the strong-Wolfe line search, closure/evaluation counting,
maximize, and the state it keeps. (Trajectories and func_evals / n_iter against real PyTorch:
tests/optim/test_optimizers_more.py::test_matches_pytorch_trajectory.)"""
import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import optim


def rosenbrock(xy):
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_rosenbrock_reaches_minimum(line_search_fn):
    # The minimum is (1, 1) (f = 0); from the classic start (-1.5, 2).
    xy = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    lr = 1.0 if line_search_fn else 0.1  # a fixed step of 1 overshoots on Rosenbrock's valley
    opt = optim.LBFGS([xy], lr=lr, max_iter=100, line_search_fn=line_search_fn, tolerance_grad=1e-12,
                      tolerance_change=1e-15)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(xy)
        loss.backward()
        return loss

    for _ in range(50 if line_search_fn else 200):
        opt.step(closure)
    np.testing.assert_allclose(xy.detach().numpy(), [1.0, 1.0], atol=1e-5)
    assert rosenbrock(xy).item() < 1e-9


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
def test_least_squares_matches_lstsq(line_search_fn, dtype):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((20, 4)), rng.standard_normal(20)
    want = np.linalg.lstsq(a, b, rcond=None)[0]
    A, B = torch.tensor(a, dtype=dtype), torch.tensor(b, dtype=dtype)
    # two parameters: the solution split as w[:3], w[3:]
    w1 = torch.zeros(3, dtype=dtype, requires_grad=True)
    w2 = torch.zeros(1, dtype=dtype, requires_grad=True)
    tols = {} if dtype == torch.float32 else dict(tolerance_grad=1e-12, tolerance_change=1e-20)
    opt = optim.LBFGS([w1, w2], lr=1 if line_search_fn else 0.05, max_iter=50, line_search_fn=line_search_fn,
                      history_size=10, **tols)

    def closure():
        opt.zero_grad()
        loss = ((A @ torch.cat([w1, w2]) - B) ** 2).sum()
        loss.backward()
        return loss

    for _ in range(5 if line_search_fn else 40):
        opt.step(closure)
    got = np.concatenate([w1.detach().double().numpy(), w2.detach().double().numpy()])
    np.testing.assert_allclose(got, want, atol=1e-4 if dtype == torch.float32 else 1e-8)


def test_counts_closure_calls_and_keeps_state():
    # No line search: each iteration but the last of a step evaluates the closure once more, so
    # with max_iter=4 and no early stop a step calls it 4 times: the initial evaluation + 3.
    x = torch.tensor([3.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = optim.LBFGS([x], lr=0.1, max_iter=4, history_size=2)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (x ** 4).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 81.0 + 16.0  # the first evaluation's loss is returned
    st = opt.state[x]
    assert len(calls) == 4 and st["func_evals"] == 4 and st["n_iter"] == 4
    assert len(st["old_dirs"]) <= 2 and len(st["old_stps"]) == len(st["old_dirs"]) == len(st["ro"])
    assert st["d"].shape == (2,) and st["prev_flat_grad"].shape == (2,)
    opt.step(closure)
    assert st["func_evals"] == 8 and st["n_iter"] == 8 and len(st["old_dirs"]) <= 2


def test_stops_at_optimum_without_iterating():
    # A zero gradient satisfies tolerance_grad at once: one evaluation, no iteration.
    x = torch.tensor([1.0, 1.0], requires_grad=True)
    opt = optim.LBFGS([x])

    def closure():
        opt.zero_grad()
        loss = ((x - 1) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    assert opt.state[x]["func_evals"] == 1 and opt.state[x]["n_iter"] == 0
    assert x.detach().tolist() == [1.0, 1.0]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_maximize(line_search_fn):
    # maximize -(x - 2)^2: the maximum is x = 2
    x = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
    opt = optim.LBFGS([x], lr=0.5 if line_search_fn is None else 1, line_search_fn=line_search_fn,
                      maximize=True, tolerance_grad=1e-12, tolerance_change=1e-20)

    def closure():
        opt.zero_grad()
        loss = -((x - 2) ** 2).sum()
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), [2.0], atol=1e-6)


def test_param_without_grad_counts_as_zero():
    a = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([5.0], dtype=torch.float64, requires_grad=True)  # not used by the loss
    opt = optim.LBFGS([a, b], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((a - 1) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    assert abs(a.item() - 1.0) < 1e-8 and b.item() == 5.0
