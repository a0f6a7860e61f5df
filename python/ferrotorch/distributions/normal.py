"""torch.distributions.normal (PyTorch's module path; defined in continuous.py)."""
from .continuous import Normal

__all__ = ["Normal"]
