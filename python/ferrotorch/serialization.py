"""``ferrotorch.save`` / ``ferrotorch.load``.

Deviation from PyTorch (documented in the README): the file is a plain pickle (tensors
pickle as a NumPy array + dtype name, see ``Tensor.__reduce__``), not PyTorch's zip
archive, so checkpoints are not interchangeable with ``torch.save`` files. As in PyTorch
>= 2.6, ``load`` defaults to ``weights_only=True``: only tensors, containers and plain
values are unpickled, never arbitrary classes or callables.
"""
import builtins
import os
import pickle

from . import _utils

__all__ = ["save", "load"]

# Protocol 4 stores bytes natively (protocol 2, PyTorch's default inside its zip, pickles
# bytes through _codecs.encode).
DEFAULT_PROTOCOL = 4

# (module, name) pairs a weights-only load may construct.
_SAFE_GLOBALS = {
    ("collections", "OrderedDict"), ("_codecs", "encode"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "slice"), ("builtins", "complex"),
    # NumPy's array reconstruction (tensor payloads).
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
}
for _n in ("Float64DType", "Float32DType", "Float16DType", "Int64DType", "Int32DType", "Int16DType", "Int8DType",
           "UInt8DType", "BoolDType"):
    _SAFE_GLOBALS.add(("numpy.dtypes", _n))


class _WeightsUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _SAFE_GLOBALS or (module.startswith("ferrotorch") and name.startswith("_rebuild")):
            return super().find_class(module, name)
        if module == "ferrotorch._utils" and name == "_return_types":
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Weights only load failed: unsupported global {module}.{name}. Pass weights_only=False to load "
            f"arbitrary objects (only from a source you trust).")


def _open(f, mode):
    if isinstance(f, (str, os.PathLike)):
        return builtins.open(f, mode), True
    return f, False


# First object of PyTorch's pre-1.6 (non-zip) checkpoint format.
_PYTORCH_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
_NOT_OURS = ("ferrotorch.load: this file is {kind}; ferrotorch.load reads files written by ferrotorch.save "
             "(a plain pickle), not PyTorch's checkpoint formats")


def _check_not_pytorch_file(fh):
    # torch.save's default format is a zip archive: say so instead of a pickle error.
    if fh.seekable():
        pos = fh.tell()
        head = fh.read(4)
        fh.seek(pos)
        if head == b"PK\x03\x04":
            raise RuntimeError(_NOT_OURS.format(kind="a zip archive (PyTorch's torch.save format)"))


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True):
    """Pickle ``obj`` (tensors, state dicts, nested containers) to a path or file object."""
    fh, owned = _open(f, "wb")
    try:
        pickle_module.dump(obj, fh, protocol=pickle_protocol)
    finally:
        if owned:
            fh.close()


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load what ``save`` wrote. ``map_location`` may name a device (tensors are moved there)."""
    if weights_only is None:
        weights_only = True
    fh, owned = _open(f, "rb")
    # Tensors are rebuilt straight on map_location's device (so a CUDA checkpoint loads on a
    # machine without CUDA when mapped to the CPU, as in PyTorch).
    token = _utils._map_location.set(map_location)
    try:
        _check_not_pytorch_file(fh)
        if weights_only:
            if pickle_module is not None:
                raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
            obj = _WeightsUnpickler(fh, **pickle_load_args).load()
        else:
            obj = (pickle_module or pickle).load(fh, **pickle_load_args)
    finally:
        _utils._map_location.reset(token)
        if owned:
            fh.close()
    if isinstance(obj, int) and obj == _PYTORCH_LEGACY_MAGIC:
        raise RuntimeError(_NOT_OURS.format(kind="a legacy-format PyTorch checkpoint"))
    return obj

