"""torch.distributions.one_hot_categorical (PyTorch's module path; defined in discrete.py)."""
from .discrete import OneHotCategorical

__all__ = ["OneHotCategorical"]
