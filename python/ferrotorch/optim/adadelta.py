"""Adadelta, as torch.optim.Adadelta."""
from .. import _C
from .._C import Tensor
from ._fused import _check_capturable, _group_step, _new_step, _steps_to_tensors
from .optimizer import Optimizer, _check_not_differentiable, _eval_closure, _use_grad_for_differentiable

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Implements the Adadelta algorithm.

    Per parameter with gradient ``g`` (negated when ``maximize``)::

        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta

    All parameters of a group are updated by one fused call into the Rust engine.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
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
        state["square_avg"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)
        state["acc_delta"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            _check_not_differentiable("Adadelta", group)
            _check_capturable(group, [p for p in group["params"] if p.grad is not None], supports_xla=False)
            hyper = {k: group[k] for k in ("lr", "rho", "eps", "weight_decay")}
            hyper["maximize"] = bool(group["maximize"])
            _group_step(self, group, "adadelta", ["square_avg", "acc_delta"], [True, True], self._init_state,
                        hyper, "Adadelta")
        return loss
