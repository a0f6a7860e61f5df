"""torch.distributions.poisson (PyTorch's module path; defined in discrete.py)."""
from .discrete import Poisson

__all__ = ["Poisson"]
