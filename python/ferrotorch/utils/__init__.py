"""ferrotorch.utils (torch.utils): data loading lives in ``ferrotorch.utils.data``."""
from . import data  # noqa: F401

from . import hooks  # noqa: F401
from . import checkpoint  # noqa: F401
