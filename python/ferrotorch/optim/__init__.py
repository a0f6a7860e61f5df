"""ferrotorch.optim: optimizers with PyTorch's API; each step updates a parameter group in one fused
call into the Rust engine (LBFGS composes tensor ops, as PyTorch's does)."""
from . import optimizer as optimizer  # the torch.optim.optimizer submodule, re-exported
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam
from .adamw import AdamW
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sparse_adam import SparseAdam
from . import lr_scheduler as lr_scheduler, swa_utils as swa_utils  # torch.optim.lr_scheduler / swa_utils

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adadelta", "Adagrad", "Adamax", "ASGD", "LBFGS", "NAdam", "RAdam",
           "RMSprop", "Rprop", "SparseAdam"]
