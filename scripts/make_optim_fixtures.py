"""Regenerate tests/fixtures/optim/: real PyTorch trajectories of every optimizer of
tests/optim/test_optimizers_more.py on a tiny problem, which that test checks ferrotorch's
against without PyTorch.

* trajectories.json: for each case (optimizer name, kwargs, dtype), the parameters after each
  of STEPS steps; for SparseAdam the gradient is sparse in PyTorch (`to_sparse()` of the dense
  gradient, whose zero entries the test passes as zeros); for LBFGS each step runs up to
  `max_iter` iterations and the entry also records state['func_evals'] / state['n_iter'] and
  the number of closure calls after each step.
* state_dicts.pt (torch.save): for each "resume" case, the optimizer's state_dict after
  RESUME_AT steps; trajectories.json holds the parameters at that point and after the steps that
  follow, so a ferrotorch optimizer that loads it must continue identically.

Problem: params x1 (3,), x2 (2, 2) from X1 / X2;
    loss = sum(W * (x - T)^2) + 0.1 * sum(x^4) over both
(its gradient is computed by autograd in both frameworks). For SparseAdam, MASKS zero some
gradient entries at some steps.

Run with a Python that has PyTorch (kept outside this repo):
    /path/to/torch-venv/bin/python scripts/make_optim_fixtures.py
"""
import copy
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "optim")
STEPS = 8
RESUME_AT = 3

X1 = [0.5, -1.25, 2.0]
X2 = [[1.5, -0.75], [0.25, -2.0]]
W1 = [1.0, 0.5, 2.0]
W2 = [[0.3, 1.7], [1.1, 0.8]]
T1 = [1.0, 2.0, -1.0]
T2 = [[0.0, 0.5], [-1.5, 1.0]]
# SparseAdam: gradient entries kept (1) or zeroed (0) at step k (cycled).
MASKS = [([1, 0, 1], [[1, 1], [0, 1]]), ([0, 1, 1], [[1, 0], [1, 1]]), ([1, 1, 1], [[1, 1], [1, 1]])]

CASES = [
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.05, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.05, "centered": True}),
    ("RMSprop", {"lr": 0.02, "centered": True, "momentum": 0.5, "weight_decay": 0.1, "alpha": 0.9}),
    ("RMSprop", {"maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "maximize": True, "eps": 1e-3}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "weight_decay": 0.1, "eps": 1e-4}),
    ("Adadelta", {"maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.05, "betas": (0.3, 0.9), "weight_decay": 0.1}),
    ("Adamax", {"maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True, "betas": (0.3, 0.9)}),
    ("NAdam", {"maximize": True}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9)}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9), "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "betas": (0.3, 0.9), "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"maximize": True, "betas": (0.9, 0.9)}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 2, "weight_decay": 0.1}),
    ("ASGD", {"maximize": True, "t0": 0}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.1, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}),
    ("Rprop", {"maximize": True}),
    ("SparseAdam", {}),
    ("SparseAdam", {"lr": 0.05, "betas": (0.3, 0.9), "maximize": True}),
    ("LBFGS", {}),
    ("LBFGS", {"lr": 0.5, "max_iter": 5, "history_size": 3}),
    ("LBFGS", {"line_search_fn": "strong_wolfe"}),
    ("LBFGS", {"line_search_fn": "strong_wolfe", "max_iter": 4, "history_size": 2}),
]
# One resume case per optimizer (the first of its kind, plus the options with extra state).
RESUME = {0, 1, 3, 5, 6, 8, 11, 14, 16, 18, 19, 23, 24, 26, 29, 33}


def make_params(dtype):
    return [torch.tensor(X1, dtype=dtype, requires_grad=True), torch.tensor(X2, dtype=dtype, requires_grad=True)]


def loss_fn(ps):
    total = 0
    for p, w, t in zip(ps, (W1, W2), (T1, T2)):
        w = torch.tensor(w, dtype=p.dtype)
        t = torch.tensor(t, dtype=p.dtype)
        total = total + (w * (p - t) ** 2).sum() + 0.1 * (p ** 4).sum()
    return total


def run(name, kwargs, dtype, steps, opt=None, ps=None, start=0):
    ps = ps or make_params(dtype)
    opt = opt or getattr(torch.optim, name)(ps, **kwargs)
    traj, extra = [], []
    calls = [0]

    def closure():
        calls[0] += 1
        opt.zero_grad()
        loss = loss_fn(ps)
        loss.backward()
        return loss

    for k in range(start, steps):
        if name == "LBFGS":
            opt.step(closure)
            st = opt.state[ps[0]]
            extra.append([st["func_evals"], st["n_iter"], calls[0]])
        else:
            closure()
            if name == "SparseAdam":
                for p, m in zip(ps, MASKS[k % len(MASKS)]):
                    p.grad = (p.grad * torch.tensor(m, dtype=dtype)).to_sparse()
            opt.step()
        traj.append([p.detach().double().flatten().tolist() for p in ps])
    return opt, ps, traj, extra


def main():
    os.makedirs(OUT, exist_ok=True)
    out = {"problem": {"X1": X1, "X2": X2, "W1": W1, "W2": W2, "T1": T1, "T2": T2, "MASKS": MASKS},
           "steps": STEPS, "resume_at": RESUME_AT, "cases": []}
    state_dicts = {}
    for i, (name, kwargs) in enumerate(CASES):
        for dt in ("float32", "float64"):
            dtype = getattr(torch, dt)
            _, _, traj, extra = run(name, kwargs, dtype, STEPS)
            case = {"name": name, "kwargs": kwargs, "dtype": dt, "trajectory": traj, "lbfgs": extra}
            if i in RESUME and dt == "float32":
                opt, ps, head, _ = run(name, kwargs, dtype, RESUME_AT)
                key = f"case{i}"
                # a copy: state_dict() holds the live state tensors, which the steps below update
                state_dicts[key] = copy.deepcopy(opt.state_dict())
                _, _, tail, tail_extra = run(name, kwargs, dtype, STEPS, opt=opt, ps=ps, start=RESUME_AT)
                case["resume"] = {"key": key, "at": head[-1], "tail": tail, "lbfgs": tail_extra}
            out["cases"].append(case)
    with open(os.path.join(OUT, "trajectories.json"), "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")
    torch.save(state_dicts, os.path.join(OUT, "state_dicts.pt"))
    print(f"{len(out['cases'])} cases, {len(state_dicts)} state dicts written to {OUT}")


if __name__ == "__main__":
    main()
