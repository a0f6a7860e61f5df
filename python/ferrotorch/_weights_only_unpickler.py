"""The unpickler of ``load(..., weights_only=True)``: a pickle reader that can build tensors,
containers and plain values, and nothing else.

Threat model: the file is hostile. The only callables it can reach are the exact
``"module.qualname"`` strings of an allow-list (:func:`allowed_globals`, plus what the user
adds with ``serialization.add_safe_globals``); a name is looked up in that dict and
nowhere else, so no module is imported, no attribute path is followed and no prefix
matches. ``BUILD`` sets state only on a few types, ``APPEND``/``SETITEM`` only touch real
lists and dicts, and every length is checked against the bytes that are actually there
(a string claiming 4 GB in a 1 KB file is an error, not an allocation).

Rejected alternative: subclassing :class:`pickle.Unpickler` and filtering ``find_class``.
That is what let the earlier filter be walked around (``find_class`` resolved a dotted
name through ``getattr`` to ``eval``, and a prefix rule imported any module named
``ferrotorch*``), and the C unpickler still runs ``BUILD``/``__setstate__`` on whatever the
allowed callables return. Modelled on PyTorch's ``torch/_weights_only_unpickler.py``, with
the opcodes of protocols 3-5 (which PyTorch's lacks) and strict length checks.
"""
import codecs
import collections
import pickle
import struct
from pickle import UnpicklingError

__all__ = ["Unpickler", "UnpicklingError", "allowed_globals", "user_allowed_globals", "scan_globals"]

# Modules nothing may come from, even when a user allow-lists one of their names (as
# PyTorch's `_blocklisted_modules`, plus the process-spawning ones).
_BLOCKED_MODULES = frozenset({"sys", "os", "posix", "nt", "subprocess", "shutil", "socket",
                              "importlib", "runpy", "pty", "ctypes"})
# Builtins that run code or reach arbitrary attributes: refused even if allow-listed.
_BLOCKED_BUILTINS = frozenset({"eval", "exec", "compile", "__import__", "getattr", "setattr", "delattr",
                               "open", "breakpoint", "input", "globals", "locals", "vars", "__build_class__"})

# user-added safe globals: {callable or (callable, "module.name")}
_user_safe = []


def add_safe_globals(items):
    for it in items:
        if it not in _user_safe:
            _user_safe.append(it)


def remove_safe_globals(items):
    for it in items:
        if it in _user_safe:
            _user_safe.remove(it)


def get_safe_globals():
    return list(_user_safe)


def clear_safe_globals():
    _user_safe.clear()


def user_allowed_globals():
    """{"module.qualname": object} of the globals the user marked safe."""
    out = {}
    for f in _user_safe:
        if isinstance(f, tuple):
            if len(f) != 2:
                raise ValueError(f"Expected tuple of length 2 (global, str of callable full path), but got tuple "
                                 f"of length: {len(f)}")
            if type(f[1]) is not str:
                raise TypeError(f"Expected second item in tuple to be str of callable full path, but got: "
                                f"{type(f[1])}")
            out[f[1]] = f[0]
        else:
            out[f"{f.__module__}.{f.__qualname__}"] = f
    return out


def _safe_encode(obj, encoding="latin1"):
    """``_codecs.encode`` as protocol 2 uses it for bytes: a str in latin-1 (only)."""
    if type(obj) is not str or encoding not in ("latin1", "latin-1", "iso8859-1"):
        raise UnpicklingError(f"_codecs.encode is only allowed on a str with the latin1 encoding, got "
                              f"{type(obj).__name__} and {encoding!r}")
    return codecs.encode(obj, "latin1")


def _safe_bytearray(*args):
    """``bytearray`` from bytes or a list of ints: never ``bytearray(huge_int)``."""
    if len(args) == 0:
        return bytearray()
    if len(args) == 1 and isinstance(args[0], (bytes, bytearray, list)):
        return bytearray(args[0])
    raise UnpicklingError("builtins.bytearray is only allowed on bytes or a list of ints")


_ALLOWED = None


def allowed_globals():
    """{"module.qualname": object} that a weights-only load resolves by default: PyTorch's
    names for what a checkpoint of tensors, state dicts and optimizer states needs."""
    global _ALLOWED
    if _ALLOWED is None:
        from . import _C, _utils
        from ._size import Size
        from .nn.parameter import Parameter
        rc = {
            "collections.OrderedDict": collections.OrderedDict,
            "collections.Counter": collections.Counter,
            "torch.nn.parameter.Parameter": Parameter,
            "torch.Size": Size,
            "torch.Tensor": _C.Tensor,
            "torch.device": _C.device,
            "_codecs.encode": _safe_encode,
            "builtins.bytearray": _safe_bytearray,
            "builtins.set": set,
            "builtins.frozenset": frozenset,
            "builtins.complex": complex,
        }
        rc.update(_utils.checkpoint_globals())
        _ALLOWED = rc
    return _ALLOWED


# Opcodes as ints (the loop compares the byte at the read position).
_ADDITEMS = pickle.ADDITEMS[0]
_APPEND = pickle.APPEND[0]
_APPENDS = pickle.APPENDS[0]
_BINBYTES = pickle.BINBYTES[0]
_BINBYTES8 = pickle.BINBYTES8[0]
_BINFLOAT = pickle.BINFLOAT[0]
_BINGET = pickle.BINGET[0]
_BININT = pickle.BININT[0]
_BININT1 = pickle.BININT1[0]
_BININT2 = pickle.BININT2[0]
_BINPERSID = pickle.BINPERSID[0]
_BINPUT = pickle.BINPUT[0]
_BINSTRING = pickle.BINSTRING[0]
_BINUNICODE = pickle.BINUNICODE[0]
_BINUNICODE8 = pickle.BINUNICODE8[0]
_BUILD = pickle.BUILD[0]
_BYTEARRAY8 = pickle.BYTEARRAY8[0]
_DICT = pickle.DICT[0]
_DUP = pickle.DUP[0]
_EMPTY_DICT = pickle.EMPTY_DICT[0]
_EMPTY_LIST = pickle.EMPTY_LIST[0]
_EMPTY_SET = pickle.EMPTY_SET[0]
_EMPTY_TUPLE = pickle.EMPTY_TUPLE[0]
_FRAME = pickle.FRAME[0]
_FROZENSET = pickle.FROZENSET[0]
_GLOBAL = pickle.GLOBAL[0]
_LIST = pickle.LIST[0]
_LONG1 = pickle.LONG1[0]
_LONG4 = pickle.LONG4[0]
_LONG_BINGET = pickle.LONG_BINGET[0]
_LONG_BINPUT = pickle.LONG_BINPUT[0]
_MARK = pickle.MARK[0]
_MEMOIZE = pickle.MEMOIZE[0]
_NEWFALSE = pickle.NEWFALSE[0]
_NEWOBJ = pickle.NEWOBJ[0]
_NEWTRUE = pickle.NEWTRUE[0]
_NONE = pickle.NONE[0]
_POP = pickle.POP[0]
_POP_MARK = pickle.POP_MARK[0]
_PROTO = pickle.PROTO[0]
_REDUCE = pickle.REDUCE[0]
_SETITEM = pickle.SETITEM[0]
_SETITEMS = pickle.SETITEMS[0]
_SHORT_BINBYTES = pickle.SHORT_BINBYTES[0]
_SHORT_BINSTRING = pickle.SHORT_BINSTRING[0]
_SHORT_BINUNICODE = pickle.SHORT_BINUNICODE[0]
_STACK_GLOBAL = pickle.STACK_GLOBAL[0]
_STOP = pickle.STOP[0]
_TUPLE = pickle.TUPLE[0]
_TUPLE1 = pickle.TUPLE1[0]
_TUPLE2 = pickle.TUPLE2[0]
_TUPLE3 = pickle.TUPLE3[0]


def _resolve_name(module, name):
    # Python 2 pickles (protocol 2 from py2) name a few builtins by their old modules.
    return pickle._compat_pickle.NAME_MAPPING.get((module, name), (
        pickle._compat_pickle.IMPORT_MAPPING.get(module, module), name))


def _display(full):
    return full[len("builtins."):] if full.startswith("builtins.") else full


class _PendingNewobj:
    def __init__(self, cls, args):
        self.cls, self.args = cls, args


class Unpickler:
    """Reads one pickle from ``data`` (bytes-like) starting at ``pos``; after ``load()``,
    ``pos`` is just past its STOP opcode (the legacy format holds several in a row)."""

    def __init__(self, data, pos=0, *, encoding="utf-8", persistent_load=None):
        self.data = data if isinstance(data, bytes) else memoryview(data).cast("B")
        self.pos = pos
        self.encoding = encoding
        self.persistent_load = persistent_load
        self.memo = {}

    def _read(self, n):
        p = self.pos
        end = p + n
        if n < 0 or end > len(self.data):
            raise UnpicklingError(f"pickle data was truncated: {n} bytes wanted at position {p}, "
                                  f"{len(self.data) - p} left")
        self.pos = end
        return bytes(self.data[p:end])

    def _readline(self):
        d = self.data
        p = self.pos
        limit = min(len(d), p + 4096)
        for i in range(p, limit):
            if d[i] == 10:
                self.pos = i + 1
                return bytes(d[p:i])
        raise UnpicklingError(f"pickle data was truncated: no end of line after position {p}")

    def _find_global(self, module, name):
        module, name = _resolve_name(module, name)
        full = f"{module}.{name}"
        top = module.split(".")[0]
        if top in _BLOCKED_MODULES or module in _BLOCKED_MODULES:
            raise UnpicklingError(f"Trying to load unsupported GLOBAL {full} whose module {module} is blocked.")
        if module == "builtins" and name in _BLOCKED_BUILTINS:
            raise UnpicklingError(f"Trying to load unsupported GLOBAL {full}, which is blocked.")
        allowed = allowed_globals()
        if full in allowed:
            v = allowed[full]
            if type(v).__name__ == "UnsupportedGlobal":
                raise RuntimeError(f"{full}: {v.why}")
            return v
        user = user_allowed_globals()
        if full in user:
            return user[full]
        shown = _display(full)
        raise UnpicklingError(
            f"Unsupported global: GLOBAL {shown} was not an allowed global by default. Please use "
            f"`torch.serialization.add_safe_globals([{shown}])` or the "
            f"`torch.serialization.safe_globals([{shown}])` context manager to allowlist this global if you "
            f"trust this class/function.")

    def _is_allowed(self, obj):
        for table in (allowed_globals(), user_allowed_globals()):
            for v in table.values():
                if obj is v:
                    return True
        return False

    def load(self):
        from . import _C
        from .nn.parameter import Parameter
        stack = []
        metastack = []
        memo = self.memo
        pending = []
        read = self._read
        encoding = self.encoding
        self.proto = 2

        def pop_mark():
            nonlocal stack
            if not metastack:
                raise UnpicklingError(f"unexpected MARK-consuming opcode at position {op_pos}: no MARK")
            items = stack
            stack = metastack.pop()
            return items

        def need(n):
            if len(stack) < n:
                raise UnpicklingError(f"pickle stack underflow at position {op_pos} (opcode {bytes([op])!r})")

        while True:
            op_pos = self.pos
            if op_pos >= len(self.data):
                raise UnpicklingError("pickle data was truncated (no STOP opcode)")
            op = self.data[op_pos]
            self.pos = op_pos + 1
            # -- values ----------------------------------------------------------------
            if op == _BININT1:
                stack.append(read(1)[0])
            elif op == _BININT:
                stack.append(struct.unpack("<i", read(4))[0])
            elif op == _BININT2:
                stack.append(struct.unpack("<H", read(2))[0])
            elif op == _LONG1:
                n = read(1)[0]
                stack.append(pickle.decode_long(read(n)))
            elif op == _LONG4:
                n = struct.unpack("<i", read(4))[0]
                if n < 0:
                    raise UnpicklingError("LONG pickle has negative byte count")
                stack.append(pickle.decode_long(read(n)))
            elif op == _BINFLOAT:
                stack.append(struct.unpack(">d", read(8))[0])
            elif op == _NONE:
                stack.append(None)
            elif op == _NEWTRUE:
                stack.append(True)
            elif op == _NEWFALSE:
                stack.append(False)
            elif op == _BINUNICODE:
                n = struct.unpack("<I", read(4))[0]
                stack.append(str(read(n), "utf-8", "surrogatepass"))
            elif op == _SHORT_BINUNICODE:
                n = read(1)[0]
                stack.append(str(read(n), "utf-8", "surrogatepass"))
            elif op == _BINUNICODE8:
                n = struct.unpack("<Q", read(8))[0]
                stack.append(str(read(n), "utf-8", "surrogatepass"))
            elif op == _SHORT_BINBYTES:
                stack.append(read(read(1)[0]))
            elif op == _BINBYTES:
                stack.append(read(struct.unpack("<I", read(4))[0]))
            elif op == _BINBYTES8:
                stack.append(read(struct.unpack("<Q", read(8))[0]))
            elif op == _BYTEARRAY8:
                stack.append(bytearray(read(struct.unpack("<Q", read(8))[0])))
            elif op in (_SHORT_BINSTRING, _BINSTRING):
                n = read(1)[0] if op == _SHORT_BINSTRING else struct.unpack("<i", read(4))[0]
                s = read(n)
                stack.append(s if encoding == "bytes" else s.decode(encoding, "strict"))
            # -- containers ------------------------------------------------------------
            elif op == _EMPTY_TUPLE:
                stack.append(())
            elif op == _EMPTY_LIST:
                stack.append([])
            elif op == _EMPTY_DICT:
                stack.append({})
            elif op == _EMPTY_SET:
                stack.append(set())
            elif op == _MARK:
                metastack.append(stack)
                stack = []
            elif op == _TUPLE:
                items = pop_mark()
                stack.append(tuple(items))
            elif op == _TUPLE1:
                need(1)
                stack[-1] = (stack[-1],)
            elif op == _TUPLE2:
                need(2)
                stack[-2:] = [(stack[-2], stack[-1])]
            elif op == _TUPLE3:
                need(3)
                stack[-3:] = [(stack[-3], stack[-2], stack[-1])]
            elif op == _LIST:
                stack.append(pop_mark())
            elif op == _DICT:
                items = pop_mark()
                if len(items) % 2:
                    raise UnpicklingError(f"odd number of items for DICT at position {op_pos}")
                stack.append({items[i]: items[i + 1] for i in range(0, len(items), 2)})
            elif op == _FROZENSET:
                stack.append(frozenset(pop_mark()))
            elif op == _APPEND:
                need(2)
                item = stack.pop()
                if type(stack[-1]) is not list:
                    raise UnpicklingError(f"Can only append to lists, but got {type(stack[-1])}")
                stack[-1].append(item)
            elif op == _APPENDS:
                items = pop_mark()
                need(1)
                if type(stack[-1]) is not list:
                    raise UnpicklingError(f"Can only extend lists, but got {type(stack[-1])}")
                stack[-1].extend(items)
            elif op == _SETITEM:
                need(3)
                v = stack.pop()
                k = stack.pop()
                self._check_dict(stack[-1], "SETITEM")
                stack[-1][k] = v
            elif op == _SETITEMS:
                items = pop_mark()
                need(1)
                if len(items) % 2:
                    raise UnpicklingError(f"odd number of items for SETITEMS at position {op_pos}")
                self._check_dict(stack[-1], "SETITEMS")
                d = stack[-1]
                for i in range(0, len(items), 2):
                    d[items[i]] = items[i + 1]
            elif op == _ADDITEMS:
                items = pop_mark()
                need(1)
                if type(stack[-1]) is not set:
                    raise UnpicklingError(f"Can only add items to sets, but got {type(stack[-1])}")
                stack[-1].update(items)
            # -- stack and memo --------------------------------------------------------
            elif op == _POP:
                if stack:
                    stack.pop()
                else:
                    pop_mark()
            elif op == _POP_MARK:
                pop_mark()
            elif op == _DUP:
                need(1)
                stack.append(stack[-1])
            elif op in (_BINPUT, _LONG_BINPUT):
                i = read(1)[0] if op == _BINPUT else struct.unpack("<I", read(4))[0]
                need(1)
                memo[i] = stack[-1]
            elif op == _MEMOIZE:
                need(1)
                memo[len(memo)] = stack[-1]
            elif op in (_BINGET, _LONG_BINGET):
                i = read(1)[0] if op == _BINGET else struct.unpack("<I", read(4))[0]
                if i not in memo:
                    raise UnpicklingError(f"Memo value not found at index {i} (position {op_pos})")
                stack.append(memo[i])
            elif op == _PROTO:
                self.proto = read(1)[0]
                if self.proto > pickle.HIGHEST_PROTOCOL:
                    raise UnpicklingError(f"unsupported pickle protocol: {self.proto}")
            elif op == _FRAME:
                n = struct.unpack("<Q", read(8))[0]
                if n > len(self.data) - self.pos:
                    raise UnpicklingError(f"pickle data was truncated: frame of {n} bytes at position {op_pos}")
            elif op == _STOP:
                if pending:
                    raise UnpicklingError("Object created by NEWOBJ was not initialized by BUILD; the pickle data "
                                          "is likely corrupt or malicious")
                need(1)
                if metastack:
                    raise UnpicklingError("unbalanced MARK before STOP")
                return stack.pop()
            # -- the risky ones --------------------------------------------------------
            elif op == _GLOBAL:
                module = self._readline().decode("utf-8")
                name = self._readline().decode("utf-8")
                stack.append(self._find_global(module, name))
            elif op == _STACK_GLOBAL:
                need(2)
                name = stack.pop()
                module = stack.pop()
                if type(module) is not str or type(name) is not str:
                    raise UnpicklingError("STACK_GLOBAL requires str module and name")
                stack.append(self._find_global(module, name))
            elif op == _REDUCE:
                need(2)
                args = stack.pop()
                func = stack[-1]
                if type(args) is not tuple:
                    raise UnpicklingError(f"REDUCE arguments must be a tuple, got {type(args).__name__}")
                if not self._is_allowed(func):
                    msg = f"Trying to call reduce for unrecognized function {func!r}"
                    raise UnpicklingError(msg)
                if isinstance(func, type) and issubclass(func, _C.Tensor):
                    _check_tensor_args(func, args)
                stack[-1] = func(*args)
            elif op == _NEWOBJ:
                need(2)
                args = stack.pop()
                cls = stack.pop()
                if type(args) is not tuple:
                    raise UnpicklingError(f"NEWOBJ arguments must be a tuple, got {type(args).__name__}")
                if isinstance(cls, type) and issubclass(cls, _C.Tensor):
                    _check_tensor_args(cls, args)
                if cls is Parameter:
                    stack.append(Parameter(*args))
                elif isinstance(cls, type) and self._is_allowed(cls):
                    if cls is _C.Tensor or issubclass(cls, _C.Tensor):
                        obj = _PendingNewobj(cls, args)
                        pending.append(obj)
                    else:
                        obj = cls.__new__(cls, *args)
                    stack.append(obj)
                else:
                    raise UnpicklingError(f"Can only create new object for nn.Parameter or classes allowlisted via "
                                          f"`add_safe_globals` but got {cls!r}")
            elif op == _BUILD:
                need(2)
                state = stack.pop()
                inst = stack[-1]
                if isinstance(inst, _PendingNewobj):
                    p = inst
                    if type(state) is tuple and len(state) == 4:
                        # A tensor pickled as NEWOBJ + BUILD(storage, offset, size, stride):
                        # PyTorch's legacy `set_` form.
                        from . import _utils
                        inst = _utils.ckpt_rebuild_tensor(*state)
                        if p.cls is not _C.Tensor:
                            inst = _C.Tensor.__new__(p.cls, inst)
                        state = None
                    else:
                        inst = p.cls.__new__(p.cls, *p.args)
                    stack[-1] = inst
                    for k, v in list(memo.items()):
                        if v is p:
                            memo[k] = inst
                    pending.remove(p)
                self._build(inst, state, Parameter)
            elif op == _BINPERSID:
                need(1)
                pid = stack.pop()
                if type(pid) is not tuple:
                    raise UnpicklingError(f"persistent_load id must be tuple, but got {type(pid)}")
                if not pid or _ascii(pid[0]) != "storage":
                    raise UnpicklingError(f"Only persistent_load of storage is allowed, but got {pid[:1]!r}")
                if self.persistent_load is None:
                    raise UnpicklingError("unsupported persistent id encountered")
                stack.append(self.persistent_load(pid))
            else:
                raise UnpicklingError(f"Unsupported operand {op} ({bytes([op])!r}) at position {op_pos}")

    @staticmethod
    def _check_dict(obj, opcode):
        if type(obj) not in (dict, collections.OrderedDict, collections.Counter):
            raise UnpicklingError(f"Can only {opcode} for dict, collections.OrderedDict, collections.Counter, but "
                                  f"got {type(obj)}")

    def _build(self, inst, state, Parameter):
        if state is None:
            return
        if type(inst) is Parameter:
            if state is None:
                return
            if type(state) is not dict or not all(type(k) is str for k in state):
                raise UnpicklingError("Parameter state must be a dict with str keys")
            inst.__dict__.update(state)
        elif type(inst) is collections.OrderedDict:
            if type(state) is not dict or not all(type(k) is str for k in state):
                raise UnpicklingError("OrderedDict state must be a dict with str keys")
            inst.__dict__.update(state)
        elif any(type(inst) is v for v in user_allowed_globals().values()):
            if hasattr(inst, "__setstate__"):
                inst.__setstate__(state)
            else:
                slotstate = None
                if isinstance(state, tuple) and len(state) == 2:
                    state, slotstate = state
                if state:
                    inst.__dict__.update(state)
                if slotstate:
                    for k, v in slotstate.items():
                        setattr(inst, k, v)
        else:
            raise UnpicklingError(f"Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                                  f"`add_safe_globals`, but got {type(inst)}")


def _check_tensor_args(cls, args):
    """A tensor class called from a file may only wrap a tensor: ``Tensor(2**40)`` would
    allocate what the file asks for."""
    from . import _C
    if args and not isinstance(args[0], _C.Tensor):
        raise UnpicklingError(f"{cls.__name__}(...) in a checkpoint must wrap a tensor, got "
                              f"{type(args[0]).__name__}")
    if len(args) > 2 or (len(args) == 2 and type(args[1]) is not bool):
        raise UnpicklingError(f"{cls.__name__}(...) in a checkpoint takes (tensor[, requires_grad])")


def _ascii(s):
    return s.decode("ascii", "replace") if isinstance(s, bytes) else s


def scan_globals(data):
    """Every "module.name" a pickle names with GLOBAL or STACK_GLOBAL, read without
    running anything (for ``get_unsafe_globals_in_checkpoint``)."""
    import pickletools
    out = set()
    strings = []
    for op, arg, _pos in pickletools.genops(bytes(data)):
        if op.name == "GLOBAL":
            module, _, name = arg.partition(" ")
            module, name = _resolve_name(module, name)
            out.add(f"{module}.{name}")
        elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
            out.add(f"{strings[-2]}.{strings[-1]}")
        elif isinstance(arg, str) and op.name in ("BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "UNICODE"):
            strings.append(arg)
        if op.name == "STOP":
            break
    return out
