"""ferrotorch.backends.cuda: `matmul.allow_tf32` (False by default, as in PyTorch >= 1.12).

With it set, float32 CUDA matmuls may use TF32 tensor cores (cuBLAS's
CUBLAS_COMPUTE_32F_FAST_TF32), trading mantissa bits for speed.
"""
from .. import _C


def is_built():
    """The wheel always carries the CUDA backend (found at run time)."""
    return True


class _Matmul:
    @property
    def allow_tf32(self):
        return _C._cuda_allow_tf32()

    @allow_tf32.setter
    def allow_tf32(self, value):
        _C._cuda_set_allow_tf32(bool(value))

    def __setattr__(self, name, value):
        if name != "allow_tf32":
            raise AttributeError(f"Unknown attribute {name}")
        object.__setattr__(self, name, value)


matmul = _Matmul()
