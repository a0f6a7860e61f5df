"""Random sampling composed of tensor ops (rand, randint, log, cumsum, topk), so it runs on
every device with no kernel of its own and draws from the same Philox stream: torch.bernoulli
and torch.multinomial (and their Tensor methods), Tensor.bernoulli_, the in-place samplers
Tensor.random_/exponential_/geometric_/cauchy_/log_normal_, and `out=` for torch.rand/randn."""
import math
import warnings

from . import _C
from ._registry import function, method
from ._utils import _add_out, _dtype_name
from .autograd.grad_mode import no_grad

_BOOL_CHUNK = 1 << 24  # most comparison elements one multinomial step materialises


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")


def _uniform_for(t, generator):
    """Uniforms in [0, 1) shaped like t, f64 for f64 tensors (full resolution), else f32."""
    dt = _C.float64 if t.dtype == _C.float64 else _C.float32
    return _C.rand(*t.shape, dtype=dt, device=t.device, generator=generator)


def bernoulli(input, p=None, *, generator=None):
    """Draws 0/1 with probability `input` (elementwise), or `p` when given; input's dtype.
    (`out=` is added by the package's `_add_out`, as for the other functions.)"""
    if p is not None and not isinstance(p, _C.Tensor):
        _check_p(float(p))
        r = (_uniform_for(input, generator) < float(p)).to(input.dtype)
    else:
        probs = input if p is None else p
        if not probs.is_floating_point():
            raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for "
                                      f"'{_dtype_name(probs.dtype)}'")
        pd = probs.detach()
        if pd.numel() and not bool(((pd >= 0) & (pd <= 1)).all()):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
        r = (_uniform_for(pd.expand(input.shape) if p is not None else pd, generator) < pd).to(input.dtype)
    return r


def _bernoulli_method(self, p=None, *, generator=None):
    return _bernoulli(self, p, generator=generator)


def _bernoulli_(self, p=0.5, *, generator=None):
    if isinstance(p, _C.Tensor):  # (bernoulli checks its dtype and range)
        p = p.to(self.device)
    r = _bernoulli(self, p, generator=generator)
    with no_grad():
        self.copy_(r)
    return self


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the rows of `input` (non-negative weights, 1-d or 2-d), int64.

    With replacement: inverse-CDF (a uniform's rank in the row's cumulative sum, scaled so
    its last entry is exactly 1, so a zero-weight category is never drawn). Without:
    the exponential-race form of the Gumbel top-k trick, the k largest of w / E with E ~
    Exp(1), which draws exactly as sequential sampling without replacement does.
    Rejected: a per-row sequential loop (one Python round per sample).
    """
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_dtype_name(input.dtype)}")
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    n = input.shape[-1]
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    w = input.detach().double().reshape(-1, n)
    rows = w.shape[0]
    if rows and n:
        if not bool((w.isfinite() & (w >= 0)).all()):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if bool((w.sum(-1) <= 0).any()):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    dev = input.device
    if rows == 0:
        r = _C.zeros(0, num_samples, dtype=_C.int64, device=dev)
    elif replacement:
        cdf = w.cumsum(-1)
        cdf = (cdf / cdf[:, -1:]).unsqueeze(1)  # [rows, 1, n], last entry exactly 1
        u = _C.rand(rows, num_samples, dtype=_C.float64, device=dev, generator=generator)
        step = max(1, _BOOL_CHUNK // max(1, rows * n))
        parts = [(cdf <= u[:, s:s + step].unsqueeze(2)).sum(-1) for s in range(0, num_samples, step)]
        r = parts[0] if len(parts) == 1 else _C.cat(parts, 1)
    else:
        e = -(1.0 - _C.rand(rows, n, dtype=_C.float64, device=dev, generator=generator)).log()  # Exp(1), > 0
        r = (w / e).topk(num_samples, dim=-1).indices
    return r.reshape(num_samples) if input.dim() == 1 else r


def _multinomial_method(self, num_samples, replacement=False, *, generator=None):
    return _multinomial(self, num_samples, replacement, generator=generator)


# ---------------------------------------------------------------- in-place samplers
# Each draws into a fresh tensor and copies it into self under no_grad, as uniform_/normal_ do:
# the draw is complete before self is touched, so a bad argument leaves self unchanged.

def _fill(self, value):
    with no_grad():
        self.copy_(value)
    return self


def _need_float(self, what, c_name):
    """PyTorch's check; its exponential_ names the dtype as a ScalarType ('Long'), cauchy_ as the
    C type ('long int'), and both forms are kept."""
    if not self.is_floating_point():
        dt = _c_type_name(self.dtype) if c_name else _dtype_name(self.dtype)
        raise RuntimeError(f"{what} distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {dt}")


# c10's C type names of the dtypes ('unsigned char'), as some of PyTorch's messages print them.
_C_TYPE_NAMES = {_C.int64: "long int", _C.int32: "int", _C.int16: "short int", _C.int8: "signed char",
                 _C.uint8: "unsigned char", _C.bool: "bool", _C.float32: "float", _C.float64: "double",
                 _C.float16: "c10::Half", _C.bfloat16: "c10::BFloat16"}


def _c_type_name(dt):
    return _C_TYPE_NAMES[dt]


# Integers a float dtype holds exactly, 2**(mantissa digits): random_()'s default upper bound there.
_FLOAT_DIGITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}


def _random_(self, *args, generator=None, **kwargs):
    """``random_(from=0, to=None)`` or ``random_(to)``: integers uniform in [from, to) (in
    [from, dtype's max] when `to` is None, [0, 2**digits] for floats), in self's dtype.
    (*args because `from` is a Python keyword: PyTorch's signature cannot be written as def.)"""
    names = ("from", "to")
    if len(args) == 1 and not kwargs:
        args = (0, args[0])  # the random_(to) overload
    if len(args) > 2 or any(k not in names for k in kwargs) or any(names[i] in kwargs for i in range(len(args))):
        raise TypeError(f"random_() received an invalid combination of arguments - got {args} {kwargs}")
    bound = dict(zip(names, args), **kwargs)
    from_, to = bound.get("from", 0), bound.get("to")
    dt = self.dtype
    name = str(dt).split(".")[-1]
    lo, hi = int(from_), (None if to is None else int(to))
    if dt == _C.bool:
        dmin, dmax = 0, 1
    elif name in _FLOAT_DIGITS:
        dmin, dmax = -(1 << _FLOAT_DIGITS[name]), 1 << _FLOAT_DIGITS[name]
    else:
        from ._dtype_info import iinfo
        info = iinfo(dt)
        dmin, dmax = info.min, info.max
    if hi is None:
        hi = dmax + 1  # inclusive of the dtype's largest value, as PyTorch
    elif lo >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi}")
    if name in _FLOAT_DIGITS:
        if to is not None and not (dmin <= hi - 1 <= dmax):
            warnings.warn(f"to - 1 is out of bounds [-(2^{_FLOAT_DIGITS[name]}), 2^{_FLOAT_DIGITS[name]}]. Due to "
                          f"precision limitations {_c_type_name(dt).replace('c10::', '')} can support discrete "
                          "uniform distribution only within this range.", UserWarning, stacklevel=2)
    else:
        if not dmin <= lo <= dmax:
            raise RuntimeError(f"from is out of bounds for {_c_type_name(dt)}")
        if not dmin <= hi - 1 <= dmax:
            raise RuntimeError(f"to - 1 is out of bounds for {_c_type_name(dt)}")
    i64max = (1 << 63) - 1
    if hi - 1 > i64max or lo < -(1 << 63):
        raise RuntimeError(f"random_ expects the range [from, to) within int64, but got from={lo}, to={hi}")
    if hi - 1 == i64max and lo > -(1 << 63):
        # randint's exclusive bound cannot be 2**63: draw [lo - 1, max) and shift up by one.
        r = _C.randint(lo - 1, i64max, tuple(self.shape), generator=generator, device=self.device) + 1
    else:
        r = _C.randint(lo, hi, tuple(self.shape), generator=generator, device=self.device)
    return _fill(self, r.to(dt))


def _open_uniform(self, generator):
    """Uniforms in (0, 1], shaped like self, f64 for f64 tensors: safe to take the log of."""
    return 1.0 - _uniform_for(self, generator)


def _exponential_(self, lambd=1.0, *, generator=None):
    """Exponential(lambd) draws: -log(U) / lambd."""
    lambd = float(lambd)
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    _need_float(self, "Exponential", c_name=False)
    return _fill(self, _open_uniform(self, generator).log() * (-1.0 / lambd))


def _geometric_(self, p, *, generator=None):
    """Geometric(p) draws on {1, 2, ...} (trials up to the first success): ceil(log U / log(1 - p))."""
    p = float(p)
    if not 0.0 < p < 1.0:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    k = (_open_uniform(self, generator).log() / math.log1p(-p)).ceil().clamp(min=1.0)
    return _fill(self, k.to(self.dtype))


def _cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Cauchy(median, sigma) draws: median + sigma * tan(pi * (U - 1/2))."""
    sigma = float(sigma)
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    _need_float(self, "Cauchy", c_name=True)
    u = _uniform_for(self, generator)
    return _fill(self, ((u - 0.5) * math.pi).tan() * sigma + float(median))


def _log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Log-normal draws: exp of Normal(mean, std)."""
    std = float(std)
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    if not self.is_floating_point():
        raise NotImplementedError(f"\"log_normal_cpu\" not implemented for '{_dtype_name(self.dtype)}'")
    dt = _C.float64 if self.dtype == _C.float64 else _C.float32
    z = _C.randn(*self.shape, dtype=dt, device=self.device, generator=generator)
    return _fill(self, (z * std + float(mean)).exp())


# ---- declarations (ferrotorch._registry) ---------------------------------------------------
_bernoulli, _multinomial = bernoulli, multinomial  # the plain functions, which the methods call
bernoulli = function("bernoulli", _add_out(_bernoulli))
multinomial = function("multinomial", _add_out(_multinomial))
rand = function("rand", _add_out(_C.rand), replace=True)
randn = function("randn", _add_out(_C.randn), replace=True)
method("random_", _random_)
method("exponential_", _exponential_)
method("geometric_", _geometric_)
method("cauchy_", _cauchy_)
method("log_normal_", _log_normal_)
method("bernoulli", _bernoulli_method)
method("bernoulli_", _bernoulli_)
method("multinomial", _multinomial_method)
