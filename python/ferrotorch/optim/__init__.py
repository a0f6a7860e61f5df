"""ferrotorch.optim: optimizers with PyTorch's API; each step updates a parameter group in one fused
call into the Rust engine."""
from . import optimizer as optimizer  # the torch.optim.optimizer submodule, re-exported
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam
from .adamw import AdamW

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]
