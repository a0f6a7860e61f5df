"""NAdam (Adam with Nesterov momentum), as torch.optim.NAdam."""
from .. import _C
from ._betas import _check_common
from ._fused import _check_capturable, _group_step, _new_step, _scalar_state, _steps_to_tensors
from .optimizer import Optimizer, _check_not_differentiable, _eval_closure, _use_grad_for_differentiable

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""Implements the NAdam algorithm.

    Per parameter at step ``t`` with gradient ``g`` (negated when ``maximize``)::

        p = p * (1 - lr * weight_decay) (decoupled_weight_decay) | g = g + weight_decay * p
        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay));  mu_product *= mu_t
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr * (1 - mu_t) / (1 - mu_product) * g / denom
              - lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / denom

    All parameters of a group are updated by one fused call into the Rust engine.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_common(lr, eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            for p in group["params"]:
                p_state = self.state.get(p, [])
                if len(p_state) != 0 and "mu_product" in p_state and not isinstance(p_state["mu_product"],
                                                                                   _C.Tensor):
                    p_state["mu_product"] = _scalar_state(p_state["mu_product"], p, group["capturable"])
        _steps_to_tensors(self)

    def _init_state(self, group, p, state):
        state["step"] = _new_step(p, group["capturable"])
        state["mu_product"] = _scalar_state(1.0, p, group["capturable"])
        state["exp_avg"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)
        state["exp_avg_sq"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            _check_not_differentiable("NAdam", group)
            _check_capturable(group, [p for p in group["params"] if p.grad is not None],
                              what="params, mu_products and state_steps")
            beta1, beta2 = group["betas"]
            hyper = {"lr": group["lr"], "beta1": beta1, "beta2": beta2, "eps": group["eps"],
                     "weight_decay": group["weight_decay"], "momentum_decay": group["momentum_decay"],
                     "decoupled_weight_decay": bool(group["decoupled_weight_decay"]),
                     "maximize": bool(group["maximize"])}
            _group_step(self, group, "nadam", ["exp_avg", "exp_avg_sq"], [True, True], self._init_state, hyper,
                        "NAdam", scalars=["mu_product"])
        return loss
