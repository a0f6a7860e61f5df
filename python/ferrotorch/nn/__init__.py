"""``ferrotorch.nn``: modules, parameters, functional API and initialisers (as ``torch.nn``)."""
# Public re-exports (torch.nn.Parameter, torch.nn.Module), in the `x as x` form.
from .parameter import Parameter as Parameter
from .modules import *  # noqa: F401,F403
from .modules import Module as Module
from . import functional, init, utils, modules, parameter  # noqa: F401
