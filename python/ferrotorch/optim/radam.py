"""RAdam (rectified Adam), as torch.optim.RAdam."""
from .. import _C
from ._betas import _check_common
from ._fused import _check_capturable, _group_step, _new_step, _steps_to_tensors
from .optimizer import Optimizer, _check_not_differentiable, _eval_closure, _use_grad_for_differentiable

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""Implements the RAdam algorithm.

    Per parameter at step ``t`` with gradient ``g`` (negated when ``maximize``)::

        p = p * (1 - lr * weight_decay) (decoupled_weight_decay) | g = g + weight_decay * p
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        rho_t > 5:  p -= m / (1 - beta1^t) * lr * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t
                    (r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)))
        otherwise:  p -= m / (1 - beta1^t) * lr

    All parameters of a group are updated by one fused call into the Rust engine.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_common(lr, eps, betas, weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("capturable", False)
        _steps_to_tensors(self)

    def _init_state(self, group, p, state):
        state["step"] = _new_step(p, group["capturable"])
        state["exp_avg"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)
        state["exp_avg_sq"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            _check_not_differentiable("RAdam", group)
            _check_capturable(group, [p for p in group["params"] if p.grad is not None])
            beta1, beta2 = group["betas"]
            hyper = {"lr": group["lr"], "beta1": beta1, "beta2": beta2, "eps": group["eps"],
                     "weight_decay": group["weight_decay"],
                     "decoupled_weight_decay": bool(group["decoupled_weight_decay"]),
                     "maximize": bool(group["maximize"])}
            _group_step(self, group, "radam", ["exp_avg", "exp_avg_sq"], [True, True], self._init_state, hyper,
                        "RAdam")
        return loss
