"""Finite-difference gradient checks (float64), as torch.autograd.gradcheck."""
import numpy as np

from .. import _C


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _numerical_jacobian(fn, inputs, i, eps):
    """d(flattened outputs)/d(input i) by central differences."""
    x = inputs[i]
    xd = x.detach()
    shape = tuple(x.shape)
    n = x.numel()
    cols = []
    for k in range(n):
        # Index the tensor itself (not a reshaped copy), so non-contiguous inputs work.
        idx = tuple(int(v) for v in np.unravel_index(k, shape))
        orig = xd[idx].item()
        with _no_grad():
            xd[idx] = orig + eps
        plus = [o.detach().reshape(-1).to(_C.float64).numpy().copy() for o in _as_tuple(fn(*inputs))]
        with _no_grad():
            xd[idx] = orig - eps
        minus = [o.detach().reshape(-1).to(_C.float64).numpy().copy() for o in _as_tuple(fn(*inputs))]
        with _no_grad():
            xd[idx] = orig
        cols.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)]))
    return np.stack(cols, axis=1) if cols else np.zeros((0, 0))


def _no_grad():
    from .grad_mode import no_grad
    return no_grad()


def _analytical_jacobian(fn, inputs, i):
    outs = _as_tuple(fn(*inputs))
    sizes = [o.numel() for o in outs]
    rows = []
    for oi, o in enumerate(outs):
        for k in range(o.numel()):
            grads = []
            for oj, o2 in enumerate(outs):
                g = _C.zeros(*o2.shape, dtype=o2.dtype)
                if oj == oi:
                    g.reshape(-1)[k] = 1.0
                grads.append(g)
            need = [t for t in outs if t.requires_grad]
            gi = [g for t, g in zip(outs, grads) if t.requires_grad]
            if not need:
                rows.append(np.zeros(inputs[i].numel()))
                continue
            r = _C._grad(need, [inputs[i]], gi, True, False, True)[0]
            rows.append(np.zeros(inputs[i].numel()) if r is None else r.detach().reshape(-1).to(_C.float64).numpy().copy())
    return np.stack(rows, axis=0) if rows else np.zeros((sum(sizes), inputs[i].numel()))


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **kwargs):
    inputs = _as_tuple(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, _C.Tensor) or not x.requires_grad:
            continue
        if x.dtype != _C.float64:
            import warnings
            warnings.warn("Input #%d requires gradient and is not a double precision floating point." % i)
        num = _numerical_jacobian(func, inputs, i, eps)
        ana = _analytical_jacobian(func, inputs, i)
        if num.shape != ana.shape or not np.allclose(ana, num, rtol=rtol, atol=atol):
            if raise_exception:
                raise GradcheckError(
                    "Jacobian mismatch for output 0 with respect to input %d,\nnumerical:%s\nanalytical:%s\n" % (i, num, ana))
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **kwargs):
    """Check second derivatives: gradcheck of the function x -> d(func(x) . v)/dx."""
    inputs = _as_tuple(inputs)
    outs = _as_tuple(func(*inputs))
    if grad_outputs is None:
        grad_outputs = tuple(_C.randn(*o.shape, dtype=o.dtype) for o in outs)
    grad_outputs = _as_tuple(grad_outputs)

    def first_grads(*xs):
        outs = _as_tuple(func(*xs))
        dx = [x for x in xs if isinstance(x, _C.Tensor) and x.requires_grad]
        gs = _C._grad(list(outs), dx, list(grad_outputs), True, True, True)
        return tuple(g if g is not None else _C.zeros(*x.shape, dtype=x.dtype) for g, x in zip(gs, dx))

    return gradcheck(first_grads, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
