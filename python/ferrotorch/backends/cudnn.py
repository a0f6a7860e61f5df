"""ferrotorch.backends.cudnn: the flags of ``torch.backends.cudnn``.

ferrotorch has no cuDNN backend: ``is_available()`` is False and ``version()`` None, as in a
PyTorch build without cuDNN. The flags are plain module attributes with PyTorch's defaults, so
the lines at the top of training scripts (``cudnn.benchmark = True``,
``cudnn.deterministic = True``) run; they change nothing in ferrotorch's kernels.
"""

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available():
    """False: ferrotorch does not use cuDNN."""
    return False


def version():
    """None: no cuDNN library is loaded."""
    return None


def is_acceptable(tensor):
    """Whether cuDNN would be used for `tensor`: never."""
    return False
