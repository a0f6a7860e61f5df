"""Stochastic gradient descent (optionally with momentum), as torch.optim.SGD."""
from .. import _C
from .._C import Tensor
from .optimizer import (
    _eval_closure,
    Optimizer, _HAS_SPARSE, _check_not_differentiable, _device_dtype_check_for_fused,
    _get_value, _use_grad_for_differentiable,
)

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Implements stochastic gradient descent (optionally with momentum and Nesterov momentum).

    Per parameter with gradient ``g`` (negated when ``maximize``)::

        g = g + weight_decay * p
        buf = g (first step) | momentum * buf + (1 - dampening) * g
        g = g + momentum * buf (nesterov) | buf
        p = p - lr * g

    All parameters of a group are updated by one fused call into the Rust engine.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")

        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

        if fused:
            self._step_supports_amp_scaling = True
            self._need_device_dtype_check_for_fused = True
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = _eval_closure(closure)

        state = self.state
        for group in self.param_groups:
            _check_not_differentiable("SGD", group)
            momentum = group["momentum"]
            params, grads, bufs = [], [], []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                params.append(p)
                grads.append(g)
                if momentum != 0:
                    bufs.append(state[p].get("momentum_buffer"))
            if not params:
                continue
            if _HAS_SPARSE and any(g.is_sparse for g in grads):
                raise RuntimeError("SGD in ferrotorch does not support sparse gradients")
            if group["fused"] and getattr(self, "_need_device_dtype_check_for_fused", True):
                for p in params:
                    _device_dtype_check_for_fused(p)
                self._need_device_dtype_check_for_fused = False
            if momentum == 0:
                bufs = [None] * len(params)

            new_bufs = _C._sgd_step(params, grads, bufs, float(_get_value(group["lr"])), float(momentum),
                                    float(group["dampening"]), bool(group["nesterov"]),
                                    float(_get_value(group["weight_decay"])), bool(group["maximize"]))

            if momentum != 0:
                # First steps create the buffers (clone of the update direction) inside the call.
                for p, buf in zip(params, new_bufs):
                    state[p]["momentum_buffer"] = buf
        return loss
