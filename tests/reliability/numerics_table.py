"""Numerics at the edges: one row per case, evaluated the same way with PyTorch (by
scripts/fixtures/edge_numerics.py, which writes tests/fixtures/edge_numerics.json) and with
ferrotorch (by test_numerics.py, which compares the two).

A row is (name, source, inputs, grad). `source` is a Python expression evaluated with `torch`
and `F` (torch.nn.functional) bound to the library under test and each input bound to its name.
`inputs` maps a name to (dtype, values) or (dtype, values, requires_grad). With `grad`, every
floating input requires grad (unless its spec says otherwise), the result is backpropagated with
the upstream gradient 1, 1.25, 1.5, ... (row-major over the result), and each such input's
gradient is recorded too. This module never imports a library itself: the caller passes it.
"""
import math

INF = math.inf
NAN = math.nan

FLOATS = ["float16", "bfloat16", "float32", "float64"]
INTS = ["int64", "int32", "int16", "int8", "uint8", "bool"]


class Row:
    def __init__(self, name, source, inputs, grad=False):
        self.name, self.source, self.inputs, self.grad = name, source, inputs, grad


ROWS = []


def row(name, source, inputs, grad=False):
    ROWS.append(Row(name, source, inputs, grad))


# ---- softmax family on rows holding inf / NaN --------------------------------------------------
# PyTorch subtracts the row max unguarded: a +inf max gives inf - inf = NaN, so the whole row is
# NaN; an all -inf row is NaN too (-inf - -inf).
SOFTMAX_ROWS = {
    "posinf": [INF, 0.0, 1.0],
    "neginf_all": [-INF, -INF, -INF],
    "neginf_some": [-INF, 0.0, 1.0],
    "mixed_inf": [INF, -INF, 0.0],
    "two_posinf": [INF, INF, 0.0],
    "nan": [NAN, 0.0, 1.0],
    # 20 wide: the vectorised float32 lane (whole blocks of 16 plus a padded tail)
    "posinf_wide": [0.5 * i for i in range(19)] + [INF],
    "neginf_all_wide": [-INF] * 20,
    "nan_wide": [0.5 * i for i in range(17)] + [NAN, 1.0, 2.0],
}
for dt in ("float32", "float64"):
    for key, vals in SOFTMAX_ROWS.items():
        x = {"x": (dt, [vals, [0.0, 1.0, 2.0] + [3.0] * (len(vals) - 3)])}   # second row: a normal one
        row(f"softmax_{key}_{dt}", "torch.softmax(x, 1)", x, grad=True)
        row(f"log_softmax_{key}_{dt}", "torch.log_softmax(x, 1)", x, grad=True)
        row(f"softmin_{key}_{dt}", "F.softmin(x, 1)", x, grad=True)
        t = {"t": ("int64", [1, 0])}
        row(f"cross_entropy_{key}_{dt}", "F.cross_entropy(x, t, reduction='none')", {**x, **t}, grad=True)
        row(f"cross_entropy_mean_{key}_{dt}", "F.cross_entropy(x, t)", {**x, **t}, grad=True)
        row(f"nll_loss_{key}_{dt}", "F.nll_loss(x, t, reduction='none')", {**x, **t}, grad=True)
        row(f"logsumexp_{key}_{dt}", "torch.logsumexp(x, 1)", x, grad=True)
for dt in ("float16", "bfloat16"):
    for key in ("posinf", "neginf_all", "nan", "posinf_wide"):
        vals = SOFTMAX_ROWS[key]
        row(f"softmax_{key}_{dt}", "torch.softmax(x, 0)", {"x": (dt, vals)})
        row(f"log_softmax_{key}_{dt}", "torch.log_softmax(x, 0)", {"x": (dt, vals)})

# ---- binary cross-entropy at p in {0, 1} and logits at the extremes -----------------------------
# PyTorch: loss = -(y * max(log p, -100) + (1 - y) * max(log(1 - p), -100)); its backward is
# g * (p - y) / max(p * (1 - p), 1e-12), so p = 0, y = 1 gives -1e12 (not 0).
BCE_P = [0.0, 0.0, 1.0, 1.0, 0.5, 1e-30, 1.0 - 1e-7, 0.3]
BCE_Y = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.7]
for dt in ("float32", "float64"):
    ins = {"p": (dt, BCE_P), "y": (dt, BCE_Y, False)}
    row(f"bce_none_{dt}", "F.binary_cross_entropy(p, y, reduction='none')", ins, grad=True)
    row(f"bce_sum_{dt}", "F.binary_cross_entropy(p, y, reduction='sum')", ins, grad=True)
    row(f"bce_target_grad_{dt}", "F.binary_cross_entropy(p, y, reduction='none')",
        {"p": (dt, [0.2, 0.5, 0.9, 0.0, 1.0], False), "y": (dt, [0.0, 0.5, 1.0, 1.0, 0.0])}, grad=True)
    logits = [1e4, -1e4, 1e4, -1e4, INF, -INF, INF, -INF, 0.0, 30.0, -30.0, 100.0]
    targets = [0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.5, 1.0, 1.0, 0.0]
    ins = {"x": (dt, logits), "y": (dt, targets, False)}
    row(f"bce_logits_none_{dt}", "F.binary_cross_entropy_with_logits(x, y, reduction='none')", ins, grad=True)
    row(f"bce_logits_pos_weight_{dt}",
        "F.binary_cross_entropy_with_logits(x, y, reduction='none', pos_weight=torch.tensor(3.0, dtype=x.dtype))",
        ins, grad=True)
for dt in ("float16", "bfloat16"):
    row(f"bce_none_{dt}", "F.binary_cross_entropy(p, y, reduction='none')",
        {"p": (dt, [0.0, 0.0, 1.0, 0.5]), "y": (dt, [1.0, 0.0, 0.0, 1.0])})

# ---- gradients at the singular points of std / var / norm / sqrt ---------------------------------
CONST = [2.0, 2.0, 2.0, 2.0]
for dt in ("float32", "float64"):
    c = {"x": (dt, CONST)}
    row(f"std_const_{dt}", "x.std()", c, grad=True)
    row(f"std_const_c0_{dt}", "x.std(correction=0)", c, grad=True)
    row(f"std_const_dim_{dt}", "x.reshape(2, 2).std(1)", c, grad=True)
    row(f"var_const_{dt}", "x.var()", c, grad=True)
    row(f"std_mean_const_{dt}", "torch.std_mean(x)[0]", c, grad=True)
    row(f"std_single_{dt}", "x.std()", {"x": (dt, [3.0])}, grad=True)
    row(f"std_single_c0_{dt}", "x.std(correction=0)", {"x": (dt, [3.0])}, grad=True)
    row(f"var_single_{dt}", "x.var()", {"x": (dt, [3.0])}, grad=True)
    row(f"std_partly_const_{dt}", "x.reshape(2, 2).std(1)", {"x": (dt, [1.0, 1.0, 1.0, 3.0])}, grad=True)
    z = {"x": (dt, [0.0, 0.0, 0.0])}
    for tag, p in (("2", "2"), ("1", "1"), ("3", "3"), ("half", "0.5"), ("inf", "float('inf')"), ("0", "0")):
        row(f"norm_zero_p{tag}_{dt}", f"x.norm({p})", z, grad=True)
    row(f"vector_norm_zero_{dt}", "torch.linalg.vector_norm(x)", z, grad=True)
    row(f"norm_partly_zero_{dt}", "x.norm()", {"x": (dt, [0.0, 3.0, -4.0])}, grad=True)
    row(f"norm_of_equal_diff_{dt}", "(x - y).norm()", {"x": (dt, [1.0, 2.0]), "y": (dt, [1.0, 2.0])}, grad=True)
    row(f"normalize_zero_{dt}", "F.normalize(x, dim=0)", z, grad=True)
    row(f"sqrt_zero_{dt}", "x.sqrt()", {"x": (dt, [0.0, 4.0])}, grad=True)
    row(f"cdist_same_{dt}", "torch.cdist(x.reshape(2, 2), y.reshape(2, 2))",
        {"x": (dt, [1.0, 2.0, 3.0, 4.0]), "y": (dt, [1.0, 2.0, 0.0, 0.0])}, grad=True)
    row(f"pow_zero_half_{dt}", "x.pow(0.5)", {"x": (dt, [0.0, 4.0])}, grad=True)

# ---- reductions in float16 / bfloat16 and over integers ------------------------------------------
# PyTorch accumulates half types in float32 and rounds once: a partial sum past 65504 is fine.
for dt in ("float16", "bfloat16"):
    big = {"x": (dt, [60000.0, 60000.0, -60000.0])}
    row(f"sum_overflow_mid_{dt}", "x.sum()", big)
    row(f"mean_overflow_mid_{dt}", "x.mean()", {"x": (dt, [60000.0, 60000.0])})
    row(f"mean_overflow_dim_{dt}", "x.reshape(2, 2).mean(0)", {"x": (dt, [60000.0, 1.0, 60000.0, 2.0])})
    row(f"sum_many_ones_{dt}", "x.expand(4096).sum()", {"x": (dt, [1.0])})
    row(f"mean_many_{dt}", "x.expand(4099).mean()", {"x": (dt, [0.1])})
    row(f"sum_to_f32_{dt}", "x.sum(dtype=torch.float32)", big)
    row(f"nansum_overflow_mid_{dt}", "torch.nansum(x)", {"x": (dt, [60000.0, NAN, 60000.0, -60000.0])})
    row(f"nanmean_overflow_mid_{dt}", "torch.nanmean(x)", {"x": (dt, [60000.0, NAN, 60000.0])})
    row(f"prod_overflow_mid_{dt}", "x.prod()", {"x": (dt, [300.0, 300.0, 0.001])})
    row(f"cumsum_overflow_mid_{dt}", "x.cumsum(0)", big)
    row(f"cumprod_overflow_mid_{dt}", "x.cumprod(0)", {"x": (dt, [300.0, 300.0, 0.001])})
    row(f"var_overflow_mid_{dt}", "x.var()", {"x": (dt, [200.0, -200.0, 200.0, -200.0])})
    row(f"std_overflow_mid_{dt}", "x.std()", {"x": (dt, [200.0, -200.0, 200.0, -200.0])})
    row(f"var_mean_overflow_mid_{dt}", "torch.var_mean(x)[0]", {"x": (dt, [200.0, -200.0, 200.0, -200.0])})
    row(f"norm_overflow_mid_{dt}", "x.norm()", {"x": (dt, [300.0, 400.0])})
    row(f"norm3_overflow_mid_{dt}", "x.norm(3)", {"x": (dt, [60.0, 50.0])})
    row(f"vector_norm_overflow_mid_{dt}", "torch.linalg.vector_norm(x)", {"x": (dt, [300.0, 400.0])})
    row(f"logsumexp_{dt}", "torch.logsumexp(x, 0)", {"x": (dt, [10000.0, 10000.0, 0.0])})
    row(f"softmax_{dt}", "torch.softmax(x, 0)", {"x": (dt, [10000.0, 10000.0, 0.0])})
    row(f"dot_overflow_mid_{dt}", "torch.dot(x, y)", {"x": (dt, [200.0, 200.0, -200.0]), "y": (dt, [200.0] * 3)})
    row(f"matmul_overflow_mid_{dt}", "x.reshape(1, 3) @ y.reshape(3, 1)",
        {"x": (dt, [200.0, 200.0, -200.0]), "y": (dt, [200.0] * 3)})
    row(f"mv_overflow_mid_{dt}", "torch.mv(x.reshape(1, 3), y)", {"x": (dt, [200.0, 200.0, -200.0]), "y": (dt, [200.0] * 3)})
    row(f"mean_grad_{dt}", "x.mean()", {"x": (dt, [60000.0, 60000.0])}, grad=True)
for dt, vals in (("int8", [100, 100, 100]), ("uint8", [200, 200]), ("int16", [30000, 30000]), ("int32", [2**31 - 1, 1]),
                 ("bool", [True, True, True])):
    row(f"sum_{dt}", "x.sum()", {"x": (dt, vals)})
    row(f"sum_dim_{dt}", "x.reshape(1, -1).sum(1)", {"x": (dt, vals)})
    row(f"prod_{dt}", "x.prod()", {"x": (dt, vals)})
    row(f"cumsum_{dt}", "x.cumsum(0)", {"x": (dt, vals)})
    row(f"nansum_{dt}", "torch.nansum(x)", {"x": (dt, vals)})
    row(f"mean_{dt}", "x.mean()", {"x": (dt, vals)})
    row(f"mean_dtype_{dt}", "x.mean(dtype=torch.float64)", {"x": (dt, vals)})
    row(f"sum_dtype_{dt}", "x.sum(dtype=torch.int8)", {"x": (dt, vals)})

# ---- gradients at kinks and ties ------------------------------------------------------------------
K = [-1.0, 0.0, 0.5, 1.0, 6.0, 7.0]
for dt in ("float32", "float64"):
    k = {"x": (dt, K)}
    row(f"clamp_min0_{dt}", "x.clamp(min=0)", k, grad=True)
    row(f"clamp_0_1_{dt}", "x.clamp(0, 1)", k, grad=True)
    row(f"clamp_min_fn_{dt}", "torch.clamp_min(x, 0.0)", k, grad=True)
    row(f"clamp_max_fn_{dt}", "torch.clamp_max(x, 1.0)", k, grad=True)
    row(f"clip_{dt}", "x.clip(0.0, 1.0)", k, grad=True)
    row(f"clamp_tensor_{dt}", "x.clamp(torch.zeros_like(x), torch.ones_like(x))", k, grad=True)
    row(f"hardtanh_{dt}", "F.hardtanh(x - 1)", k, grad=True)
    row(f"hardtanh_0_1_{dt}", "F.hardtanh(x, 0.0, 1.0)", k, grad=True)
    row(f"relu6_{dt}", "F.relu6(x)", k, grad=True)
    row(f"relu_{dt}", "torch.relu(x)", k, grad=True)
    row(f"F_relu_{dt}", "F.relu(x)", k, grad=True)
    row(f"threshold_{dt}", "F.threshold(x, 0.5, -2.0)", k, grad=True)
    row(f"leaky_relu_{dt}", "F.leaky_relu(x, 0.1)", k, grad=True)
    row(f"elu_{dt}", "F.elu(x)", k, grad=True)
    row(f"abs_{dt}", "x.abs()", k, grad=True)
    row(f"sign_{dt}", "x.sign()", k, grad=True)
    row(f"max_binary_tie_{dt}", "torch.max(x, y)", {"x": (dt, [1.0, 2.0, 3.0]), "y": (dt, [1.0, 0.0, 4.0])}, grad=True)
    row(f"min_binary_tie_{dt}", "torch.min(x, y)", {"x": (dt, [1.0, 2.0, 3.0]), "y": (dt, [1.0, 0.0, 4.0])}, grad=True)
    row(f"maximum_tie_{dt}", "torch.maximum(x, y)", {"x": (dt, [1.0, 2.0, 3.0]), "y": (dt, [1.0, 0.0, 4.0])}, grad=True)
    row(f"minimum_tie_{dt}", "torch.minimum(x, y)", {"x": (dt, [1.0, 2.0, 3.0]), "y": (dt, [1.0, 0.0, 4.0])}, grad=True)
    row(f"fmax_tie_{dt}", "torch.fmax(x, y)", {"x": (dt, [1.0, 2.0, 3.0]), "y": (dt, [1.0, 0.0, 4.0])}, grad=True)
    ties = {"x": (dt, [3.0, 1.0, 3.0, 2.0, 3.0, 0.0])}
    row(f"max_all_tie_{dt}", "x.max()", ties, grad=True)
    row(f"min_all_tie_{dt}", "(-x).min()", ties, grad=True)
    row(f"amax_tie_{dt}", "x.reshape(2, 3).amax(1)", ties, grad=True)
    row(f"amax_all_tie_{dt}", "x.amax()", ties, grad=True)
    row(f"amin_tie_{dt}", "(-x).reshape(2, 3).amin(1)", ties, grad=True)
    row(f"max_dim_tie_{dt}", "x.max(0)[0]", ties, grad=True)
    row(f"max_dim_tie_idx_{dt}", "x.max(0)[1]", ties)
    row(f"min_dim_tie_{dt}", "(-x).min(0)[0]", ties, grad=True)
    row(f"argmax_tie_{dt}", "x.argmax()", ties)
    row(f"argmin_tie_{dt}", "(-x).argmin()", ties)
    row(f"median_tie_{dt}", "x.median()", ties, grad=True)
    row(f"sort_tie_{dt}", "x.sort(stable=True)[0]", ties, grad=True)
    row(f"sort_tie_idx_{dt}", "x.sort(stable=True)[1]", ties)
    row(f"sort_desc_tie_idx_{dt}", "x.sort(descending=True, stable=True)[1]", ties)
    row(f"where_{dt}", "torch.where(x > 0.5, x, y)", {"x": (dt, K), "y": (dt, [2.0] * 6)}, grad=True)
    row(f"max_nan_{dt}", "x.max()", {"x": (dt, [1.0, NAN, 3.0])}, grad=True)
    row(f"amax_nan_{dt}", "x.amax()", {"x": (dt, [1.0, NAN, 3.0])}, grad=True)
    row(f"maximum_nan_{dt}", "torch.maximum(x, y)", {"x": (dt, [1.0, NAN]), "y": (dt, [NAN, 0.0])}, grad=True)

# ---- float -> integer conversions ------------------------------------------------------------------
# x86 PyTorch: cvttss2si / cvttsd2si give the "integer indefinite" value (INT_MIN) for NaN and
# out-of-range values; narrower types truncate that through int32 (or int64 for uint8).
# 4294967303 = 2**32 + 7: uint8 wraps through int64 (7), int16/int8 through int32 (INT_MIN -> 0).
CAST_VALUES = [NAN, INF, -INF, 1e30, -1e30, 300.7, -1.5, 3e9, -3e9, 70000.5, 1e19, -1e19, 5e18, 255.9, -129.5, 0.5,
               4294967303.0, -4294967303.0, -2147483648.5, 2147483647.5, -9223372036854775808.0, 9223372036854775808.0]
for src in FLOATS:
    for dst in INTS:
        row(f"cast_{src}_to_{dst}", f"x.to(torch.{dst})", {"x": (src, CAST_VALUES)})
        # the same values as a 66-element tensor: PyTorch's vectorised conversion loop
        row(f"cast_{src}_to_{dst}_wide", f"x.repeat(3).to(torch.{dst})", {"x": (src, CAST_VALUES)})
for src in ("float32", "float64"):
    row(f"cast_long_method_{src}", "x.long()", {"x": (src, CAST_VALUES)})
    row(f"cast_int_method_{src}", "x.int()", {"x": (src, CAST_VALUES)})
    row(f"cast_short_method_{src}", "x.short()", {"x": (src, CAST_VALUES)})
    row(f"cast_char_method_{src}", "x.char()", {"x": (src, CAST_VALUES)})
    row(f"cast_byte_method_{src}", "x.byte()", {"x": (src, CAST_VALUES)})
    row(f"cast_bool_method_{src}", "x.bool()", {"x": (src, CAST_VALUES)})
    row(f"cast_copy_into_long_{src}", "torch.zeros(22, dtype=torch.int64).copy_(x)", {"x": (src, CAST_VALUES)})
    row(f"cast_copy_into_uint8_{src}", "torch.zeros(22, dtype=torch.uint8).copy_(x)", {"x": (src, CAST_VALUES)})
    row(f"cast_strided_{src}", "x.reshape(2, 11).t().to(torch.int32)", {"x": (src, CAST_VALUES)})
    row(f"cast_setitem_{src}", "(t := torch.zeros(22, dtype=torch.int64)).__setitem__(slice(None), x) or t",
        {"x": (src, CAST_VALUES)})
    row(f"cast_setitem_idx_{src}", "(t := torch.zeros(22, dtype=torch.int16)).__setitem__(torch.arange(22), x) or t",
        {"x": (src, CAST_VALUES)})
for v in ("float('nan')", "float('inf')", "-float('inf')", "1e30", "300.7", "-1.5"):
    tag = v.replace("float('", "").replace("')", "").replace("-", "neg")
    row(f"tensor_ctor_long_{tag}", f"torch.tensor({v}, dtype=torch.long)", {})
    row(f"tensor_ctor_uint8_{tag}", f"torch.tensor([{v}], dtype=torch.uint8)", {})
    row(f"full_long_{tag}", f"torch.full((2,), {v}, dtype=torch.long)", {})
    row(f"fill_long_{tag}", f"torch.zeros(2, dtype=torch.long).fill_({v})", {})
    row(f"item_int_{tag}", f"int(torch.tensor({v}).item())", {})
    row(f"int_of_tensor_{tag}", f"int(torch.tensor({v}))", {})
    row(f"add_float_scalar_to_long_{tag}", f"torch.zeros(2, dtype=torch.long).add_({v})", {})
    row(f"mul_long_by_float_{tag}", f"torch.ones(2, dtype=torch.long) * {v}", {})


# ---- evaluation -----------------------------------------------------------------------------------
def _dtype_name(dt):
    return str(dt).rsplit(".", 1)[-1]


def _value(lib, v):
    """A result as JSON-able data: tensors as dtype + shape + flat values."""
    if isinstance(v, (tuple, list)):
        return {"seq": [_value(lib, e) for e in v]}
    if isinstance(v, lib.Tensor):
        t = v.detach()
        name = _dtype_name(t.dtype)
        if name in ("float16", "bfloat16"):
            t = t.float()
        return {"dtype": name, "shape": list(t.shape), "values": t.reshape(-1).tolist()}
    if v is None:
        return {"none": True}
    return {"py": v, "type": type(v).__name__}


def evaluate(lib, row):
    """Run one row with `lib` (torch or ferrotorch): {"out": ..., "grads": {...}} or {"error": type}."""
    F = lib.nn.functional
    env = {}
    for name, spec in row.inputs.items():
        dt = getattr(lib, spec[0])
        floating = spec[0] in FLOATS
        req = (spec[2] if len(spec) > 2 else row.grad) and floating
        env[name] = lib.tensor(spec[1], dtype=dt).requires_grad_(bool(req))
    try:
        out = eval(row.source, {"torch": lib, "F": F, "math": math}, dict(env))
        res = {"out": _value(lib, out)}
        if row.grad:
            n = out.numel()
            g = lib.arange(n, dtype=lib.float64).mul(0.25).add(1.0).reshape(out.shape).to(out.dtype)
            out.backward(g)
            res["grads"] = {k: _value(lib, t.grad) for k, t in env.items() if t.requires_grad}
        return res
    except Exception as e:   # the exception's type is part of the result
        return {"error": type(e).__name__}
