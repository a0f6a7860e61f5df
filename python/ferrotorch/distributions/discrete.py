"""Discrete distributions: Bernoulli, Categorical, OneHotCategorical, Poisson."""
from numbers import Number

import ferrotorch as torch
import ferrotorch.nn.functional as F

from . import constraints
from .continuous import _Scalar
from .distribution import Distribution
from .utils import _first_accepted, broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Bernoulli", "Categorical", "OneHotCategorical", "Poisson"]


def _one_of(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def _given(d):
    """Whichever of probs/logits the distribution was built from (the other is derived)."""
    return d.probs if "probs" in d.__dict__ else d.logits


def _enumerate(values, batch_shape, expand):
    """Support values (n, *event) laid out as (n, 1.., *event), expanded over batch_shape."""
    n, event = values.shape[0], tuple(values.shape[1:])
    values = values.view((n,) + (1,) * len(batch_shape) + event)
    return values.expand((n,) + tuple(batch_shape) + event) if expand else values


class Bernoulli(Distribution):
    """Bernoulli(probs=None, logits=None): 1 with probability probs (= sigmoid(logits))."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _expand_params = ("probs", "logits")

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        given = probs if probs is not None else logits
        (param,) = broadcast_all(given)
        if probs is not None:
            self.probs = param
        else:
            self.logits = param
        batch_shape = torch.Size() if isinstance(given, Number) else param.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    param_shape = property(lambda self: _given(self).shape)

    mean = property(lambda self: self.probs)
    variance = property(lambda self: self.probs * (1 - self.probs))

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return torch.where(self.probs == 0.5, torch.full_like(mode, float("nan")), mode)

    def sample(self, sample_shape=torch.Size()):
        shape = self._extended_shape(sample_shape)
        with torch.no_grad():
            return torch.bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        self._check(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        param = _given(self)
        values = torch.arange(2, dtype=param.dtype, device=param.device)
        return _enumerate(values, self._batch_shape, expand)


class Categorical(Distribution):
    """Categorical(probs=None, logits=None) over {0, ..., K-1} along the last dim. probs
    are normalised to sum to 1, logits to logsumexp 0. Samples are int64."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True
    _expand_params = ("probs", "logits")

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        param = self.probs if probs is not None else self.logits
        self._num_events = param.shape[-1]
        batch_shape = param.shape[:-1] if param.dim() > 1 else torch.Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def _expand_extra(self, new, batch_shape):
        new._num_events = self._num_events

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    param_shape = property(lambda self: _given(self).shape)

    @property
    def mean(self):
        return torch.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype, device=self.probs.device)

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    variance = mean

    def sample(self, sample_shape=torch.Size()):
        sample_shape = torch.Size(sample_shape)
        probs_2d = self.probs.detach().reshape(-1, self._num_events)
        samples_2d = torch.multinomial(probs_2d, max(sample_shape.numel(), 1), True).T
        return samples_2d.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value):
        self._check(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = torch.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        # clamp so that 0 * -inf (a zero-probability class) contributes 0, not NaN
        logits = torch.clamp(self.logits, min=torch.finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = torch.arange(self._num_events, dtype=torch.long, device=self.probs.device)
        return _enumerate(values, self._batch_shape, expand)


class OneHotCategorical(Distribution):
    """OneHotCategorical(probs=None, logits=None): one-hot vectors of length K (event_shape
    (K,)), in the parameters' dtype."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def _expand_extra(self, new, batch_shape):
        new._categorical = self._categorical.expand(batch_shape)

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    param_shape = property(lambda self: self._categorical.param_shape)
    mean = property(lambda self: self._categorical.probs)
    variance = property(lambda self: self._categorical.probs * (1 - self._categorical.probs))

    @property
    def mode(self):
        probs = self._categorical.probs
        return F.one_hot(probs.argmax(dim=-1), probs.shape[-1]).to(probs.dtype)

    def sample(self, sample_shape=torch.Size()):
        probs = self._categorical.probs
        indices = self._categorical.sample(sample_shape)
        return F.one_hot(indices, self._categorical._num_events).to(probs.dtype)

    def log_prob(self, value):
        self._check(value)
        return self._categorical.log_prob(value.max(-1)[1])

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        values = torch.eye(self.event_shape[0], dtype=self.probs.dtype, device=self.probs.device)
        return _enumerate(values, self.batch_shape, expand)

    def __repr__(self):  # as PyTorch's: the parameters live on the inner Categorical
        return "OneHotCategorical()"


_PTRS_MIN_RATE = 10.0  # below: Knuth's product of uniforms; from here: Hormann's PTRS
_KNUTH_MAX_ROUNDS = 256  # rounds = draw + 1 < 256 for rate < 10 except with prob < 1e-150


def _poisson_sample(rate, shape):
    """Exact Poisson draws of `shape` as PyTorch's kernel makes them: Knuth's method (count
    uniforms until their product falls below exp(-rate)) for rate < 10, Hormann's
    transformed rejection (PTRS) above. Whole-tensor rounds, stopping once all are done."""
    with torch.no_grad():
        rate = rate.detach().expand(shape)
        opts = dict(dtype=rate.dtype, device=rate.device)
        small = rate < _PTRS_MIN_RATE
        out = torch.zeros_like(rate)
        if bool(small.any()):
            limit = torch.exp(-torch.where(small, rate, torch.zeros_like(rate)))
            prod = torch.ones_like(rate)
            for _ in range(_KNUTH_MAX_ROUNDS):
                prod = prod * torch.rand(shape, **opts)
                going = prod > limit
                if not bool(going.any()):
                    break
                out = out + going.to(rate.dtype)
            else:
                raise RuntimeError("Poisson sampler did not finish")
        if not bool(small.all()):
            lam = torch.where(small, torch.full_like(rate, _PTRS_MIN_RATE), rate)
            slam, loglam = lam.sqrt(), lam.log()
            b = 0.931 + 2.53 * slam
            a = -0.059 + 0.02483 * b
            invalpha = 1.1239 + 1.1328 / (b - 3.4)
            vr = 0.9277 - 3.6224 / (b - 2)

            def propose():
                u = torch.rand(shape, **opts) - 0.5
                v = torch.rand(shape, **opts)
                us = 0.5 - u.abs()
                k = torch.floor((2 * a / us + b) * u + lam + 0.43)
                quick = (us >= 0.07) & (v <= vr)
                reject = (k < 0) | ((us < 0.013) & (v > us))
                kk = k.clamp(min=0)
                full = (v.log() + invalpha.log() - (a / (us * us) + b).log()
                        <= -lam + kk * loglam - torch.lgamma(kk + 1))
                return k, quick | (~reject & full)

            out = torch.where(small, out, _first_accepted(propose, rate))
        return out


class Poisson(_Scalar):
    """Poisson(rate). Samples are exact (Knuth below rate 10, PTRS above, as PyTorch) and
    in rate's dtype, but not PyTorch's numbers."""
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        self._init_params(validate_args, rate=rate)

    mean = property(lambda self: self.rate)
    mode = property(lambda self: self.rate.floor())
    variance = property(lambda self: self.rate)

    def sample(self, sample_shape=torch.Size()):
        return _poisson_sample(self.rate, self._extended_shape(sample_shape))

    def log_prob(self, value):
        self._check(value)
        rate, value = broadcast_all(self.rate, value)
        return value.xlogy(rate) - rate - (value + 1).lgamma()
