"""All built-in layers, re-exported as ``ferrotorch.nn.<Name>``."""
from .module import Module
from .container import Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict
from .linear import Identity, Linear, Bilinear
from .flatten import Flatten, Unflatten
from .dropout import Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout
from .activation import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from . import activation as _activation, loss as _loss

__all__ = [
    "Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
    "Identity", "Linear", "Bilinear", "Flatten", "Unflatten",
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
] + list(_activation.__all__) + list(_loss.__all__)
