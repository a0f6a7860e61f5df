"""ferrotorch.mock_torch's bootstrap for child processes.

A parent with the switch on puts this directory first on ``PYTHONPATH`` and sets
``FERROTORCH_MOCK_TORCH``; Python's ``site`` imports this file at startup of every child
interpreter. It installs a light finder that turns the switch on at the first ``torch`` import
(importing ferrotorch only then), takes this directory off ``sys.path`` again and runs the
``sitecustomize`` it hides, if there is one.
"""
import os
import sys


def _install():
    import importlib.abc

    here = os.path.dirname(os.path.abspath(__file__))
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(here)))  # holds ferrotorch/

    class _Trigger(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path=None, target=None):
            if fullname != "torch" and not fullname.startswith("torch."):
                return None
            sys.meta_path.remove(self)
            import importlib.util

            if importlib.util.find_spec("ferrotorch") is None:
                sys.path.append(package_root)  # the parent reached ferrotorch through a path of its own
            from ferrotorch import mock_torch

            mock_torch._enable_from_env()
            if not mock_torch.is_enabled():
                return None
            return mock_torch._state.finder.find_spec(fullname, path, target)

    if os.environ.get("FERROTORCH_MOCK_TORCH"):
        sys.meta_path.insert(0, _Trigger())
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]

    # Run the sitecustomize this one shadows, as site would have.
    import importlib.machinery
    import importlib.util

    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if spec is not None and spec.origin != os.path.abspath(__file__):
        module = importlib.util.module_from_spec(spec)
        sys.modules["sitecustomize"] = module
        spec.loader.exec_module(module)


_install()
del _install
