"""Adagrad, as torch.optim.Adagrad."""
from .. import _C
from .._C import Tensor
from ._fused import _group_step
from .optimizer import (
    Optimizer, _check_not_differentiable, _device_dtype_check_for_fused, _eval_closure, _get_scalar_dtype,
    _use_grad_for_differentiable,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Implements the Adagrad algorithm.

    Per parameter at step ``t`` with gradient ``g`` (negated when ``maximize``)::

        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g * g
        p = p - clr * g / (sqrt(sum) + eps)

    The state (``step``, ``sum`` = ``initial_accumulator_value``) is created for every parameter by the
    constructor, as in PyTorch. All parameters of a group are updated by one fused call into the Rust engine.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
            self._need_device_dtype_check_for_fused = True
            self._step_supports_amp_scaling = True

        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(group, p, self.state[p])

    def _init_state(self, group, p, state):
        if group["fused"]:
            state["step"] = _C.zeros((), dtype=_get_scalar_dtype(is_fused=True), device=p.device)
        else:
            state["step"] = _C.tensor(0.0, dtype=_get_scalar_dtype())
        state["sum"] = _C.full(p.shape, group["initial_accumulator_value"], dtype=p.dtype, device=p.device)

    def __setstate__(self, state):
        super().__setstate__(state)
        fused = None
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            fused = group.setdefault("fused", None)
        state_values = list(self.state.values())
        step_is_tensor = len(state_values) != 0 and isinstance(state_values[0]["step"], Tensor)
        if not step_is_tensor:
            for s in state_values:
                s["step"] = _C.tensor(float(s["step"]), dtype=_get_scalar_dtype(is_fused=fused))

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            _check_not_differentiable("Adagrad", group)
            if group["fused"] and getattr(self, "_need_device_dtype_check_for_fused", False):
                for p in group["params"]:
                    _device_dtype_check_for_fused(p)
                self._need_device_dtype_check_for_fused = False
            hyper = {k: group[k] for k in ("lr", "lr_decay", "weight_decay", "eps")}
            hyper["maximize"] = bool(group["maximize"])
            _group_step(self, group, "adagrad", ["sum"], [True], self._init_state, hyper, "Adagrad")
        return loss
