"""ferrotorch.utils (torch.utils): data loading lives in ``ferrotorch.utils.data``."""
from . import data  # noqa: F401


def __getattr__(name):
    # utils.hooks imports nn, which imports utils: load it on first use.
    if name == "hooks":
        import importlib
        return importlib.import_module(".hooks", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
