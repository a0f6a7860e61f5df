"""ferrotorch._registry: the one registry of Python-composed ops. Every declared torch.* function
is the object ferrotorch binds, every declared Tensor method is set, and install() refuses each
kind of silent shadowing (checked on a fresh Registry against stand-ins for Tensor and _C)."""
import types

import pytest

import ferrotorch
from ferrotorch import _registry
from ferrotorch._registry import Registry


def test_every_declaration_is_in_effect():
    decls = _registry.declarations()
    assert decls, "nothing declared"
    for kind, name, obj, module, _ in decls:
        if kind == "Tensor":
            assert vars(ferrotorch.Tensor).get(name) is obj, f"Tensor.{name} ({module}) is not the declared method"
        else:
            assert getattr(ferrotorch, name) is obj, f"torch.{name} ({module}) is not the declared function"


def test_no_module_named_extra():
    modules = {module for *_, module, _ in _registry.declarations()}
    assert not [m for m in modules if m.endswith("_extra")]


def _binding(self):
    return self


class _Tensor:
    """Stands in for ferrotorch.Tensor: `existing` plays a Rust binding."""
    existing = types.SimpleNamespace()  # (not a Python function: reported as a binding)


def _fresh():
    return Registry(), type("Tensor", (_Tensor,), {"own": property(lambda self: 1)})


_C = types.SimpleNamespace(where=object(), cat=object())


def _problems(reg, cls, namespace):
    with pytest.raises(RuntimeError) as e:
        reg.install(namespace, cls, _C)
    return str(e.value)


def test_method_shadowing_a_binding_is_an_error():
    reg, cls = _fresh()
    reg.method("own", _binding)
    msg = _problems(reg, cls, {})
    assert "Tensor.own (declared by " in msg and "would shadow the Rust binding ferrotorch._C.Tensor.own" in msg
    assert "replace=True" in msg


def test_method_shadowing_an_inherited_attribute_is_an_error():
    reg, cls = _fresh()
    reg.method("existing", _binding)
    reg.method("__format__", _binding)
    msg = _problems(reg, cls, {})
    assert "Tensor.existing, inherited from _Tensor" in msg
    assert "Tensor.__format__, inherited from object" in msg


def test_declared_replacement_is_allowed_and_set():
    reg, cls = _fresh()
    reg.method("own", _binding, replace=True)
    reg.method("new_method", _binding)
    reg.function("where", len, replace=True)
    reg.install({"where": len}, cls, _C)
    assert vars(cls)["own"] is _binding and vars(cls)["new_method"] is _binding


def test_replacing_a_missing_method_is_an_error():
    reg, cls = _fresh()
    reg.method("stale", _binding, replace=True)
    assert "Tensor.stale (declared by " in _problems(reg, cls, {})
    assert "is declared replace=True, but Tensor has no 'stale' to replace" in _problems(reg, cls, {})


def test_function_shadowing_a_c_function_is_an_error():
    reg, cls = _fresh()
    reg.function("where", len)
    msg = _problems(reg, cls, {"where": len})
    assert "torch.where (declared by " in msg and "would shadow the Rust binding ferrotorch._C.where" in msg


def test_replacing_a_missing_function_is_an_error():
    reg, cls = _fresh()
    reg.function("frobnicate", len, replace=True)
    msg = _problems(reg, cls, {"frobnicate": len})
    assert "no binding ferrotorch._C.frobnicate or Tensor.frobnicate to replace" in msg


def test_function_form_of_a_tensor_binding_can_be_replaced():
    reg, cls = _fresh()
    reg.function("own", len, replace=True)  # as torch.sum replaces the function form of Tensor.sum
    reg.install({"own": len}, cls, _C)


def test_function_not_bound_statically_is_an_error():
    reg, cls = _fresh()
    reg.function("missing", len)
    assert "torch.missing (declared by " in _problems(reg, cls, {})
    assert "is not bound in ferrotorch/__init__.py" in _problems(reg, cls, {})


def test_function_shadowed_in_the_namespace_is_an_error():
    reg, cls = _fresh()
    reg.function("multiply", len)
    msg = _problems(reg, cls, {"multiply": _binding})
    assert "torch.multiply (declared by " in msg
    assert f"is shadowed in ferrotorch/__init__.py by the Python function {__name__}._binding" in msg


def test_all_problems_reported_together_and_nothing_set():
    reg, cls = _fresh()
    reg.method("fine", _binding)
    reg.method("own", _binding)
    reg.function("missing", len)
    msg = _problems(reg, cls, {})
    assert "Tensor.own" in msg and "torch.missing" in msg
    assert "fine" not in vars(cls)


def test_duplicate_declaration_is_an_error():
    reg, _ = _fresh()
    reg.method("twice", _binding)
    with pytest.raises(RuntimeError, match="Tensor.twice is declared by both"):
        reg.method("twice", _binding)
    reg.function("twice", len)  # a torch function and a Tensor method may share a name
    with pytest.raises(RuntimeError, match="torch.twice is declared by both"):
        reg.function("twice", len)


def test_install_once_and_no_declaration_after():
    reg, cls = _fresh()
    reg.install({}, cls, _C)
    with pytest.raises(RuntimeError, match="installed once"):
        reg.install({}, cls, _C)
    with pytest.raises(RuntimeError, match="after the registry was installed"):
        reg.method("late", _binding)
