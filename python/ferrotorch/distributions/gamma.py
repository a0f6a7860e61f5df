"""torch.distributions.gamma (PyTorch's module path; defined in continuous.py)."""
from .continuous import Gamma

__all__ = ["Gamma"]
