"""RMSprop, as torch.optim.RMSprop."""
from .. import _C
from .._C import Tensor
from ._fused import _check_capturable, _group_step, _new_step, _steps_to_tensors
from .optimizer import Optimizer, _check_not_differentiable, _eval_closure, _use_grad_for_differentiable

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""Implements the RMSprop algorithm.

    Per parameter with gradient ``g`` (negated when ``maximize``)::

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - g_avg^2) (centered, g_avg = lerp(g_avg, g, 1 - alpha)) | sqrt(v);  avg += eps
        buf = momentum * buf + g / avg;  p -= lr * buf      (momentum > 0)
        p -= lr * g / avg                                    (otherwise)

    All parameters of a group are updated by one fused call into the Rust engine.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        _steps_to_tensors(self)

    def _init_state(self, group, p, state):
        state["step"] = _new_step(p, group["capturable"])
        state["square_avg"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)
        if group["centered"]:
            state["grad_avg"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            _check_not_differentiable("RMSprop", group)
            _check_capturable(group, [p for p in group["params"] if p.grad is not None])
            used = [True, group["momentum"] > 0, bool(group["centered"])]
            hyper = {k: group[k] for k in ("lr", "alpha", "eps", "weight_decay", "momentum")}
            hyper.update(centered=bool(group["centered"]), maximize=bool(group["maximize"]))
            _group_step(self, group, "rmsprop", ["square_avg", "momentum_buffer", "grad_avg"], used,
                        self._init_state, hyper, "RMSprop")
        return loss
