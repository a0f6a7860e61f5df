"""torch.special: the scipy.special-style names, as aliases of the package's functions or composed
from tensor ops (so they run on every device and differentiate by composition).

Not provided (they need series this package has no kernel for): the Bessel, Airy and orthogonal
polynomial families, erfcx, i0e/i1/i1e, gammainc/gammaincc, polygamma and zeta.
"""
import math

import ferrotorch as _torch
from ._utils import write_out as _write_out

__all__ = ["digamma", "psi", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0",
           "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "round",
           "sinc", "softmax", "xlog1py", "xlogy"]


def _out(f, name):
    """`f` with PyTorch's keyword-only `out=`."""
    def g(*args, out=None, **kwargs):
        return _write_out(f(*args, **kwargs), out)
    g.__name__ = g.__qualname__ = name
    g.__doc__ = f"torch.special.{name}: " + (f.__doc__ or f"same as torch.{getattr(f, '__name__', name)}.")
    return g


def _float(x):
    """Integer and bool input computes in the default float dtype, as PyTorch's float ops."""
    x = x if isinstance(x, _torch.Tensor) else _torch.tensor(x)
    return x if x.is_floating_point() else x.to(_torch.get_default_dtype())


def _entr(input):
    """-x ln x for x > 0, 0 at 0, -inf for x < 0 (NaN stays NaN)."""
    x = _float(input)
    safe = _torch.where(x > 0, x, _torch.ones_like(x))
    r = _torch.where(x > 0, -x * safe.log(), _torch.zeros_like(x))
    r = _torch.where(x < 0, _torch.full_like(x, -math.inf), r)
    return _torch.where(x.isnan(), x, r)


def _ndtr(input):
    """The standard normal CDF, 0.5 * erfc(-x / sqrt(2)) (erfc keeps the lower tail accurate)."""
    return _torch.erfc(_float(input) * (-1.0 / math.sqrt(2.0))) * 0.5


def _ndtri(input):
    """The standard normal quantile: sqrt(2) * erfinv(2q - 1) on the lower half q = min(p, 1 - p)
    (1 - p is exact there), then two Newton steps on ndtr(x) = q. Without them 2q - 1 rounds away
    the low digits of a small q: erfinv alone was off by 4e-7 at p = 1e-12."""
    p = _float(input)
    upper = p > 0.5
    q = _torch.where(upper, 1.0 - p, p)
    x = _torch.erfinv(q * 2.0 - 1.0) * math.sqrt(2.0)
    finite = q > 0
    xs = _torch.where(finite, x, _torch.zeros_like(x))
    for _ in range(2):
        pdf = (xs * xs * -0.5).exp() * (1.0 / math.sqrt(2.0 * math.pi))
        xs = xs - (_ndtr(xs) - q) / pdf
    x = _torch.where(finite, xs, x)
    return _torch.where(upper, -x, x)


# Asymptotic series of log(ndtr(x)) for x -> -inf: -x^2/2 - log(-x) - log(2 pi)/2 + log(S),
# S = 1 - 1/x^2 + 3/x^4 - 15/x^6 + ... Six terms leave a relative error below 1e-11 at x <= -20
# (float64, where erfc above -20 is far from underflow) and below 2e-7 at x <= -8 (float32 and
# the half types, whose ndtr underflows near -13).
def _log_ndtr(input):
    """log of the standard normal CDF, accurate in both tails."""
    x = _float(input)
    split = -20.0 if x.dtype == _torch.float64 else -8.0
    xs = _torch.where(x > split, x, _torch.zeros_like(x))
    # Above 0, log1p(-ndtr(-x)) keeps the tiny distance to 1 that log(ndtr(x)) rounds away.
    direct = _torch.where(xs > 0, (-_ndtr(-xs)).log1p(), _ndtr(xs).log())
    t = _torch.where(x > split, _torch.full_like(x, split), x)
    z = 1.0 / (t * t)
    s = 1.0 + z * (-1.0 + z * (3.0 + z * (-15.0 + z * (105.0 + z * -945.0))))
    tail = t * t * -0.5 - (-t).log() - 0.5 * math.log(2.0 * math.pi) + s.log()
    return _torch.where(x > split, direct, tail)


def _xlog1py(input, other):
    """x * log1p(y), 0 where x == 0 (unless y is NaN)."""
    x, y = _float(input), _float(other)
    r = x * y.log1p()
    return _torch.where((x == 0) & ~y.isnan(), _torch.zeros_like(r), r)


def _softmax(input, dim, *, dtype=None):
    return _torch.softmax(input, dim, dtype=dtype)


def _log_softmax(input, dim, *, dtype=None):
    return _torch.log_softmax(input, dim, dtype=dtype)


digamma = _out(_torch.digamma, "digamma")
psi = _out(_torch.digamma, "psi")
entr = _out(_entr, "entr")
erf = _out(_torch.erf, "erf")
erfc = _out(_torch.erfc, "erfc")
erfinv = _out(_torch.erfinv, "erfinv")
exp2 = _out(_torch.exp2, "exp2")
expit = _out(_torch.sigmoid, "expit")
expm1 = _out(_torch.expm1, "expm1")
gammaln = _out(_torch.lgamma, "gammaln")
i0 = _out(_torch.i0, "i0")
log1p = _out(_torch.log1p, "log1p")
log_ndtr = _out(_log_ndtr, "log_ndtr")
logit = _out(_torch.logit, "logit")
logsumexp = _out(_torch.logsumexp, "logsumexp")
multigammaln = _out(_torch.mvlgamma, "multigammaln")
ndtr = _out(_ndtr, "ndtr")
ndtri = _out(_ndtri, "ndtri")
round = _out(_torch.round, "round")
sinc = _out(_torch.sinc, "sinc")
xlog1py = _out(_xlog1py, "xlog1py")
xlogy = _out(_torch.xlogy, "xlogy")
softmax = _softmax
log_softmax = _log_softmax
