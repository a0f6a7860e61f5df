"""Margin, embedding, likelihood and CTC losses and ``pdist`` (re-exported by ``nn.functional``).

All of them are compositions of tensor ops, so autograd, double backward and every device come
from the ops themselves; there is no kernel and no hand-written backward. Checks on values
(target ranges, lengths) read back one boolean per check, as PyTorch's CPU kernels do.
"""
import math
import operator

import ferrotorch as torch
from ferrotorch._utils import _dtype_name
# functional imports this module at its end, after defining all it uses here, so this circular
# import is safe.
from . import functional as F
from .functional import _REDUCTION_NAMES, _Reduction, _reduce, _reduction as _red

__all__ = [
    "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
    "hinge_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
    "poisson_nll_loss", "gaussian_nll_loss", "pdist", "ctc_loss",
]


def _check_float_out(input):
    """PyTorch's out-of-place pointwise losses write into a tensor of the input's dtype."""
    if not input.is_floating_point():
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_dtype_name(input.dtype)}")


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y x)). Deviation: stays finite where PyTorch's kernel overflows to inf."""
    reduction = _red(size_average, reduce, reduction)
    _check_float_out(input)
    z = target * input
    if z.shape != input.shape:
        raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the broadcast shape {list(z.shape)}")
    # Written as -logsigmoid(y x), which never overflows (PyTorch's log1p(exp(-y x)) is inf once
    # -y x exceeds the dtype's exp range). The output has the input's dtype, as PyTorch's.
    return _reduce(-F.logsigmoid(z).to(input.dtype), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    if size_average is not None or reduce is not None:
        reduction = _red(size_average, reduce, reduction)
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


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum_{i != y} w[y] * max(0, margin - x[y] + x[i])**p / C per sample."""
    reduction = _red(size_average, reduce, reduction)
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


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum_{j, i not in y} max(0, 1 - (x[y_j] - x[i])) / C, y_j the targets before the first -1."""
    reduction = _red(size_average, reduce, reduction)
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


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where y == 1, max(0, margin - x) where y == -1 (both terms for any other y, as PyTorch)."""
    reduction = _red(size_average, reduce, reduction)
    margin_term = torch.where(target != 1, (float(margin) - input).clamp_min(0.0), 0.0)
    self_term = torch.where(target != -1, input, 0.0)
    return _reduce(margin_term + self_term, reduction)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p and p == n):
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    reduction = _red(size_average, reduce, reduction)
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


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    if size_average is not None or reduce is not None:
        reduction = _red(size_average, reduce, reduction)
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
