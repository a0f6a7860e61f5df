"""ferrotorch.optim: optimizers with PyTorch's API; each step updates a parameter group in one fused
call into the Rust engine."""
from . import optimizer as optimizer  # the torch.optim.optimizer submodule, re-exported
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam
from .adamw import AdamW
from . import lr_scheduler as lr_scheduler, swa_utils as swa_utils  # torch.optim.lr_scheduler / swa_utils

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]
