"""ferrotorch.nn.functional: activations, dropout, padding and losses (PyTorch's names and rules).

Everything here is a composition of tensor ops, so autograd (and double backward) comes from
the ops themselves; there is no hand-written backward. Formulas are chosen to stay finite at
extreme inputs *and* to keep gradients free of NaN: wherever a branch of a ``where`` could
overflow (``exp`` of a large value, ``log`` of 0), its input is clamped first, because a
``where`` routes a zero gradient into the unused branch and ``0 * inf`` is NaN.
"""
import math
import warnings

import numpy as _np

import ferrotorch as torch
from ferrotorch import Tensor
from ferrotorch._utils import _dtype_name

__all__ = [
    "linear", "bilinear", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "threshold", "threshold_", "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu",
    "elu", "elu_", "selu", "selu_", "celu", "celu_", "gelu", "silu", "mish", "sigmoid", "tanh",
    "hardtanh", "hardtanh_", "hardsigmoid", "hardswish", "softplus", "softsign", "logsigmoid",
    "tanhshrink", "hardshrink", "softshrink", "glu", "softmax", "log_softmax", "softmin",
    "one_hot", "pad", "normalize", "cosine_similarity", "pairwise_distance",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div",
    "cosine_embedding_loss", "margin_ranking_loss",
]


# ---- reductions (torch.nn._reduction) ------------------------------------------------------
class _Reduction:
    """PyTorch's ``torch.nn._reduction`` helpers (legacy ``size_average``/``reduce`` mapping)."""

    @staticmethod
    def get_enum(reduction):
        if reduction == "none":
            return 0
        if reduction == "mean":
            return 1
        if reduction == "elementwise_mean":
            warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                          stacklevel=2)
            return 1
        if reduction == "sum":
            return 2
        raise ValueError(f"{reduction} is not a valid value for reduction")

    @staticmethod
    def legacy_get_string(size_average, reduce, emit_warning=True):
        if size_average is None:
            size_average = True
        if reduce is None:
            reduce = True
        if size_average and reduce:
            ret = "mean"
        elif reduce:
            ret = "sum"
        else:
            ret = "none"
        if emit_warning:
            warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                          stacklevel=3)
        return ret

    @staticmethod
    def legacy_get_enum(size_average, reduce, emit_warning=True):
        return _Reduction.get_enum(_Reduction.legacy_get_string(size_average, reduce, emit_warning))


_REDUCTION_NAMES = ("none", "mean", "sum")


def _reduction(size_average, reduce, reduction):
    """The effective reduction string, validated (legacy args win, with a deprecation warning)."""
    if size_average is not None or reduce is not None:
        return _Reduction.legacy_get_string(size_average, reduce)
    if reduction not in _REDUCTION_NAMES:
        return _REDUCTION_NAMES[_Reduction.get_enum(reduction)]
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _warn_size_mismatch(input, target):
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
            "This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", stacklevel=3)


# ---- linear layers ----------------------------------------------------------------------------
def linear(input, weight, bias=None):
    """y = x W^T + b; a 2-D input with bias is a single fused addmm."""
    if bias is not None and input.dim() == 2:
        return torch.addmm(bias, input, weight.t())
    out = input.matmul(weight.t())
    return out if bias is None else out + bias


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o], as two matmuls."""
    if input1.shape[:-1] != input2.shape[:-1]:
        for d, (a, b) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
            if a != b:
                raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {d}: got {a} and {b}")
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(input1.shape)} "
                           f"and {list(input2.shape)}")
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-dimensional, but got {weight.dim()} dimensions")
    out_f, in1, in2 = weight.shape
    if input1.shape[-1] != in1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} "
                           f"but expected {in1}")
    if input2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} "
                           f"but expected {in2}")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_f):
        got = bias.shape[0] if bias.dim() == 1 else list(bias.shape)
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {got} but expected {out_f}")
    batch = input1.shape[:-1]
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    # (N, in1) @ (in1, out*in2) -> (N, out, in2), then contract in2 against x2.
    t = x1.matmul(weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    out = t.matmul(x2.unsqueeze(-1)).squeeze(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(*batch, out_f)


# ---- dropout ----------------------------------------------------------------------------------
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _apply_noise(input, noise, inplace):
    return input.mul_(noise) if inplace else input * noise


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p) (identity when not training)."""
    _check_p(p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    # rand >= p keeps an element with probability 1-p; the mask is built in place (no graph).
    noise = torch.rand_like(input).ge_(p).mul_(1.0 / (1.0 - p))
    return _apply_noise(input, noise, inplace)


def _feature_dropout(input, p, training, inplace):
    # One draw per (batch, channel): the noise has shape (N, C, 1, ..., 1) and broadcasts.
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    noise = torch.rand(*shape, dtype=input.dtype, device=input.device).ge_(p).mul_(1.0 / (1.0 - p))
    return _apply_noise(input, noise, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. "
            "Note that dropout1d exists to provide channel-wise dropout on inputs with 1 "
            "spatial dimension, a channel dimension, and an optional batch dimension "
            "(i.e. 2D or 3D inputs).")
    if input.dim() == 2:
        out = _feature_dropout(input.unsqueeze(0), p, training, inplace)
        return input if inplace else out.squeeze(0)
    return _feature_dropout(input, p, training, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    if input.dim() not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.dim()}-D input to dropout2d, which is deprecated "
            "and will result in an error in a future release. To retain the behavior "
            "and silence this warning, please use dropout instead. Note that dropout2d "
            "exists to provide channel-wise dropout on inputs with 2 spatial dimensions, "
            "a channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if input.dim() == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
            "1D dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
            "is the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    if input.dim() not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.dim()}-D input to dropout3d, which is deprecated "
            "and will result in an error in a future release. To retain the behavior "
            "and silence this warning, please use dropout instead. Note that dropout3d "
            "exists to provide channel-wise dropout on inputs with 3 spatial dimensions, "
            "a channel dimension, and an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    if input.dim() == 4:
        out = _feature_dropout(input.unsqueeze(0), p, training, inplace)
        return input if inplace else out.squeeze(0)
    return _feature_dropout(input, p, training, inplace)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalising mean and variance."""
    _check_p(p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    alpha_p = -_SELU_ALPHA * _SELU_SCALE
    a = 1.0 / math.sqrt((alpha_p * alpha_p * p + 1) * (1 - p))
    keep = torch.rand_like(input).ge_(p)
    b = keep.add(-1).mul_(alpha_p * a).add_(alpha_p * a * p)   # (keep-1)*alpha'*a + alpha'*a*p
    keep.mul_(a)
    if inplace:
        return input.mul_(keep).add_(b)
    return input * keep + b


# ---- activations ------------------------------------------------------------------------------
def _inplace(fn, input, *args):
    """``inplace=True``: compute fn out of place and write the result back into input.

    When a graph is being recorded, fn reads a clone: its backward may need the values
    input held before the write (silu, mish...), and the write bumps input's version.
    """
    src = input.clone() if input.requires_grad and torch.is_grad_enabled() else input
    return input.copy_(fn(src, *args))


def _threshold(input, threshold, value):
    return torch.where(input > threshold, input, value)


def threshold(input, threshold, value, inplace=False):
    if inplace:
        return _inplace(_threshold, input, threshold, value)
    return _threshold(input, threshold, value)


def threshold_(input, threshold, value):
    return _inplace(_threshold, input, threshold, value)


def relu(input, inplace=False):
    return input.relu_() if inplace else input.relu()


def relu_(input):
    return input.relu_()


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return input.clamp_(min_val, max_val)
    return input.clamp(min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def _elu(input, alpha, scale, input_scale):
    # expm1 of the clamped input: the positive branch never overflows, so its zero gradient stays 0.
    neg = input.clamp(max=0.0)
    if input_scale != 1.0:
        neg = neg * input_scale
    neg = neg.expm1() * (alpha * scale)
    pos = input if scale == 1.0 else input * scale
    return torch.where(input > 0, pos, neg)


def elu(input, alpha=1.0, inplace=False):
    if inplace:
        return _inplace(_elu, input, alpha, 1.0, 1.0)
    return _elu(input, alpha, 1.0, 1.0)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    if inplace:
        return _inplace(_elu, input, _SELU_ALPHA, _SELU_SCALE, 1.0)
    return _elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    if inplace:
        return _inplace(_elu, input, alpha, 1.0, 1.0 / alpha)
    return _elu(input, alpha, 1.0, 1.0 / alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def _leaky_relu(input, negative_slope):
    return torch.where(input > 0, input, input * negative_slope)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    if inplace:
        return _inplace(_leaky_relu, input, negative_slope)
    return _leaky_relu(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input, weight):
    """leaky_relu with a learnable slope per channel (dim 1; a 1-D input has one channel)."""
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    n = weight.numel()
    if n == 1:
        w = weight.reshape(())
    else:
        channels = input.shape[1] if input.dim() >= 2 else 1
        if n != channels:
            raise RuntimeError("Mismatch of parameter numbers and input channel size. "
                               f"Found parameter numbers = {n} and channel size = {channels}.")
        w = weight.reshape((n,) + (1,) * (input.dim() - 2))
    return torch.where(input > 0, input, input * w)


_SQRT1_2 = 1.0 / math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(input, approximate="none"):
    if approximate == "none":
        return input * ((input * _SQRT1_2).erf() + 1.0) * 0.5
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * _SQRT_2_OVER_PI
        return input * (inner.tanh() + 1.0) * 0.5
    raise RuntimeError("approximate argument must be either none or tanh.")


def _silu(input):
    return input * input.sigmoid()


def silu(input, inplace=False):
    return _inplace(_silu, input) if inplace else _silu(input)


def _softplus(input, beta=1.0, threshold=20.0):
    bx = input if beta == 1.0 else input * beta
    # log1p(exp(.)) of the clamped value: finite in both branches (no NaN gradient past the threshold).
    soft = bx.clamp(max=threshold).exp().log1p()
    if beta != 1.0:
        soft = soft / beta
    return torch.where(bx > threshold, input, soft)


def softplus(input, beta=1.0, threshold=20.0):
    return _softplus(input, beta, threshold)


def _mish(input):
    return input * _softplus(input).tanh()


def mish(input, inplace=False):
    return _inplace(_mish, input) if inplace else _mish(input)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def _hardsigmoid(input):
    return (input / 6.0 + 0.5).clamp(0.0, 1.0)


def hardsigmoid(input, inplace=False):
    return _inplace(_hardsigmoid, input) if inplace else _hardsigmoid(input)


def _hardswish(input):
    return input * (input + 3.0).clamp(0.0, 6.0) / 6.0


def hardswish(input, inplace=False):
    return _inplace(_hardswish, input) if inplace else _hardswish(input)


def logsigmoid(input):
    # -log1p(exp(-x)), with exp's argument capped where log1p(exp(a)) == a to working precision
    # (a >= 40; 10 in float16, whose exp overflows past 11). Smooth everywhere, unlike the
    # min(x, 0) - log1p(exp(-|x|)) form whose two kinks at 0 would give a wrong gradient there.
    cap = 10.0 if input.dtype == torch.float16 else 40.0
    soft = (-input).clamp(max=cap).exp().log1p()
    return torch.where(input < -cap, input, -soft)


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def hardshrink(input, lambd=0.5):
    return torch.where(input.abs() > lambd, input, 0.0)


def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return torch.where(input > lambd, input - lambd, torch.where(input < -lambd, input + lambd, 0.0))


def glu(input, dim=-1):
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim + input.dim() if dim < 0 else dim
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    a, b = input.chunk(2, d)
    return a * b.sigmoid()


# ---- softmax family ---------------------------------------------------------------------------
def _get_softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


if hasattr(Tensor, "log_softmax"):
    def _softmax(x, dim, dtype=None):
        return x.softmax(dim) if dtype is None else x.softmax(dim, dtype=dtype)

    def _log_softmax(x, dim, dtype=None):
        return x.log_softmax(dim) if dtype is None else x.log_softmax(dim, dtype=dtype)
else:  # composite fallback for engines without the fused kernels
    def _softmax(x, dim, dtype=None):
        if dtype is not None:
            x = x.to(dtype)
        e = (x - x.amax(dim, keepdim=True).detach()).exp()
        return e / e.sum(dim, keepdim=True)

    def _log_softmax(x, dim, dtype=None):
        if dtype is not None:
            x = x.to(dtype)
        # (x - max) - log(sum(exp(x - max))): the shifted logits are exact, so a row of equal
        # large logits gives exactly -log(C) (x - logsumexp(x) would round at the scale of x).
        shifted = x - x.amax(dim, keepdim=True).detach()
        return shifted - shifted.exp().sum(dim, keepdim=True).log()


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    return _softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), _stacklevel)
    return _softmax(-input, dim, dtype)


# ---- one_hot / pad / normalize -----------------------------------------------------------------
def one_hot(tensor, num_classes=-1):
    if tensor.dtype != torch.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    shape = tuple(tensor.shape)
    if tensor.numel() == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return torch.zeros(*shape, num_classes, dtype=torch.int64, device=tensor.device)
    if tensor.min().item() < 0:
        raise RuntimeError("Class values must be non-negative.")
    top = tensor.max().item()
    if num_classes == -1:
        num_classes = top + 1
    elif num_classes <= top:
        raise RuntimeError("Class values must be smaller than num_classes.")
    classes = torch.arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()


_PAD_SUPPORT = ("Supported combinations for non-constant padding:\n"
                "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def pad(input, pad, mode="constant", value=None):
    """Pad (or crop, for negative amounts) the last len(pad)//2 dims; pad lists (left, right) from the last dim."""
    pad = tuple(pad)
    for i, v in enumerate(pad):
        if not isinstance(v, int) and not (isinstance(v, Tensor) and v.dim() == 0 and not v.is_floating_point()):
            raise TypeError("pad(): argument 'pad' (position 2) must be tuple of ints, but found element of "
                            f"type {type(v).__name__} at pos {i}")
    pad = tuple(int(v) for v in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    nd = input.dim()
    npd = len(pad) // 2
    if npd > nd:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {nd}")
    if mode == "constant":
        return _pad_constant(input, pad, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if npd > 3 or nd not in (npd + 1, npd + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {nd}D input tensor.\n" + _PAD_SUPPORT)
    if mode != "circular":
        # The batch dim may be 0, every other dim must hold data.
        first = 1 if nd == npd + 2 else 0
        if any(s == 0 for s in input.shape[first:]):
            raise RuntimeError(f"Expected {npd + 1}D or {npd + 2}D (batch mode) tensor with possibly 0 batch size "
                               f"and other non-zero dimensions for input, but got: {list(input.shape)}")
    out = input
    for k in range(npd):
        d = nd - 1 - k
        left, right = pad[2 * k], pad[2 * k + 1]
        if left == 0 and right == 0:
            continue
        n = input.shape[d]
        if mode == "reflect" and (left >= n or right >= n):
            raise RuntimeError("Argument #%d: Padding size should be less than the corresponding input dimension, "
                               "but got: padding (%d, %d) at dimension %d of input %s"
                               % (4 + 2 * k, left, right, d, list(input.shape)))
        if mode == "circular" and (left > n or right > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if n + left + right < 1 and mode != "circular":
            raise RuntimeError(f"input (W: {n}) is too small. Calculated output W: {n + left + right}")
        out = out.index_select(d, _pad_index(mode, n, left, right, input.device))
    return out


def _pad_index(mode, n, left, right, device):
    """Source index along one dim for each output position of a non-constant pad."""
    if mode == "circular":
        # PyTorch crops by the negative amounts first, then wraps the cropped extent.
        lo, hi = max(-left, 0), n - max(-right, 0)
        m = hi - lo
        j = _np.arange(-max(left, 0), m + max(right, 0))
        idx = lo + _np.mod(j, m) if m > 0 else j[:0]
    else:
        j = _np.arange(-left, n + right)
        if mode == "reflect":
            j = _np.abs(j)                                   # mirror about index 0
            idx = _np.where(j > n - 1, 2 * (n - 1) - j, j)   # mirror about index n-1
        else:
            idx = _np.clip(j, 0, n - 1)
    return torch.from_numpy(_np.ascontiguousarray(idx, dtype=_np.int64)).to(device)


def _pad_constant(input, pad, value):
    out = input
    nd = input.dim()
    for k in range(len(pad) // 2):
        d = nd - 1 - k
        left, right = pad[2 * k], pad[2 * k + 1]
        if left == 0 and right == 0:
            continue
        n = out.shape[d]
        if n + left + right < 0:
            raise RuntimeError(f"The input size {n}, plus negative padding {left} and {right} resulted in a negative "
                               f"output size, which is invalid. Check dimension {d} of your input.")
        if left < 0 or right < 0:  # crop first
            start = max(-left, 0)
            out = out.narrow(d, start, n - start - max(-right, 0))
        parts = []
        shape = list(out.shape)
        if left > 0:
            shape[d] = left
            parts.append(torch.full(tuple(shape), value, dtype=out.dtype, device=out.device))
        parts.append(out)
        if right > 0:
            shape[d] = right
            parts.append(torch.full(tuple(shape), value, dtype=out.dtype, device=out.device))
        if len(parts) > 1:
            out = torch.cat(parts, d)
    return out


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps)
    if out is None:
        return input / denom
    return torch.div(input, denom, out=out)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    n1 = x1.norm(2, dim, keepdim=True).clamp_min(eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


# ---- regression losses -------------------------------------------------------------------------
def _weighted(loss, weight, input, reduction):
    """The optional elementwise ``weight=`` of mse/l1/huber: mean is normalised by sum(weight)."""
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _warn_size_mismatch(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    d = input - target
    loss = d * d
    return _reduce(loss, reduction) if weight is None else _weighted(loss, weight, input, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _warn_size_mismatch(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    loss = (input - target).abs()
    return _reduce(loss, reduction) if weight is None else _weighted(loss, weight, input, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    _warn_size_mismatch(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    a = (input - target).abs()
    if beta == 0.0:
        return _reduce(a, reduction)
    loss = torch.where(a < beta, a * a * (0.5 / beta), a - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _warn_size_mismatch(input, target)
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    a = (input - target).abs()
    loss = torch.where(a < delta, a * a * 0.5, (a - 0.5 * delta) * delta)
    return _reduce(loss, reduction) if weight is None else _weighted(loss, weight, input, reduction)


# ---- binary classification losses --------------------------------------------------------------
def _safe_log(x):
    """log(x) clamped at -100 as PyTorch's BCE, with a finite (zero) gradient at x == 0.

    Clamping the argument to a value whose log is below -100 keeps ``log``'s backward
    (g / x) from dividing by zero; the outer clamp then gives exactly -100.
    """
    tiny = 1e-300 if x.dtype == torch.float64 else 1e-44
    return x.clamp_min(tiny).log().clamp_min(-100.0)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input size "
                         f"({input.size()}) is deprecated. Please ensure they have the same size.")
    if input.numel() and not ((input >= 0) & (input <= 1)).all().item():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if target.numel() and not ((target >= 0) & (target <= 1)).all().item():
        raise RuntimeError("all elements of target should be between 0 and 1")
    half = input.dtype in (torch.float16, torch.bfloat16)
    x = input.float() if half else input   # 1e-44 and -100 are out of range for half types
    log_x = _safe_log(x)
    log_1mx = _safe_log(1.0 - x)
    # -(t*log(x) + (1-t)*log(1-x)), written with one multiply by t.
    loss = -(log_1mx + target * (log_x - log_1mx))
    if half:
        loss = loss.to(input.dtype)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    # (1 - t) * x - log_sigmoid(x) * (1 + (pos_weight - 1) * t), with the stable log-sigmoid.
    log_sig = logsigmoid(input)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ---- classification losses ---------------------------------------------------------------------
def _check_class_weight(weight, n_classes, prefix=""):
    if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
        raise RuntimeError(f"{prefix}weight tensor should be defined either for all {n_classes} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")


def _check_nll_shapes(input, target, weight):
    nd = input.dim()
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd != 1:
        tb = target.shape[0] if target.dim() else 0
        if tb != input.shape[0]:
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({tb}).")
    if target.dtype not in (torch.int64, torch.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_dtype_name(target.dtype)}")
    n_classes = input.shape[0 if nd == 1 else 1]
    if nd <= 2:
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if nd == 1 and target.dim() == 1 and target.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
        _check_class_weight(weight, n_classes)
    elif nd == 4:
        if target.dim() != 3:
            raise RuntimeError("only batches of spatial targets supported (3D tensors) but got targets of "
                               f"dimension: {target.dim()}")
        if weight is not None and weight.numel() != n_classes:
            raise RuntimeError("weight tensor should be defined either for all or no classes")
        if tuple(target.shape) != (input.shape[0],) + tuple(input.shape[2:]):
            raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: {list(target.shape)}")
    else:
        expected = [input.shape[0]] + list(input.shape[2:])
        if list(target.shape) != expected:
            raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")
        if weight is not None and weight.numel() != n_classes:
            raise RuntimeError("weight tensor should be defined either for all or no classes")
    return n_classes


def _nll(logp, target, weight, reduction, ignore_index, n_classes):
    """NLL of log-probabilities logp (class dim 1, or 0 for a single sample) at class indices target."""
    cd = 0 if logp.dim() == 1 else 1
    if target.dtype != torch.int64:
        target = target.long()
    if cd == 0 and target.dim() == 1:
        target = target.reshape(())   # a (C,) input with a (1,) target is one sample
    if weight is None and (ignore_index < 0 or ignore_index >= n_classes):
        # Fast path (every training step): no weights and no target can be ignored unless it is
        # out of range, which gather rejects; then the slow path below names the bad target.
        try:
            picked = logp.gather(cd, target.unsqueeze(cd))
        except (RuntimeError, IndexError):
            picked = None
        if picked is not None:
            if reduction == "none":
                return -picked.squeeze(cd)
            return -(picked.mean() if reduction == "mean" else picked.sum())   # negate the scalar
    valid = target != ignore_index
    safe = target.masked_fill(~valid, 0)
    bad = valid & ((target < 0) | (target >= n_classes))
    if bad.any().item():
        raise IndexError(f"Target {target[bad][0].item()} is out of bounds.")
    picked = logp.gather(cd, safe.unsqueeze(cd)).squeeze(cd)
    if weight is None:
        w = valid.to(logp.dtype)
    else:
        w = weight.to(logp.dtype)[safe] * valid
    loss = -picked * w
    if reduction == "mean":
        return loss.sum() / w.sum()   # weighted mean over non-ignored targets (NaN if none)
    return _reduce(loss, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    n_classes = _check_nll_shapes(input, target, weight)
    return _nll(input, target, weight, reduction, ignore_index, n_classes)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    reduction = _reduction(size_average, reduce, reduction)
    cd = 0 if input.dim() == 1 else 1
    if input.dim() >= 1 and input.shape == target.shape:
        return _cross_entropy_probs(input, target, weight, reduction, ignore_index, label_smoothing, cd)
    n_classes = _check_nll_shapes(input, target, weight)
    logp = _log_softmax(input, cd)
    if label_smoothing <= 0.0:
        return _nll(logp, target, weight, reduction, ignore_index, n_classes)
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    # (1-eps) * nll + eps/C * (-sum_c w_c logp_c), the smooth part zeroed at ignored targets and,
    # for 'mean', normalised by the same weight sum as the nll part.
    nll = _nll(logp, target, weight, reduction, ignore_index, n_classes)
    if weight is not None:
        wb = weight.to(logp.dtype).reshape((n_classes,) + (1,) * (input.dim() - 2)) if cd == 1 else weight
        smooth = -(logp * wb).sum(cd)
    else:
        smooth = -logp.sum(cd)
    if cd == 0 and target.dim() == 1:
        target = target.reshape(())
    valid = target != ignore_index
    smooth = smooth * valid
    if reduction == "mean":
        if weight is not None:
            denom = (weight.to(logp.dtype)[target.masked_fill(~valid, 0).long()] * valid).sum()
        else:
            denom = valid.sum()
        smooth = smooth.sum() / denom
    else:
        smooth = _reduce(smooth, reduction)
    return nll * (1.0 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _cross_entropy_probs(input, target, weight, reduction, ignore_index, label_smoothing, cd):
    if not target.is_floating_point():
        raise RuntimeError("Expected floating point type for target with class probabilities, got "
                           f"{_dtype_name(target.dtype)}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    n_classes = input.shape[cd]
    _check_class_weight(weight, n_classes, "cross_entropy: ")
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    logp = _log_softmax(input, cd)
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / n_classes
    prod = logp * target
    if weight is not None:
        prod = prod * (weight.reshape((n_classes,) + (1,) * (input.dim() - 2)) if cd == 1 else weight)
    if reduction == "none":
        return -prod.sum(cd)
    total = -prod.sum()
    if reduction == "sum":
        return total
    return total / (input.numel() // n_classes) if input.numel() else total * float("nan")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    if size_average is not None or reduce is not None:
        reduction = _Reduction.legacy_get_string(size_average, reduce)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.", stacklevel=2)
    elif reduction != "batchmean":
        _Reduction.get_enum(reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy(t, t) - t * x: the 0 * log(0) terms are 0 (log of 1 there keeps gradients finite).
        loss = target * (torch.where(target == 0, 1.0, target).log() - input)
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.dim() != 0 else total
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    td = target.dim()
    if td > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if td == 1 and (input1.dim() != 2 or input2.dim() != 2):
        raise RuntimeError("1D target tensor expects 2D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    if td == 0 and (input1.dim() != 1 or input2.dim() != 1):
        raise RuntimeError("0D target tensor expects 1D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    eps = 1e-12
    prod = (input1 * input2).sum(td)
    mag1 = (input1 * input1).sum(td) + eps
    mag2 = (input2 * input2).sum(td) + eps
    cos = prod / (mag1 * mag2).sqrt()
    loss = torch.where(target == 1, 1 - cos, 0.0) + torch.where(target == -1, (cos - margin).clamp_min(0.0), 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    loss = (-target * (input1 - input2) + margin).clamp_min(0.0)
    return _reduce(loss, reduction)


# Families written in their own modules (as torch.nn.functional re-exports torch's kernels).
from ._functional_norm import *  # noqa: E402,F401,F403
from ._functional_conv import *  # noqa: E402,F401,F403
from ._functional_attention import *  # noqa: E402,F401,F403
from ._functional_loss_extra import *  # noqa: E402,F401,F403
from . import _functional_norm, _functional_conv, _functional_attention, _functional_loss_extra  # noqa: E402

__all__ += [n for m in (_functional_norm, _functional_conv, _functional_attention, _functional_loss_extra)
            for n in m.__all__]
