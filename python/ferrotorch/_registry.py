"""The one registry of Python-composed ops: every ``torch.*`` function and ``Tensor`` method that
the package composes in Python (``_pointwise``, ``_reductions``, ``_search_sort``, ``_indexing``,
``_shape``, ``_linalg_ops``, ``_random``, ``_creation``, ``_view_inplace``, ``_dtype_info``,
``linalg``'s top-level forms and ``Tensor.__format__``).

A module declares each name where it defines it::

    acosh = function("acosh", _with_out("acosh", _acosh))  # torch.acosh
    method("acosh", _method(_acosh))                        # Tensor.acosh

``ferrotorch/__init__.py`` binds the declared ``torch.*`` functions statically (``from
._pointwise import acosh, ...``, so type checkers see them; the Tensor methods are declared in
``_C.pyi``) and then calls :func:`install` once, which sets the Tensor methods and checks every
declaration. Nothing is skipped silently: install raises one RuntimeError listing each

* Tensor method whose name ``Tensor`` already has (a Rust binding, or an attribute inherited
  from ``object``), and each ``torch.*`` function named like a function of ``ferrotorch._C``:
  delete the Python version if the binding does the same, or declare it ``replace=True``;
* ``replace=True`` declaration with nothing of that name to replace (a stale declaration);
* ``torch.*`` function that ``ferrotorch/__init__.py`` does not bind to the declared object
  (the static import is missing, or something else is bound under the name).

A name declared twice (by two modules, or twice by one) is an error at the second declaration.
"""
import sys
import types

FUNCTION, METHOD = "torch", "Tensor"


class Registry:
    """Declarations of torch.* functions and Tensor methods, applied once by install()."""

    def __init__(self):
        self._entries = {}  # (kind, name) -> (object, declaring module, replace), in declaration order
        self._installed = False

    def _declare(self, kind, name, obj, replace):
        module = sys._getframe(2).f_globals.get("__name__", "?")  # the caller of function()/method()
        key = (kind, name)
        if key in self._entries:
            raise RuntimeError(f"{kind}.{name} is declared by both {self._entries[key][1]} and {module}")
        if self._installed:
            raise RuntimeError(f"{kind}.{name} is declared by {module} after the registry was installed")
        self._entries[key] = (obj, module, replace)
        return obj

    def function(self, name, obj, *, replace=False):
        """Declares ``torch.<name>``; returns ``obj`` (for ``name = function("name", ...)``).
        ``replace=True``: it stands in for a binding of that name (``ferrotorch._C.<name>``, or
        the function form of the binding ``Tensor.<name>``), e.g. to add ``out=``."""
        return self._declare(FUNCTION, name, obj, replace)

    def method(self, name, obj, *, replace=False):
        """Declares ``Tensor.<name>``; returns ``obj``. ``replace=True``: it deliberately replaces
        the attribute ``Tensor`` already has under that name."""
        return self._declare(METHOD, name, obj, replace)

    def declarations(self):
        """[(kind, name, object, declaring module, replace)] in declaration order."""
        return [(kind, name, obj, module, replace) for (kind, name), (obj, module, replace) in self._entries.items()]

    def install(self, namespace, tensor_cls, c_module):
        """Sets the declared methods on `tensor_cls` and checks every declaration against
        `namespace` (the package's globals) and `c_module` (ferrotorch._C), as the module
        docstring says. Raises RuntimeError listing every problem before setting anything."""
        if self._installed:
            raise RuntimeError("the registry of Python-composed ops is installed once")
        # Tensor.<name> bindings, whose function forms torch.<name> a declaration may replace
        bindings = {n for n, v in vars(tensor_cls).items() if not isinstance(v, types.FunctionType)}
        problems = []
        for kind, name, obj, module, replace in self.declarations():
            what = f"{kind}.{name} (declared by {module})"
            if kind == METHOD:
                exists = hasattr(tensor_cls, name)
                if exists and not replace:
                    problems.append(f"{what} would shadow {_describe_attr(tensor_cls, name)}: delete the Python "
                                    f"version if that does the same, or declare it with replace=True")
                elif replace and not exists:
                    problems.append(f"{what} is declared replace=True, but Tensor has no {name!r} to replace")
                continue
            in_c = name in vars(c_module)
            if in_c and not replace:
                problems.append(f"{what} would shadow the Rust binding ferrotorch._C.{name}: delete the Python "
                                f"version if the binding does the same, or declare it with replace=True")
            elif replace and not in_c and name not in bindings:
                problems.append(f"{what} is declared replace=True, but there is no binding ferrotorch._C.{name} "
                                f"or Tensor.{name} to replace")
            if name not in namespace:
                problems.append(f"{what} is not bound in ferrotorch/__init__.py: import it there")
            elif namespace[name] is not obj:
                problems.append(f"{what} is shadowed in ferrotorch/__init__.py by {_describe(namespace[name])}")
        if problems:
            raise RuntimeError("ferrotorch: the declarations of Python-composed ops (ferrotorch._registry) "
                               "do not fit the names that exist:\n  " + "\n  ".join(problems))
        for kind, name, obj, _, _ in self.declarations():
            if kind == METHOD:
                setattr(tensor_cls, name, obj)
        self._installed = True


def _describe(obj):
    if isinstance(obj, types.FunctionType):
        return f"the Python function {obj.__module__}.{obj.__qualname__}"
    return f"{type(obj).__name__} {obj!r}"


def _describe_attr(cls, name):
    owner = next((c for c in cls.__mro__ if name in vars(c)), None)
    if owner is None:
        return f"{cls.__name__}.{name}, an attribute of its metaclass {type(cls).__qualname__}"
    if owner is not cls:
        return f"{cls.__name__}.{name}, inherited from {owner.__qualname__}"
    obj = vars(cls)[name]
    if isinstance(obj, types.FunctionType):
        return f"{cls.__name__}.{name} = {obj.__module__}.{obj.__qualname__}"
    return f"the Rust binding ferrotorch._C.{cls.__name__}.{name}"


# The package's registry.
_registry = Registry()
function = _registry.function
method = _registry.method
declarations = _registry.declarations
install = _registry.install
