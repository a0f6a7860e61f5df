"""``ferrotorch.save`` / ``ferrotorch.load`` in PyTorch's checkpoint formats.

``save`` writes PyTorch's zip layout (``<archive>/data.pkl`` naming PyTorch's rebuild
functions and storage types, one record ``data/<key>`` per storage, aligned to 64 bytes,
plus ``byteorder``, ``version``, ``.format_version``, ``.storage_alignment`` and
``.data/serialization_id``), so ``torch.load(..., weights_only=True)`` reads our files;
``_use_new_zipfile_serialization=False`` writes the pre-1.6 format. ``load`` reads both
formats as PyTorch writes them (any byte order), with ``mmap=True`` backing tensors by
the mapped file, ``map_location`` in every form, and ``.safetensors`` paths.

Loading defaults to ``weights_only=True`` (PyTorch >= 2.6): the file is read by
``_weights_only_unpickler``, which resolves an exact allow-list of globals and never runs
code; ``add_safe_globals`` / ``safe_globals`` extend it. The zip container is parsed in
Rust (``ferrotorch::io::zip``), which checks every record's size and offset against the
file before anything is read or allocated.
"""
import builtins
import collections
import io
import mmap as _mmap
import os
import pickle
import random
import struct
import sys
import warnings

from . import _C, _utils
from . import _weights_only_unpickler as _wo
from ._size import Size

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals",
           "get_unsafe_globals_in_checkpoint", "DEFAULT_PROTOCOL", "LoadEndianness", "get_default_load_endianness",
           "set_default_load_endianness"]

DEFAULT_PROTOCOL = 2
MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
PROTOCOL_VERSION = 1001
STORAGE_ALIGNMENT = 64

UNSAFE_MESSAGE = ("In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
                  "from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely "
                  "succeed, but it can result in arbitrary code execution. Do it only if you got the file from a "
                  "trusted source.")


# ---- the safe-globals API ---------------------------------------------------------------------

def add_safe_globals(safe_globals):
    """Mark globals (functions/classes, or ``(obj, "module.name")`` pairs) as safe for
    ``weights_only`` loads."""
    _wo.add_safe_globals(safe_globals)


def get_safe_globals():
    """The user-added globals that are safe for ``weights_only`` loads."""
    return _wo.get_safe_globals()


def clear_safe_globals():
    """Forget every user-added safe global."""
    _wo.clear_safe_globals()


class safe_globals:
    """Context manager adding globals as safe for ``weights_only`` loads inside it."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        _wo.add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _wo.remove_safe_globals(self.safe_globals)


def get_unsafe_globals_in_checkpoint(f):
    """The "module.name" globals in a ``save``d checkpoint that a ``weights_only`` load
    would refuse (read without running anything)."""
    buf, _owned = _read_buffer(f, use_mmap=False)
    if bytes(buf[:4]) != b"PK\x03\x04":
        raise ValueError("Expected input to be a checkpoint returned by torch.save")
    reader = _C.PyTorchFileReader(buf)
    if reader.has_record("constants.pkl"):
        raise ValueError("Expected input to be a checkpoint returned by torch.save but got a torchscript checkpoint")
    found = _wo.scan_globals(reader.get_record("data.pkl"))
    safe = set(_wo.allowed_globals()) | set(_wo.user_allowed_globals())
    return sorted(found - safe)


class LoadEndianness:
    NATIVE = 1
    LITTLE = 2
    BIG = 3


_default_load_endian = None


def get_default_load_endianness():
    """Byte order assumed for checkpoints without a ``byteorder`` record (None: little)."""
    return _default_load_endian


def set_default_load_endianness(endianness):
    global _default_load_endian
    if endianness not in (None, LoadEndianness.NATIVE, LoadEndianness.LITTLE, LoadEndianness.BIG):
        raise TypeError("Invalid argument type in function set_default_load_endianness")
    _default_load_endian = endianness


# ---- save ---------------------------------------------------------------------------------------

class _GlobalRef:
    """A PyTorch global (``torch.FloatStorage``, ``torch._utils._rebuild_tensor_v2``...) that
    our pickler writes by name: PyTorch's loader resolves these, so a file we write names
    exactly what torch.save would (the object need not, and must not, be importable here)."""
    _all = {}

    def __new__(cls, module, name):
        key = (module, name)
        ref = cls._all.get(key)
        if ref is None:
            ref = object.__new__(cls)
            ref.module, ref.name = module, name
            cls._all[key] = ref
        return ref

    def __call__(self, *args):  # the pickler wants reduce callables to be callable
        raise TypeError(f"{self.module}.{self.name} is a name for checkpoints, not a function")

    def __reduce__(self):
        raise pickle.PicklingError(f"{self.module}.{self.name} is written by the checkpoint pickler only")


_REBUILD_V2 = _GlobalRef("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAM = _GlobalRef("torch._utils", "_rebuild_parameter")
_REBUILD_PARAM_STATE = _GlobalRef("torch._utils", "_rebuild_parameter_with_state")
_REBUILD_FROM_TYPE = _GlobalRef("torch._tensor", "_rebuild_from_type_v2")
_TORCH_SIZE = _GlobalRef("torch", "Size")
_TORCH_DEVICE = _GlobalRef("torch", "device")


class _StorageRef:
    """A storage on its way into the file: pickled as a persistent id."""
    __slots__ = ("pid", "key", "tensor", "dtype")

    def __init__(self, pid, key, tensor, dtype):
        self.pid, self.key, self.tensor, self.dtype = pid, key, tensor, dtype


def _location(t):
    d = t.device
    return "cpu" if d.type == "cpu" else f"{d.type}:{d.index or 0}"


class _Pickler(pickle._Pickler):
    """pickle's Python pickler with tensors reduced as PyTorch's ``Tensor.__reduce_ex__``
    does, storages as persistent ids, and PyTorch's globals written by name. (The C
    pickler cannot write a global it cannot import, and ``torch`` is not importable.)"""
    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, protocol, legacy=False):
        super().__init__(file, protocol)
        self.storages = {}  # storage identity -> _StorageRef (in first-seen order)
        self.legacy = legacy

    def persistent_id(self, obj):
        return obj.pid if type(obj) is _StorageRef else None

    def _storage(self, t):
        sid, nbytes, _ = _C._storage_info(t)
        ref = self.storages.get(sid)
        if ref is not None:
            if ref.dtype != t.dtype:
                raise RuntimeError("Cannot save multiple tensors or storages that view the same data as different "
                                   "types")
            return ref
        key = str(len(self.storages))
        numel = nbytes // t.element_size()
        stype = _GlobalRef("torch", _STORAGE_NAME[t.dtype])
        pid = ("storage", stype, key, _location(t), numel)
        if self.legacy:
            pid = pid + (None,)
        ref = _StorageRef(pid, key, _C._storage_tensor(t), t.dtype)
        self.storages[sid] = ref
        return ref

    def reducer_override(self, obj):
        if not isinstance(obj, _C.Tensor):
            return NotImplemented
        from .nn.parameter import Parameter
        state = getattr(obj, "__dict__", None) or None
        if type(obj) is Parameter:
            data = _C.Tensor(obj)  # a plain alias of the same storage
            if state:
                return (_REBUILD_PARAM_STATE, (data, obj.requires_grad, collections.OrderedDict(), dict(state)))
            return (_REBUILD_PARAM, (data, obj.requires_grad, collections.OrderedDict()))
        args = (self._storage(obj), obj.storage_offset(), tuple(obj.shape), tuple(obj.stride()),
                obj.requires_grad, collections.OrderedDict())
        if type(obj) is not _C.Tensor or state:
            return (_REBUILD_FROM_TYPE, (_REBUILD_V2, type(obj), args, dict(state or {})))
        return (_REBUILD_V2, args)

    def _save_global_ref(self, obj):
        if self.proto >= 4:
            self.save(obj.module)
            self.save(obj.name)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + obj.module.encode("utf-8") + b"\n" + obj.name.encode("utf-8") + b"\n")
        self.memoize(obj)

    dispatch[_GlobalRef] = _save_global_ref

    def _save_dtype(self, obj):
        self.save(_GlobalRef("torch", str(obj).split(".")[-1]))

    dispatch[_C.dtype] = _save_dtype

    def _save_device(self, obj):
        args = (obj.type,) if obj.index is None else (obj.type, obj.index)
        self.save_reduce(_TORCH_DEVICE, args, obj=obj)

    dispatch[_C.device] = _save_device

    def _save_size(self, obj):
        self.save_reduce(_TORCH_SIZE, (tuple(int(d) for d in obj),), obj=obj)

    dispatch[Size] = _save_size


_STORAGE_NAME = {dt: name for name, dt in _C._storage_names()}


def _archive_name(f):
    if isinstance(f, (str, os.PathLike)):
        base = os.path.basename(os.fspath(f))
        stem = base.split(".")[0] if not base.startswith(".") else base
        return stem or "archive"
    return "archive"


def _serialization_id():
    return "".join(random.SystemRandom().choice("0123456789") for _ in range(40))


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save ``obj`` (tensors, state dicts, nested containers, plain values; any picklable
    object) to a path or a binary file object, in PyTorch's checkpoint format."""
    if isinstance(f, (str, os.PathLike)):
        parent = os.path.dirname(os.path.abspath(os.fspath(f)))
        if not os.path.isdir(parent):
            raise RuntimeError(f"Parent directory {parent} does not exist.")
    elif not hasattr(f, "write"):
        raise AttributeError(f"expected 'f' to be string, path, or a file-like object with a 'write' attribute, "
                             f"got {type(f).__name__}")
    if not _use_new_zipfile_serialization:
        return _legacy_save(obj, f, pickle_protocol)
    # Pickle first: an object that cannot be pickled leaves the target file untouched.
    buf = io.BytesIO()
    pickler = _Pickler(buf, pickle_protocol)
    pickler.dump(obj)
    name = _archive_name(f)
    writer = _C.PyTorchFileWriter(f)
    writer.write_record(f"{name}/data.pkl", buf.getbuffer())
    writer.write_record(f"{name}/.format_version", b"1")
    writer.write_record(f"{name}/.storage_alignment", str(STORAGE_ALIGNMENT))
    if not _disable_byteorder_record:
        writer.write_record(f"{name}/byteorder", sys.byteorder)
    for ref in pickler.storages.values():
        writer.write_record(f"{name}/data/{ref.key}", ref.tensor)
    writer.write_record(f"{name}/version", b"3\n")
    writer.write_record(f"{name}/.data/serialization_id", _serialization_id())
    writer.write_end_of_file()


def _legacy_save(obj, f, protocol):
    """The pre-1.6 format: magic number, protocol version and system info pickles, the
    object (storages as persistent ids), the sorted storage keys, then each storage as
    its element count (int64, little-endian) and its bytes."""
    owned = isinstance(f, (str, os.PathLike))
    body = io.BytesIO()
    pickler = _Pickler(body, protocol, legacy=True)
    pickler.dump(obj)
    fh = builtins.open(f, "wb") if owned else f
    try:
        sys_info = {"protocol_version": PROTOCOL_VERSION, "little_endian": sys.byteorder == "little",
                    "type_sizes": {"short": 2, "int": 4, "long": 4}}
        for v in (MAGIC_NUMBER, PROTOCOL_VERSION, sys_info):
            pickle.dump(v, fh, protocol=protocol)
        fh.write(body.getbuffer())
        refs = sorted(pickler.storages.values(), key=lambda r: r.key)
        pickle.dump([r.key for r in refs], fh, protocol=protocol)
        for r in refs:
            fh.write(struct.pack("<q", r.tensor.numel()))
            fh.write(_C._storage_bytes(r.tensor))
    finally:
        if owned:
            fh.close()


# ---- load ---------------------------------------------------------------------------------------

def _read_buffer(f, use_mmap):
    """The checkpoint's bytes as a buffer: a private (copy-on-write) memory map of a path,
    or what a file object holds from its position on."""
    if isinstance(f, (str, os.PathLike)):
        with builtins.open(f, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                return b"", True
            access = _mmap.ACCESS_COPY if use_mmap else _mmap.ACCESS_READ
            return _mmap.mmap(fh.fileno(), 0, access=access), True
    if use_mmap:
        raise ValueError("f must be a file path in order to use the mmap argument")
    if not hasattr(f, "read"):
        raise AttributeError(f"expected 'f' to be string, path, or a file-like object with a 'read' attribute, "
                             f"got {type(f).__name__}")
    data = f.read()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"file object's read() returned {type(data).__name__}, not bytes")
    return data, False


def _device_count(kind):
    return _C._cuda_device_count() if kind == "cuda" else 0


def _to_location(flat, target):
    target = target.decode("ascii") if isinstance(target, bytes) else str(target)
    if target == "cpu":
        return flat if flat.device.type == "cpu" else flat.cpu()
    if target.startswith("cuda"):
        n = _device_count("cuda")
        if n == 0:
            raise RuntimeError("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is "
                               "False. If you are running on a CPU-only machine, please use torch.load with "
                               "map_location=torch.device('cpu') to map your storages to the CPU.")
        dev = _C.device(target)
        if (dev.index or 0) >= n:
            raise RuntimeError(f"Attempting to deserialize object on CUDA device {dev.index} but "
                               f"torch.cuda.device_count() is {n}. Please use torch.load with map_location to map "
                               f"your storages to an existing device.")
        return flat.to(dev)
    # Anything else is a device string we do not have (or not a device at all).
    dev = _C.device(target)
    return flat.to(dev)


def _restore_location(flat, location, map_location):
    """Where a storage saved at ``location`` goes, by PyTorch's rules for map_location."""
    if map_location is None:
        return _to_location(flat, location)
    if isinstance(map_location, dict):
        return _to_location(flat, map_location.get(location, location))
    if isinstance(map_location, (str, bytes, _C.device)):
        return _to_location(flat, map_location)
    if callable(map_location):
        r = map_location(flat, location)
        if r is None:
            return _to_location(flat, location)
        if not isinstance(r, _C.Tensor):
            raise TypeError(f"map_location should return a tensor (standing for the storage) or None, not "
                            f"{type(r).__name__}")
        return r
    raise TypeError(f"map_location must be None, a str, a torch.device, a dict or a callable, got "
                    f"{type(map_location).__name__}")


def _storage_pid(pid, legacy):
    """Check a persistent id ('storage', type, key, location, numel[, view]) and unpack it."""
    want = 6 if legacy else 5
    if type(pid) is not tuple or len(pid) != want:
        raise pickle.UnpicklingError(f"expected a storage persistent id of {want} items, got {pid!r:.200}")
    _, stype, key, location, numel = pid[:5]
    if isinstance(stype, _utils.UnsupportedGlobal):
        raise RuntimeError(f"{stype.full}: {stype.why}")
    if not isinstance(stype, _utils.StorageType):
        raise pickle.UnpicklingError(f"storage type must be a torch.*Storage, got {stype!r:.100}")
    key = key.decode("ascii") if isinstance(key, bytes) else key
    location = location.decode("ascii") if isinstance(location, bytes) else location
    if type(key) is not str or type(location) is not str:
        raise pickle.UnpicklingError(f"storage key and location must be str, got {key!r:.100} and {location!r:.100}")
    if type(numel) is not int or numel < 0:
        raise pickle.UnpicklingError(f"storage size must be a non-negative int, got {numel!r:.100}")
    return stype.dtype, key, location, numel, (pid[5] if legacy else None)


def _weights_only_error(e):
    msg = str(e)
    if "was not an allowed global by default" in msg:
        return pickle.UnpicklingError(
            "Weights only load failed. This file can still be loaded, to do so you have two options, do those "
            f"steps only if you trust the source of the checkpoint.\n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, "
            "to load with `weights_only=True` please check the recommended steps in the following error message."
            f"\n\tWeightsUnpickler error: {msg}")
    return pickle.UnpicklingError(f"Weights only load failed. {UNSAFE_MESSAGE}\n\nWeightsUnpickler error: {msg}")


def _full_unpickler(data, persistent_load, pickle_module, pickle_load_args):
    """The unpickler of ``weights_only=False``: anything goes (the user trusts the file),
    with PyTorch's names mapped onto ferrotorch's."""
    base = (pickle_module or pickle).Unpickler
    table = _utils.checkpoint_globals()

    class _Unpickler(base):
        def find_class(self, module, name):
            full = f"{module}.{name}"
            if full in table:
                v = table[full]
                if isinstance(v, _utils.UnsupportedGlobal):
                    raise RuntimeError(f"{full}: {v.why}")
                return v
            if module == "torch" or module.startswith("torch."):
                import importlib
                try:
                    mod = importlib.import_module("ferrotorch" + module[len("torch"):])
                    obj = mod
                    for part in name.split("."):
                        obj = getattr(obj, part)
                    return obj
                except (ImportError, AttributeError):
                    pass
            return super().find_class(module, name)

    u = _Unpickler(data, **pickle_load_args)
    u.persistent_load = persistent_load
    return u


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load an object saved with ``torch.save`` (PyTorch's or ours, zip or legacy format).

    ``weights_only`` (default True) restricts unpickling to tensors, containers, plain values
    and the globals added with ``add_safe_globals``; ``mmap=True`` backs the tensors by a
    private memory map of the file instead of reading them; ``map_location`` is a device,
    a device string, a ``{saved: target}`` dict or a ``callable(storage, location)``."""
    weights_only_not_set = weights_only is None
    if weights_only_not_set:
        weights_only = pickle_module is None
    true_values = ("1", "y", "yes", "true")
    force_wo = os.getenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in true_values
    force_no_wo = os.getenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0").lower() in true_values
    if force_wo and force_no_wo:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` "
                           "should be set, but both were set.")
    if force_wo:
        weights_only = True
    elif force_no_wo and weights_only_not_set:
        warnings.warn("Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since the`weights_only` "
                      "argument was not explicitly passed to `torch.load`, forcing weights_only=False.",
                      UserWarning, stacklevel=2)
        weights_only = False
    if weights_only:
        if pickle_module is not None:
            raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
        if pickle_load_args:
            warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
    pickle_load_args.setdefault("encoding", "utf-8")

    if isinstance(f, (str, os.PathLike)) and os.fspath(f).endswith(".safetensors"):
        return _load_safetensors(os.fspath(f), map_location)

    buf, _ = _read_buffer(f, bool(mmap))
    if len(buf) == 0:
        raise EOFError("Ran out of input")
    if bytes(buf[:4]) == b"PK\x03\x04":
        return _load_zip(buf, map_location, weights_only, bool(mmap), pickle_module, pickle_load_args)
    if mmap:
        name = f"{f}, " if isinstance(f, str) else ""
        raise RuntimeError(f"mmap can only be used with files saved with `torch.save({name}"
                           "_use_new_zipfile_serialization=True), please torch.save your checkpoint with this option "
                           "in order to use mmap.")
    if len(buf) >= 262 and bytes(buf[257:262]) == b"ustar":
        raise RuntimeError("ferrotorch.load: this file is in PyTorch's tar format (before 0.4), which is not "
                           "supported; load and re-save it with an older PyTorch")
    return _load_legacy(buf, map_location, weights_only, pickle_module, pickle_load_args)


def _load_safetensors(path, map_location):
    from . import safetensors as st
    if map_location is None:
        device = "cpu"
    elif isinstance(map_location, (str, bytes, _C.device)):
        device = map_location.decode() if isinstance(map_location, bytes) else str(map_location)
    elif isinstance(map_location, dict):
        raise RuntimeError("Loading safetensors file with dict map_location is not supported. Use a device string "
                           "or torch.device instead.")
    else:
        raise RuntimeError("Loading safetensors file with callable map_location is not supported. Use a device "
                           "string or torch.device instead.")
    return st.load_file(path, device=device)


def _load_zip(buf, map_location, weights_only, use_mmap, pickle_module, pickle_load_args):
    reader = _C.PyTorchFileReader(buf)
    if reader.has_record("constants.pkl"):
        raise RuntimeError("ferrotorch.load: this file is a TorchScript archive (written by torch.jit.save); "
                           "ferrotorch cannot load TorchScript programs. Save the model's state_dict() with "
                           "torch.save instead.")
    if not reader.has_record("data.pkl"):
        raise RuntimeError(f"PytorchStreamReader failed locating file data.pkl: file not found (records: "
                           f"{reader.get_all_records()[:8]})")
    if reader.has_record("byteorder"):
        order = reader.get_record("byteorder")
        if order not in (b"little", b"big"):
            raise ValueError("Unknown endianness type: " + order.decode("ascii", "replace"))
    elif _default_load_endian == LoadEndianness.BIG:
        order = b"big"
    elif _default_load_endian == LoadEndianness.NATIVE:
        order = sys.byteorder.encode()
    else:
        order = b"little"
    swap = order.decode() != sys.byteorder
    loaded = {}

    def persistent_load(pid):
        dtype, key, location, numel, _ = _storage_pid(pid, legacy=False)
        st = loaded.get(key)
        if st is not None:
            if st.dtype == dtype:
                return st
            if st.numel * st.dtype.itemsize != 0 or numel != 0:
                raise RuntimeError(f"storage {key} is referenced as both {st.dtype} and {dtype}")
        nbytes = numel * dtype.itemsize
        name = f"data/{key}"
        if not reader.has_record(name):
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not found")
        _, size = reader.get_record_offset(name)
        if size != nbytes:
            raise RuntimeError(f"storage {key} of {numel} {dtype} elements needs {nbytes} bytes, but record {name} "
                               f"holds {size}")
        flat = reader.get_storage_from_record(name, dtype, copy=not use_mmap, byteswap=swap)
        flat = _restore_location(flat, location, map_location)
        st = _utils.CheckpointStorage(flat, 0, numel, dtype)
        loaded[key] = st
        return st

    data = reader.get_record("data.pkl")
    if weights_only:
        try:
            return _wo.Unpickler(data, encoding=pickle_load_args.get("encoding", "utf-8"),
                                 persistent_load=persistent_load).load()
        except pickle.UnpicklingError as e:
            raise _weights_only_error(e) from None
    return _full_unpickler(io.BytesIO(data), persistent_load, pickle_module, pickle_load_args).load()


def _load_legacy(buf, map_location, weights_only, pickle_module, pickle_load_args):
    """The pre-1.6 format (see `_legacy_save`). Storages are allocated when the object
    pickle names them (each size checked against the bytes left in the file), placed per
    map_location, and filled in place once their bytes, which follow the pickle, are read."""
    encoding = pickle_load_args.get("encoding", "utf-8")

    def small(pos):
        u = _wo.Unpickler(buf, pos, encoding=encoding)
        return u.load(), u.pos

    try:
        magic, pos = small(0)
    except pickle.UnpicklingError as e:
        raise RuntimeError(f"Invalid magic number; corrupt file? (not a checkpoint: {e})") from None
    if type(magic) is not int or magic != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    version, pos = small(pos)
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {version!r:.100}")
    sys_info, pos = small(pos)
    little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
    swap = little != (sys.byteorder == "little")

    declared = {}  # key -> CheckpointStorage (root storages)
    budget = [len(buf) - pos]

    def persistent_load(pid):
        if type(pid) is tuple and pid and pid[0] in ("module", b"module"):
            if weights_only:
                raise pickle.UnpicklingError("Only persistent_load of storage is allowed, but got 'module'")
            return pid[1]
        dtype, key, location, numel, view = _storage_pid(pid, legacy=True)
        root = declared.get(key)
        if root is None:
            nbytes = numel * dtype.itemsize
            if nbytes > budget[0]:
                raise RuntimeError(f"storage {key} declares {nbytes} bytes, more than the {budget[0]} bytes left in "
                                   f"the file")
            budget[0] -= nbytes
            flat = _restore_location(_C.empty(numel, dtype=dtype), location, map_location)
            root = _utils.CheckpointStorage(flat, 0, numel, dtype)
            declared[key] = root
        elif root.dtype != dtype:
            raise RuntimeError(f"storage {key} is referenced as both {root.dtype} and {dtype}")
        if view is None:
            return root
        if type(view) is not tuple or len(view) != 3 or not all(type(v) is int and v >= 0 for v in view[1:]):
            raise pickle.UnpicklingError(f"bad storage view {view!r:.100}")
        _view_key, offset, size = view
        if offset + size > root.numel:
            raise RuntimeError(f"storage view [{offset}, {offset + size}) lies outside storage {key} of {root.numel} "
                               f"elements")
        return _utils.CheckpointStorage(root.tensor, root.offset + offset, size, dtype)

    if weights_only:
        u = _wo.Unpickler(buf, pos, encoding=encoding, persistent_load=persistent_load)
        try:
            result = u.load()
        except pickle.UnpicklingError as e:
            raise _weights_only_error(e) from None
        pos = u.pos
    else:
        stream = io.BytesIO(buf)
        stream.seek(pos)
        result = _full_unpickler(stream, persistent_load, pickle_module, pickle_load_args).load()
        pos = stream.tell()
    keys, pos = small(pos)
    if type(keys) is not list or not all(type(k) in (str, bytes) for k in keys):
        raise RuntimeError("corrupt checkpoint: the storage key list is not a list of strings")
    for k in keys:
        k = k.decode("ascii") if isinstance(k, bytes) else k
        st = declared.get(k)
        if st is None:
            raise RuntimeError(f"corrupt checkpoint: storage key {k!r:.100} not found in the object's storages")
        if pos + 8 > len(buf):
            raise RuntimeError(f"corrupt checkpoint: storage {k} is missing (file truncated)")
        (count,) = struct.unpack("<q", bytes(buf[pos:pos + 8]))
        if swap:
            (count,) = struct.unpack(">q", bytes(buf[pos:pos + 8]))
        if count != st.numel:
            raise RuntimeError(f"storage has wrong size: expected {st.numel} got {count}")
        pos += 8
        nbytes = count * st.dtype.itemsize
        src = _C._tensor_from_buffer(buf, st.dtype, pos, nbytes, True, swap)
        with _no_grad():
            st.tensor.copy_(src)
        pos += nbytes
    return result


def _no_grad():
    from .autograd.grad_mode import no_grad
    return no_grad()
