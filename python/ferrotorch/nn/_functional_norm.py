"""Normalisation and embedding functionals (``torch.nn.functional`` names, defaults and errors).

All are compositions of tensor ops (mean/var/rsqrt/index_select/where), so autograd and every
device work with no dedicated kernel. The normalisations share one core, :func:`_normalize`,
which takes one ``var_mean`` pass over the reduced dims.
"""
import ferrotorch as torch
from ferrotorch._autocast_op import autocast_op as _autocast_op

__all__ = [
    "layer_norm", "rms_norm", "group_norm", "batch_norm", "instance_norm", "local_response_norm",
    "embedding", "embedding_bag",
]


def _normalize(input, dims, eps):
    """(x - mean) / sqrt(var + eps) over ``dims`` (biased var); also returns mean and var (keepdim)."""
    var, mean = torch.var_mean(input, dim=dims, correction=0, keepdim=True)
    return (input - mean) * (var + eps).rsqrt(), mean, var


def _channel_view(t, ndim):
    """A per-channel (C,) tensor shaped (1, C, 1, ...) to broadcast against an ndim-D input."""
    return t.reshape((1, -1) + (1,) * (ndim - 2))


def _affine(out, weight, bias, ndim):
    if weight is not None:
        out = out * _channel_view(weight, ndim)
    if bias is not None:
        out = out + _channel_view(bias, ndim)
    return out


def _check_normalized_shape(input, normalized_shape, name, star_sep):
    if isinstance(normalized_shape, int) or not isinstance(normalized_shape, (tuple, list, torch.Size)):
        raise TypeError(f"{name}(): argument 'normalized_shape' (position 2) must be tuple of ints, "
                        f"not {type(normalized_shape).__name__}")
    ns = [int(s) for s in normalized_shape]
    if not ns:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at "
                           "least one element, but got normalized_shape = []")
    if list(input.shape[input.dim() - len(ns):]) != ns or input.dim() < len(ns):
        raise RuntimeError(f"Given normalized_shape={ns}, expected input with shape [*{star_sep}"
                           f"{str(ns)[1:-1]}], but got input of size{list(input.shape)}")
    return ns


def _check_param_shape(t, ns, what):
    if t is not None and list(t.shape) != ns:
        raise RuntimeError(f"Expected {what} to be of same shape as normalized_shape, but got {what} of shape "
                           f"{list(t.shape)} and normalized_shape = {ns}")


@_autocast_op("layer_norm")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims, then ``* weight + bias`` elementwise."""
    ns = _check_normalized_shape(input, normalized_shape, "layer_norm", ", ")
    _check_param_shape(weight, ns, "weight")
    _check_param_shape(bias, ns, "bias")
    out = _normalize(input, tuple(range(-len(ns), 0)), eps)[0]
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return _mixed_out(out, input)


def _mixed_out(out, input):
    """PyTorch's mixed-type norms: a float16/bfloat16 input with float32 weight/bias gives
    the input's dtype (the float32 affine step is rounded once)."""
    return out.to(input.dtype) if out.dtype != input.dtype and input.dtype in (torch.float16, torch.bfloat16) else out


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the trailing dims; ``eps=None`` means ``finfo(input.dtype).eps``."""
    ns = _check_normalized_shape(input, normalized_shape, "rms_norm", "")
    _check_param_shape(weight, ns, "weight")
    if eps is None:
        eps = torch.finfo(input.dtype).eps if input.is_floating_point() else torch.finfo(torch.float32).eps
    out = input * ((input * input).mean(tuple(range(-len(ns), 0)), keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


@_autocast_op("group_norm")
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each group of ``C // num_groups`` channels (and all spatial positions) per sample."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    n, c = input.shape[0], input.shape[1]
    if num_groups == 0:
        raise ZeroDivisionError("integer division or modulo by zero")
    if num_groups < 0:
        raise RuntimeError(f"Expected num groups to be greater than 0, got {num_groups}")
    if c % num_groups != 0:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, but got input "
                           f"of shape {list(input.shape)} and num_groups={num_groups}")
    for t in (weight, bias):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            what = "weight" if t is weight else "bias"
            raise RuntimeError(f"Expected {what} to be a vector of size equal to the number of channels in input, "
                               f"but got {what} of shape {list(t.shape)} and input of shape {list(input.shape)}")
    spatial = 1
    for s in input.shape[2:]:
        spatial *= s
    x = input.reshape(n, num_groups, (c // num_groups) * spatial)
    out = _normalize(x, (2,), eps)[0].reshape(input.shape)
    return _mixed_out(_affine(out, weight, bias, input.dim()), input)


def _check_running(running, c):
    if running is not None and running.numel() != c:
        raise RuntimeError(f"running_mean should contain {c} elements not {running.numel()}")


def _update_running(running_mean, running_var, mean, var, count, momentum):
    """In-place EMA of the running stats from per-channel batch ``mean`` and biased ``var`` over
    ``count`` values; the variance stored is the unbiased one (Bessel's correction), as PyTorch."""
    momentum = float(momentum)
    with torch.no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(mean.detach().reshape(-1).to(running_mean.dtype), alpha=momentum)
        if running_var is not None:
            unbiased = var.detach().reshape(-1) * (count / max(count - 1, 1))
            running_var.mul_(1 - momentum).add_(unbiased.to(running_var.dtype), alpha=momentum)


def _eval_norm(input, running_mean, running_var, weight, bias, eps):
    """Normalise with stored statistics: one fused scale/shift per channel."""
    nd = input.dim()
    scale = (running_var + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return input * _channel_view(scale, nd) + _channel_view(shift, nd)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Per-channel (dim 1) normalisation over batch and spatial dims.

    Training uses batch statistics and, when given, updates ``running_mean``/``running_var`` in
    place with ``momentum`` (the variance with Bessel's correction); eval uses the running stats.
    """
    if input.dim() < 2:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    c = input.shape[1]
    _check_running(running_mean, c)
    _check_running(running_var, c)
    if training:
        count = input.numel() // max(c, 1)
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.size()}")
        dims = (0,) + tuple(range(2, input.dim()))
        out, mean, var = _normalize(input, dims, eps)
        if running_mean is not None or running_var is not None:
            _update_running(running_mean, running_var, mean, var, count, momentum)
        return _affine(out, weight, bias, input.dim())
    if running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    if running_var is None:
        raise RuntimeError("running_var must be defined in evaluation mode")
    return _eval_norm(input, running_mean, running_var, weight, bias, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each (sample, channel) plane over its spatial dims.

    With ``use_input_stats`` and running buffers given, they are updated with the batch average of
    the per-instance mean and unbiased variance, as PyTorch.
    """
    if input.dim() < 2:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    n, c = input.shape[0], input.shape[1]
    _check_running(running_mean, c)
    _check_running(running_var, c)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        return _eval_norm(input, running_mean, running_var, weight, bias, eps)
    spatial = input.numel() // max(n * c, 1)
    if spatial == 1 or input.dim() == 2:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.size()}")
    out, mean, var = _normalize(input, tuple(range(2, input.dim())), eps)
    if running_mean is not None or running_var is not None:
        # Batch average of each instance's stats; the correction uses the per-instance count.
        _update_running(running_mean, running_var, mean.detach().mean(0), var.detach().mean(0), spatial, momentum)
    return _affine(out, weight, bias, input.dim())


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha/size * sum of x^2 over ``size`` neighbouring channels)^beta.

    The window sum is a product with a banded (C, C) 0/1 matrix, which equals PyTorch's zero-padded
    average pool (``count_include_pad``) and needs no pooling kernel.
    """
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if size <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {size} kW: 1")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    # Windows reaching further than C channels add only zero padding, so clipping is exact.
    lo, hi = min(size // 2, c), min((size - 1) // 2, c)
    ch = torch.arange(c, device=input.device)
    diff = ch.unsqueeze(0) - ch.unsqueeze(1)          # diff[i, j] = j - i
    band = ((diff >= -lo) & (diff <= hi)).to(input.dtype)
    sq = (input * input).movedim(1, -1)
    div = sq.matmul(band.t()).movedim(-1, 1)
    return input / (div * (alpha / size) + k).pow(beta)


def _padding_index(padding_idx, num):
    if padding_idx is None:
        return None
    if padding_idx >= 0:
        if padding_idx >= num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        return padding_idx
    if padding_idx < -num:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return num + padding_idx


def _embedding_renorm_(weight, flat, max_norm, norm_type):
    """Rescale (in place) the looked-up rows whose ``norm_type`` norm exceeds ``max_norm``."""
    max_norm = float(max_norm)
    with torch.no_grad():
        rows = torch.unique(flat)
        norms = weight.index_select(0, rows).norm(norm_type, 1, keepdim=True)
        scale = torch.where(norms > max_norm, max_norm / (norms + 1e-7), torch.ones_like(norms))
        weight.index_copy_(0, rows, weight.index_select(0, rows) * scale)


def _check_indices(input, fn):
    if input.dtype not in (torch.int64, torch.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.type()} instead (while checking arguments for {fn})")


def _lookup(weight, flat, scale_grad_by_freq):
    """``weight[flat]``; with ``scale_grad_by_freq`` each row's gradient is divided by its index count."""
    rows = weight.index_select(0, flat)
    if scale_grad_by_freq and flat.numel():
        # Same value, but only the 1/count share of it is differentiable.
        inv = 1.0 / torch.bincount(flat, minlength=weight.shape[0]).index_select(0, flat).to(rows.dtype).unsqueeze(1)
        rows = rows * inv + (rows * (1 - inv)).detach()
    return rows


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Look up rows of ``weight`` (shape (num_embeddings, dim)) by the integer ``input``.

    The ``padding_idx`` row receives no gradient; ``max_norm`` renormalises the looked-up rows in
    place first. Deviation: ``sparse=True`` is accepted but the gradient is dense.
    """
    _check_indices(input, "embedding")
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    num = weight.shape[0]
    pad = _padding_index(padding_idx, num)
    flat = input.reshape(-1).long()
    if flat.numel() and (flat.min().item() < 0 or flat.max().item() >= num):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm_(weight, flat, max_norm, norm_type)
    rows = _lookup(weight, flat, scale_grad_by_freq)
    if pad is not None and flat.numel():
        # Same values, but the padding row's lookups come from a detached copy: no gradient.
        rows = torch.where((flat == pad).unsqueeze(1), weight.detach()[pad], rows)
    return rows.reshape(tuple(input.shape) + (weight.shape[1],))


def _bag_bounds(input, offsets, include_last_offset):
    """Flat indices and the (start, end) positions of each bag, checked as PyTorch."""
    if input.dim() == 2:
        b, n = input.shape
        starts = torch.arange(b, device=input.device) * n
        return input.reshape(-1), starts, starts + n
    flat = input
    length = flat.numel()
    offs = offsets.long()
    if offs.numel():
        first, last = offs[0].item(), offs[-1].item()
        if first != 0:
            raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                               f"from position 0. However, got {first}")
        if last > length:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {length} but got offsets[-1] "
                               f"of {last}")
        if offs.numel() > 1 and (offs[1:] < offs[:-1]).any().item():
            raise RuntimeError("offsets has to be a non-decreasing sequence")
    if include_last_offset:
        return flat, offs[:-1], offs[1:]
    end = torch.full((1,), length, dtype=torch.int64, device=offs.device)
    return flat, offs, torch.cat([offs[1:], end])


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sum, mean or max of the embeddings in each bag.

    A 2-D input is ``B`` bags of equal length; a 1-D input is split at ``offsets``. Empty bags (or
    bags holding only ``padding_idx``) give zeros. Deviation: ``sparse=True`` gives a dense gradient.
    """
    if per_sample_weights is not None and input.size() != per_sample_weights.size():
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        include_last_offset = False
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    elif mode not in ("sum", "mean"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    _check_indices(input, "embedding_bag")
    num, dim = weight.shape
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, {-num} through {num - 1}, "
                               f"but got {padding_idx}")
        padding_idx = padding_idx % num
    flat, starts, ends = _bag_bounds(input, offsets, include_last_offset)
    flat = flat.long()
    bad = (flat < 0) | (flat >= num)
    if flat.numel() and bad.any().item():
        i = bad.nonzero()[0, 0].item()
        raise RuntimeError(f"Index {i} of input takes value {flat[i].item()} which is not in the valid range "
                           f"[0, {num})")
    if max_norm is not None:
        _embedding_renorm_(weight, flat, max_norm, norm_type)
    n_bags = starts.numel()
    if n_bags == 0 or flat.numel() == 0:
        return torch.zeros((n_bags, dim), dtype=weight.dtype, device=weight.device)
    pos = torch.arange(flat.numel(), device=flat.device)
    # Positions past the last bag's end (include_last_offset) and padding entries are dropped.
    keep = pos < ends[-1]
    if padding_idx is not None:
        keep = keep & (flat != padding_idx)
    keep = keep.nonzero().reshape(-1)
    idx = flat.index_select(0, keep)
    bag = torch.searchsorted(starts.contiguous(), keep, right=True) - 1
    rows = _lookup(weight, idx, scale_grad_by_freq)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1).index_select(0, keep).unsqueeze(1)
    counts = (torch.bincount(bag, minlength=n_bags) if bag.numel()
              else torch.zeros(n_bags, dtype=torch.int64, device=bag.device))
    if mode != "max":
        out = torch.zeros((n_bags, dim), dtype=rows.dtype, device=rows.device).index_add(0, bag, rows)
        if mode == "mean":
            out = out / counts.clamp_min(1).to(out.dtype).unsqueeze(1)
        return out
    # max: lay the bags out densely, (n_bags, longest bag, dim), padding with a -inf row.
    width = counts.max().item()
    if width == 0:
        return torch.zeros((n_bags, dim), dtype=weight.dtype, device=weight.device)
    first = torch.searchsorted(bag, bag, right=False)           # first kept position of each entry's bag
    slot = bag * width + (torch.arange(bag.numel(), device=bag.device) - first)
    k = bag.numel()
    src = torch.full((n_bags * width,), k, dtype=torch.int64, device=bag.device).index_copy(
        0, slot, torch.arange(k, device=bag.device))
    table = torch.cat([rows, torch.full((1, dim), float("-inf"), dtype=rows.dtype, device=rows.device)])
    out = table.index_select(0, src).reshape(n_bags, width, dim).max(1).values
    return torch.where((counts == 0).unsqueeze(1), torch.zeros((), dtype=out.dtype, device=out.device), out)
