"""Adamax (Adam with the infinity norm), as torch.optim.Adamax."""
from .. import _C
from ._betas import _check_common
from ._fused import _check_capturable, _group_step, _new_step, _steps_to_tensors
from .optimizer import Optimizer, _check_not_differentiable, _eval_closure, _use_grad_for_differentiable

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Implements the Adamax algorithm (a variant of Adam based on the infinity norm).

    Per parameter at step ``t`` with gradient ``g`` (negated when ``maximize``)::

        g = g + weight_decay * p
        m = lerp(m, g, 1 - beta1);  u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u

    All parameters of a group are updated by one fused call into the Rust engine.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_common(lr, eps, betas, weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
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
        _steps_to_tensors(self)

    def _init_state(self, group, p, state):
        state["step"] = _new_step(p, group["capturable"])
        state["exp_avg"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)
        state["exp_inf"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            _check_not_differentiable("Adamax", group)
            _check_capturable(group, [p for p in group["params"] if p.grad is not None])
            beta1, beta2 = group["betas"]
            hyper = {"lr": group["lr"], "beta1": beta1, "beta2": beta2, "eps": group["eps"],
                     "weight_decay": group["weight_decay"], "maximize": bool(group["maximize"])}
            _group_step(self, group, "adamax", ["exp_avg", "exp_inf"], [True, True], self._init_state, hyper,
                        "Adamax")
        return loss
