"""torch.optim.lr_scheduler: every scheduler's learning rates over 30+ steps against the closed
form of PyTorch's documentation (written out below), CyclicLR / OneCycleLR against sequences
written by real PyTorch (tests/fixtures/lr_scheduler, scripts/make_lr_scheduler_fixtures.py),
chained and sequential schedules, state_dict round trips mid-run, ReduceLROnPlateau on a scripted
metric sequence, the warnings and PyTorch's exceptions for bad input."""
import json
import math
import os
import pickle
import warnings
from bisect import bisect_right

import pytest

import ferrotorch as torch
from ferrotorch import optim
from ferrotorch.optim import lr_scheduler
from ferrotorch.optim.lr_scheduler import (
    ChainedScheduler, ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, ExponentialLR, LambdaLR,
    LinearLR, LRScheduler, MultiplicativeLR, MultiStepLR, OneCycleLR, PolynomialLR, ReduceLROnPlateau, SequentialLR,
    StepLR, _LRScheduler,
)

STEPS = 35
FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "lr_scheduler", "sequences.json")


def make_opt(cls=optim.SGD, lrs=(0.1,), **kw):
    """An optimizer with one param group per lr."""
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return cls(groups, **kw)


def run(opt, sched, steps=STEPS):
    """The lr of every group before each of `steps` optimizer steps (get_last_lr and the group agree)."""
    out = []
    for _ in range(steps):
        last = sched.get_last_lr()
        assert last == [g["lr"] for g in opt.param_groups]
        out.append(list(last))
        opt.step()
        sched.step()
    return out


def close(got, want, tol=1e-12):
    assert len(got) == len(want)
    for t, (g, w) in enumerate(zip(got, want)):
        for a, b in zip(g, w):
            assert math.isclose(a, b, rel_tol=tol, abs_tol=tol), f"step {t}: {g} != {w}"


# ---- closed forms -----------------------------------------------------------------------------
BASES = (0.1, 0.05)


def closed(f):
    return [[f(base, t) for base in BASES] for t in range(STEPS)]


def test_lambda_lr():
    opt = make_opt(lrs=BASES)
    fns = [lambda t: 0.95 ** t, lambda t: 1.0 / (1 + t)]
    got = run(opt, LambdaLR(opt, fns))
    close(got, [[b * fn(t) for b, fn in zip(BASES, fns)] for t in range(STEPS)])
    # a single function applies to every group
    opt = make_opt(lrs=BASES)
    close(run(opt, LambdaLR(opt, lambda t: 0.5 * (t % 3))), closed(lambda b, t: b * 0.5 * (t % 3)))


def test_multiplicative_lr():
    # lr_t = lr_{t-1} * f(t), lr_0 = base: lr_t = base * prod_{k=1..t} f(k)
    opt = make_opt(lrs=BASES)
    got = run(opt, MultiplicativeLR(opt, lambda t: 0.9 if t % 2 else 1.0))
    close(got, closed(lambda b, t: b * 0.9 ** ((t + 1) // 2)))


def test_step_lr():
    # base * gamma ** (t // step_size)
    opt = make_opt(lrs=BASES)
    close(run(opt, StepLR(opt, step_size=7, gamma=0.5)), closed(lambda b, t: b * 0.5 ** (t // 7)))


def test_multistep_lr():
    # base * gamma ** (number of milestones <= t); a repeated milestone counts twice
    ms = [3, 10, 10, 22]
    opt = make_opt(lrs=BASES)
    close(run(opt, MultiStepLR(opt, milestones=ms, gamma=0.3)), closed(lambda b, t: b * 0.3 ** bisect_right(ms, t)))


def test_constant_lr():
    # base * factor for t < total_iters, then base
    opt = make_opt(lrs=BASES)
    close(run(opt, ConstantLR(opt, factor=0.25, total_iters=6)), closed(lambda b, t: b * (0.25 if t < 6 else 1.0)))


def test_linear_lr():
    # base * (start + (end - start) * min(t, total_iters) / total_iters)
    opt = make_opt(lrs=BASES)
    got = run(opt, LinearLR(opt, start_factor=0.2, end_factor=0.9, total_iters=12))
    close(got, closed(lambda b, t: b * (0.2 + 0.7 * min(t, 12) / 12)))


def test_exponential_lr():
    opt = make_opt(lrs=BASES)
    close(run(opt, ExponentialLR(opt, gamma=0.93)), closed(lambda b, t: b * 0.93 ** t))


def test_polynomial_lr():
    # base * (1 - min(t, total_iters) / total_iters) ** power
    opt = make_opt(lrs=BASES)
    got = run(opt, PolynomialLR(opt, total_iters=20, power=2.5))
    close(got, closed(lambda b, t: b * (1 - min(t, 20) / 20) ** 2.5))


def test_cosine_annealing_lr():
    # eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2, also past T_max (the cosine's period is 2 T_max)
    opt = make_opt(lrs=BASES)
    got = run(opt, CosineAnnealingLR(opt, T_max=10, eta_min=0.001))
    close(got, closed(lambda b, t: 0.001 + (b - 0.001) * (1 + math.cos(math.pi * t / 10)) / 2), tol=1e-10)


@pytest.mark.parametrize("T_0, T_mult", [(5, 1), (3, 2), (4, 3)])
def test_cosine_annealing_warm_restarts(T_0, T_mult):
    # restart i lasts T_0 * T_mult**i steps; T_cur counts steps since the last restart
    def lr(b, t):
        T_i, T_cur = T_0, t
        while T_cur >= T_i:
            T_cur -= T_i
            T_i *= T_mult
        return 0.002 + (b - 0.002) * (1 + math.cos(math.pi * T_cur / T_i)) / 2

    opt = make_opt(lrs=BASES)
    close(run(opt, CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult, eta_min=0.002)), closed(lr))


def test_cosine_annealing_warm_restarts_fractional_epoch():
    # step(epoch) with a float epoch (per-batch use): T_cur = epoch mod T_0 with T_mult 1
    opt = make_opt()
    s = CosineAnnealingWarmRestarts(opt, T_0=4)
    for epoch in [0.5, 1.25, 3.75, 4.5, 9.0]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s.step(epoch)
        assert math.isclose(opt.param_groups[0]["lr"], 0.1 * (1 + math.cos(math.pi * (epoch % 4) / 4)) / 2,
                            rel_tol=1e-12, abs_tol=1e-15)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        s.step(-1)


def test_swalr_is_an_lr_scheduler():
    from ferrotorch.optim.swa_utils import SWALR
    assert issubclass(SWALR, LRScheduler)


# ---- CyclicLR / OneCycleLR against PyTorch's own sequences -----------------------------------
def _fixture():
    with open(FIXTURE) as f:
        return json.load(f)


@pytest.mark.parametrize("name", sorted(_fixture()["cases"]))
def test_against_pytorch_fixture(name):
    case = _fixture()["cases"][name]
    opt = getattr(optim, case["optimizer"])([torch.zeros(2, requires_grad=True)], **case["optimizer_kwargs"])
    sched = getattr(lr_scheduler, case["scheduler"])(opt, **case["scheduler_kwargs"])
    key = "betas" if "betas" in opt.defaults else "momentum"
    for t, (lr, mom) in enumerate(zip(case["lr"], case["momentum"])):
        g = opt.param_groups[0]
        assert math.isclose(sched.get_last_lr()[0], lr, rel_tol=1e-13, abs_tol=1e-16), (t, sched.get_last_lr(), lr)
        got_mom = g["betas"][0] if key == "betas" else g["momentum"]
        assert math.isclose(got_mom, mom, rel_tol=1e-13), (t, got_mom, mom)
        opt.step()
        sched.step()


def test_cyclic_lr_triangular_closed_form():
    # PyTorch's doc: cycle = floor(1 + t / (2 s)), x = |t / s - 2 cycle + 1|,
    # lr = base + (max - base) * max(0, 1 - x); momentum runs the other way
    opt = make_opt(lrs=BASES, momentum=0.9)
    s = CyclicLR(opt, base_lr=[0.01, 0.005], max_lr=[0.1, 0.05], step_size_up=5)
    for t in range(STEPS):
        cycle = math.floor(1 + t / 10)
        x = abs(t / 5 - 2 * cycle + 1)
        for g, base, top in zip(opt.param_groups, [0.01, 0.005], [0.1, 0.05]):
            assert math.isclose(g["lr"], base + (top - base) * max(0, 1 - x), rel_tol=1e-12)
            assert math.isclose(g["momentum"], 0.9 - (0.9 - 0.8) * max(0, 1 - x), rel_tol=1e-12)
        opt.step()
        s.step()


def test_onecycle_lr_sets_group_values():
    opt = make_opt(momentum=0.9)
    OneCycleLR(opt, max_lr=0.4, total_steps=10, div_factor=20.0, final_div_factor=1e3)
    g = opt.param_groups[0]
    # initial_lr = max_lr / div_factor, min_lr = initial_lr / final_div_factor
    assert (g["initial_lr"], g["max_lr"], g["min_lr"]) == (0.4 / 20.0, 0.4, 0.4 / 20.0 / 1e3)
    assert math.isclose(g["lr"], 0.02, rel_tol=1e-12) and g["momentum"] == 0.95


def test_onecycle_lr_too_many_steps():
    opt = make_opt(momentum=0.9)
    s = OneCycleLR(opt, max_lr=0.4, total_steps=3)
    for _ in range(3):
        opt.step()
        s.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
        s.step()


# ---- combinations ------------------------------------------------------------------------------
def test_sequential_lr():
    # LinearLR warm-up over 5 steps, then ExponentialLR restarted at the milestone (t - 5)
    opt = make_opt(lrs=BASES)
    warm = LinearLR(opt, start_factor=0.1, total_iters=5)
    decay = ExponentialLR(opt, gamma=0.9)
    s = SequentialLR(opt, schedulers=[warm, decay], milestones=[5])
    close(run(opt, s), closed(lambda b, t: b * (0.1 + 0.9 * t / 5) if t < 5 else b * 0.9 ** (t - 5)))


def test_sequential_lr_three_phases():
    opt = make_opt()
    s = SequentialLR(opt, [ConstantLR(opt, factor=0.5, total_iters=100), StepLR(opt, 4, 0.5),
                           CosineAnnealingLR(opt, T_max=8)], milestones=[3, 15])
    close(run(opt, s), [[0.05 if t < 3 else 0.1 * 0.5 ** ((t - 3) // 4) if t < 15
                         else 0.1 * (1 + math.cos(math.pi * (t - 15) / 8)) / 2] for t in range(STEPS)], tol=1e-10)


def test_chained_scheduler():
    # both factors multiply: base * 0.9**t * (0.5 while t < 4)
    opt = make_opt(lrs=BASES)
    s = ChainedScheduler([ConstantLR(opt, factor=0.5, total_iters=4), ExponentialLR(opt, gamma=0.9)])
    close(run(opt, s), closed(lambda b, t: b * 0.9 ** t * (0.5 if t < 4 else 1.0)))


# ---- ReduceLROnPlateau ------------------------------------------------------------------------
def plateau_run(metrics, **kw):
    opt = make_opt(lrs=(1.0, 0.5))
    s = ReduceLROnPlateau(opt, **kw)
    lrs = []
    for m in metrics:
        s.step(m)
        lrs.append([g["lr"] for g in opt.param_groups])
        assert s.get_last_lr() == lrs[-1]
    return lrs


def test_reduce_lr_on_plateau_min_rel():
    # patience 2: the 3rd epoch in a row without improving by 1% (rel) reduces by 0.5
    metrics = [10, 9, 8.95, 8.93, 8.92, 8.0, 8.0, 8.0, 8.0, 7.0]
    got = plateau_run(metrics, factor=0.5, patience=2, threshold=0.01)
    # best: 10, 9 (better), 8.95/8.93 not < 9*0.99=8.91 -> bad 1, 2; 8.92 -> bad 3 > 2: reduce (epoch 4),
    # 8.0 better; 8.0 x3 -> bad 1, 2, 3: reduce at epoch 8; 7.0 better
    want = [1.0] * 4 + [0.5] * 4 + [0.25] * 2
    assert [g[0] for g in got] == want
    assert [g[1] for g in got] == [w / 2 for w in want]


def test_reduce_lr_on_plateau_max_abs_cooldown_min_lr():
    # mode max, abs threshold 0.1, patience 0, cooldown 2, min_lr per group
    metrics = [1.0, 1.05, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2]
    got = plateau_run(metrics, mode="max", factor=0.1, patience=0, threshold=0.1, threshold_mode="abs",
                      cooldown=2, min_lr=[0.005, 0.02])
    # (PyTorch 2.15 gives the same sequence.) epoch 1: 1.05 is not > 1.0 + 0.1 -> bad 1 > patience 0:
    # reduce (1 -> 0.1, 0.5 -> 0.05), cooldown 2; epoch 2: 1.2 best; epochs 2, 3 count the cooldown
    # down (bad epochs reset); epoch 4: reduce (0.1 -> 0.01, 0.05 -> max(0.005, 0.02) = 0.02);
    # epochs 5, 6 cooldown; epoch 7: 0.01 -> max(0.001, 0.005) = 0.005; then both stay at their min_lr.
    want0 = [1.0, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.005, 0.005, 0.005]
    want1 = [0.5, 0.05, 0.05, 0.05, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02]
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip([g[0] for g in got], want0)), got
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip([g[1] for g in got], want1)), got


def test_reduce_lr_on_plateau_eps():
    # a reduction smaller than eps is skipped
    opt = make_opt(lrs=(1e-7,))
    s = ReduceLROnPlateau(opt, factor=0.5, patience=0, eps=1e-7)
    s.step(1.0)
    s.step(1.0)
    assert opt.param_groups[0]["lr"] == 1e-7
    s.eps = 1e-9
    s.step(1.0)
    assert opt.param_groups[0]["lr"] == 5e-8


def test_reduce_lr_on_plateau_state_dict():
    metrics = [5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3]
    full = plateau_run(metrics, factor=0.5, patience=1, cooldown=1)
    opt = make_opt(lrs=(1.0, 0.5))
    s = ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1)
    for m in metrics[:5]:
        s.step(m)
    sd = pickle.loads(pickle.dumps(s.state_dict()))
    opt2 = make_opt(lrs=[g["lr"] for g in opt.param_groups])
    s2 = ReduceLROnPlateau(opt2)
    s2.load_state_dict(sd)
    rest = []
    for m in metrics[5:]:
        s2.step(m)
        rest.append([g["lr"] for g in opt2.param_groups])
    assert rest == full[5:]


# ---- state_dict, resuming, initial_lr -----------------------------------------------------------
FACTORIES = {
    "StepLR": lambda o: StepLR(o, 4, 0.7),
    "MultiStepLR": lambda o: MultiStepLR(o, [5, 9, 20], 0.5),
    "ConstantLR": lambda o: ConstantLR(o, 0.3, 12),
    "LinearLR": lambda o: LinearLR(o, 0.2, 1.0, 16),
    "ExponentialLR": lambda o: ExponentialLR(o, 0.95),
    "PolynomialLR": lambda o: PolynomialLR(o, 25, 1.5),
    "CosineAnnealingLR": lambda o: CosineAnnealingLR(o, 9, 0.01),
    "CosineAnnealingWarmRestarts": lambda o: CosineAnnealingWarmRestarts(o, 3, 2, 0.001),
    "CyclicLR": lambda o: CyclicLR(o, 0.01, 0.2, step_size_up=3, mode="triangular2"),
    "OneCycleLR": lambda o: OneCycleLR(o, 0.5, total_steps=STEPS + 1, three_phase=True),
    "MultiplicativeLR": lambda o: MultiplicativeLR(o, lambda t: 0.97),
    "LambdaLR": lambda o: LambdaLR(o, lambda t: 1 / (t + 1)),
    "SequentialLR": lambda o: SequentialLR(o, [ConstantLR(o, 0.1, 30), ExponentialLR(o, 0.9)], [6]),
    "ChainedScheduler": lambda o: ChainedScheduler([StepLR(o, 3, 0.9), LinearLR(o, 0.5, 1.0, 10)]),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_state_dict_round_trip_mid_run(name):
    # run 13 steps, save; a fresh optimizer + scheduler loaded from the dicts continues identically
    opt = make_opt(lrs=BASES, momentum=0.9)
    s = FACTORIES[name](opt)
    full = run(opt, s)

    opt = make_opt(lrs=BASES, momentum=0.9)
    s = FACTORIES[name](opt)
    run(opt, s, 13)
    osd = pickle.loads(pickle.dumps(opt.state_dict()))
    ssd = pickle.loads(pickle.dumps(s.state_dict()))
    assert "optimizer" not in ssd

    opt2 = make_opt(lrs=BASES, momentum=0.9)
    s2 = FACTORIES[name](opt2)
    opt2.load_state_dict(osd)
    s2.load_state_dict(ssd)
    assert getattr(s2, "last_epoch", None) == getattr(s, "last_epoch", None)  # (ChainedScheduler has none)
    close(run(opt2, s2, STEPS - 13), full[13:])


def test_last_epoch_and_initial_lr():
    opt = make_opt(lrs=BASES)
    s = StepLR(opt, 2)
    assert s.last_epoch == 0 and s.base_lrs == list(BASES)
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASES)
    for _ in range(5):
        opt.step()
        s.step()
    assert s.last_epoch == 5
    # resuming: last_epoch given, initial_lr taken from the groups; the next step continues the schedule
    opt2 = make_opt(lrs=[g["lr"] for g in opt.param_groups])
    for g, b in zip(opt2.param_groups, BASES):
        g["initial_lr"] = b
    s2 = StepLR(opt2, 2, last_epoch=5)
    assert s2.base_lrs == list(BASES) and s2.last_epoch == 6
    assert [g["lr"] for g in opt2.param_groups] == [b * 0.1 ** 3 for b in BASES]


def test_resume_without_initial_lr():
    opt = make_opt(lrs=BASES)
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\] when resuming "
                                       r"scheduler with last_epoch >= 0"):
        StepLR(opt, 3, last_epoch=4)


def test_lr_scheduler_alias():
    assert issubclass(_LRScheduler, LRScheduler)
    assert isinstance(StepLR(make_opt(), 1), LRScheduler)
    assert torch.optim.lr_scheduler is lr_scheduler


# ---- warnings ----------------------------------------------------------------------------------
def test_warns_when_scheduler_steps_before_optimizer():
    opt = make_opt()
    s = StepLR(opt, 1)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        s.step()


def test_no_warning_in_the_right_order():
    opt = make_opt()
    s = StepLR(opt, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        s.step()
        s.step()


def test_warns_when_optimizer_step_is_replaced():
    opt = make_opt()
    s = StepLR(opt, 1)
    opt.step = lambda: None
    with pytest.warns(UserWarning, match="Seems like `optimizer.step\\(\\)` has been overridden"):
        s.step()


def test_get_lr_outside_step_warns():
    s = StepLR(make_opt(), 1)
    with pytest.warns(UserWarning, match=r"please use `get_last_lr\(\)`"):
        s.get_lr()


def test_epoch_argument_is_deprecated_and_uses_closed_form():
    opt = make_opt()
    s = StepLR(opt, 3, gamma=0.5)
    opt.step()
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        s.step(7)
    assert s.last_epoch == 7 and opt.param_groups[0]["lr"] == 0.1 * 0.5 ** 2


# ---- bad input (types and messages checked against PyTorch 2.15) ---------------------------------
class _NoMomentum(optim.Optimizer):
    def __init__(self, params):
        super().__init__(params, {"lr": 0.1})

    def step(self, closure=None):
        pass


ERRORS = [
    ("StepLR(object(), 1)", TypeError, "object is not an Optimizer"),
    ("ConstantLR(opt, factor=1.5)", ValueError, "Constant multiplicative factor expected to be between 0 and 1."),
    ("LinearLR(opt, start_factor=0)", ValueError,
     "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."),
    ("LinearLR(opt, end_factor=1.5)", ValueError, "Ending multiplicative factor expected to be between 0 and 1."),
    ("LambdaLR(opt, [lambda t: 1, lambda t: 2])", ValueError, "Expected 1 lr_lambdas, but got 2"),
    ("MultiplicativeLR(opt, 3)", TypeError, "lr_lambda should be a function, but got int"),
    ("CosineAnnealingWarmRestarts(opt, T_0=0)", ValueError, "Expected positive integer T_0, but got 0"),
    ("CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)", ValueError, "Expected integer T_mult >= 1, but got 0"),
    ("CosineAnnealingWarmRestarts(opt, T_0=2, eta_min='a')", ValueError,
     "Expected float or int eta_min, but got a of type <class 'str'>"),
    ("CyclicLR(opt, 0.1, 1.0, mode='sine')", ValueError, "mode is invalid and scale_fn is None"),
    ("CyclicLR(opt, [0.1, 0.2], 1.0)", ValueError,
     "base_lr must have the same length as optimizer.param_groups. base_lr has 2 values, param_groups has 1."),
    ("CyclicLR(nomom, 0.1, 1.0)", ValueError,
     "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"),
    ("OneCycleLR(opt, 1.0)", ValueError, "You must define either total_steps OR (epochs AND steps_per_epoch)"),
    ("OneCycleLR(opt, 1.0, total_steps=0)", ValueError, "Expected positive integer total_steps, but got 0"),
    ("OneCycleLR(opt, 1.0, epochs=2.5, steps_per_epoch=3)", ValueError, "Expected positive integer epochs, but got 2.5"),
    ("OneCycleLR(opt, 1.0, epochs=2, steps_per_epoch=-1)", ValueError,
     "Expected positive integer steps_per_epoch, but got -1"),
    ("OneCycleLR(opt, 1.0, total_steps=5, pct_start=1.5)", ValueError,
     "Expected float between 0 and 1 pct_start, but got 1.5"),
    ("OneCycleLR(opt, 1.0, total_steps=5, anneal_strategy='exp')", ValueError,
     "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    ("ReduceLROnPlateau(opt, factor=1.0)", ValueError, "Factor should be < 1.0."),
    ("ReduceLROnPlateau(opt, mode='up')", ValueError, "mode up is unknown!"),
    ("ReduceLROnPlateau(opt, threshold_mode='x')", ValueError, "threshold mode x is unknown!"),
    ("ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])", ValueError, "expected 1 min_lrs, got 2"),
    ("SequentialLR(opt, [], [])", ValueError, "SequentialLR expects at least one scheduler, but got no scheduler."),
    ("SequentialLR(opt, [StepLR(opt, 1), StepLR(opt, 1)], [1, 2])", ValueError,
     "Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone "
     "points, but got number of schedulers 2 and the number of milestones to be equal to 2"),
    ("SequentialLR(opt, [ReduceLROnPlateau(opt)], [])", ValueError,
     "SequentialLR does not support `ReduceLROnPlateau` scheduler"),
    ("SequentialLR(opt, [StepLR(opt2, 1)], [])", ValueError,
     "SequentialLR expects all schedulers to belong to the same optimizer"),
    ("SequentialLR(opt, [3], [])", TypeError, "SequentialLR at index 0 should have `optimizer` as its attribute."),
    ("ChainedScheduler([])", ValueError,
     "ChainedScheduler expects at least one scheduler to be chained, but got no scheduler."),
    ("ChainedScheduler([StepLR(opt, 1), StepLR(opt2, 1)])", ValueError,
     "ChainedScheduler expects all schedulers to belong to the same optimizer"),
]


@pytest.mark.parametrize("code, exc, msg", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input(code, exc, msg):
    ns = dict(vars(lr_scheduler), opt=make_opt(momentum=0.9), opt2=make_opt(momentum=0.9),
              nomom=_NoMomentum([torch.zeros(1, requires_grad=True)]))
    with pytest.raises(exc) as e:
        eval(code, ns)
    assert msg in str(e.value)
