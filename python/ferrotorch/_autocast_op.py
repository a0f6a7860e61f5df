"""The autocast entry of the ops ferrotorch composes in Python (``nn.functional``'s
linear, convolutions, losses, norms, and a few linear-algebra functions).

``@autocast_op("mse_loss")`` gives a Python function the cast policy PyTorch's autocast
applies to the aten op of that name (the tables live in the engine, ``rust/core/src/autocast.rs``,
with the policies of the ops written in Rust): its tensor arguments are cast on entry and its
body runs with autocast off, so an op on the float32 list that composes matmuls computes in
float32, and one on the lower-precision list gives a lower-precision result. Outside autocast
the wrapper costs one engine call.
"""

import functools

from . import _C

_any = _C._autocast_any_enabled
_cast = _C._autocast_cast


def autocast_op(name):
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if not _any():
                return fn(*args, **kwargs)
            return _run(name, fn, args, kwargs)

        return wrapper

    return deco


def _run(name, fn, args, kwargs):
    from ._C import Tensor

    pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    keys = [k for k, v in kwargs.items() if isinstance(v, Tensor)]
    tensors = [args[i] for i in pos] + [kwargs[k] for k in keys]
    r = _cast(name, tensors) if tensors else None
    if r is None:
        return fn(*args, **kwargs)
    cast, dtype = r
    args = list(args)
    for j, i in enumerate(pos):
        args[i] = cast[j]
    kwargs = dict(kwargs)
    for j, k in enumerate(keys):
        kwargs[k] = cast[len(pos) + j]
    if dtype is not None and kwargs.get("dtype") is None:
        # fp32_set_opt_dtype: the op's own dtype argument, unless the caller gave one.
        kwargs["dtype"] = dtype
    prev = _C._autocast_exclude()
    try:
        return fn(*args, **kwargs)
    finally:
        _C._autocast_restore(prev)
