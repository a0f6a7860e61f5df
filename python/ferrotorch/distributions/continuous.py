"""Univariate continuous distributions: Normal, Uniform, Exponential, Laplace, LogNormal,
Gamma, Beta."""
import math
from numbers import Number

import ferrotorch as torch

from . import constraints
from .distribution import Distribution
from .utils import _first_accepted, broadcast_all

__all__ = ["Beta", "Exponential", "Gamma", "Laplace", "LogNormal", "Normal", "Uniform"]


class _Scalar(Distribution):
    """Shared constructor for distributions whose parameters broadcast elementwise: the
    batch shape is the broadcast shape (empty when every parameter is a Python number)."""

    def _init_params(self, validate_args, **params):
        tensors = broadcast_all(*params.values())
        for name, t in zip(params, tensors):
            setattr(self, name, t)
        scalar = all(isinstance(v, Number) for v in params.values())
        Distribution.__init__(self, torch.Size() if scalar else tensors[0].shape,
                              validate_args=validate_args)

    @property
    def _expand_params(self):
        return tuple(self.arg_constraints)

    def _ref(self):
        return getattr(self, next(iter(self.arg_constraints)))

    def _draw(self, fn, sample_shape):
        """fn(shape, dtype, device) -> standard draws of the extended shape."""
        ref = self._ref()
        return fn(self._extended_shape(sample_shape), dtype=ref.dtype, device=ref.device)


class Normal(_Scalar):
    """Normal(loc, scale)."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self._init_params(validate_args, loc=loc, scale=scale)

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)
    stddev = property(lambda self: self.scale)
    variance = property(lambda self: self.stddev.pow(2))

    def rsample(self, sample_shape=torch.Size()):
        return self.loc + self._draw(torch.randn, sample_shape) * self.scale

    def log_prob(self, value):
        self._check(value)
        return (-((value - self.loc) ** 2) / (2 * self.scale ** 2) - self.scale.log()
                - math.log(math.sqrt(2 * math.pi)))

    def cdf(self, value):
        self._check(value)
        return 0.5 * (1 + torch.erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * torch.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + torch.log(self.scale)


class Uniform(_Scalar):
    """Uniform(low, high) on [low, high)."""
    has_rsample = True

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    def __init__(self, low, high, validate_args=None):
        self._init_params(validate_args, low=low, high=high)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    mean = property(lambda self: (self.high + self.low) / 2)
    mode = property(lambda self: math.nan * self.high)
    stddev = property(lambda self: (self.high - self.low) / 12 ** 0.5)
    variance = property(lambda self: (self.high - self.low).pow(2) / 12)

    def rsample(self, sample_shape=torch.Size()):
        return self.low + self._draw(torch.rand, sample_shape) * (self.high - self.low)

    def log_prob(self, value):
        self._check(value)
        lb = self.low.le(value).type_as(self.low)
        ub = self.high.gt(value).type_as(self.low)
        return torch.log(lb.mul(ub)) - torch.log(self.high - self.low)

    def cdf(self, value):
        self._check(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return torch.log(self.high - self.low)


def _standard_exponential(shape, dtype, device):
    return torch.empty(shape, dtype=dtype, device=device).exponential_()


class Exponential(_Scalar):
    """Exponential(rate)."""
    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        self._init_params(validate_args, rate=rate)

    mean = property(lambda self: self.rate.reciprocal())
    mode = property(lambda self: torch.zeros_like(self.rate))
    stddev = property(lambda self: self.rate.reciprocal())
    variance = property(lambda self: self.rate.pow(-2))

    def rsample(self, sample_shape=torch.Size()):
        return self._draw(_standard_exponential, sample_shape) / self.rate

    def log_prob(self, value):
        self._check(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        self._check(value)
        return 1 - torch.exp(-self.rate * value)

    def icdf(self, value):
        return -torch.log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - torch.log(self.rate)


class Laplace(_Scalar):
    """Laplace(loc, scale)."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self._init_params(validate_args, loc=loc, scale=scale)

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)
    stddev = property(lambda self: (2 ** 0.5) * self.scale)
    variance = property(lambda self: 2 * self.scale.pow(2))

    def rsample(self, sample_shape=torch.Size()):
        eps = torch.finfo(self.loc.dtype).eps
        u = self._draw(torch.rand, sample_shape) * (2 - eps) + (eps - 1)  # U(eps - 1, 1)
        return self.loc - self.scale * u.sign() * torch.log1p(-u.abs())

    def log_prob(self, value):
        self._check(value)
        return -torch.log(2 * self.scale) - torch.abs(value - self.loc) / self.scale

    def cdf(self, value):
        self._check(value)
        d = value - self.loc
        return 0.5 - 0.5 * d.sign() * torch.expm1(-d.abs() / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * torch.log1p(-2 * term.abs())

    def entropy(self):
        return 1 + torch.log(2 * self.scale)


def _bare_repr(self):
    # PyTorch keeps these parameters off the instance (in a base distribution), so its
    # repr lists none; match it
    return type(self).__name__ + "()"


class LogNormal(_Scalar):
    """LogNormal(loc, scale): exp of Normal(loc, scale). Implemented directly rather than as
    a TransformedDistribution (which ferrotorch does not have yet); values match PyTorch."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self._init_params(validate_args, loc=loc, scale=scale)

    __repr__ = _bare_repr

    @property
    def base_dist(self):
        return Normal(self.loc, self.scale, validate_args=False)

    mean = property(lambda self: (self.loc + self.scale.pow(2) / 2).exp())
    mode = property(lambda self: (self.loc - self.scale.square()).exp())
    variance = property(lambda self: self.scale.pow(2).expm1() * (2 * self.loc + self.scale.pow(2)).exp())

    def rsample(self, sample_shape=torch.Size()):
        return self.base_dist.rsample(sample_shape).exp()

    def log_prob(self, value):
        self._check(value)
        y = value.log()
        return self.base_dist.log_prob(y) - y

    def cdf(self, value):
        self._check(value)
        return self.base_dist.cdf(value.log())

    def icdf(self, value):
        return self.base_dist.icdf(value).exp()

    def entropy(self):
        return self.base_dist.entropy() + self.loc


def _standard_gamma(alpha, shape):
    """Exact Gamma(alpha, 1) draws of `shape` (alpha broadcast to it), by Marsaglia and
    Tsang's squeeze/rejection method (>= 95% accepted per round); alpha < 1 is boosted to
    alpha + 1 and scaled by U**(1/alpha). No gradient: see _standard_gamma_rsample."""
    with torch.no_grad():
        alpha = alpha.detach().expand(shape)
        boost = alpha < 1
        d = torch.where(boost, alpha + 1, alpha) - 1.0 / 3
        c = (9 * d).rsqrt()
        opts = dict(dtype=alpha.dtype, device=alpha.device)

        def propose():
            z, u = torch.randn(shape, **opts), torch.rand(shape, **opts)
            v = (1 + c * z) ** 3
            ok = (v > 0) & (u.log() < 0.5 * z * z + d - d * v + d * torch.where(v > 0, v, 1.0).log())
            return d * v, ok

        out = _first_accepted(propose, alpha)
        u = torch.rand(shape, **opts)
        out = torch.where(boost, out * u.pow(1 / alpha), out)
        return out.clamp(min=torch.finfo(out.dtype).tiny)


def _gamma_series(a, x):
    """Terms of P(a, x) = sum_n x^(a+n) e^-x / Gamma(a+n+1) (the regularised lower
    incomplete gamma), each divided by the pdf x^(a-1) e^-x / Gamma(a), over a last dim
    long enough that the rest is negligible, with digamma(a+n+1) for each term. Running
    sums/products: term_n / pdf = prod_{j<=n} x / (a+j), digamma(a+n+1) = digamma(a) +
    sum_{j<=n} 1 / (a+j), so lgamma/digamma are evaluated once per element."""
    k = int(math.ceil(float((x - a).clamp(min=0).max()) + 10 * math.sqrt(float(x.max())) + 40))
    n = torch.arange(k, dtype=a.dtype, device=a.device)
    a1, lx = a.unsqueeze(-1), x.log().unsqueeze(-1)
    aj = a1 + n
    ratio = (lx - aj.log()).cumsum(-1).exp()
    psi = torch.digamma(a1) + aj.reciprocal().cumsum(-1)
    return ratio, psi, lx


def _gamma_dx_dalpha(alpha, x):
    """d x / d alpha of a Gamma(alpha, 1) draw x at fixed CDF value (implicit
    reparameterisation): -(dP/dalpha)(alpha, x) / pdf(x), P's series differentiated
    termwise, in float64. Deviation: PyTorch uses fitted approximations; this is the exact
    series, accurate except in the far upper tail (P > 1 - 1e-8, cancellation)."""
    ratio, psi, lx = _gamma_series(alpha.double(), x.double())
    return (-(ratio * (lx - psi)).sum(-1)).to(alpha.dtype)


class _GammaRsample(torch.autograd.Function):
    @staticmethod
    def forward(ctx, alpha, x):
        ctx.save_for_backward(alpha, x)
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        return grad * _gamma_dx_dalpha(alpha.detach(), x), None


def _standard_gamma_rsample(alpha, shape):
    """Gamma(alpha, 1) draws whose gradient to alpha is the implicit reparameterisation one."""
    x = _standard_gamma(alpha, shape)
    if not alpha.requires_grad:
        return x
    return _GammaRsample.apply(alpha.expand(shape), x)


class Gamma(_Scalar):
    """Gamma(concentration, rate): exact draws (Marsaglia-Tsang rejection), reparameterised
    through the implicit gradient d x / d concentration (see _gamma_dx_dalpha)."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self._init_params(validate_args, concentration=concentration, rate=rate)

    mean = property(lambda self: self.concentration / self.rate)
    mode = property(lambda self: ((self.concentration - 1) / self.rate).clamp(min=0))
    variance = property(lambda self: self.concentration / self.rate.pow(2))

    def rsample(self, sample_shape=torch.Size()):
        shape = self._extended_shape(sample_shape)
        x = _standard_gamma_rsample(self.concentration, shape) / self.rate.expand(shape)
        return x.clamp(min=torch.finfo(x.dtype).tiny)  # as PyTorch: never exactly 0

    def cdf(self, value):
        """P(concentration, rate * value) by its power series (PyTorch: special.gammainc)."""
        self._check(value)
        c, x = torch.broadcast_tensors(self.concentration, self.rate * value)
        x = x.clamp(min=0)
        safe = torch.where(x > 0, x, torch.ones_like(x))
        ratio, _, lx = _gamma_series(c, safe)
        pdf = ((c - 1) * safe.log() - safe - torch.lgamma(c)).exp()
        return torch.where(x > 0, (pdf * ratio.sum(-1)).clamp(max=1), torch.zeros_like(x))

    def log_prob(self, value):
        self._check(value)
        value = torch.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        c, r = self.concentration, self.rate
        return torch.xlogy(c, r) + torch.xlogy(c - 1, value) - r * value - torch.lgamma(c)

    def entropy(self):
        c = self.concentration
        return c - torch.log(self.rate) + torch.lgamma(c) + (1.0 - c) * torch.digamma(c)


class Beta(_Scalar):
    """Beta(concentration1, concentration0): X / (X + Y) of two reparameterised Gamma draws
    (PyTorch differentiates its Dirichlet sampler with a dedicated formula; both are exact
    reparameterisation gradients, so they agree in expectation, not per draw)."""
    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self._init_params(validate_args, concentration1=concentration1, concentration0=concentration0)

    __repr__ = _bare_repr

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        a, b = self.concentration1, self.concentration0
        am, bm = (a - 1).clamp(min=0), (b - 1).clamp(min=0)
        # both < 1 (bimodal): 1, as PyTorch's Dirichlet-based mode gives
        return torch.where((a < 1) & (b < 1), torch.ones_like(a), am / (am + bm))

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=torch.Size()):
        shape = self._extended_shape(sample_shape)
        x = _standard_gamma_rsample(self.concentration1, shape)
        y = _standard_gamma_rsample(self.concentration0, shape)
        tiny = torch.finfo(x.dtype).tiny
        eps = torch.finfo(x.dtype).eps
        return (x / (x + y)).clamp(min=tiny, max=1 - eps)

    def log_prob(self, value):
        self._check(value)
        a, b = self.concentration1, self.concentration0
        return (torch.xlogy(a - 1, value) + torch.xlogy(b - 1, 1 - value)
                + torch.lgamma(a + b) - torch.lgamma(a) - torch.lgamma(b))

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        lbeta = torch.lgamma(a) + torch.lgamma(b) - torch.lgamma(a + b)
        return lbeta - (a - 1) * torch.digamma(a) - (b - 1) * torch.digamma(b) + (a + b - 2) * torch.digamma(a + b)
