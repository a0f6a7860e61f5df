"""torch.bernoulli and torch.multinomial, composed of tensor ops (rand, cumsum, topk), so they
run on every device with no kernel of their own and draw from the same Philox stream."""
from . import _C
from ._utils import _dtype_name
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
    return bernoulli(self, p, generator=generator)


def _bernoulli_(self, p=0.5, *, generator=None):
    if isinstance(p, _C.Tensor):  # (bernoulli checks its dtype and range)
        p = p.to(self.device)
    r = bernoulli(self, p, generator=generator)
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
    return multinomial(self, num_samples, replacement, generator=generator)


def install(tensor_cls):
    tensor_cls.bernoulli = _bernoulli_method
    tensor_cls.bernoulli_ = _bernoulli_
    tensor_cls.multinomial = _multinomial_method
