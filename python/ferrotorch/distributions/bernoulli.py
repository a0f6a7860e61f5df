"""torch.distributions.bernoulli (PyTorch's module path; defined in discrete.py)."""
from .discrete import Bernoulli

__all__ = ["Bernoulli"]
