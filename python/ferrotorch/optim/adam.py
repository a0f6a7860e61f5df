"""Adam (and, with decoupled weight decay, AdamW), as torch.optim.Adam."""
from .. import _C
from .._C import Tensor
from .optimizer import (
    _eval_closure,
    Optimizer, _HAS_SPARSE, _check_not_differentiable, _device_dtype_check_for_fused,
    _get_scalar_dtype, _get_value, _to_scalar, _use_grad_for_differentiable,
)

__all__ = ["Adam"]

_CAPTURABLE_DEVICES = ["cuda"]


class Adam(Optimizer):
    r"""Implements the Adam algorithm (AMSGrad variant optional).

    Per parameter, at step ``t`` with gradient ``g`` (negated when ``maximize``)::

        p = p * (1 - lr * weight_decay)        (decoupled_weight_decay)  |  g = g + weight_decay * p
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_max, v) (amsgrad) | v
        p = p - lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)

    All parameters of a group are updated by one fused call into the Rust engine.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
            if lr.numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i in (0, 1):
            if isinstance(betas[i], Tensor):
                if not capturable and foreach:
                    raise ValueError(
                        f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
                if betas[i].numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = (_to_scalar(betas[0]), _to_scalar(betas[1]))

        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            self._step_supports_amp_scaling = True
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            fused = group.setdefault("fused", None)
            for p in group["params"]:
                p_state = self.state.get(p, [])
                # Old checkpoints stored `step` as a number; it is a 0-d tensor now.
                if len(p_state) != 0 and not isinstance(p_state["step"], Tensor):
                    step_val = float(p_state["step"])
                    if group["capturable"] or group["fused"]:
                        p_state["step"] = _C.tensor(step_val, dtype=_get_scalar_dtype(is_fused=fused),
                                                    device=p.device)
                    else:
                        p_state["step"] = _C.tensor(step_val, dtype=_get_scalar_dtype())

    def _init_state(self, group, p, state):
        if group["fused"]:
            _device_dtype_check_for_fused(p)
        # `step` lives on the CPU unless capturable/fused (PyTorch's placement); the count is read
        # back as a number every step anyway.
        if group["capturable"] or group["fused"]:
            state["step"] = _C.zeros((), dtype=_get_scalar_dtype(is_fused=group["fused"]), device=p.device)
        else:
            state["step"] = _C.tensor(0.0, dtype=_get_scalar_dtype())
        state["exp_avg"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)
        state["exp_avg_sq"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = _eval_closure(closure)

        all_state = self.state
        for group in self.param_groups:
            _check_not_differentiable(type(self).__name__, group)
            amsgrad = group["amsgrad"]
            if group["capturable"]:
                for p in group["params"]:
                    if p.grad is not None and p.device.type not in _CAPTURABLE_DEVICES:
                        raise AssertionError("If capturable=True, params and state_steps must be on "
                                             f"supported devices: {_CAPTURABLE_DEVICES}.")
            params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps = [], [], [], [], [], []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if _HAS_SPARSE and g.is_sparse:
                    raise RuntimeError("Adam does not support sparse gradients, please consider SparseAdam instead")
                state = all_state[p]
                if len(state) == 0:
                    self._init_state(group, p, state)
                params.append(p)
                grads.append(g)
                exp_avgs.append(state["exp_avg"])
                exp_avg_sqs.append(state["exp_avg_sq"])
                if amsgrad:
                    max_exp_avg_sqs.append(state["max_exp_avg_sq"])
                # The step count is per parameter (one that had no gradient for a while lags
                # behind); the Rust call increments these 0-d tensors in place.
                steps.append(state["step"])
            if not params:
                continue

            beta1, beta2 = group["betas"]
            _C._adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps,
                          float(_get_value(group["lr"])), float(_get_value(beta1)), float(_get_value(beta2)),
                          float(group["eps"]), float(_get_value(group["weight_decay"])), bool(amsgrad),
                          bool(group["maximize"]), bool(group["decoupled_weight_decay"]))
        return loss
