"""Small helpers used by the Rust binding (pickling, named-tuple returns)."""
import collections


def _rebuild_tensor(array, dtype_name, requires_grad):
    from . import _C
    t = _C.from_numpy(array)
    if dtype_name != str(t.dtype).split(".")[-1]:
        t = t.to(getattr(_C, dtype_name))
    if requires_grad:
        t.requires_grad_(True)
    return t


class _return_types:
    """Named tuples returned by max/min/sort/topk/kthvalue (``.values``/``.indices``)."""
    sort = collections.namedtuple("sort", ["values", "indices"])
    topk = collections.namedtuple("topk", ["values", "indices"])
    kthvalue = collections.namedtuple("kthvalue", ["values", "indices"])
    max = collections.namedtuple("max", ["values", "indices"])
    min = collections.namedtuple("min", ["values", "indices"])
