"""Every loss function of ``torch.nn.functional`` (re-exported there) and the reduction helpers
(PyTorch's ``torch.nn._reduction``: the legacy ``size_average``/``reduce`` mapping).

All of them are compositions of tensor ops, so autograd, double backward and every device come
from the ops themselves; there is no kernel, and the one hand-written backward is
binary_cross_entropy's (PyTorch's gradient at p in {0, 1}, which no composition of clamped logs
gives; itself written in tensor ops, so it differentiates again). Formulas are chosen to
stay finite at extreme inputs *and* to keep gradients free of NaN (see ``functional``). Checks on
values (target ranges, lengths) read back one boolean per check, as PyTorch's CPU kernels do.
"""
import math
import operator
import warnings

import ferrotorch as torch
from ferrotorch._utils import _dtype_name
# functional imports this module at its end, after defining all it uses here (logsigmoid,
# pairwise_distance, _log_softmax), so this circular import is safe.
from . import functional as F
from ferrotorch._autocast_op import autocast_op as _autocast_op

__all__ = [
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div",
    "cosine_embedding_loss", "margin_ranking_loss",
    "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
    "hinge_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
    "poisson_nll_loss", "gaussian_nll_loss", "ctc_loss",
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


# ---- regression losses -------------------------------------------------------------------------
def _weighted(loss, weight, input, reduction):
    """The optional elementwise ``weight=`` of mse/l1/huber: mean is normalised by sum(weight)."""
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


@_autocast_op("mse_loss")
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _warn_size_mismatch(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    d = input - target
    loss = d * d
    return _reduce(loss, reduction) if weight is None else _weighted(loss, weight, input, reduction)


@_autocast_op("l1_loss")
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _warn_size_mismatch(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    loss = (input - target).abs()
    return _reduce(loss, reduction) if weight is None else _weighted(loss, weight, input, reduction)


@_autocast_op("smooth_l1_loss")
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


@_autocast_op("huber_loss")
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


# float32(1e-12): the floor of PyTorch's BCE backward denominator, in every dtype.
_BCE_EPS = 9.999999960041972e-13


def _record_bce(input, target, loss):
    """BCE's own backward node (PyTorch's formulas): d/dp = (p - y) / max(p (1 - p), 1e-12), so a
    prediction stuck at p = 0 with y = 1 still gets a gradient (-1e12) where the clamped logs'
    chain rule gives 0; d/dy = log(1 - p) - log(p), unclamped (+-inf at p in {0, 1})."""
    def backward(g):
        if g is None:
            return None, None
        gi = gt = None
        if input.requires_grad:
            gi = g * (input - target) / ((1.0 - input) * input).clamp_min(_BCE_EPS)
        if target.requires_grad:
            gt = g * ((-input).log1p() - input.log())
        return gi, gt

    torch._C._record_function("BinaryCrossEntropyBackward0", [input, target], [loss], backward)


@_autocast_op("binary_cross_entropy")
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
    with torch.no_grad():
        x = input.float() if half else input   # 1e-44 and -100 are out of range for half types
        log_x = _safe_log(x)
        log_1mx = _safe_log(1.0 - x)
        # -(t*log(x) + (1-t)*log(1-x)), written with one multiply by t.
        loss = -(log_1mx + target * (log_x - log_1mx))
        if half:
            loss = loss.to(input.dtype)
    if torch.is_grad_enabled() and (input.requires_grad or target.requires_grad):
        _record_bce(input, target, loss)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@_autocast_op("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    # (1 - t) * x - log_sigmoid(x) * (1 + (pos_weight - 1) * t), with the stable log-sigmoid.
    log_sig = F.logsigmoid(input)
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


@_autocast_op("nll_loss")
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    n_classes = _check_nll_shapes(input, target, weight)
    if not input.is_floating_point():
        # PyTorch's CPU kernels (inputs of more than 2 dims go to the 2d one) take float types only
        kernel = "nll_loss_out_frame" if input.dim() <= 2 else "nll_loss2d_forward_out_frame"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype_name(input.dtype)}'")
    return _nll(input, target, weight, reduction, ignore_index, n_classes)


@_autocast_op("cross_entropy_loss")
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    reduction = _reduction(size_average, reduce, reduction)
    cd = 0 if input.dim() == 1 else 1
    if input.dim() >= 1 and input.shape == target.shape:
        return _cross_entropy_probs(input, target, weight, reduction, ignore_index, label_smoothing, cd)
    n_classes = _check_nll_shapes(input, target, weight)
    logp = F._log_softmax(input, cd)
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
    logp = F._log_softmax(input, cd)
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


@_autocast_op("kl_div")
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


# ---- embedding and ranking losses --------------------------------------------------------------
@_autocast_op("cosine_embedding_loss")
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


@_autocast_op("margin_ranking_loss")
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    loss = (-target * (input1 - input2) + margin).clamp_min(0.0)
    return _reduce(loss, reduction)


# ---- margin, embedding and likelihood losses ---------------------------------------------------
def _check_float_out(input):
    """PyTorch's out-of-place pointwise losses write into a tensor of the input's dtype."""
    if not input.is_floating_point():
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_dtype_name(input.dtype)}")


@_autocast_op("soft_margin_loss")
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y x)). Deviation: stays finite where PyTorch's kernel overflows to inf."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_float_out(input)
    z = target * input
    if z.shape != input.shape:
        raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the broadcast shape {list(z.shape)}")
    # Written as -logsigmoid(y x), which never overflows (PyTorch's log1p(exp(-y x)) is inf once
    # -y x exceeds the dtype's exp range). The output has the input's dtype, as PyTorch's.
    return _reduce(-F.logsigmoid(z).to(input.dtype), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    loss = -(target * F.logsigmoid(input) + (1 - target) * F.logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    c = input.size(class_dim)
    return _reduce(loss.sum(class_dim) / c, reduction)


def _check_margin_input(input, kernel):
    nd = input.dim()
    if not (nd == 0 or (nd == 1 and input.shape[0] != 0) or (nd == 2 and input.shape[1] != 0)):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype_name(input.dtype)}'")


def _check_long(t, dtype=torch.int64):
    if t.dtype != dtype:
        raise RuntimeError(f"expected scalar type {_dtype_name(dtype)} but found {_dtype_name(t.dtype)}")


@_autocast_op("multi_margin_loss")
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum_{i != y} w[y] * max(0, margin - x[y] + x[i])**p / C per sample."""
    reduction = _reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _check_margin_input(input, "multi_margin_loss_cpu_kernel")
    nd = input.dim()
    n = input.shape[0] if nd == 2 else 1
    c = input.shape[-1] if nd else 1
    if target.dim() > 1 or target.numel() != n or (nd == 2 and target.dim() != 1):
        raise RuntimeError("multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{n}], but got {list(target.shape)}. "
                           f"Input has shape {list(input.shape)}.")
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"inconsistent weight size, expected {c} but got {list(weight.shape)}")
    _check_long(target)
    if weight is not None:
        _check_long(weight, input.dtype)
    if target.numel() and ((target < 0) | (target >= c)).any().item():
        raise RuntimeError("target out of range")
    x = input.reshape(n, c)
    t = target.reshape(n, 1)
    z = (x - x.gather(1, t) + float(margin)).clamp_min(0.0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[t]
    # The i == y term is max(0, margin)**p, which the sum excludes.
    z = torch.where(torch.arange(c, device=x.device) == t, 0.0, z)
    loss = z.sum(1) / c
    if nd < 2:
        loss = loss.reshape(target.shape)
    return _reduce(loss, reduction)


@_autocast_op("multilabel_margin_loss")
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum_{j, i not in y} max(0, 1 - (x[y_j] - x[i])) / C, y_j the targets before the first -1."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_margin_input(input, "multilabel_margin_loss_forward_out_frame")
    if target.shape != input.shape:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    _check_long(target)
    nd = input.dim()
    n = input.shape[0] if nd == 2 else 1
    c = input.shape[-1] if nd else 1
    if target.numel() and ((target < -1) | (target >= c)).any().item():
        raise RuntimeError("argument #2 'target' is out of range")
    x = input.reshape(n, c)
    t = target.reshape(n, c)
    valid = (t == -1).long().cumsum(1) == 0                  # (N, J): j before the first -1
    safe = t.masked_fill(~valid, 0)
    classes = torch.arange(c, device=x.device)
    # is_target[n, i]: class i is one of sample n's targets.
    is_target = ((safe.unsqueeze(2) == classes) & valid.unsqueeze(2)).any(1)
    x_y = x.gather(1, safe)                                  # (N, J)
    pairs = (x.unsqueeze(1) - x_y.unsqueeze(2) + 1.0).clamp_min(0.0)   # (N, J, I)
    keep = valid.unsqueeze(2) & ~is_target.unsqueeze(1)
    loss = torch.where(keep, pairs, 0.0).sum((1, 2)) / c
    if nd < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


@_autocast_op("hinge_embedding_loss")
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where y == 1, max(0, margin - x) where y == -1 (both terms for any other y, as PyTorch)."""
    reduction = _reduction(size_average, reduce, reduction)
    margin_term = torch.where(target != 1, (float(margin) - input).clamp_min(0.0), 0.0)
    self_term = torch.where(target != -1, input, 0.0)
    return _reduce(margin_term + self_term, reduction)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p and p == n):
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


@_autocast_op("triplet_margin_loss")
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    d_pos = F.pairwise_distance(anchor, positive, p, eps)
    d_neg = F.pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = torch.minimum(d_neg, F.pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos + float(margin) - d_neg).clamp_min(0.0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist = F.pairwise_distance if distance_function is None else distance_function
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = torch.minimum(d_neg, dist(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0.0), reduction)


@_autocast_op("poisson_nll_loss")
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        # Stirling's term, only where target > 1; elsewhere its argument is replaced by 2 so that
        # neither value nor gradient of the unused branch is NaN.
        big = target > 1
        t = torch.where(big, target, 2.0)
        stirling = t * t.log() - t + 0.5 * (2 * math.pi * t).log()
        loss = loss + torch.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 * (log(max(var, eps)) + (input - target)**2 / max(var, eps)) [+ 0.5 * log(2 pi)].

    As PyTorch, the clamp of var is not differentiated: the gradient w.r.t. var is the formula's
    derivative at the clamped value (a straight-through clamp).
    """
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * torch.ones_like(input)
    elif not isinstance(var, torch.Tensor):
        raise TypeError(f"any() received an invalid combination of arguments - got ({type(var < 0).__name__}), "
                        "but expected one of:\n * (Tensor input)")
    elif (var < 0).any().item():
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.dim() == var.dim()
                  and sum(y for x, y in zip(input.shape, var.shape) if x != y) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var + (var.clamp_min(eps) - var).detach()
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---- CTC --------------------------------------------------------------------------------------
_CTC = "(while checking arguments for ctc_loss_allocate_outputs)"


def _ctc_lengths(lengths, name, batch):
    if isinstance(lengths, torch.Tensor):
        if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
            raise RuntimeError(f"{name} must be integral")
        lengths = lengths.reshape(-1).long()
    elif isinstance(lengths, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in lengths):
        lengths = torch.tensor(list(lengths), dtype=torch.int64)
    else:
        raise TypeError(f"ctc_loss(): {name} must be a Tensor or a sequence of ints, got {type(lengths).__name__}")
    if lengths.numel() != batch:
        raise RuntimeError(f"{name} must be of size batch_size")
    return lengths


@_autocast_op("ctc_loss")
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist Temporal Classification loss: -log of the summed probability of all alignments.

    The forward (alpha) recursion runs in log space, vectorised over the batch and the extended
    label positions, with one step per time frame; autograd differentiates it. Deviations from
    PyTorch: the gradient w.r.t. ``log_probs`` is the exact derivative of the loss, whereas
    PyTorch's kernel adds ``exp(log_probs) * grad`` (the two agree once back-propagated through a
    ``log_softmax``); infinite losses get a zero gradient instead of NaN; labels outside
    ``[0, C)`` raise a RuntimeError (PyTorch's CPU kernel reads out of bounds).
    """
    red = _REDUCTION_NAMES[_Reduction.get_enum(reduction)]
    if not log_probs.is_floating_point() or log_probs.dtype in (torch.float16, torch.bfloat16):
        raise NotImplementedError(f"\"ctc_loss_cpu\" not implemented for '{_dtype_name(log_probs.dtype)}'")
    batched = log_probs.dim() == 3
    lp = log_probs if batched else log_probs.unsqueeze(1)
    tg = targets.to(lp.device)   # unbatched targets stay 1-D (read as concatenated), as in PyTorch
    if lp.dim() != 3:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {lp.dim()}-dimensional tensor for argument #1 "
                           f"'log_probs' {_CTC}")
    if lp.numel() == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    big_t, n, c = lp.shape
    blank = operator.index(blank)
    if not 0 <= blank < c:
        raise RuntimeError("blank must be in label range")
    il = _ctc_lengths(input_lengths, "input_lengths", n).to(lp.device)
    tl = _ctc_lengths(target_lengths, "target_lengths", n).to(lp.device)
    if tg.dim() < 1 or tg.dim() > 2:
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {tg.dim()}-dimensional tensor for argument #2 "
                           f"'targets' {_CTC}")
    if (tl < 0).any().item():
        raise RuntimeError(f"Expected target_lengths to have value at least 0, but got value "
                           f"{tl[tl < 0][0].item()} {_CTC}")
    s = int(tl.max().item())
    if tg.dim() == 1:
        total = int(tl.sum().item())
        if tg.shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got size {tg.shape[0]} "
                               f"for argument #2 'targets' {_CTC}")
        # Concatenated targets: sample b's labels start at the cumulative length before it.
        start = tl.cumsum(0) - tl
        pos = start.unsqueeze(1) + torch.arange(s, device=lp.device)
        inside = torch.arange(s, device=lp.device) < tl.unsqueeze(1)
        labels = (tg.reshape(-1)[pos.masked_fill(~inside, 0)] if total
                  else torch.zeros(n, s, dtype=torch.int64, device=lp.device))
    else:
        if tg.shape[0] != n:
            raise RuntimeError(f"Expected tensor to have size {n} at dimension 0, but got size {tg.shape[0]} "
                               f"for argument #2 'targets' {_CTC}")
        if tg.shape[1] < s:
            raise RuntimeError(f"Expected tensor to have size at least {s} at dimension 1, but got size "
                               f"{tg.shape[1]} for argument #2 'targets' {_CTC}")
        labels = tg[:, :s]
        inside = torch.arange(s, device=lp.device) < tl.unsqueeze(1)
    bad = (il < 0) | (il > big_t)
    if bad.any().item():   # the first offending sample is reported, as PyTorch's loop does
        v = il[bad][0].item()
        bound = "least 0" if v < 0 else f"most {big_t}"
        raise RuntimeError(f"Expected input_lengths to have value at {bound}, but got value {v} {_CTC}")
    labels = labels.long().masked_fill(~inside, blank)
    if labels.numel() and ((labels < 0) | (labels >= c)).any().item():
        raise RuntimeError(f"ctc_loss: target labels must be in [0, {c})")

    # Extended labels: blank, l1, blank, l2, ..., blank (S' = 2S + 1).
    sp = 2 * s + 1
    ext = torch.full((n, sp), blank, dtype=torch.int64, device=lp.device)
    if s:
        ext[:, 1::2] = labels
    # A skip from s-2 to s is allowed where the labels differ (never onto or from a blank pair).
    skip = torch.zeros(n, sp, dtype=torch.bool, device=lp.device)
    if sp > 2:
        skip[:, 2:] = ext[:, 2:] != ext[:, :-2]
    # A large finite floor instead of -inf: logsumexp's backward of an all -inf row is NaN, and
    # a where() does not stop that NaN (0 * NaN). Impossible paths sit at the floor and are turned
    # into +inf at the end.
    neg = -1e30
    emit = lp.gather(2, ext.unsqueeze(0).expand(big_t, n, sp)).clamp_min(neg)   # (T, N, S')
    floor1 = torch.full((n, 1), neg, dtype=lp.dtype, device=lp.device)
    floor2 = torch.full((n, 2), neg, dtype=lp.dtype, device=lp.device)
    # alpha before the first frame: a virtual start state feeding positions 0 and 1.
    alpha = torch.cat([torch.zeros(n, 1, dtype=lp.dtype, device=lp.device),
                       torch.full((n, sp - 1), neg, dtype=lp.dtype, device=lp.device)], 1)
    for t in range(big_t):   # the recursion is sequential in time only
        prev1 = torch.cat([floor1, alpha[:, :-1]], 1)
        prev2 = torch.where(skip, torch.cat([floor2, alpha[:, :-2]], 1), neg) if sp > 2 else floor1.expand(n, sp)
        step = (torch.stack([alpha, prev1, prev2], 0).logsumexp(0) + emit[t]).clamp_min(neg)
        alpha = torch.where((il > t).unsqueeze(1), step, alpha)   # frames past a sample's length: keep
    last = alpha.gather(1, (2 * tl).unsqueeze(1))
    before = torch.where((tl > 0).unsqueeze(1), alpha.gather(1, (2 * tl - 1).clamp_min(0).unsqueeze(1)), neg)
    ll = torch.cat([last, before], 1).logsumexp(1)
    impossible = ll < neg / 2
    loss = torch.where(impossible, 0.0 if zero_infinity else math.inf, -ll)
    if red == "mean":
        return (loss / tl.clamp_min(1).to(loss.dtype)).mean()
    if red == "sum":
        return loss.sum()
    return loss if batched else loss.reshape(())
