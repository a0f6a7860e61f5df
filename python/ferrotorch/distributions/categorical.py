"""torch.distributions.categorical (PyTorch's module path; defined in discrete.py)."""
from .discrete import Categorical

__all__ = ["Categorical"]
