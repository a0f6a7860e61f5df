"""Exceptions raised in Python callbacks run by the engine (custom Function backward, tensor
hooks) reach the caller of backward() with their own type and message, as in PyTorch; and
set_materialize_grads(False) hands None for an output that got no gradient."""
import pytest

import ferrotorch as torch


class _Boom(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        raise ValueError("boom from backward")


def test_custom_backward_exception_keeps_type_and_message():
    x = torch.ones(3, requires_grad=True)
    with pytest.raises(ValueError, match="^boom from backward$"):
        _Boom.apply(x).sum().backward()


def test_hook_exception_keeps_type():
    x = torch.ones(2, requires_grad=True)
    y = x * 3

    def hook(g):
        raise TypeError("bad hook")

    y.register_hook(hook)
    with pytest.raises(TypeError, match="bad hook"):
        y.sum().backward()


class _TwoOut(torch.autograd.Function):
    seen = []

    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, g1, g2):
        _TwoOut.seen.append((g1 is None, g2 is None))
        return g1 * 2 if g1 is not None else None


def test_unmaterialized_grads_are_none():
    _TwoOut.seen.clear()
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    a, _ = _TwoOut.apply(x)
    a.sum().backward()
    assert _TwoOut.seen == [(False, True)]
    assert x.grad.tolist() == [2.0, 2.0]
