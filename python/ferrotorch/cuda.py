"""ferrotorch.cuda. The CUDA runtime backend is not wired in yet (kernels live in cuda/
and are compile-checked by NVRTC); until it is, this module reports no device."""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    pass


def manual_seed_all(seed):
    pass


def synchronize(device=None):
    pass
