"""`python/ferrotorch/_C.pyi` must describe the compiled extension exactly, and the package's
whole public surface must be visible to type checkers.

No third-party type checker: the stub is parsed with `ast` and compared with the live
module. `stub_problems` returns one line per disagreement:

  (a) every top-level function/class/variable and every class member the stub declares
      exists in `ferrotorch._C` with the same kind (function, class, value of the
      annotated class; method or property, and a property has a setter exactly when the
      runtime attribute is writable);
  (b) every public name of the module, and every member in the own `__dict__` of each
      class it defines, is declared (see AUTO_MEMBERS / SLOT_ARTIFACTS for what is not),
      the plain-Python methods the package adds to `Tensor` at import included;
  (c) each declared function/method has the runtime `inspect.signature` (PyO3's
      `__text_signature__`; for a Python-level method, its own or the one its wrapper
      shows): same parameters in order, same kinds, same "has a default". Names are
      compared except for positional-only parameters, whose names callers can never use
      (CPython's slot wrappers call them `value`, `key`, `mod`).

`namespace_problems` does the same for the package: `ferrotorch/__init__.py` is parsed with
`ast`, and every public attribute of `ferrotorch` must be bound there statically (imported,
assigned or defined at module level, not written through `globals()`), once, and a name
taken from `ferrotorch._C` must be declared in the stub.

The last tests mutate the parsed stub and `__init__.py` and check that the checkers report
each mutation, so a binding or a Python-composed op added or renamed without a stub update,
or bound dynamically, cannot slip through.
"""
import ast
import functools
import inspect
import os
import tomllib
import types

import pytest

import ferrotorch
import ferrotorch._C as C

# The source stub is checked against whichever `ferrotorch._C` is imported (the installed
# wheel in CI, python/ with PYTHONPATH=python); test_installed_package_ships_the_stub
# checks that the imported package carries the same file.
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_PKG = os.path.join(REPO, "python", "ferrotorch")
STUB_PATH = os.path.join(SOURCE_PKG, "_C.pyi")

# In every class __dict__ without being a binding written in Rust.
AUTO_MEMBERS = {"__doc__", "__module__", "__dict__", "__weakref__"}

# Slot wrappers CPython exposes as a side effect of a slot the class fills. A class that
# defines only __eq__ gets tp_richcompare, which also shows __lt__/__le__/__gt__/__ge__
# (they return NotImplemented, so `<` raises TypeError); __setitem__ fills
# mp_ass_subscript, which also shows __delitem__ (PyO3 raises NotImplementedError).
# Declaring them would tell type checkers those operations work, so the stub must not.
# The test_slot_artifact* tests keep this list honest.
_RICHCMP_ONLY_EQ = frozenset({"__lt__", "__le__", "__gt__", "__ge__"})
SLOT_ARTIFACTS = {
    "dtype": _RICHCMP_ONLY_EQ,
    "device": _RICHCMP_ONLY_EQ,
    "Node": _RICHCMP_ONLY_EQ,
    "Tensor": frozenset({"__delitem__"}),
}

_DESCRIPTOR_PROPERTY = (types.GetSetDescriptorType, types.MemberDescriptorType)
# Python-level objects the package may attach to a compiled class (not bindings).
_PYTHON_LEVEL = (types.FunctionType, property, staticmethod, classmethod)


def _samples():
    """One instance per class, to probe which properties are writable."""
    leaf = C.ones(2, requires_grad=True)
    return {
        "Tensor": C.zeros(2, 2),  # a matrix: `.mT` needs two dims
        "dtype": C.float32,
        "device": C.device("cpu"),
        "Generator": C.Generator(),
        "Node": leaf.mul(2).grad_fn,
    }


# ---- the stub as data ------------------------------------------------------------------

class Member:
    def __init__(self, kind, node):
        self.kind = kind  # "method" or "property"
        self.node = node
        self.settable = False


def _decorators(fn):
    names = set()
    for d in fn.decorator_list:
        if isinstance(d, ast.Name):
            names.add(d.id)
        elif isinstance(d, ast.Attribute):
            names.add(d.attr)
    return names


def _is_type_alias(node):
    return isinstance(node, ast.AnnAssign) and ast.unparse(node.annotation) in ("TypeAlias", "typing.TypeAlias")


def parse_stub(tree):
    """-> (declarations, aliases, problems); declarations maps a top-level name to
    ("function", FunctionDef) | ("class", {member: Member}) | ("variable", annotation)."""
    decls, aliases, problems = {}, [], []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        ):
            continue
        if _is_type_alias(node):
            aliases.append(node.target.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            decls[node.target.id] = ("variable", node.annotation)
        elif isinstance(node, ast.FunctionDef):
            decls[node.name] = ("function", node)
        elif isinstance(node, ast.ClassDef):
            members = {}
            for item in node.body:
                if isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant):
                    continue
                if not isinstance(item, ast.FunctionDef):
                    problems.append(f"{node.name}: unexpected stub statement at line {item.lineno}")
                    continue
                decos = _decorators(item)
                if "setter" in decos:
                    if item.name in members and members[item.name].kind == "property":
                        members[item.name].settable = True
                    else:
                        problems.append(f"{node.name}.{item.name}: setter without a property")
                else:
                    members[item.name] = Member("property" if "property" in decos else "method", item)
            decls[node.name] = ("class", members)
        else:
            problems.append(f"unexpected stub statement at line {node.lineno}")
    return decls, aliases, problems


def load_stub():
    with open(STUB_PATH) as f:
        return ast.parse(f.read(), STUB_PATH)


@functools.cache
def _baseline_problems():
    return tuple(stub_problems(load_stub()))


# ---- signatures --------------------------------------------------------------------------

_P = inspect.Parameter


def _stub_params(fn):
    a = fn.args
    pos = a.posonlyargs + a.args
    first_default = len(pos) - len(a.defaults)
    out = []
    for i, arg in enumerate(pos):
        kind = _P.POSITIONAL_ONLY if i < len(a.posonlyargs) else _P.POSITIONAL_OR_KEYWORD
        out.append((arg.arg, kind, i >= first_default))
    if a.vararg:
        out.append((a.vararg.arg, _P.VAR_POSITIONAL, False))
    for arg, default in zip(a.kwonlyargs, a.kw_defaults):
        out.append((arg.arg, _P.KEYWORD_ONLY, default is not None))
    if a.kwarg:
        out.append((a.kwarg.arg, _P.VAR_KEYWORD, False))
    return out


def _runtime_params(sig):
    return [(p.name, p.kind, p.default is not p.empty) for p in sig.parameters.values()]


def _normal(params):
    # Positional-only names are not part of the calling convention.
    return [(None if kind == _P.POSITIONAL_ONLY else name, kind, has_default) for name, kind, has_default in params]


def _render(params):
    ps = [_P(name, kind, default=... if has_default else _P.empty) for name, kind, has_default in params]
    return str(inspect.Signature(ps)).replace("Ellipsis", "...")


@functools.cache
def _runtime_signature(obj):
    # Cached: parsing __text_signature__ is most of the checker's time, and the mutation
    # tests below run the checker many times.
    try:
        return _runtime_params(inspect.signature(obj))
    except (ValueError, TypeError):
        return None


def _signature_problem(label, stub_fn, runtime_obj, is_method, is_constructor=False):
    rt = _runtime_signature(runtime_obj)
    if rt is None:
        return f"{label}: runtime has no signature (missing __text_signature__)"
    st = _stub_params(stub_fn)
    if is_method and not is_constructor:
        rt = rt[1:]  # self / $self
    if is_method:
        st = st[1:]  # self / cls
    if _normal(rt) != _normal(st):
        return f"{label}: stub {_render(st)} != runtime {_render(rt)}"
    return None


# ---- the checker -------------------------------------------------------------------------

def _writable(obj, name):
    try:
        setattr(obj, name, getattr(obj, name))  # same value: a no-op when there is a setter
    except AttributeError:
        return False
    return True


def _check_class(name, cls, members, samples, problems):
    own = vars(cls)
    artifacts = SLOT_ARTIFACTS.get(name, frozenset())
    # (a) + (c): what the stub declares.
    for mname, m in members.items():
        label = f"{name}.{mname}"
        if mname in artifacts:
            problems.append(f"{label}: declared, but the runtime only has it as an unsupported slot artifact")
            continue
        if mname not in own:
            problems.append(f"{label}: declared in the stub but missing from ferrotorch._C.{name}")
            continue
        rt = own[mname]
        # A Python-level property the package adds (Tensor.volatile) counts as one too.
        rt_is_property = isinstance(rt, _DESCRIPTOR_PROPERTY + (property,))
        if m.kind == "property":
            if not rt_is_property:
                problems.append(f"{label}: stub has a property, runtime has {type(rt).__name__}")
                continue
            sample = samples.get(name)
            if sample is None:
                problems.append(f"{label}: no sample instance of {name} to check writability (add one to _samples)")
            elif _writable(sample, mname) != m.settable:
                problems.append(f"{label}: stub setter={m.settable}, runtime writable={not m.settable}")
        else:
            if rt_is_property or not callable(rt):
                problems.append(f"{label}: stub has a method, runtime has {type(rt).__name__}")
                continue
            if mname == "__new__":
                p = _signature_problem(label, m.node, cls, is_method=True, is_constructor=True)
            else:
                p = _signature_problem(label, m.node, rt, is_method=True)
            if p:
                problems.append(p)
    # (b): what the runtime has, the Python-level methods the package adds to Tensor at import
    # (ferrotorch._registry) included.
    for mname, rt in own.items():
        if mname in AUTO_MEMBERS or mname in artifacts:
            continue
        if mname not in members:
            what = "Python-level method" if isinstance(rt, _PYTHON_LEVEL) else "binding"
            problems.append(f"{name}.{mname}: {what} ({type(rt).__name__}) not declared in the stub")


def stub_problems(tree, module=C):
    decls, aliases, problems = parse_stub(tree)
    samples = _samples()
    for alias in aliases:
        if not alias.startswith("_") or hasattr(module, alias):
            problems.append(f"{alias}: stub-only type alias must be private and not shadow a module name")
    # (a) + (c) for top-level declarations.
    for name, (kind, payload) in decls.items():
        if not hasattr(module, name):
            problems.append(f"{name}: declared in the stub but missing from ferrotorch._C")
            continue
        obj = getattr(module, name)
        if kind == "class":
            if not isinstance(obj, type):
                problems.append(f"{name}: stub has a class, runtime has {type(obj).__name__}")
                continue
            _check_class(name, obj, payload, samples, problems)
        elif kind == "function":
            if isinstance(obj, type) or not callable(obj):
                problems.append(f"{name}: stub has a function, runtime has {type(obj).__name__}")
                continue
            p = _signature_problem(name, payload, obj, is_method=False)
            if p:
                problems.append(p)
        else:
            ann = ast.unparse(payload)
            if callable(obj):
                problems.append(f"{name}: stub has a variable, runtime has {type(obj).__name__}")
            elif ann in decls and decls[ann][0] == "class" and not isinstance(obj, getattr(module, ann)):
                problems.append(f"{name}: stub says {ann}, runtime has {type(obj).__name__}")
    # (b) for the module's public names.
    for name in dir(module):
        if name.startswith("__") and name.endswith("__"):
            continue
        if name not in decls:
            problems.append(f"{name}: public name of ferrotorch._C ({type(getattr(module, name)).__name__}) not declared in the stub")
    return problems


# ---- the package namespace ------------------------------------------------------------------

INIT_PATH = os.path.join(SOURCE_PKG, "__init__.py")


def load_init():
    with open(INIT_PATH) as f:
        return ast.parse(f.read(), INIT_PATH)


def _is_globals_call(node):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "globals"


def static_bindings(tree):
    """-> (bound, from_c, dynamic): the line numbers of each name bound at module level
    (imports, assignments, defs, classes, also inside top-level if/try/with/for blocks);
    (name, name in _C, line) for each `from ._C import x` and `name = _C.x`; the lines that
    write the namespace through globals() (`globals()[n] = ...`, `globals().update(...)`)."""
    bound, from_c, dynamic = {}, [], []

    def visit(stmts):
        for node in stmts:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for a in node.names:
                    name = a.asname or a.name.split(".")[0]
                    bound.setdefault(name, []).append(node.lineno)
                    if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module == "_C":
                        from_c.append((name, a.name, node.lineno))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.setdefault(node.name, []).append(node.lineno)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for e in ast.walk(t):
                        if isinstance(e, ast.Name) and isinstance(e.ctx, ast.Store):
                            bound.setdefault(e.id, []).append(node.lineno)
                if isinstance(node.value, ast.Attribute) and ast.unparse(node.value.value) == "_C":
                    for t in targets:
                        if isinstance(t, ast.Name):
                            from_c.append((t.id, node.value.attr, node.lineno))
            elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                visit(getattr(node, "finalbody", []))
                for h in getattr(node, "handlers", []):
                    visit(h.body)

    visit(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and _is_globals_call(node.value):
            dynamic.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_globals_call(node.func.value):
            if node.func.attr in ("update", "setdefault", "__setitem__"):
                dynamic.append(node.lineno)
    return bound, from_c, dynamic


def namespace_problems(init_tree, stub_tree, package=ferrotorch):
    decls, _, _ = parse_stub(stub_tree)
    bound, from_c, dynamic = static_bindings(init_tree)
    problems = []
    for name in dir(package):
        if name.startswith("_"):
            continue
        obj = getattr(package, name)
        if isinstance(obj, types.ModuleType) and obj.__name__ == f"{package.__name__}.{name}":
            continue  # a submodule: type checkers find it in the package's files
        if name not in bound:
            problems.append(f"ferrotorch.{name} ({type(obj).__name__}): public name not bound statically in "
                            "ferrotorch/__init__.py")
    for name, lines in bound.items():
        if not name.startswith("_") and len(lines) > 1:
            problems.append(f"ferrotorch.{name}: bound {len(lines)} times in ferrotorch/__init__.py (lines "
                            f"{', '.join(map(str, lines))}); the last one wins silently")
    for name, c_name, line in from_c:
        if c_name not in decls:
            problems.append(f"ferrotorch.{name}: bound to ferrotorch._C.{c_name} (line {line}), which _C.pyi "
                            "does not declare")
    for line in dynamic:
        problems.append(f"ferrotorch/__init__.py:{line}: writes the namespace through globals(); bind the names "
                        "statically")
    return problems


@functools.cache
def _baseline_namespace_problems():
    return tuple(namespace_problems(load_init(), load_stub()))


# ---- tests --------------------------------------------------------------------------------

def test_stub_matches_compiled_module():
    problems = _baseline_problems()
    assert not problems, "ferrotorch/_C.pyi is out of date:\n" + "\n".join(problems)


def test_package_namespace_is_static():
    problems = _baseline_namespace_problems()
    assert not problems, "ferrotorch/__init__.py binds public names dynamically:\n" + "\n".join(problems)


def test_stub_declares_every_public_tensor_attribute():
    # Bindings and the Python-composed methods alike (the latter are checked in detail by
    # test_stub_matches_compiled_module, as Python-level members of ferrotorch._C.Tensor).
    _, members = parse_stub(load_stub())[0]["Tensor"]
    missing = sorted(n for n in dir(ferrotorch.Tensor) if not n.startswith("_") and n not in members)
    assert missing == [], f"public attributes of ferrotorch.Tensor not declared in _C.pyi's class Tensor: {missing}"


def test_stub_covers_module_all():
    # PyO3 keeps `__all__` for everything registered in lib.rs; all of it is declared.
    decls, _, _ = parse_stub(load_stub())
    assert sorted(set(C.__all__) - set(decls)) == []


@pytest.mark.parametrize("cls_name", sorted(n for n in SLOT_ARTIFACTS if SLOT_ARTIFACTS[n] is _RICHCMP_ONLY_EQ))
def test_slot_artifacts_are_unsupported_comparisons(cls_name):
    obj = _samples()[cls_name]
    for op in sorted(_RICHCMP_ONLY_EQ):
        assert vars(getattr(C, cls_name))[op](obj, obj) is NotImplemented, f"{cls_name}.{op} is implemented now: declare it"


def test_slot_artifact_delitem_is_unsupported():
    # PyTorch raises TypeError; PyO3's default for a missing __delitem__ is NotImplementedError.
    t = C.zeros(3)
    with pytest.raises((TypeError, NotImplementedError)):
        del t[0]


def test_maturin_packages_the_source_dir():
    # maturin puts every file under `python-source` into the wheel, so the stub and the
    # PEP 561 marker ship when they sit in python/ferrotorch next to the extension.
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        maturin = tomllib.load(f)["tool"]["maturin"]
    assert maturin["module-name"] == "ferrotorch._C"
    assert os.path.samefile(os.path.join(REPO, maturin["python-source"], "ferrotorch"), SOURCE_PKG)
    assert os.path.isfile(os.path.join(SOURCE_PKG, "py.typed"))


def test_installed_package_ships_the_stub():
    pkg = os.path.dirname(C.__file__)
    assert pkg == os.path.dirname(ferrotorch.__file__)
    assert os.path.isfile(os.path.join(pkg, "py.typed")), f"no py.typed in {pkg} (rebuild the wheel)"
    assert os.path.isfile(os.path.join(pkg, "_C.pyi")), f"no _C.pyi in {pkg} (rebuild the wheel)"
    with open(os.path.join(pkg, "_C.pyi")) as installed, open(STUB_PATH) as source:
        assert installed.read() == source.read(), f"{pkg}/_C.pyi differs from the source stub (rebuild the wheel)"


# ---- the checker checks itself: each mutation of the stub must be reported ----------------

def _find(tree, name, cls=None):
    body = tree.body
    if cls is not None:
        body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls).body
    return body, next(
        n for n in body if getattr(n, "name", None) == name or getattr(getattr(n, "target", None), "id", None) == name
    )


def _remove(name, cls=None):
    def mutate(tree):
        body, node = _find(tree, name, cls)
        body.remove(node)
    return mutate


def _add(source, cls=None):
    def mutate(tree):
        body = tree.body if cls is None else _find(tree, cls)[1].body
        body.extend(ast.parse(source).body)
    return mutate


def _rename_param(fn, old, new, cls=None):
    def mutate(tree):
        _, node = _find(tree, fn, cls)
        a = node.args
        arg = next(x for x in a.posonlyargs + a.args + a.kwonlyargs if x.arg == old)
        arg.arg = new
    return mutate


def _kwonly_to_positional(fn):
    def mutate(tree):
        _, node = _find(tree, fn)
        a = node.args
        a.args += a.kwonlyargs
        a.defaults += a.kw_defaults
        a.kwonlyargs, a.kw_defaults = [], []
    return mutate


def _property_to_method(name, cls):
    def mutate(tree):
        _, node = _find(tree, name, cls)
        node.decorator_list = []
    return mutate


def _method_to_property(name, cls):
    def mutate(tree):
        _, node = _find(tree, name, cls)
        node.decorator_list = [ast.Name("property", ast.Load())]
    return mutate


def _drop_setter(name, cls):
    def mutate(tree):
        body, _ = _find(tree, name, cls)
        setter = next(n for n in body if getattr(n, "name", None) == name and "setter" in _decorators(n))
        body.remove(setter)
    return mutate


def _retype_variable(name, new_annotation):
    def mutate(tree):
        _, node = _find(tree, name)
        node.annotation = ast.parse(new_annotation, mode="eval").body
    return mutate


MUTATIONS = [
    ("drop a module function", _remove("_adam_step"), "_adam_step: public name"),
    ("drop a dtype singleton", _remove("bfloat16"), "bfloat16: public name"),
    ("drop a class", _remove("RemovableHandle"), "RemovableHandle: public name"),
    ("drop a macro-made Tensor method", _remove("erfinv_", "Tensor"), "Tensor.erfinv_: binding"),
    ("drop a Tensor dunder", _remove("__rmatmul__", "Tensor"), "Tensor.__rmatmul__: binding"),
    ("drop a Tensor property", _remove("mT", "Tensor"), "Tensor.mT: binding"),
    ("invent a function", _add("def not_a_binding() -> None: ..."), "not_a_binding: declared"),
    ("invent a method", _add("def frobnicate(self) -> None: ...", "Generator"), "Generator.frobnicate: declared"),
    ("function declared as class", _add("class seed: ..."), "seed: stub has a class"),
    ("rename a parameter", _rename_param("cat", "dim", "axis"), "cat: stub"),
    ("rename a method parameter", _rename_param("flatten", "end_dim", "stop_dim", "Tensor"), "Tensor.flatten: stub"),
    ("rename the constructor's parameter", _rename_param("__new__", "spec", "kind", "device"), "device.__new__: stub"),
    ("keyword-only made positional", _kwonly_to_positional("randperm"), "randperm: stub"),
    ("property made a method", _property_to_method("shape", "Tensor"), "Tensor.shape: stub has a method"),
    ("setter dropped", _drop_setter("grad", "Tensor"), "Tensor.grad: stub setter=False"),
    ("setter invented", _add("@ndim.setter\ndef ndim(self, v: int) -> None: ...", "Tensor"), "Tensor.ndim: stub setter=True"),
    ("artifact declared", _add("def __lt__(self, other: object, /) -> bool: ...", "dtype"), "dtype.__lt__: declared, but"),
    ("variable of the wrong class", _retype_variable("float32", "Generator"), "float32: stub says Generator"),
    ("public alias", _add("Number: TypeAlias = int"), "Number: stub-only type alias"),
    ("drop a Python-composed method", _remove("sinc", "Tensor"), "Tensor.sinc: Python-level method"),
    ("drop a Python-composed in-place method", _remove("unsqueeze_", "Tensor"), "Tensor.unsqueeze_: Python-level"),
    ("rename a Python-composed method's parameter", _rename_param("diff", "prepend", "before", "Tensor"),
     "Tensor.diff: stub"),
    ("Python-composed method made a property", _method_to_property("new_zeros", "Tensor"),
     "Tensor.new_zeros: stub has a property"),
]


@pytest.mark.parametrize("mutate, expected", [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS])
def test_checker_reports_mutation(mutate, expected):
    assert not any(expected in p for p in _baseline_problems())
    mutated = load_stub()
    mutate(mutated)
    problems = stub_problems(mutated)
    assert any(expected in p for p in problems), problems


# ---- the namespace checker checks itself ----------------------------------------------------

def _drop_imported(name):
    def mutate(tree):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == name for a in node.names):
                node.names = [a for a in node.names if (a.asname or a.name) != name]
                return
        raise AssertionError(f"{name} is not imported in ferrotorch/__init__.py")
    return mutate


def _drop_def(name):
    def mutate(tree):
        tree.body.remove(next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name))
    return mutate


def _append(source):
    def mutate(tree):
        tree.body.extend(ast.parse(source).body)
    return mutate


NAMESPACE_MUTATIONS = [
    ("drop a static import of a composed op", _drop_imported("sinc"), "ferrotorch.sinc (function): public name"),
    ("drop an import from _C", _drop_imported("randperm"), "ferrotorch.randperm (builtin_function_or_method)"),
    ("drop a def", _drop_def("is_tensor"), "ferrotorch.is_tensor (function): public name"),
    ("bind through globals()", _append("globals()['sinc'] = sinc"), "writes the namespace through globals()"),
    ("update globals()", _append("globals().update(x=1)"), "writes the namespace through globals()"),
    ("bind a name twice", _append("sinc = Tensor.abs"), "ferrotorch.sinc: bound 2 times"),
    ("import an undeclared binding", _append("from ._C import not_a_binding"), "ferrotorch._C.not_a_binding"),
    ("assign an undeclared binding", _append("nope = _C.nope"), "ferrotorch._C.nope"),
]


@pytest.mark.parametrize("mutate, expected", [m[1:] for m in NAMESPACE_MUTATIONS],
                         ids=[m[0] for m in NAMESPACE_MUTATIONS])
def test_namespace_checker_reports_mutation(mutate, expected):
    assert not any(expected in p for p in _baseline_namespace_problems())
    mutated = load_init()
    mutate(mutated)
    problems = namespace_problems(mutated, load_stub())
    assert any(expected in p for p in problems), problems
