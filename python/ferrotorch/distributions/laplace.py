"""torch.distributions.laplace (PyTorch's module path; defined in continuous.py)."""
from .continuous import Laplace

__all__ = ["Laplace"]
