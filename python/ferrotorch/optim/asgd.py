"""Averaged SGD, as torch.optim.ASGD."""
from .. import _C
from .._C import Tensor
from ._fused import _check_capturable, _group_step, _steps_to_tensors
from .optimizer import (
    Optimizer, _check_not_differentiable, _eval_closure, _get_scalar_dtype, _get_value, _use_grad_for_differentiable,
)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Implements Averaged Stochastic Gradient Descent.

    Per parameter at step ``t`` with gradient ``g`` (negated when ``maximize``)::

        g = g + weight_decay * p
        p = p * (1 - lambd * eta) - eta * g
        ax = ax + (p - ax) * mu (mu != 1) | p
        eta = lr / (1 + lambd * lr * t)^alpha;  mu = 1 / max(1, t - t0)

    ``eta``, ``mu`` and ``step`` are 0-d float tensors on the parameter's device, as in PyTorch. All parameters
    of a group are updated by one fused call into the Rust engine.
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lambd:
            raise ValueError(f"Invalid lambd value: {lambd}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
            for p in group["params"]:
                p_state = self.state.get(p, [])
                for key in ("eta", "mu"):
                    if len(p_state) != 0 and key in p_state and not isinstance(p_state[key], Tensor):
                        p_state[key] = _C.tensor(float(p_state[key]), dtype=_get_scalar_dtype(), device=p.device)
        _steps_to_tensors(self, on_device=lambda group: True)

    def _init_state(self, group, p, state):
        dt = _get_scalar_dtype()
        state["step"] = _C.zeros((), dtype=dt, device=p.device)
        state["eta"] = _C.tensor(float(_get_value(group["lr"])), dtype=dt, device=p.device)
        state["mu"] = _C.ones((), dtype=dt, device=p.device)
        state["ax"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            _check_not_differentiable("ASGD", group)
            _check_capturable(group, [p for p in group["params"] if p.grad is not None],
                              what="params, mus, etas, and state_steps")
            hyper = {k: group[k] for k in ("lr", "lambd", "alpha", "t0", "weight_decay")}
            hyper["maximize"] = bool(group["maximize"])
            _group_step(self, group, "asgd", ["ax"], [True], self._init_state, hyper, "ASGD",
                        scalars=["eta", "mu"])
        return loss
