"""torch.distributions.exponential (PyTorch's module path; defined in continuous.py)."""
from .continuous import Exponential

__all__ = ["Exponential"]
