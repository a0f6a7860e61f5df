"""ferrotorch.backends: switches of the compute backends, as torch.backends."""
from . import cuda  # noqa: F401
