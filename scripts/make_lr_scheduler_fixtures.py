"""Regenerate tests/fixtures/lr_scheduler/sequences.json: the learning rates (and momentum /
Adam beta1) that real PyTorch's CyclicLR and OneCycleLR give step by step, which
tests/optim/test_lr_scheduler.py checks ferrotorch's against without PyTorch.

Run with a Python that has PyTorch (kept outside this repo):
    /path/to/torch-venv/bin/python scripts/make_lr_scheduler_fixtures.py
"""
import json
import os

import torch
from torch.optim import lr_scheduler

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "lr_scheduler",
                   "sequences.json")
STEPS = 40

# name -> (optimizer class, optimizer kwargs, scheduler class, scheduler kwargs); the test builds
# the same from this file's "cases" entries.
CASES = {
    "cyclic_triangular": ("SGD", {"lr": 0.1, "momentum": 0.9}, "CyclicLR",
                          {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4}),
    "cyclic_triangular2": ("SGD", {"lr": 0.1, "momentum": 0.9}, "CyclicLR",
                           {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "step_size_down": 5,
                            "mode": "triangular2"}),
    "cyclic_exp_range": ("SGD", {"lr": 0.1, "momentum": 0.9}, "CyclicLR",
                         {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5, "mode": "exp_range",
                          "gamma": 0.97, "base_momentum": 0.7, "max_momentum": 0.95}),
    "cyclic_adam_betas": ("Adam", {"lr": 0.1}, "CyclicLR",
                          {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 6}),
    "cyclic_no_momentum": ("SGD", {"lr": 0.1}, "CyclicLR",
                           {"base_lr": 0.02, "max_lr": 0.2, "step_size_up": 7, "cycle_momentum": False}),
    "onecycle_cos": ("SGD", {"lr": 0.1, "momentum": 0.9}, "OneCycleLR", {"max_lr": 0.5, "total_steps": STEPS + 1}),
    "onecycle_linear": ("SGD", {"lr": 0.1, "momentum": 0.9}, "OneCycleLR",
                        {"max_lr": 0.5, "epochs": 4, "steps_per_epoch": 11, "anneal_strategy": "linear"}),
    "onecycle_three_phase": ("SGD", {"lr": 0.1, "momentum": 0.9}, "OneCycleLR",
                             {"max_lr": 1.0, "total_steps": 50, "pct_start": 0.25, "three_phase": True,
                              "div_factor": 10.0, "final_div_factor": 100.0}),
    "onecycle_adam": ("AdamW", {"lr": 0.1}, "OneCycleLR",
                      {"max_lr": 0.01, "total_steps": STEPS + 1, "base_momentum": 0.8, "max_momentum": 0.9}),
}


def run(opt_name, opt_kw, sched_name, sched_kw):
    p = torch.nn.Parameter(torch.zeros(2))
    opt = getattr(torch.optim, opt_name)([p], **opt_kw)
    sched = getattr(lr_scheduler, sched_name)(opt, **sched_kw)
    key = "betas" if "betas" in opt.defaults else "momentum"
    lrs, moms = [], []
    for _ in range(STEPS):
        g = opt.param_groups[0]
        lrs.append(sched.get_last_lr()[0])
        moms.append(g["betas"][0] if key == "betas" else g.get("momentum"))
        opt.step()
        sched.step()
    return {"lr": lrs, "momentum": moms}


def main():
    out = {"torch_version": torch.__version__, "steps": STEPS, "cases": {}}
    for name, (opt_name, opt_kw, sched_name, sched_kw) in CASES.items():
        out["cases"][name] = {"optimizer": opt_name, "optimizer_kwargs": opt_kw, "scheduler": sched_name,
                              "scheduler_kwargs": sched_kw, **run(opt_name, opt_kw, sched_name, sched_kw)}
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
