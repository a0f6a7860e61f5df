"""``torch.cuda.amp`` (deprecated spellings of ``torch.amp``), installed as
``ferrotorch.cuda.amp`` by ``ferrotorch/__init__.py``."""

from ferrotorch.amp._legacy import (  # noqa: F401
    cuda_GradScaler as GradScaler, cuda_autocast as autocast, cuda_custom_bwd as custom_bwd,
    cuda_custom_fwd as custom_fwd,
)

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]
