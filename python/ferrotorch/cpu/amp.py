"""``torch.cpu.amp`` (deprecated spellings of ``torch.amp``)."""

from ferrotorch.amp._legacy import cpu_GradScaler as GradScaler, cpu_autocast as autocast  # noqa: F401

__all__ = ["autocast", "GradScaler"]
