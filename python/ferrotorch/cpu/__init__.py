"""``torch.cpu``: the CPU device module (``torch.cpu.amp``, ``is_available``)."""

from . import amp  # noqa: F401


def is_available():
    return True


def device_count():
    return 1
