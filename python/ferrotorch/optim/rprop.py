"""Resilient backpropagation, as torch.optim.Rprop."""
from .. import _C
from .._C import Tensor
from ._fused import _check_capturable, _group_step, _new_step, _steps_to_tensors
from .optimizer import Optimizer, _check_not_differentiable, _eval_closure, _get_value, _use_grad_for_differentiable

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Implements the resilient backpropagation algorithm.

    Per element with gradient ``g`` (negated when ``maximize``) and the previous step's ``prev``::

        f = etaplus if g * prev > 0, etaminus if < 0, 1 if == 0
        step_size = clamp(step_size * f, *step_sizes)
        g = 0 where f == etaminus
        p = p - sign(g) * step_size;  prev = g

    All parameters of a group are updated by one fused call into the Rust engine.
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {
            "lr": lr,
            "etas": etas,
            "step_sizes": step_sizes,
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
        state["prev"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)
        g = p.grad
        state["step_size"] = _C.full(g.shape, float(_get_value(group["lr"])), dtype=g.dtype, device=g.device)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            _check_not_differentiable("Rprop", group)
            _check_capturable(group, [p for p in group["params"] if p.grad is not None])
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            hyper = {"etaminus": etaminus, "etaplus": etaplus, "step_size_min": step_size_min,
                     "step_size_max": step_size_max, "maximize": bool(group["maximize"])}
            _group_step(self, group, "rprop", ["prev", "step_size"], [True, True], self._init_state, hyper, "Rprop")
        return loss
