"""Helpers shared by the distributions: parameter broadcasting, probs <-> logits."""
from numbers import Number

import ferrotorch as torch
import ferrotorch.nn.functional as F

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]


def broadcast_all(*values):
    """Numbers become tensors (dtype/device of the first tensor argument, else the default
    dtype); then all are broadcast together."""
    if not all(isinstance(v, (torch.Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    ref = next((v for v in values if isinstance(v, torch.Tensor)), None)
    opts = (dict(dtype=torch.get_default_dtype()) if ref is None
            else dict(dtype=ref.dtype, device=ref.device))
    values = [v if isinstance(v, torch.Tensor) else torch.tensor(v, **opts) for v in values]
    return tuple(torch.broadcast_tensors(*values))


def _first_accepted(propose, like, max_rounds=64):
    """Elementwise rejection sampling: `propose()` returns (candidates, accepted) shaped like
    `like`; each element keeps its first accepted candidate. Whole-tensor rounds stop once
    nothing is pending; the samplers using this accept most of each round, so running out
    of rounds does not happen in practice (and raises rather than returning bad draws)."""
    out = torch.zeros_like(like)
    pending = torch.ones_like(like, dtype=torch.bool)
    for _ in range(max_rounds):
        value, ok = propose()
        out = torch.where(pending & ok, value, out)
        pending = pending & ~ok
        if not bool(pending.any()):
            return out
    raise RuntimeError("rejection sampler did not finish")


def _sum_rightmost(value, dim):
    return value.reshape(tuple(value.shape[:value.dim() - dim]) + (-1,)).sum(-1) if dim else value


def clamp_probs(probs):
    eps = torch.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    return torch.sigmoid(logits) if is_binary else F.softmax(logits, dim=-1)


def probs_to_logits(probs, is_binary=False):
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return torch.log(ps_clamped) - torch.log1p(-ps_clamped)
    return torch.log(ps_clamped)


class lazy_property:
    """Computed on first access and cached on the instance (so probs/logits are derived
    from whichever one the user gave)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value
