"""ferrotorch.backends.mps: Apple's Metal backend, which ferrotorch does not have."""


def is_available():
    """False: ferrotorch has no MPS backend."""
    return False


def is_built():
    """False: ferrotorch is not built with MPS."""
    return False
