"""Write tests/fixtures/autocast/*.json with PyTorch (run under /work/torchenv/bin/python).

cases.json: for each op of a table (an expression over named inputs) and each input dtype
configuration ("f32": every floating input float32; "lp": the first floating input in the
autocast dtype, the rest float32; "f64": float64), under CPU autocast with bfloat16 and with
float16: the output dtype (or PyTorch's exception type) and the dtype of each floating input's
gradient (leaves with requires_grad=True, backward of out.float().sum() outside autocast).
grad_scaler.json: GradScaler state_dicts through a few CPU steps (one with an inf gradient).
tests/amp/test_autocast.py and test_grad_scaler.py compare ferrotorch with these files.
"""

import json
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "autocast")

# name: (expression, {input: shape | ("long", shape, high)})
CASES = {
    "mm": ("torch.mm(a, b)", {"a": (4, 3), "b": (3, 5)}),
    "matmul": ("a @ b", {"a": (2, 4, 3), "b": (3, 5)}),
    "matmul_vec": ("torch.matmul(a, b)", {"a": (4, 3), "b": (3,)}),
    "bmm": ("torch.bmm(a, b)", {"a": (2, 4, 3), "b": (2, 3, 5)}),
    "baddbmm": ("torch.baddbmm(c, a, b)", {"c": (2, 4, 5), "a": (2, 4, 3), "b": (2, 3, 5)}),
    "addmm": ("torch.addmm(c, a, b)", {"c": (4, 5), "a": (4, 3), "b": (3, 5)}),
    "addbmm": ("torch.addbmm(c, a, b)", {"c": (4, 5), "a": (2, 4, 3), "b": (2, 3, 5)}),
    "linear": ("F.linear(a, w, bias)", {"a": (4, 3), "w": (5, 3), "bias": (5,)}),
    "linear_nobias": ("F.linear(a, w)", {"a": (4, 3), "w": (5, 3)}),
    "conv1d": ("F.conv1d(x, w, bias)", {"x": (2, 3, 8), "w": (4, 3, 3), "bias": (4,)}),
    "conv2d": ("F.conv2d(x, w, bias, padding=1)", {"x": (1, 2, 5, 5), "w": (3, 2, 3, 3), "bias": (3,)}),
    "conv_transpose2d": ("F.conv_transpose2d(x, w, bias)", {"x": (1, 2, 4, 4), "w": (2, 3, 3, 3), "bias": (3,)}),
    "prelu": ("F.prelu(a, w)", {"a": (2, 3, 4), "w": (3,)}),
    "sdpa": ("F.scaled_dot_product_attention(q, k, v)", {"q": (1, 2, 4, 8), "k": (1, 2, 4, 8), "v": (1, 2, 4, 8)}),
    "softmax": ("F.softmax(a, dim=-1)", {"a": (3, 5)}),
    "log_softmax": ("F.log_softmax(a, dim=-1)", {"a": (3, 5)}),
    "cross_entropy": ("F.cross_entropy(a, t)", {"a": (4, 5), "t": ("long", (4,), 5)}),
    "nll_loss": ("F.nll_loss(a, t)", {"a": (4, 5), "t": ("long", (4,), 5)}),
    "mse_loss": ("F.mse_loss(a, b)", {"a": (4, 5), "b": (4, 5)}),
    "l1_loss": ("F.l1_loss(a, b)", {"a": (4, 5), "b": (4, 5)}),
    "smooth_l1_loss": ("F.smooth_l1_loss(a, b)", {"a": (4, 5), "b": (4, 5)}),
    "huber_loss": ("F.huber_loss(a, b)", {"a": (4, 5), "b": (4, 5)}),
    "kl_div": ("F.kl_div(a, b, reduction='batchmean')", {"a": (4, 5), "b": (4, 5)}),
    "bce_with_logits": ("F.binary_cross_entropy_with_logits(a, b.sigmoid())", {"a": (4, 5), "b": (4, 5)}),
    "bce": ("F.binary_cross_entropy(a.sigmoid(), b.sigmoid())", {"a": (4, 5), "b": (4, 5)}),
    "layer_norm": ("F.layer_norm(a, (5,), w, bias)", {"a": (4, 5), "w": (5,), "bias": (5,)}),
    "group_norm": ("F.group_norm(a, 2, w, bias)", {"a": (2, 4, 3), "w": (4,), "bias": (4,)}),
    "exp": ("a.exp()", {"a": (4, 5)}),
    "log": ("torch.log(a.abs() + 1)", {"a": (4, 5)}),
    "pow": ("a.pow(2)", {"a": (4, 5)}),
    "rsqrt": ("(a.abs() + 1).rsqrt()", {"a": (4, 5)}),
    "sum": ("a.sum()", {"a": (4, 5)}),
    "prod": ("a.prod(dim=1)", {"a": (4, 5)}),
    "cumsum": ("a.cumsum(0)", {"a": (4, 5)}),
    "logsumexp": ("a.logsumexp(1)", {"a": (4, 5)}),
    "mean": ("a.mean()", {"a": (4, 5)}),
    "relu": ("F.relu(a)", {"a": (4, 5)}),
    "add": ("a + b", {"a": (4, 5), "b": (4, 5)}),
    "mul": ("a * b", {"a": (4, 5), "b": (4, 5)}),
    "cat": ("torch.cat([a, b])", {"a": (2, 5), "b": (3, 5)}),
    "stack": ("torch.stack([a, b])", {"a": (2, 5), "b": (2, 5)}),
    "addcmul": ("torch.addcmul(a, b, c)", {"a": (4, 5), "b": (4, 5), "c": (4, 5)}),
    "tensordot": ("torch.tensordot(a, b, dims=1)", {"a": (4, 3), "b": (3, 5)}),
    "einsum": ("torch.einsum('ij,jk->ik', a, b)", {"a": (4, 3), "b": (3, 5)}),
    "cdist": ("torch.cdist(a, b)", {"a": (4, 3), "b": (5, 3)}),
    "trace": ("torch.trace(a)", {"a": (4, 4)}),
}

LP = {"bf16": torch.bfloat16, "f16": torch.float16}
NAMES = {torch.float32: "float32", torch.float64: "float64", torch.bfloat16: "bfloat16", torch.float16: "float16",
         torch.int64: "int64"}


def inputs(spec, config, lp, seed):
    g = torch.Generator().manual_seed(seed)
    env, floats = {}, []
    for name, s in spec.items():
        if isinstance(s[0], str):
            env[name] = torch.randint(0, s[2], s[1], generator=g)
            continue
        dt = torch.float64 if config == "f64" else torch.float32
        if config == "lp" and not floats:
            dt = lp
        t = torch.randn(s, generator=g).to(dt).requires_grad_()
        env[name] = t
        floats.append(name)
    return env, floats


def run(expr, spec, config, lp, seed):
    env, floats = inputs(spec, config, lp, seed)
    env.update(torch=torch, F=F)
    rec = {}
    try:
        with torch.autocast("cpu", dtype=lp):
            out = eval(expr, env)
    except Exception as e:  # noqa: BLE001 - the exception type is the record
        return {"error": type(e).__name__}
    rec["out"] = NAMES[out.dtype]
    out.float().sum().backward()
    rec["grads"] = {n: (None if env[n].grad is None else NAMES[env[n].grad.dtype]) for n in floats}
    return rec


def cases():
    res = {}
    for i, (name, (expr, spec)) in enumerate(CASES.items()):
        # A list of [name, spec] pairs: the order decides which input is the "first" one.
        entry = {"expr": expr, "inputs": [[k, list(v) if not isinstance(v[0], str) else [v[0], list(v[1]), v[2]]]
                                          for k, v in spec.items()], "results": {}}
        for lpn, lp in LP.items():
            for config in ("f32", "lp", "f64"):
                entry["results"][f"{lpn}/{config}"] = run(expr, spec, config, lp, 1000 + i)
        res[name] = entry
    return res


def grad_scaler():
    """A 1-parameter model, SGD, GradScaler('cpu', init_scale=8, growth_interval=2): steps
    with finite, infinite, then finite gradients; the state_dict and parameter after each."""
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = torch.optim.SGD([w], lr=0.1)
    sc = torch.amp.GradScaler("cpu", init_scale=8.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=2)
    grads = [[0.5, 0.25], [float("inf"), 1.0], [1.0, 1.0], [0.5, -0.5], [float("nan"), 0.0], [2.0, 2.0]]
    steps = []
    for g in grads:
        opt.zero_grad()
        loss = (w * torch.tensor(g)).sum()
        sc.scale(loss).backward()
        ret = sc.step(opt)
        sc.update()
        steps.append({"grad_in": [repr(v) for v in g], "stepped": ret is None and not any(v != v or abs(v) == float("inf")
                                                                                          for v in g),
                      "w": w.detach().tolist(), "state": sc.state_dict()})
    return {"init": {"init_scale": 8.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2, "lr": 0.1,
                     "w": [1.0, -2.0]}, "steps": steps, "default_state": torch.amp.GradScaler("cpu").state_dict()}


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases()}, f, indent=1, sort_keys=True)
    with open(os.path.join(OUT, "grad_scaler.json"), "w") as f:
        json.dump({"torch": torch.__version__, **grad_scaler()}, f, indent=1, sort_keys=True)
