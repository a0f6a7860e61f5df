"""Convolution, pooling, fold/unfold, pixel shuffle and interpolation (PyTorch's names and rules).

Everything is composed from tensor views and ops, so autograd and every device come for free:

* im2col is ``Tensor.unfold`` once per spatial dim (a strided view with autograd; ``as_strided``
  would be the general tool but carries no gradient here), then one batched matmul per call.
* col2im (fold, transposed convolution) is one ``index_add`` of the columns into the flattened
  output; a loop of K strided adds over the kernel offsets was the rejected alternative there, where
  columns are (N, C, K, L) and each add would walk single elements. The convolution's own im2col
  backward (``_Im2col``) does use K strided adds: its columns are channels-last, so each add copies
  contiguous runs of C, and no index tensor or (N, C, K, L) permuted copy is needed.
* Pools view the (padded) input as windows with the same unfold, then reduce the window dims;
  adaptive pools and interpolation gather rows with ``index_select`` or multiply by a small
  per-dim averaging matrix, since their windows vary in size.
"""
import itertools
import math
import warnings

import ferrotorch as torch
from ferrotorch import Tensor

# functional imports this module at its end (re-export), so this circular import is safe.
from . import functional as F
from ferrotorch._autocast_op import autocast_op as _autocast_op

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "unfold", "fold",
    "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices",
    "lp_pool1d", "lp_pool2d", "lp_pool3d",
    "pixel_shuffle", "pixel_unshuffle", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
]


# ---- argument helpers -------------------------------------------------------------------------
def _int(v, name):
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, Tensor) and v.dim() == 0 and not v.is_floating_point():
            return int(v)
        raise TypeError(f"{name} must be an int or a tuple of ints, but got {type(v).__name__}")
    if not -2 ** 63 <= v < 2 ** 63:
        raise ValueError("Overflow when unpacking long long")
    return v


def _tuple(v, n, name, msg=None):
    """An int or a length-1/length-n sequence of ints -> n-tuple (PyTorch expands length 1)."""
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            v = tuple(v) * n
        if len(v) != n:
            raise RuntimeError(msg or f"expected {name} to be a single integer value or a list of {n} values to "
                                      f"match the convolution dimensions, but got {name}={list(v)}")
        return tuple(_int(x, name) for x in v)
    return (_int(v, name),) * n


def _fmt(vals, sep=" x "):
    return "(" + sep.join(str(v) for v in vals) + ")"


def _prod(vals):
    p = 1
    for v in vals:
        p *= v
    return p


def _bshape(axis, n, total):
    """Shape that puts n at ``axis`` of ``total`` dims, 1 elsewhere (for broadcasting aranges)."""
    s = [1] * total
    s[axis] = n
    return s


def _batch(input, nd, name, msg=None):
    """Accept (C, *sp) or (N, C, *sp); return the batched tensor and whether a dim was added."""
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(msg or f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, "
                                  f"but got input of size: {list(input.shape)}")
    if input.dim() == nd + 1:
        return input.unsqueeze(0), True
    return input, False


def _unbatch(out, squeeze):
    return out.squeeze(0) if squeeze else out


# ---- im2col / col2im core (shared by every N-d case) -----------------------------------------
def _windows(x, kernel, dilation, stride, first=2):
    """View the spatial dims first..first+nd-1 as (..., *out, ..., *kernel) sliding windows (no copy)."""
    for i, (k, d, s) in enumerate(zip(kernel, dilation, stride)):
        x = x.unfold(first + i, d * (k - 1) + 1, s)
        if d > 1:
            x = x[..., ::d]
    return x


# Kernels with at most this many offsets build columns from one strided slice per offset.
_SLICE_IM2COL_MAX = 64


def _offset_windows(kernel, dilation, stride, out):
    """For each kernel offset: (offset, the strided slices of the spatial dims it reads)."""
    for off in itertools.product(*[range(kk) for kk in kernel]):
        yield off, tuple(slice(o * d, o * d + s * (m - 1) + 1, s) for o, d, s, m in zip(off, dilation, stride, out))


def _windows_view(x, kernel, dilation, stride):
    nd = len(kernel)
    w = _windows(x, kernel, dilation, stride, first=1)          # (N, *out, C, *kernel)
    return w.permute(0, *range(1, 1 + nd), *range(2 + nd, 2 + 2 * nd), 1 + nd)


class _Im2col(torch.autograd.Function):
    """Columns of a channels-last input as one copy of the window view; the backward adds each
    kernel offset's block of the column gradient into its strided window of one zero tensor (K
    in-place strided adds). Rejected: stacking one slice per offset, whose K slice backwards each
    allocate and fill an input-sized tensor before the engine sums them (~2x slower backward for a
    3x3 conv), and the window view's own backward (~8x slower)."""

    @staticmethod
    def forward(ctx, x, kernel, dilation, stride):
        ctx.geometry = (tuple(x.shape), kernel, dilation, stride)
        return _windows_view(x, kernel, dilation, stride).contiguous()

    @staticmethod
    def backward(ctx, g):
        shape, kernel, dilation, stride = ctx.geometry
        nd = len(kernel)
        gx = torch.zeros(shape, dtype=g.dtype, device=g.device)
        lead = (slice(None),) * (1 + nd)
        for off, idx in _offset_windows(kernel, dilation, stride, g.shape[1:1 + nd]):
            gx[(slice(None),) + idx].add_(g[lead + off])
        return gx, None, None, None


def _im2col(x, kernel, dilation, stride):
    """Channels-last (N, *sp, C) -> columns (N, *out, *kernel, C).

    Channels innermost makes the column copy contiguous runs of C and lets the convolution be one
    tall (N*L, K*C) @ (K*C, O) product, which the matmul kernel runs about 1.5x faster than the
    per-sample (O, C*K) @ (C*K, L) batch of the NCHW layout (3x3 conv, measured).
    Without autograd the window view is returned (the caller's reshape makes the one copy). With a
    gradient and a small kernel, `_Im2col` copies once and has a cheap backward; large kernels keep
    the window view so the backward's loop count stays small.
    """
    if _prod(kernel) > _SLICE_IM2COL_MAX or not (x.requires_grad and torch.is_grad_enabled()):
        return _windows_view(x, kernel, dilation, stride)
    return _Im2col.apply(x, kernel, dilation, stride)


def _channels_last(x, pads):
    """(N, C, *sp) -> zero-padded (N, *sp', C)."""
    nd = x.dim() - 2
    xh = x.permute(0, *range(2, 2 + nd), 1)
    if any(a or b for a, b in pads):
        return F.pad(xh, [0, 0] + [v for ab in reversed(pads) for v in ab])
    return xh


def _col2im(cols, out_sp, blocks, kernel, dilation, stride):
    """Sum columns (N, C, K, L) into (N, C, *out_sp) at the positions im2col read them from."""
    nd = len(kernel)
    dev = cols.device
    idx = 0
    for i in range(nd):
        kk = (torch.arange(kernel[i], device=dev) * dilation[i]).reshape(_bshape(i, kernel[i], 2 * nd))
        bb = (torch.arange(blocks[i], device=dev) * stride[i]).reshape(_bshape(nd + i, blocks[i], 2 * nd))
        idx = idx * out_sp[i] + (kk + bb)
    n, c = cols.shape[0], cols.shape[1]
    src = cols.reshape(n, c, cols.shape[2] * cols.shape[3])
    out = torch.zeros((n, c, _prod(out_sp)), dtype=cols.dtype, device=dev)
    return out.index_add(2, idx.reshape(-1), src).reshape(n, c, *out_sp)


def _check_same_dtype(input, weight, bias):
    if input.dtype != weight.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and weight type ({weight.dtype}) should be the same")
    if bias is not None and bias.dtype != weight.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and bias type ({bias.dtype}) should be the same")


def _conv_args(nd, stride, padding, dilation, groups):
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    groups = _int(groups, "groups")
    if not isinstance(padding, str):
        padding = _tuple(padding, nd, "padding")
        if any(p < 0 for p in padding):
            raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    return stride, padding, dilation, groups


def _check_weight(x, weight, bias, groups, nd, transposed):
    if not isinstance(weight, Tensor):
        raise TypeError(f"weight must be a Tensor, not {type(weight).__name__}")
    if weight.dim() != nd + 2:
        raise RuntimeError(f"Expected {nd + 2}-dimensional weight for {nd + 2}-dimensional input "
                           f"{list(x.shape)}, but got {weight.dim()}-dimensional weight of size "
                           f"{list(weight.shape)} instead")
    if weight.shape[0] == 0:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least 1 at dimension 0, but got weight "
                           f"of size {list(weight.shape)} instead")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size [{list(weight.shape)}] instead")
    need = weight.shape[0] if transposed else weight.shape[1] * groups
    if x.shape[1] != need:
        pre = "transposed=1" if transposed else f"groups={groups}"
        raise RuntimeError(f"Given {pre}, weight of size {list(weight.shape)}, expected input{list(x.shape)} to "
                           f"have {need} channels, but got {x.shape[1]} channels instead")
    out_c = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_c):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{out_c} elements, but got bias of size {list(bias.shape)} instead")
    _check_same_dtype(x, weight, bias)


def _conv(input, weight, bias, stride, padding, dilation, groups, nd, name):
    """N-d convolution (cross-correlation): channels-last im2col, then one matmul batched over groups."""
    stride, padding, dilation, groups = _conv_args(nd, stride, padding, dilation, groups)
    x, squeeze = _batch(input, nd, name)
    _check_weight(x, weight, bias, groups, nd, False)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            # PyTorch puts the odd extra element on the right.
            pads = [(t // 2, t - t // 2) for t in total]
            padding = None
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    if padding is not None:
        pads = [(p, p) for p in padding]
    sp = x.shape[2:]
    padded = [n + a + b for n, (a, b) in zip(sp, pads)]
    eff = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: {_fmt(padded)}. Kernel size: {_fmt(eff)}. "
                           "Kernel size can't be greater than actual input size")
    n, c, o = x.shape[0], x.shape[1], weight.shape[0]
    cg, og, k = c // groups, o // groups, _prod(kernel)
    cols = _im2col(_channels_last(x, pads), kernel, dilation, stride)     # (N, *out, *kernel, C)
    out_sp = tuple(cols.shape[1:1 + nd])
    nl = n * _prod(out_sp)
    # (G, N*L, K*Cg) @ (G, K*Cg, Og); both permutes are free views when groups == 1.
    cols = cols.reshape(nl, k, groups, cg).permute(2, 0, 1, 3).reshape(groups, nl, k * cg)
    w = weight.reshape(groups, og, cg, k).permute(0, 3, 2, 1).reshape(groups, k * cg, og)
    out = cols.matmul(w).permute(1, 0, 2).reshape(n, *out_sp, o).permute(0, nd + 1, *range(1, nd + 1))
    if bias is not None:
        out = out + bias.reshape(o, *([1] * nd))
    # Return PyTorch's contiguous NCHW layout, so that .view() on the result works as there.
    return _unbatch(out.contiguous(), squeeze)


@_autocast_op("conv1d")
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C, L) or (C, L); padding may be an int, a tuple, 'same' or 'valid'."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


@_autocast_op("conv2d")
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over (N, C, H, W) or (C, H, W); padding may be an int, a tuple, 'same' or 'valid'."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


@_autocast_op("conv3d")
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, name):
    """Transposed convolution: one matmul to columns (W^T x), then col2im and a crop of the padding."""
    stride, padding, dilation, groups = _conv_args(nd, stride, padding, dilation, groups)
    if isinstance(padding, str):
        raise RuntimeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    output_padding = _tuple(output_padding, nd, "output_padding")
    x, squeeze = _batch(input, nd, name)
    _check_weight(x, weight, bias, groups, nd, True)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)) or \
            any(op < 0 for op in output_padding):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got "
                           f"output_padding={list(output_padding)} stride={list(stride)} dilation={list(dilation)}")
    kernel = tuple(weight.shape[2:])
    in_sp = tuple(x.shape[2:])
    full = [(i - 1) * s + d * (k - 1) + 1 + op
            for i, s, d, k, op in zip(in_sp, stride, dilation, kernel, output_padding)]
    out_sp = [f - 2 * p for f, p in zip(full, padding)]
    if any(v <= 0 for v in out_sp):
        raise RuntimeError(f"Given input size per channel: {_fmt(in_sp)}. Calculated output size per channel: "
                           f"{_fmt(out_sp)}. Output size is too small")
    n, cin = x.shape[0], x.shape[1]
    og = weight.shape[1]
    k = _prod(kernel)
    L = _prod(in_sp)
    w = weight.reshape(groups, cin // groups, og * k).transpose(1, 2)      # (G, Og*K, Cin/G)
    cols = w.matmul(x.reshape(n, groups, cin // groups, L))                 # (N, G, Og*K, L)
    out = _col2im(cols.reshape(n, groups * og, k, L), full, in_sp, kernel, dilation, stride)
    for i, p in enumerate(padding):
        if p:
            out = out.narrow(2 + i, p, out_sp[i])
    if bias is not None:
        out = out + bias.reshape(groups * og, *([1] * nd))
    return _unbatch(out, squeeze)


@_autocast_op("conv_transpose1d")
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution; weight is (C_in, C_out/groups, kW)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                           "conv_transpose1d")


@_autocast_op("conv_transpose2d")
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution; weight is (C_in, C_out/groups, kH, kW)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                           "conv_transpose2d")


@_autocast_op("conv_transpose3d")
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution; weight is (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3,
                           "conv_transpose3d")


# ---- unfold / fold ----------------------------------------------------------------------------
def _fold_args(kernel_size, dilation, padding, stride):
    msg = "{} must be an int or a tuple of two ints"
    k = _tuple(kernel_size, 2, "kernel_size", msg.format("kernel_size"))
    d = _tuple(dilation, 2, "dilation", msg.format("dilation"))
    p = _tuple(padding, 2, "padding", msg.format("padding"))
    s = _tuple(stride, 2, "stride", msg.format("stride"))
    if any(v <= 0 for v in k):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {k[0]} "
                           f"kernel_width: {k[1]}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {s[0]} stride_width: {s[1]}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {d[0]} "
                           f"dilation_width: {d[1]}")
    if any(v < 0 for v in p):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} pad_width: {p[1]}")
    return k, d, p, s


def _blocks(sp, k, d, p, s):
    return [(n + 2 * pp - (dd * (kk - 1) + 1)) // ss + 1 for n, kk, dd, pp, ss in zip(sp, k, d, p, s)]


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: (N, C, H, W) -> (N, C*kH*kW, L) blocks (a 3-D input is treated as unbatched)."""
    k, d, p, s = _fold_args(kernel_size, dilation, padding, stride)
    if input.dim() < 3:
        d = max(input.dim(), 1)
        raise IndexError(f"Dimension out of range (expected to be in range of [{-d}, {d - 1}], but got 2)")
    x, squeeze = _batch(input, 2, "unfold", "Input Error: Only 3D or 4D input Tensors are supported "
                                            f"(got {input.dim()}D)")
    sp = list(x.shape[2:])
    blocks = _blocks(sp, k, d, p, s)
    if any(b < 1 for b in blocks):
        raise RuntimeError(f"Given input with spatial size {tuple(sp)}, kernel_size={k}, dilation={d}, padding={p}, "
                           f"calculated shape of the array of sliding blocks as {tuple(blocks)}, but its components "
                           "must be at least one.")
    n, c = x.shape[0], x.shape[1]
    cols = _im2col(_channels_last(x, [(p[0], p[0]), (p[1], p[1])]), k, d, s)     # (N, oh, ow, kh, kw, C)
    out = cols.permute(0, 5, 3, 4, 1, 2).reshape(n, c * k[0] * k[1], blocks[0] * blocks[1])
    return _unbatch(out, squeeze)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im: sums (N, C*kH*kW, L) blocks into (N, C, *output_size); overlapping entries add up."""
    k, d, p, s = _fold_args(kernel_size, dilation, padding, stride)
    osz = _tuple(output_size, 2, "output_size", "output_size must be an int or a tuple of two ints")
    if input.dim() not in (2, 3):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    x = input.unsqueeze(0) if input.dim() == 2 else input
    kk = k[0] * k[1]
    if x.shape[1] % kk:
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={x.shape[1]} and kernel_size={k}.")
    blocks = _blocks(osz, k, d, p, s)
    if any(b < 1 for b in blocks):
        raise RuntimeError(f"Given output_size={osz}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
                           f"calculated shape of the array of sliding blocks as {tuple(blocks)}, but its components "
                           "must be at least one.")
    if x.shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(f"Given output_size={osz}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
                           f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)={x.shape[2]}.")
    n, c = x.shape[0], x.shape[1] // kk
    full = [o + 2 * pp for o, pp in zip(osz, p)]
    out = _col2im(x.reshape(n, c, kk, x.shape[2]), full, blocks, k, d, s)
    for i in range(2):
        if p[i]:
            out = out.narrow(2 + i, p[i], osz[i])
    return out.squeeze(0) if input.dim() == 2 else out


# ---- pooling core -----------------------------------------------------------------------------
def _pool_out(n, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape: floor or ceil, and a last window must start inside input+left pad."""
    num = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_args(nd, name, kernel_size, stride, padding, dilation=1):
    msg = f"{name}: {{}} must either be a single int, or a tuple of {('one', 'two', 'three')[nd - 1]} ints"
    if nd == 1:
        msg = f"{name}: {{}} must be a single int or a tuple of one int"
    k = _tuple(kernel_size, nd, "kernel_size", msg.format("kernel_size"))
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _tuple(stride, nd, "stride", msg.format("stride"))
    p = _tuple(padding, nd, "padding", msg.format("padding"))
    d = _tuple(dilation, nd, "dilation", msg.format("dilation"))
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    if any(v < 0 for v in s):
        raise RuntimeError(f"stride must be greater than zero, but got {list(s)}")
    if any(v <= 0 for v in k):
        raise RuntimeError(f"kernel_size must be greater than zero, but got {list(k)}")
    if any(v <= 0 for v in d):
        raise RuntimeError("dilation should be greater than zero, but got "
                           + " ".join(f"dilation{a}: {v}" for a, v in zip("DHW"[3 - nd:], d)))
    if any(pp < 0 for pp in p):
        raise RuntimeError(f"pad must be non-negative, but got pad: {list(p)}")
    for kk, pp, dd in zip(k, p, d):
        if kk // 2 < pp:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pp}, "
                               f"kernel_size={kk} and dilation={dd}")
    return k, s, p, d


def _pool_input(input, nd, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dim() not in (nd + 1, nd + 2):
        if name.startswith("avg") and nd > 1 and input.dim() < nd + 1:
            # PyTorch indexes dim -(nd+1) before any check.
            raise IndexError(f"Dimension out of range (expected to be in range of [{-max(input.dim(), 1)}, "
                             f"{max(input.dim(), 1) - 1}], but got {-(nd + 1)})")
        if name.startswith("avg") and nd == 1:
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument "
                               "#1 'self' (while checking arguments for avg_pool1d)")
        if name == "max_pool2d":
            raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    if input.dim() not in (nd + 1, nd + 2) or not all(v > 0 for v in input.shape[-(nd + 1):]):
        pre = "max_pool1d: " if name == "max_pool1d" else ""
        raise RuntimeError(f"{pre}Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional 0 dim batch "
                           f"size for input, but got:{list(input.shape)}")
    return _batch(input, nd, name)


def _pool_windows(x, k, s, p, d, ceil_mode, value):
    """Pad with ``value`` and view as (N, C, *out, *k) windows; the right pad covers ceil_mode's extra window."""
    sp = list(x.shape[2:])
    out = [_pool_out(n, kk, ss, pp, dd, ceil_mode) for n, kk, ss, pp, dd in zip(sp, k, s, p, d)]
    if any(o < 1 for o in out):
        c = x.shape[1]
        raise RuntimeError(f"Given input size: ({c}x{'x'.join(map(str, sp))}). Calculated output size: "
                           f"({c}x{'x'.join(map(str, out))}). Output size is too small")
    # Right pad (negative = crop) so that exactly `out` windows fit.
    pads = [(pp, (o - 1) * ss + dd * (kk - 1) + 1 - n - pp) for n, kk, ss, pp, dd, o in zip(sp, k, s, p, d, out)]
    if any(a or b for a, b in pads):
        x = F.pad(x, [v for ab in reversed(pads) for v in ab], value=value)
    return _windows(x, k, d, s), out


def _window_index(out, k, s, p, d, sp, dev):
    """Flat input index (out..., K) of each window element, clamped into the input (PyTorch's max
    pooling never reports a padding position)."""
    nd = len(k)
    idx = 0
    for i in range(nd):
        oo = (torch.arange(out[i], device=dev) * s[i] - p[i]).reshape(_bshape(i, out[i], 2 * nd))
        kk = (torch.arange(k[i], device=dev) * d[i]).reshape(_bshape(nd + i, k[i], 2 * nd))
        idx = idx * sp[i] + (oo + kk).clamp(0, sp[i] - 1)
    return idx.reshape(*out, _prod(k))


def _max_over(win, idxmap, return_indices, squeeze):
    """Max over the last dim of (N, C, *out, K) windows, unbatched by ``squeeze``; with
    ``return_indices`` also the indices, picked from idxmap (*out, K)."""
    vals, arg = win.max(-1)
    if not return_indices:
        return _unbatch(vals, squeeze)
    ind = idxmap.expand(*win.shape).gather(-1, arg.unsqueeze(-1)).squeeze(-1)
    return _unbatch(vals, squeeze), _unbatch(ind, squeeze)


def _pool_blocks(x, k, s, p, d, ceil_mode):
    """The (N, C, *out, K) windows of a pooling whose windows tile the input (stride == kernel, no
    padding or dilation, no ceil_mode window past the end), else None: crop, split each spatial dim
    into (out, k), permute the k's last and copy once; the backward is a view of the gradient. The
    unfold windows' backward is much slower (2x2 max_pool2d on 64x128x128, forward + backward, one
    thread: 139 -> 38 ms)."""
    if tuple(s) != tuple(k) or any(v != 0 for v in p) or any(v != 1 for v in d):
        return None
    sp = list(x.shape[2:])
    out = [_pool_out(n, kk, ss, pp, dd, ceil_mode) for n, kk, ss, pp, dd in zip(sp, k, s, p, d)]
    if any(o < 1 or o * kk > n for o, kk, n in zip(out, k, sp)):
        return None
    nd = len(k)
    x = x[(slice(None), slice(None)) + tuple(slice(0, o * kk) for o, kk in zip(out, k))]
    x = x.reshape(*x.shape[:2], *[v for o, kk in zip(out, k) for v in (o, kk)])
    x = x.permute(0, 1, *range(2, 2 + 2 * nd, 2), *range(3, 3 + 2 * nd, 2))
    return x.reshape(*x.shape[:2 + nd], _prod(k)), out


def _max_pool(input, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices, name):
    k, s, p, d = _pool_args(nd, name, kernel_size, stride, padding, dilation)
    x, squeeze = _pool_input(input, nd, name)
    blocks = _pool_blocks(x, k, s, p, d, ceil_mode)
    if blocks is not None:  # same windows, same element order (the max's ties go the same way)
        win, out = blocks
    else:
        win, out = _pool_windows(x, k, s, p, d, ceil_mode, -math.inf)
        win = win.reshape(*win.shape[:2 + nd], _prod(k))
    idxmap = _window_index(out, k, s, p, d, list(x.shape[2:]), x.device) if return_indices else None
    return _max_over(win, idxmap, return_indices, squeeze)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling; padding counts as -inf; indices are flat positions along L."""
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling; indices are flat positions into H*W, as PyTorch."""
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d")


@_autocast_op("max_pool3d")
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling; indices are flat positions into D*H*W."""
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool3d")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, True, "max_pool1d")


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, True, "max_pool2d")


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True, "max_pool3d")


def _avg_pool(input, nd, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, name):
    k, s, p, _ = _pool_args(nd, name, kernel_size, stride, padding)
    if divisor_override is not None and _int(divisor_override, "divisor_override") == 0:
        raise RuntimeError("divisor must be not zero")
    x, squeeze = _pool_input(input, nd, name)
    sp = list(x.shape[2:])
    win, out = _pool_windows(x, k, s, p, (1,) * nd, ceil_mode, 0.0)
    total = win.sum(dim=tuple(range(-nd, 0)))
    if divisor_override is not None:
        out = total / divisor_override
        return _unbatch(out if total.is_floating_point() else out.to(total.dtype), squeeze)
    # Per-dim window sizes (PyTorch: clipped to input+pad, then to the input unless count_include_pad).
    div = 1
    for i in range(nd):
        start = torch.arange(out[i], device=x.device) * s[i] - p[i]
        end = (start + k[i]).clamp(max=sp[i] + p[i])
        if not count_include_pad:
            start, end = start.clamp(min=0), end.clamp(max=sp[i])
        div = div * (end - start).reshape(_bshape(i, out[i], nd))
    out = total / div.to(total.dtype) if total.is_floating_point() else (total / div).to(total.dtype)
    return _unbatch(out, squeeze)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling (count_include_pad counts zero padding, not ceil_mode overhang, in the divisor)."""
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling; ``divisor_override`` replaces the window size as divisor."""
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     "avg_pool2d")


@_autocast_op("avg_pool3d")
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-D average pooling."""
    return _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     "avg_pool3d")


# ---- adaptive pooling -------------------------------------------------------------------------
def _adaptive_args(input, nd, output_size, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dim() not in (nd + 1, nd + 2):
        if nd == 1:
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument "
                               f"#1 'self' (while checking arguments for {name})")
        colon = ":" if "max" in name else ""
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got{colon} {list(input.shape)}")
    for i in range(input.dim() - nd, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {list(input.shape)} with dimension {i} being empty")
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != nd:
            raise RuntimeError(f"{name}(): internal error: output_size.size() must be {nd}")
        osz = list(output_size)
    else:
        osz = [output_size] * nd
    sp = list(input.shape[-nd:])
    osz = [sp[i] if v is None else _int(v, "output_size") for i, v in enumerate(osz)]
    if any(v < 0 for v in osz):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but received "
                           "{" + ", ".join(map(str, osz)) + "}")
    x, squeeze = _batch(input, nd, name)
    return x, squeeze, sp, osz


def _adaptive_bounds(n, o, dev):
    """PyTorch's windows: start = floor(i*n/o), end = ceil((i+1)*n/o)."""
    i = torch.arange(o, device=dev)
    return (i * n) // o, ((i + 1) * n + o - 1) // o


def _adaptive_avg(input, nd, output_size, name):
    x, squeeze, sp, osz = _adaptive_args(input, nd, output_size, name)
    # Averages over boxes are separable: one (o, n) averaging matrix per dim, applied by matmul.
    # A cumsum difference would be O(n) but loses float32 precision on long rows.
    out = x
    for i in range(nd):
        start, end = _adaptive_bounds(sp[i], osz[i], x.device)
        pos = torch.arange(sp[i], device=x.device)
        mask = (pos >= start.unsqueeze(1)) & (pos < end.unsqueeze(1))
        m = mask.to(x.dtype) / (end - start).clamp(min=1).unsqueeze(1).to(x.dtype)   # (o, n)
        d = 2 + i
        out = out.transpose(d, -1).matmul(m.t()).transpose(d, -1)
    return _unbatch(out, squeeze)


def _adaptive_max(input, nd, output_size, return_indices, name):
    x, squeeze, sp, osz = _adaptive_args(input, nd, output_size, name)
    dev = x.device
    # Gather every window padded to the widest one by repeating its last element (harmless for max).
    idx = 0
    for i in range(nd):
        start, end = _adaptive_bounds(sp[i], osz[i], dev)
        kmax = int((end - start).max()) if osz[i] > 0 else 1
        j = torch.minimum(start.unsqueeze(1) + torch.arange(kmax, device=dev), end.unsqueeze(1) - 1)
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = osz[i], kmax
        idx = idx * sp[i] + j.reshape(shape)
    idxmap = idx.reshape(*osz, _prod(idx.shape[nd:]))
    n, c = x.shape[0], x.shape[1]
    win = x.reshape(n, c, _prod(sp)).index_select(2, idxmap.reshape(-1)).reshape(n, c, *idxmap.shape)
    return _max_over(win, idxmap, return_indices, squeeze)


def adaptive_avg_pool1d(input, output_size):
    """Average over PyTorch's adaptive windows to a length of ``output_size``."""
    return _adaptive_avg(input, 1, output_size, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """Adaptive average pooling to (oH, oW); ``None`` keeps that input size."""
    return _adaptive_avg(input, 2, output_size, "adaptive_avg_pool2d")


@_autocast_op("adaptive_avg_pool3d")
def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg(input, 3, output_size, "adaptive_avg_pool3d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows; indices are flat positions along L."""
    return _adaptive_max(input, 1, output_size, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Adaptive max pooling to (oH, oW); indices are flat positions into H*W."""
    return _adaptive_max(input, 2, output_size, return_indices, "adaptive_max_pool2d")


@_autocast_op("adaptive_max_pool3d")
def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max(input, 3, output_size, return_indices, "adaptive_max_pool3d")


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max(input, 1, output_size, True, "adaptive_max_pool1d")


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max(input, 2, output_size, True, "adaptive_max_pool2d")


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max(input, 3, output_size, True, "adaptive_max_pool3d")


# ---- power-average pooling --------------------------------------------------------------------
def _lp_pool(input, nd, norm_type, kernel_size, stride, ceil_mode):
    k = _tuple(kernel_size, nd, "kernel_size")
    out = _avg_pool(input.pow(norm_type), nd, k, stride, 0, ceil_mode, True, None, f"avg_pool{nd}d")
    return (torch.sign(out) * F.relu(torch.abs(out))).mul(_prod(k)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over window of x**p) ** (1/p), as PyTorch (via average pooling times the window size)."""
    return _lp_pool(input, 1, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, 2, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, 3, norm_type, kernel_size, stride, ceil_mode)


# ---- pixel shuffle ----------------------------------------------------------------------------
def _shuffle_check(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dim() < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")


def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    _shuffle_check(input, "pixel_shuffle")
    r = _int(upscale_factor, "upscale_factor")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *b, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    nb = len(b)
    x = input.reshape(*b, c // (r * r), r, r, h, w)
    x = x.permute(*range(nb), nb, nb + 3, nb + 1, nb + 4, nb + 2)
    return x.reshape(*b, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    _shuffle_check(input, "pixel_unshuffle")
    r = _int(downscale_factor, "downscale_factor")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *b, c, h, w = input.shape
    if h % r:
        raise RuntimeError("pixel_unshuffle expects height to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError("pixel_unshuffle expects width to be divisible by downscale_factor, but "
                           f"input.size(-1)={w} is not divisible by {r}")
    nb = len(b)
    x = input.reshape(*b, c, h // r, r, w // r, r)
    x = x.permute(*range(nb), nb, nb + 2, nb + 4, nb + 1, nb + 3)
    return x.reshape(*b, c * r * r, h // r, w // r)


# ---- interpolation ----------------------------------------------------------------------------
_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}


def _src_dtype(x):
    # PyTorch computes source coordinates in the op's accumulate type: double for double, else float.
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def _resize_dim(x, d, n, o, scale, mode, align_corners):
    """Resample dim ``d`` from n to o points with index_select (O(output), unlike an (o, n) matrix)."""
    dev = x.device
    ct = _src_dtype(x)
    pos = torch.arange(o, device=dev).to(ct)
    if mode in ("nearest", "nearest-exact"):
        r = (1.0 / scale) if scale is not None else n / o
        src = (pos + 0.5) * r if mode == "nearest-exact" else pos * r
        idx = src.floor().to(torch.int64).clamp(max=n - 1)
        return x.index_select(d, idx)
    if align_corners:
        r = (n - 1) / (o - 1) if o > 1 else 0.0
        src = pos * r
    else:
        r = (1.0 / scale) if scale is not None else n / o
        src = ((pos + 0.5) * r - 0.5).clamp(min=0)
    i0 = src.floor().to(torch.int64).clamp(max=n - 1)
    i1 = (i0 + 1).clamp(max=n - 1)
    lam = (src - i0.to(ct)).to(x.dtype).reshape(_bshape(0, o, x.dim() - d))
    return x.index_select(d, i0) * (1 - lam) + x.index_select(d, i1) * lam


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resize (N, C, *sp) by ``size`` or ``scale_factor`` with modes nearest, nearest-exact, (bi/tri)linear
    and area.

    Deviation: bicubic, lanczos and ``antialias=True`` are not implemented (NotImplementedError).
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    nd = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scales = None
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError("Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {list(input.shape[2:])} and output size of {size}. "
                                 "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 "(o1, o2, ...,oK) format.")
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                                f"Tuple[int, int, int], but got size with types {[type(v) for v in size]}")
            osz = list(size)
        else:
            osz = [_int(size, "size")] * max(nd, 0)
    elif scale_factor is not None:
        osz = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError("Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(input.shape[2:])} and scale_factor of "
                                 f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                                 "format and scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(v) for v in scale_factor]
        else:
            scales = [float(scale_factor)] * max(nd, 0)
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if antialias:
        raise NotImplementedError("ferrotorch: interpolate(antialias=True) is not implemented")
    if mode not in ("nearest", "nearest-exact", "area", "linear", "bilinear", "trilinear"):
        if mode in ("bicubic", "lanczos"):
            raise NotImplementedError(f"ferrotorch: interpolate mode '{mode}' is not implemented")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) "
                                  f"for the modes: {_MODES} (got {mode})")
    if input.dim() not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) "
                                  f"for the modes: {_MODES} (got {mode})")
    if mode in _LINEAR and _LINEAR[mode] != input.dim():
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {_LINEAR[mode]}D input")
    sp = list(input.shape[2:])
    if osz is None:
        for v in scales:
            if not math.isfinite(v):
                raise RuntimeError("value cannot be converted to type int64_t without overflow")
        osz = [int(math.floor(n * v)) for n, v in zip(sp, scales)]
        if mode == "area" or recompute_scale_factor:
            scales = None
    if any(v <= 0 for v in osz) or any(v <= 0 for v in sp):
        names = ("D", "H", "W")[3 - nd:]
        fmt = lambda v: "(" + ", ".join(f"{a}: {b}" for a, b in zip(names, v)) + ")"  # noqa: E731
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input {fmt(sp)} "
                           f"and output {fmt(osz)}")
    if mode == "area":
        return _adaptive_avg(input, nd, osz, f"adaptive_avg_pool{nd}d")
    if not input.is_floating_point() and not (input.dtype == torch.uint8 and mode.startswith("nearest")):
        raise NotImplementedError(f"\"upsample_{mode}\" not implemented for '{str(input.dtype).split('.')[-1]}'")
    out = input
    for i in range(nd):
        if osz[i] == sp[i] and (scales is None or scales[i] == 1.0):
            continue
        out = _resize_dim(out, 2 + i, sp[i], osz[i], None if scales is None else scales[i], mode, align_corners)
    return out if out is not input else input.clone()


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate`."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
