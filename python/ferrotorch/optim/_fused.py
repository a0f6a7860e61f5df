"""The group step shared by RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop and
SparseAdam: gather a group's parameters with gradients and their state, then update them all
in ONE call into the Rust engine (`_C._optim_step`, see rust/core/src/optim.rs), which also
increments the 0-d `step` tensors and updates the other scalar state (NAdam's `mu_product`,
ASGD's `eta` / `mu`) exactly as PyTorch's Python code does.
"""
from .. import _C
from .._C import Tensor
from .optimizer import _HAS_SPARSE, _get_scalar_dtype, _get_value

# torch.optim.optimizer._get_capturable_supported_devices() on a build without a custom backend.
_CAPTURABLE = ["cuda", "xpu", "hpu", "privateuseone", "xla"]


def _capturable_devices(supports_xla=True):
    return _CAPTURABLE if supports_xla else _CAPTURABLE[:-1]


def _new_step(p, on_device):
    """A fresh 0-d `step` (PyTorch keeps it on the CPU unless capturable)."""
    if on_device:
        return _C.zeros((), dtype=_get_scalar_dtype(), device=p.device)
    return _C.tensor(0.0, dtype=_get_scalar_dtype())


def _scalar_state(value, p, on_device):
    """A 0-d float scalar state such as NAdam's `mu_product`."""
    if on_device:
        return _C.full((), float(value), dtype=_get_scalar_dtype(), device=p.device)
    return _C.tensor(float(value), dtype=_get_scalar_dtype())


def _steps_to_tensors(opt, on_device=lambda group: group.get("capturable", False)):
    """Old checkpoints stored `step` as a number: make it the 0-d tensor PyTorch keeps now."""
    for group in opt.param_groups:
        for p in group["params"]:
            p_state = opt.state.get(p, [])
            if len(p_state) != 0 and "step" in p_state and not isinstance(p_state["step"], Tensor):
                step_val = float(p_state["step"])
                if on_device(group):
                    p_state["step"] = _C.tensor(step_val, dtype=_get_scalar_dtype(), device=p.device)
                else:
                    p_state["step"] = _C.tensor(step_val, dtype=_get_scalar_dtype())


def _check_capturable(group, params, supports_xla=True, what="params and state_steps"):
    if not group.get("capturable", False):
        return
    devices = _capturable_devices(supports_xla)
    for p in params:
        if p.device.type not in devices:
            raise AssertionError(f"If capturable=True, {what} must be on supported devices: {devices}.")


def _group_step(opt, group, algo, slots, used, init_state, hyper, name, scalars=(), steps_are_ints=False):
    """One fused step of `group`: `slots` are the state keys of the Rust call's state lists
    (`used[k]` False: passed empty), `scalars` the 0-d scalar state keys besides `step`."""
    params, grads, steps = [], [], []
    states = [[] for _ in slots]
    scal = [[] for _ in scalars]
    all_state = opt.state
    for p in group["params"]:
        g = p.grad
        if g is None:
            continue
        if _HAS_SPARSE and g.is_sparse:
            raise RuntimeError(f"{name} does not support sparse gradients")
        state = all_state[p]
        if len(state) == 0:
            init_state(group, p, state)
        params.append(p)
        grads.append(g)
        for k, key in enumerate(slots):
            if used[k]:
                states[k].append(state[key])
        for k, key in enumerate(scalars):
            scal[k].append(state[key])
        if steps_are_ints:
            state["step"] += 1
        steps.append(state["step"])
    if not params:
        return params
    hyper = {k: (float(_get_value(v)) if not isinstance(v, bool) else v) for k, v in hyper.items()}
    _C._optim_step(algo, params, grads, states, steps, scal, hyper)
    return params
