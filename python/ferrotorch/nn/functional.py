"""ferrotorch.nn.functional: linear layers, dropout, activations, softmax, padding and distances
(PyTorch's names and rules); the normalization, convolution/pooling, attention and loss families
live in _functional_norm, _functional_conv, _functional_attention and _functional_loss, and are
re-exported here.

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
from ferrotorch import Tensor, _C
from ferrotorch._utils import _dtype_name
from ferrotorch._autocast_op import autocast_op as _autocast_op

__all__ = [
    "linear", "bilinear", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "threshold", "threshold_", "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu",
    "elu", "elu_", "selu", "selu_", "celu", "celu_", "gelu", "silu", "mish", "sigmoid", "tanh",
    "hardtanh", "hardtanh_", "hardsigmoid", "hardswish", "softplus", "softsign", "logsigmoid",
    "tanhshrink", "hardshrink", "softshrink", "glu", "softmax", "log_softmax", "softmin",
    "one_hot", "pad", "normalize", "cosine_similarity", "pairwise_distance", "pdist",
]


# ---- linear layers ----------------------------------------------------------------------------
@_autocast_op("linear")
def linear(input, weight, bias=None):
    """y = x W^T + b; a 2-D input with bias is a single fused addmm."""
    if bias is not None and input.dim() == 2:
        return torch.addmm(bias, input, weight.t())
    out = input.matmul(weight.t())
    return out if bias is None else out + bias


@_autocast_op("bilinear")
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
    # expm1 of the input capped at 0: the positive branch never overflows, so its zero gradient
    # stays 0. where(), not clamp(max=0), whose gradient is 0 at x == 0 (PyTorch's elu has slope
    # alpha there).
    neg = torch.where(input > 0, 0.0, input)
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


@_autocast_op("prelu")
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


# The activations below are engine ops (registry rows with py(nn): one fused kernel and one
# autograd node named as PyTorch's, on every device); `inplace=True` takes the in-place form.
def _act(name, input, inplace):
    return getattr(_C, name + "_" if inplace else name)(input)


def gelu(input, approximate="none"):
    if approximate == "none":
        return _C.gelu(input)
    if approximate == "tanh":
        return _C.gelu_tanh(input)
    raise RuntimeError("approximate argument must be either none or tanh.")


def silu(input, inplace=False):
    return _act("silu", input, inplace)


def _softplus(input, beta=1.0, threshold=20.0):
    bx = input if beta == 1.0 else input * beta
    # log1p(exp(.)) of the clamped value: finite in both branches (no NaN gradient past the threshold).
    soft = bx.clamp(max=threshold).exp().log1p()
    if beta != 1.0:
        soft = soft / beta
    return torch.where(bx > threshold, input, soft)


@_autocast_op("softplus")
def softplus(input, beta=1.0, threshold=20.0):
    # The engine's row is softplus at PyTorch's defaults; other beta/threshold compose (after
    # the row's dtype check: integer inputs raise as PyTorch's kernel does).
    if beta == 1.0 and threshold == 20.0 or not input.is_floating_point():
        return _C.softplus(input)
    return _softplus(input, beta, threshold)


def mish(input, inplace=False):
    return _act("mish", input, inplace)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def hardsigmoid(input, inplace=False):
    return _act("hardsigmoid", input, inplace)


def hardswish(input, inplace=False):
    return _act("hardswish", input, inplace)


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


@_autocast_op("cosine_similarity")
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    n1 = x1.norm(2, dim, keepdim=True).clamp_min(eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


@_autocast_op("pdist")
def pdist(input, p=2):
    """p-norm distances between the rows of an (N, M) input, upper triangle in row-major order."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if input.dtype in (torch.float16, torch.bfloat16):
        raise NotImplementedError(f"\"pdist\" not implemented for '{_dtype_name(input.dtype)}'")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    i, j = torch.triu_indices(n, n, 1, device=input.device)
    diff = input[i] - input[j]
    # Equal rows: PyTorch's gradient there is 0, while norm's backward at a zero vector is 0/0
    # for p other than 1, 2 and inf; a constant stand-in row keeps it out of the graph.
    same = (diff == 0).all(1, keepdim=True)
    dist = torch.where(same, 1.0, diff).norm(p, 1)
    return torch.where(same.squeeze(1), 0.0, dist)


# Families written in their own modules (as torch.nn.functional re-exports torch's kernels).
from ._functional_norm import *  # noqa: E402,F401,F403
from ._functional_conv import *  # noqa: E402,F401,F403
from ._functional_attention import *  # noqa: E402,F401,F403
from ._functional_loss import *  # noqa: E402,F401,F403
from ._functional_loss import _Reduction  # noqa: E402,F401  (torch.nn.functional._Reduction, as in PyTorch)
from . import _functional_norm, _functional_conv, _functional_attention, _functional_loss  # noqa: E402

__all__ += [n for m in (_functional_norm, _functional_conv, _functional_attention, _functional_loss)
            for n in m.__all__]
