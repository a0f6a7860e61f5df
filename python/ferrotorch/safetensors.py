"""safetensors files for ferrotorch: the API of ``safetensors.torch``.

``from ferrotorch.safetensors import save_file, load_file`` replaces
``from safetensors.torch import save_file, load_file``; files are interchangeable both
ways. The format is read and written by the Rust engine (``ferrotorch::io::safetensors``,
over the ``safetensors`` crate, which validates every header).

``load_file`` and ``safe_open`` map the file copy-on-write (``mmap.ACCESS_COPY``): the
tensors' memory is the map itself, so loading takes the same time whatever the file's
size and pages are read when first touched; writing to a loaded tensor never changes the
file. ``save_file`` writes under a temporary name and renames it over the target, so
tensors still mapped from an old file at that path keep their values.

Differences from ``safetensors.torch``: the dtypes are ferrotorch's ten (a file holding
F8_*, U16/U32/U64 or C64 tensors raises ``SafetensorError`` naming the dtype and
tensor); ``save_model`` does not add entries to the caller's ``metadata`` dict (it
copies it); the ``backend=`` keyword is accepted and ignored (always a memory map);
``safe_open(framework=...)`` supports ``"pt"`` (and ``"torch"``, ``"pytorch"``) and
``"numpy"`` (``"np"``).
"""
import mmap
import os
from collections import defaultdict

from . import _C

__all__ = ["SafetensorError", "safe_open", "save", "save_file", "load", "load_file", "save_model", "load_model"]


class SafetensorError(Exception):
    """An invalid safetensors file or a failed write (``safetensors_rust.SafetensorError``)."""


def _torch():
    import ferrotorch
    return ferrotorch


# Messages of the engine's format errors (see rust/core/src/io/safetensors.rs): those become
# SafetensorError; anything else (out of memory, CUDA) keeps its own type.
_FORMAT_PREFIXES = ("Error while deserializing", "Error while serializing", "safetensors:")


def _call(fn, *args):
    try:
        return fn(*args)
    except RuntimeError as e:
        if str(e).startswith(_FORMAT_PREFIXES):
            raise SafetensorError(str(e)) from None
        raise


# ---- dtypes --------------------------------------------------------------------------

def _format_names():
    torch = _torch()
    return {torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16", torch.int32: "I32",
            torch.int64: "I64", torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32",
            torch.float64: "F64"}


# ---- devices -------------------------------------------------------------------------

def _device(device):
    torch = _torch()
    if isinstance(device, torch.device):
        return device
    try:
        if isinstance(device, bool):
            raise ValueError
        if isinstance(device, int):
            if device < 0:
                raise ValueError
            return torch.device("cuda", device)
        if isinstance(device, str):
            return torch.device(device)
    except (ValueError, TypeError, RuntimeError):
        pass
    raise SafetensorError(f"device {device} is invalid")


def _to(t, device):
    return t if device.type == "cpu" else t.to(device)


# ---- reading -------------------------------------------------------------------------

def _map(filename):
    """A copy-on-write map of the whole file (bytes for an empty file, which mmap refuses)."""
    with open(filename, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return b""
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY)


_FRAMEWORKS = {"pt": "pt", "torch": "pt", "pytorch": "pt", "np": "numpy", "numpy": "numpy"}


class _SafeSlice:
    """A tensor of an open file, sliced on demand (``safetensors``' ``PySafeSlice``)."""

    def __init__(self, owner, name):
        self._owner = owner
        self._name = name
        self._dtype, self._shape, _, _ = owner._entries[name]

    def get_shape(self):
        return list(self._shape)

    def get_dtype(self):
        return _format_names()[self._dtype]

    def __getitem__(self, index):
        items = index if isinstance(index, tuple) else (index,)
        for it in items:
            if not (it is None or it is Ellipsis or isinstance(it, (int, slice))) or isinstance(it, bool):
                raise TypeError(f"get_slice: expected ints, slices, Ellipsis or None as indices, got {type(it).__name__}")
        # A view of the mapped tensor (only the pages the slice covers are read), then a
        # tensor of its own holding just the slice.
        full = self._owner._tensor(self._name)
        part = full[index].clone()
        return self._owner._convert(part)

    def __repr__(self):
        return f"<ferrotorch.safetensors slice of {self._name!r}: {self.get_dtype()} {self.get_shape()}>"


class safe_open:
    """Open a safetensors file lazily: ``keys()``, ``metadata()``, ``get_tensor(name)``,
    ``get_slice(name)[...]``. Tensors share the file's copy-on-write map."""

    def __init__(self, filename, framework="pt", device="cpu", *, backend="mmap"):
        fw = _FRAMEWORKS.get(str(framework).lower()) if isinstance(framework, str) else None
        if fw is None:
            raise SafetensorError(f"framework {framework} is invalid")
        self._framework = fw
        self._device = _device(device)
        buf = _map(filename)
        self._metadata, entries = _call(_C._safetensors_read_header, buf)
        self._buf = buf
        self._entries = {name: (dtype, tuple(shape), start, end) for name, dtype, shape, start, end in entries}

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        # Tensors already handed out keep the map alive; this handle stops serving.
        self._buf = None

    def _check_open(self):
        if self._buf is None:
            raise SafetensorError("File is closed")

    def _entry(self, name):
        self._check_open()
        e = self._entries.get(name)
        if e is None:
            raise SafetensorError(f"File does not contain tensor {name}")
        return e

    def _tensor(self, name):
        dtype, shape, start, end = self._entry(name)
        return _call(_C._safetensors_tensor, self._buf, name, dtype, list(shape), start, end)

    def _convert(self, t):
        t = _to(t, self._device)
        return t.numpy() if self._framework == "numpy" else t

    def keys(self):
        self._check_open()
        return sorted(self._entries)

    def offset_keys(self):
        self._check_open()
        return list(self._entries)

    def metadata(self):
        self._check_open()
        return None if self._metadata is None else dict(self._metadata)

    def get_tensor(self, name):
        return self._convert(self._tensor(name))

    def get_tensors(self):
        self._check_open()
        return {name: self.get_tensor(name) for name in self._entries}

    def get_slice(self, name):
        self._entry(name)
        return _SafeSlice(self, name)


def load_file(filename, device="cpu", *, backend="mmap"):
    """All tensors of a safetensors file (in the order of their data), sharing a
    copy-on-write map of it, moved to ``device``."""
    dev = _device(device)
    buf = _map(filename)
    pairs = _call(_C._safetensors_load_buffer, buf, False)
    return {name: _to(t, dev) for name, t in pairs}


def load(data):
    """All tensors of a safetensors file's bytes (copies, on the CPU)."""
    if isinstance(data, str) or not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"argument 'bytes': '{type(data).__name__}' object is not an instance of 'bytes'")
    return dict(_call(_C._safetensors_load_buffer, data, True))


# ---- writing -------------------------------------------------------------------------

def _check_metadata(metadata):
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise TypeError(f"argument 'metadata': '{type(metadata).__name__}' object is not an instance of 'dict'")
    for k, v in metadata.items():
        for x in (k, v):
            if not isinstance(x, str):
                what = "'None'" if x is None else f"'{type(x).__name__}' object"
                raise TypeError(f"argument 'metadata': {what} is not an instance of 'str'")
    return metadata


def storage_ptr(tensor):
    """Address of the tensor's whole storage (safetensors.torch's ``storage_ptr``)."""
    return _C._storage_info(tensor)[2]


def storage_size(tensor):
    """Bytes of the tensor's whole storage."""
    return _C._storage_info(tensor)[1]


def _end_ptr(tensor):
    if tensor.numel():
        last = sum((s - 1) * st for s, st in zip(tensor.shape, tensor.stride()))
        return tensor.data_ptr() + (last + 1) * tensor.element_size()
    return tensor.data_ptr()


def _filter_shared_not_shared(tensors, state_dict):
    filtered = []
    for shared in tensors:
        if len(shared) < 2:
            filtered.append(shared)
            continue
        areas = sorted((state_dict[name].data_ptr(), _end_ptr(state_dict[name]), name) for name in shared)
        _, last_stop, last_name = areas[0]
        filtered.append({last_name})
        for start, stop, name in areas[1:]:
            if start >= last_stop:
                filtered.append({name})
            else:
                filtered[-1].add(name)
            last_stop = stop
    return filtered


def _find_shared_tensors(state_dict):
    """Groups of names whose tensors overlap in memory (safetensors.torch's rule: same
    storage, then overlapping byte ranges)."""
    groups = defaultdict(set)
    for k, v in state_dict.items():
        _, size, ptr = _C._storage_info(v)
        if ptr != 0 and size != 0:
            groups[(str(v.device), ptr, size)].add(k)
    tensors = sorted(groups.values(), key=sorted)
    return _filter_shared_not_shared(tensors, state_dict)


def _is_complete(tensor):
    _, size, ptr = _C._storage_info(tensor)
    return tensor.data_ptr() == ptr and tensor.numel() * tensor.element_size() == size


def _remove_duplicate_names(state_dict, *, preferred_names=None, discard_names=None):
    preferred_names = set(preferred_names or [])
    discard_names = set(discard_names or [])
    to_remove = defaultdict(list)
    for shared in _find_shared_tensors(state_dict):
        complete_names = {name for name in shared if _is_complete(state_dict[name])}
        if not complete_names:
            raise RuntimeError(
                "Error while trying to find names to remove to save state dict, but found no suitable name to keep"
                f" for saving amongst: {shared}. None is covering the entire storage.Refusing to save/load the model"
                " since you could be storing much more memory than needed. Please refer to"
                " https://huggingface.co/docs/safetensors/torch_shared_tensors for more information. Or open an"
                " issue."
            )
        keep_name = sorted(complete_names)[0]
        preferred = complete_names.difference(discard_names)
        if preferred:
            keep_name = sorted(preferred)[0]
        if preferred_names:
            preferred = preferred_names.intersection(complete_names)
            if preferred:
                keep_name = sorted(preferred)[0]
        for name in sorted(shared):
            if name != keep_name:
                to_remove[keep_name].append(name)
    return to_remove


def _check_tensors(tensors):
    torch = _torch()
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, torch.Tensor] but received {type(tensors)}")
    for k, v in tensors.items():
        if not isinstance(v, torch.Tensor):
            raise ValueError(f"Key `{k}` is invalid, expected torch.Tensor but received {type(v)}")
    for k in tensors:
        if not isinstance(k, str):
            raise TypeError(f"argument 'tensor_dict': '{type(k).__name__}' object is not an instance of 'str'")
    failing = [names for names in _find_shared_tensors(tensors) if len(names) > 1]
    if failing:
        raise RuntimeError(
            f"""
            Some tensors share memory, this will lead to duplicate memory on disk and potential differences when loading them again: {failing}.
            A potential way to correctly save your model is to use `save_model`.
            More information at https://huggingface.co/docs/safetensors/torch_shared_tensors
            """
        )
    for k, v in tensors.items():
        if not v.is_contiguous():
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{k}` which is not allowed. It either means you"
                " are trying to save tensors which are reference of each other in which case it's recommended to save"
                " only the full tensors, and reslice at load time, or simply call `.contiguous()` on your tensor to"
                " pack it before saving."
            )
    return list(tensors.items())


def save(tensors, metadata=None):
    """The bytes of a safetensors file holding ``tensors`` (a dict of contiguous tensors
    not sharing memory) and ``metadata`` (dict of str to str)."""
    items = _check_tensors(tensors)
    metadata = _check_metadata(metadata)
    return _call(_C._safetensors_serialize, items, metadata)


def save_file(tensors, filename, metadata=None):
    """Write ``tensors`` (a dict of contiguous tensors not sharing memory) and
    ``metadata`` to ``filename`` in safetensors format."""
    items = _check_tensors(tensors)
    metadata = _check_metadata(metadata)
    _call(_C._safetensors_save_file, items, os.fspath(filename), metadata)


def save_model(model, filename, metadata=None, force_contiguous=True):
    """Save ``model.state_dict()`` keeping one name per group of tensors sharing memory
    (tied weights); each dropped name is recorded in the metadata as ``name: kept``."""
    state_dict = model.state_dict()
    to_removes = _remove_duplicate_names(state_dict)
    metadata = None if metadata is None else dict(_check_metadata(metadata))
    for kept_name, to_remove_group in to_removes.items():
        for to_remove in to_remove_group:
            if metadata is None:
                metadata = {}
            if to_remove not in metadata:
                metadata[to_remove] = kept_name
            del state_dict[to_remove]
    if force_contiguous:
        state_dict = {k: v.contiguous() for k, v in state_dict.items()}
    try:
        save_file(state_dict, filename, metadata=metadata)
    except ValueError as e:
        raise ValueError(str(e) + " Or use save_model(..., force_contiguous=True), read the docs for potential caveats.")


def load_model(model, filename, strict=True, device="cpu", *, backend="mmap"):
    """Load a file written by ``save_model`` into ``model``, restoring tied weights.
    Returns ``(missing, unexpected)``; with ``strict`` any mismatch raises RuntimeError."""
    state_dict = load_file(filename, device=device)
    model_state_dict = model.state_dict()
    to_removes = _remove_duplicate_names(model_state_dict, preferred_names=state_dict.keys())
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    missing = set(missing)
    unexpected = list(unexpected)
    for to_remove_group in to_removes.values():
        for to_remove in to_remove_group:
            if to_remove not in missing:
                unexpected.append(to_remove)
            else:
                missing.remove(to_remove)
    if strict and (missing or unexpected):
        missing_keys = ", ".join([f'"{k}"' for k in sorted(missing)])
        unexpected_keys = ", ".join([f'"{k}"' for k in sorted(unexpected)])
        error = f"Error(s) in loading state_dict for {model.__class__.__name__}:"
        if missing:
            error += f"\n    Missing key(s) in state_dict: {missing_keys}"
        if unexpected:
            error += f"\n    Unexpected key(s) in state_dict: {unexpected_keys}"
        raise RuntimeError(error)
    return missing, unexpected
