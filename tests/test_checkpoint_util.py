"""torch.utils.checkpoint: gradients equal those of the plain run (both use_reentrant variants,
checkpoint_sequential), dropout inside draws the same mask in the recomputation (RNG state
preserved) without shifting the stream afterwards, and PyTorch's warnings and errors."""
import warnings

import pytest

import ferrotorch as torch
from ferrotorch import nn
from ferrotorch.utils.checkpoint import checkpoint, checkpoint_sequential


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(0.5), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))


def grads(m, fn, x_requires_grad=True):
    """(output, parameter grads, input grad) of fn(m, x).sum() with a fixed RNG seed."""
    m.zero_grad()
    torch.manual_seed(0)
    x = torch.randn(5, 4).requires_grad_(x_requires_grad)
    torch.manual_seed(7)
    y = fn(m, x)
    y.sum().backward()
    return y.detach(), [p.grad.clone() for p in m.parameters()], x.grad


def same(a, b):
    ya, ga, xa = a
    yb, gb, xb = b
    assert ya.tolist() == yb.tolist()
    for p, q in zip(ga, gb):
        assert p.tolist() == q.tolist()
    assert (xa is None and xb is None) or xa.tolist() == xb.tolist()


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_grads_equal_plain(use_reentrant):
    m = net()
    plain = grads(m, lambda m, x: m(x))
    same(plain, grads(m, lambda m, x: checkpoint(m, x, use_reentrant=use_reentrant)))
    # only part of the model checkpointed, with a dropout inside it
    same(plain, grads(m, lambda m, x: m[3:](checkpoint(m[:3], x, use_reentrant=use_reentrant))))


@pytest.mark.parametrize("use_reentrant", [True, False])
@pytest.mark.parametrize("segments", [1, 2, 3, 6])
def test_checkpoint_sequential(use_reentrant, segments):
    m = net()
    plain = grads(m, lambda m, x: m(x))
    same(plain, grads(m, lambda m, x: checkpoint_sequential(m, segments, x, use_reentrant=use_reentrant)))
    same(plain, grads(m, lambda m, x: checkpoint_sequential(list(m), segments, x, use_reentrant=use_reentrant)))


def test_recomputation_does_not_shift_the_rng_stream():
    m = net()
    torch.manual_seed(3)
    x = torch.randn(2, 4, requires_grad=True)
    y = checkpoint(m, x, use_reentrant=False)
    after_forward = torch.get_rng_state()
    y.sum().backward()
    assert torch.get_rng_state().tolist() == after_forward.tolist()


def test_without_preserved_rng_state_dropout_differs():
    m = net()
    plain = grads(m, lambda m, x: m(x))
    other = grads(m, lambda m, x: checkpoint(m, x, use_reentrant=True, preserve_rng_state=False))
    # the recomputation draws a fresh dropout mask: the gradients are not those of the forward's mask
    assert any(p.tolist() != q.tolist() for p, q in zip(plain[1], other[1]))


def test_non_reentrant_reaches_parameters_without_input_grad():
    m = net()
    plain = grads(m, lambda m, x: m(x), x_requires_grad=False)
    same(plain, grads(m, lambda m, x: checkpoint(m, x, use_reentrant=False), x_requires_grad=False))


def test_kwargs_and_multiple_outputs():
    w = torch.tensor([2.0, 3.0], requires_grad=True)

    def f(a, b, *, scale):
        return a * w * scale, (b * b).sum()

    a = torch.tensor([1.0, -1.0], requires_grad=True)
    b = torch.tensor([0.5, 4.0], requires_grad=True)
    u, v = checkpoint(f, a, b, scale=3.0, use_reentrant=False)
    (u.sum() + v).backward()
    # d/da sum(3 a w) = 3 w; d/dw = 3 a; d/db sum(b^2) = 2 b
    assert a.grad.tolist() == [6.0, 9.0] and w.grad.tolist() == [3.0, -3.0] and b.grad.tolist() == [1.0, 8.0]
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(f, a, b, scale=3.0, use_reentrant=True)


def test_warnings():
    m = net()
    x = torch.randn(1, 4, requires_grad=True)
    with pytest.warns(UserWarning, match="torch.utils.checkpoint: the use_reentrant parameter should be passed"):
        checkpoint(m, x)
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant parameter should be passed"):
        checkpoint_sequential(m, 2, x)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. Gradients will be None"):
        checkpoint(m, torch.randn(1, 4), use_reentrant=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint(m, torch.randn(1, 4), use_reentrant=False)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential(m, 2, x, use_reentrant=True, foo=1)


def test_under_no_grad():
    m = net().eval()
    x = torch.randn(3, 4)
    with torch.no_grad():
        y = checkpoint(m, x, use_reentrant=False)
        z = checkpoint(m, x, use_reentrant=True)
    assert y.grad_fn is None and z.grad_fn is None and y.tolist() == m(x).tolist()
