"""``ferrotorch.nn``: modules, parameters, functional API and initialisers (as ``torch.nn``)."""
from .parameter import Parameter
from .modules import *  # noqa: F401,F403
from .modules import Module
from . import functional, init, utils, modules, parameter  # noqa: F401
