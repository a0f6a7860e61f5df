"""torch.distributions.uniform (PyTorch's module path; defined in continuous.py)."""
from .continuous import Uniform

__all__ = ["Uniform"]
