"""ferrotorch.backends: switches of the compute backends, as torch.backends."""
from . import cuda  # noqa: F401
from . import cudnn, mkldnn, mps, openmp  # noqa: F401
