"""ferrotorch.backends.openmp: ``is_available()`` is False; ferrotorch's CPU kernels run on its
own thread pool (``torch.set_num_threads`` sizes it), not OpenMP."""


def is_available():
    """False: ferrotorch does not use OpenMP."""
    return False
