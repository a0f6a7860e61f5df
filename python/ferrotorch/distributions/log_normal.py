"""torch.distributions.log_normal (PyTorch's module path; defined in continuous.py)."""
from .continuous import LogNormal

__all__ = ["LogNormal"]
