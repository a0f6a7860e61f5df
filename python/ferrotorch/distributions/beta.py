"""torch.distributions.beta (PyTorch's module path; defined in continuous.py)."""
from .continuous import Beta

__all__ = ["Beta"]
