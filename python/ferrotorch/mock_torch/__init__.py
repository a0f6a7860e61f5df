"""Run PyTorch code unchanged: every ``import torch`` gets ferrotorch.

``python -m ferrotorch.mock_torch [--lazy] [--verbose] script.py args...`` (or ``-m module`` /
``-c code``) runs a program with the switch on; ``with ferrotorch.mock_torch.enable(): ...``
turns it on for a block, and :func:`disable` turns it off.

While it is on, a finder at the front of ``sys.meta_path`` answers every ``torch`` and
``torch.X`` import with the module object of ``ferrotorch`` / ``ferrotorch.X`` itself, which is
then registered under both names: ``torch.Tensor is ferrotorch.Tensor``,
``sys.modules["torch.nn"] is ferrotorch.nn``, and isinstance checks agree across the two
spellings. Any ``torch`` entries already in ``sys.modules`` (a real PyTorch imported earlier)
are set aside, so real PyTorch cannot be reached by import while the switch is on, and are
put back by :func:`disable`.

Child processes inherit the switch through two environment variables: ``FERROTORCH_MOCK_TORCH``
(the options) and ``PYTHONPATH``, which gets the directory of a ``sitecustomize`` bootstrap
(``_bootstrap/``) in front. A new interpreter (``subprocess``, multiprocessing's spawn and
forkserver start methods, hence DataLoader workers started that way) imports that bootstrap at
startup; it installs a small finder that turns the switch on at the first ``torch`` import, so
children that never import torch do not pay for importing ferrotorch. Forked children inherit
the switched-on interpreter as it is.

``lazy=True``: a name ferrotorch lacks (``torch.foo`` read as an attribute of a ferrotorch
module, or ``import torch.foo.bar``) gives a placeholder instead of AttributeError /
ModuleNotFoundError. Reading an attribute of a placeholder gives another placeholder (so
``from torch.fx import symbolic_trace`` still imports); using one (calling it, indexing,
iterating, arithmetic, ``with``, subclassing it) raises NotImplementedError naming the missing
name. A placeholder is falsy and nothing is an instance of one, so feature probes such as
``if getattr(torch.backends, "mps", None)`` take the "absent" branch. ``verbose=True`` prints,
at exit (or at :func:`disable`), every missing name the program touched, to stderr.
"""
import atexit
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types

__all__ = ["enable", "disable", "is_enabled"]

ENV_VAR = "FERROTORCH_MOCK_TORCH"
_BOOTSTRAP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bootstrap")
_TARGET = "ferrotorch"


def _is_torch_name(name):
    return name == "torch" or name.startswith("torch.")


def _target_name(torch_name):
    return _TARGET + torch_name[len("torch"):]


def _torch_name(ferrotorch_name):
    return "torch" + ferrotorch_name[len(_TARGET):]


def _is_public_ferrotorch(name):
    if name != _TARGET and not name.startswith(_TARGET + "."):
        return False
    return not any(part.startswith("_") for part in name.split(".")[1:])


class _Missing(types.ModuleType):
    """Placeholder for a name ferrotorch lacks (lazy mode). A module object so that it can also
    stand in ``sys.modules`` for a missing ``torch.X`` submodule; every method here is a dunder,
    so any public or private attribute read reaches ``__getattr__``."""

    def __init__(self, name):
        super().__init__(name, f"Placeholder for {name}, which ferrotorch does not provide.")
        # A package, so that `import torch.foo.bar` under a missing torch.foo reaches the finder.
        self.__path__ = []

    def __repr__(self):
        return f"<placeholder for {self.__name__}: not provided by ferrotorch>"

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(f"placeholder {self.__name__!r} has no attribute {attr!r}")
        return _placeholder(f"{self.__name__}.{attr}", "read")

    def _use(self, what):
        _touch(self.__name__, what)
        raise NotImplementedError(
            f"{self.__name__} is not provided by ferrotorch (ferrotorch.mock_torch with lazy=True handed out a "
            f"placeholder for it, which cannot be {what})"
        )

    def __call__(self, *args, **kwargs):
        self._use("called")

    def __getitem__(self, key):
        self._use("indexed")

    def __setitem__(self, key, value):
        self._use("indexed")

    def __iter__(self):
        self._use("iterated")

    def __len__(self):
        self._use("sized")

    def __contains__(self, item):
        self._use("searched")

    def __enter__(self):
        self._use("used as a context manager")

    def __exit__(self, *exc):
        self._use("used as a context manager")

    def __mro_entries__(self, bases):
        self._use("subclassed")

    def __index__(self):
        self._use("converted to a number")

    __int__ = __float__ = __complex__ = __index__

    # A placeholder is the answer to "is that feature there?": falsy, and nothing is an instance.
    def __bool__(self):
        _touch(self.__name__, "tested for truth")
        return False

    def __instancecheck__(self, instance):
        _touch(self.__name__, "used in isinstance")
        return False

    def __subclasscheck__(self, subclass):
        _touch(self.__name__, "used in issubclass")
        return False


def _arith(self, *args):
    self._use("used in arithmetic")


for _op in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "and", "or", "xor", "lshift",
            "rshift"):
    for _form in ("__{}__", "__r{}__", "__i{}__"):
        setattr(_Missing, _form.format(_op), _arith)
for _op in ("__neg__", "__pos__", "__abs__", "__invert__", "__lt__", "__le__", "__gt__", "__ge__"):
    setattr(_Missing, _op, _arith)
del _op, _form


class _State:
    def __init__(self, lazy, verbose, inherited):
        self.lazy = lazy
        self.verbose = verbose
        self.inherited = inherited  # switched on in a child by the bootstrap
        self.finder = _TorchFinder()
        self.saved_torch = {}  # torch[.X] entries of sys.modules before enable
        self.modules_before = set()
        self.env_before = {}
        self.hooked = {}  # module name -> (module, what its __dict__ had for "__getattr__"/"__path__")
        self.placeholders = {}
        self.parent_attrs = []  # (module, attribute) the import system set to a placeholder
        self.touched = {}  # missing name -> list of what happened to it, in order
        self.report_at_exit = None


_state = None
_NOTHING = object()


def is_enabled():
    """True while ``import torch`` gets ferrotorch in this process."""
    return _state is not None


def _touch(name, what):
    st = _state
    if st is not None:
        kinds = st.touched.setdefault(name, [])
        if what not in kinds:
            kinds.append(what)


def _placeholder(name, what):
    _touch(name, what)
    st = _state
    if st is None:
        return _Missing(name)
    ph = st.placeholders.get(name)
    if ph is None:
        ph = st.placeholders[name] = _Missing(name)
    return ph


def _make_module_getattr(module):
    """PEP 562 ``__getattr__`` for a ferrotorch module: a placeholder (lazy) or the usual
    AttributeError, recording the name for the verbose report either way."""
    mod_name = module.__name__
    torch_prefix = _torch_name(mod_name)

    def __getattr__(name):
        if _state is None or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(f"module {mod_name!r} has no attribute {name!r}")
        full = f"{torch_prefix}.{name}"
        if _state.lazy:
            return _placeholder(full, "read")
        _touch(full, "read (AttributeError)")
        raise AttributeError(f"module {mod_name!r} has no attribute {name!r}")

    __getattr__._ferrotorch_mock_torch = True
    return __getattr__


def _hook(module):
    """Give a public ferrotorch module the missing-name hook (lazy or verbose only); in lazy mode
    a plain module also gets an empty ``__path__`` so that ``import torch.cuda.amp`` reaches the
    finder rather than failing with "'torch.cuda' is not a package"."""
    st = _state
    if st is None or not (st.lazy or st.verbose) or isinstance(module, _Missing):
        return
    name = getattr(module, "__name__", None)
    if not isinstance(name, str) or name in st.hooked or not _is_public_ferrotorch(name) or name == __name__:
        return
    d = module.__dict__
    saved = (d.get("__getattr__", _NOTHING), d.get("__path__", _NOTHING))
    if saved[0] is not _NOTHING:
        return  # the module has its own __getattr__: leave it alone
    st.hooked[name] = (module, saved)
    module.__getattr__ = _make_module_getattr(module)
    if st.lazy and saved[1] is _NOTHING:
        module.__path__ = []


def _unhook(st):
    for module, (old_getattr, old_path) in st.hooked.values():
        d = module.__dict__
        if getattr(d.get("__getattr__"), "_ferrotorch_mock_torch", False):
            del d["__getattr__"]
        if old_path is _NOTHING and d.get("__path__") == []:
            del d["__path__"]
    st.hooked.clear()


class _TorchLoader(importlib.abc.Loader):
    """Hands the import system the existing ferrotorch module (or a placeholder) for a torch name."""

    def __init__(self, module):
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        # The import system stamped our torch-named spec on the module: give ferrotorch's back.
        if not isinstance(module, _Missing):
            module.__spec__ = self.spec
        else:
            st = _state
            if st is not None:
                parent, _, child = module.__name__.rpartition(".")
                # the import system sets it on the parent next; disable() takes it off again
                st.parent_attrs.append((sys.modules.get(parent), child))


class _TorchFinder(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path``: answers ``torch`` and ``torch.X`` with ferrotorch's modules."""

    def find_spec(self, fullname, path=None, target=None):
        if not _is_torch_name(fullname):
            return None
        st = _state
        if st is None:
            return None
        module = self._resolve(fullname, st)
        if module is None:
            return None
        loader = _TorchLoader(module)
        return importlib.machinery.ModuleSpec(fullname, loader, origin=getattr(module.__spec__, "origin", None))

    def _resolve(self, fullname, st):
        parent_name, _, child = fullname.rpartition(".")
        parent = sys.modules.get(parent_name) if parent_name else None
        if isinstance(parent, _Missing):
            return _placeholder(fullname, "imported")
        target = _target_name(fullname)
        module = sys.modules.get(target)
        if module is None:
            try:
                found = importlib.util.find_spec(target)
            except ModuleNotFoundError:
                found = None  # the ferrotorch parent is a plain module, not a package
            if found is not None:
                module = importlib.import_module(target)
            else:
                # a module ferrotorch exposes as an attribute only (read past the missing-name hook)
                attr = getattr(parent, "__dict__", {}).get(child)
                if isinstance(attr, types.ModuleType) and not isinstance(attr, _Missing):
                    module = attr
        if module is None:
            if st.lazy:
                return _placeholder(fullname, "imported")
            # Not found: the path finder that runs next looks in the ferrotorch package's
            # directory, finds nothing either, and the import raises the usual
            # ModuleNotFoundError (importlib.util.find_spec returns None, as probes expect).
            _touch(fullname, "imported (ModuleNotFoundError)")
            return None
        _hook(module)
        return module


def _report(st):
    if not st.touched:
        if not st.inherited:
            print("ferrotorch.mock_torch: no name that ferrotorch lacks was touched", file=sys.stderr)
        return
    where = "" if not st.inherited else f" (process {os.getpid()})"
    lines = [f"ferrotorch.mock_torch{where}: names that ferrotorch lacks, touched by the program:"]
    lines += [f"  {name}: {', '.join(kinds)}" for name, kinds in st.touched.items()]
    print("\n".join(lines), file=sys.stderr)


def _env_value(lazy, verbose):
    return ",".join(["on"] + (["lazy"] if lazy else []) + (["verbose"] if verbose else []))


def _parse_env(value):
    flags = {f.strip() for f in value.split(",") if f.strip()}
    return "lazy" in flags, "verbose" in flags


class _Switch:
    """What :func:`enable` returns: the switch is already on; leaving the ``with`` block turns it
    off (unless this enable() found it already on, then the outer owner turns it off)."""

    def __init__(self, owner):
        self._owner = owner

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._owner and _state is not None:
            disable()
        return False


def enable(lazy=False, verbose=False):
    """Turn the switch on: from now on ``import torch[.X]`` gets ``ferrotorch[.X]``, here and in
    child processes started while it is on. Usable as a context manager, which calls
    :func:`disable` at the end of the block. Calling it while already on changes nothing (the
    first options stay) and its ``with`` block does not turn the switch off."""
    return _enable(bool(lazy), bool(verbose), inherited=False)


def _enable(lazy, verbose, inherited):
    global _state
    if _state is not None:
        return _Switch(owner=False)
    import ferrotorch  # noqa: F401  (the target; already imported when this module is)

    st = _State(lazy, verbose, inherited)
    st.modules_before = set(sys.modules)
    for name in list(sys.modules):
        if _is_torch_name(name):
            st.saved_torch[name] = sys.modules.pop(name)
    for var, value in ((ENV_VAR, _env_value(lazy, verbose)), ("PYTHONPATH", _with_bootstrap(os.environ))):
        st.env_before[var] = os.environ.get(var)
        os.environ[var] = value
    _state = st
    sys.meta_path.insert(0, st.finder)
    for name, module in list(sys.modules.items()):
        if isinstance(module, types.ModuleType):
            _hook(module)
    if verbose:
        st.report_at_exit = lambda: _report(st)
        atexit.register(st.report_at_exit)
    return _Switch(owner=True)


def _with_bootstrap(environ):
    parts = [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if _BOOTSTRAP_DIR not in parts:
        parts.insert(0, _BOOTSTRAP_DIR)
    return os.pathsep.join(parts)


def disable():
    """Turn the switch off and put ``sys.modules`` back as it was before :func:`enable`: the
    ``torch`` entries it set aside return (a real PyTorch imported before, if any), the ``torch``
    names it registered go, and so does every module first imported while it was on (so that a
    later import of it binds the real torch), except ferrotorch's own, the standard library's and
    packages with compiled extension modules (which cannot be initialised twice). The environment
    variables it set are restored. Does nothing if the switch is off."""
    global _state
    st = _state
    if st is None:
        return
    _state = None
    try:
        sys.meta_path.remove(st.finder)
    except ValueError:
        pass
    _unhook(st)
    for parent, attr in st.parent_attrs:
        if parent is not None and isinstance(parent.__dict__.get(attr), _Missing):
            delattr(parent, attr)
    torch_names = [n for n in sys.modules if _is_torch_name(n)]
    mocked = {id(sys.modules[n]) for n in torch_names}
    for name in _imported_while_on(st, mocked):
        sys.modules.pop(name, None)
    for name in torch_names:
        del sys.modules[name]
    sys.modules.update(st.saved_torch)
    for var, value in st.env_before.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value
    if st.report_at_exit is not None:
        atexit.unregister(st.report_at_exit)
        _report(st)


def _imported_while_on(st, mocked):
    """The modules first imported while the switch was on that disable() forgets: every module of
    a package first imported then, and a new submodule of an older package if its namespace holds
    one of the mocked modules (`import torch`, `from torch import nn`). Kept: ferrotorch's own,
    the standard library's, and packages with a compiled module among the new ones."""
    new = [n for n in sys.modules if n not in st.modules_before and not _is_torch_name(n)]
    keep_top = set()
    for name in new:
        top = name.partition(".")[0]
        if top == _TARGET or _is_stdlib(top) or _is_compiled(sys.modules.get(name)):
            keep_top.add(top)
    gone = []
    for name in new:
        top = name.partition(".")[0]
        if top in keep_top:
            continue
        namespace = getattr(sys.modules.get(name), "__dict__", {})
        if top not in st.modules_before or any(id(v) in mocked for v in list(namespace.values())):
            gone.append(name)
    return gone


def _is_compiled(module):
    loader = getattr(getattr(module, "__spec__", None), "loader", None)
    return isinstance(loader, importlib.machinery.ExtensionFileLoader) or loader is importlib.machinery.BuiltinImporter


def _is_stdlib(top):
    names = getattr(sys, "stdlib_module_names", None)  # Python >= 3.10
    if names is not None:
        return top in names
    module = sys.modules.get(top)
    origin = getattr(getattr(module, "__spec__", None), "origin", None) or ""
    import sysconfig

    stdlib = sysconfig.get_paths()["stdlib"]
    return origin in ("built-in", "frozen") or (origin.startswith(stdlib) and "site-packages" not in origin)


def _enable_from_env():
    """Called by the bootstrap in a child process whose parent had the switch on."""
    value = os.environ.get(ENV_VAR, "")
    if value:
        lazy, verbose = _parse_env(value)
        _enable(lazy, verbose, inherited=True)
