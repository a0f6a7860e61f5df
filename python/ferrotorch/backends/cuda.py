"""ferrotorch.backends.cuda: `matmul.allow_tf32` (False by default, as in PyTorch >= 1.12).

With it set, float32 CUDA matmuls may use TF32 tensor cores (cuBLAS's
CUBLAS_COMPUTE_32F_FAST_TF32), trading mantissa bits for speed.
"""
from .. import _C

# torch.get_float32_matmul_precision(): "highest" (full float32), or "high"/"medium" (TF32
# allowed). Tied to matmul.allow_tf32 both ways, as in PyTorch: setting one sets the other.
_float32_matmul_precision = "highest"


def is_built():
    """The wheel always carries the CUDA backend (found at run time)."""
    return True


class _Matmul:
    @property
    def allow_tf32(self):
        return _C._cuda_allow_tf32()

    @allow_tf32.setter
    def allow_tf32(self, value):
        global _float32_matmul_precision
        _C._cuda_set_allow_tf32(bool(value))
        _float32_matmul_precision = "high" if value else "highest"

    def __setattr__(self, name, value):
        if name != "allow_tf32":
            raise AttributeError(f"Unknown attribute {name}")
        object.__setattr__(self, name, value)


matmul = _Matmul()
