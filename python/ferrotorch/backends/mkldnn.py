"""ferrotorch.backends.mkldnn: the flags of ``torch.backends.mkldnn`` (oneDNN).

ferrotorch's CPU kernels are its own, not oneDNN's: ``is_available()`` is False and the flags
are accepted and change nothing.
"""

enabled = True
deterministic = False


def is_available():
    """False: ferrotorch does not use oneDNN."""
    return False
