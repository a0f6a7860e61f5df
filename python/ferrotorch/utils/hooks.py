"""``ferrotorch.utils.hooks`` (torch.utils.hooks): the handle returned by hook registration."""
from ..nn.modules.module import RemovableHandle

__all__ = ["RemovableHandle"]
