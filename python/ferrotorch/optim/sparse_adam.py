"""SparseAdam, as torch.optim.SparseAdam, for the dense gradients ferrotorch produces."""
from .. import _C
from .._C import Tensor
from ._fused import _group_step
from .optimizer import Optimizer, _eval_closure

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    r"""Implements a masked Adam for sparse gradients.

    ferrotorch has no sparse tensors (``nn.Embedding(sparse=True)`` gives dense gradients), so a dense gradient
    stands for the sparse gradient of its nonzero entries: only those entries of the moments and the parameter
    are updated, with PyTorch's sparse update (deviation: PyTorch raises for dense gradients; see README)::

        m += (g - m) * (1 - beta1);  v += (g * g - v) * (1 - beta2)
        p -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)

    ``state['step']`` is a Python int, as in PyTorch. All parameters of a group are updated by one fused call
    into the Rust engine.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)

        complex_params = [[i, j] for i, g in enumerate(self.param_groups) for j, p in enumerate(g["params"])
                          if p.is_complex()]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not support complex "
                             "parameters")

    def _init_state(self, group, p, state):
        state["step"] = 0
        state["exp_avg"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)
        state["exp_avg_sq"] = _C.zeros(p.shape, dtype=p.dtype, device=p.device)

    def step(self, closure=None):
        """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = _eval_closure(closure)
        prev = _C.is_grad_enabled()
        _C._set_grad_enabled(False)
        try:
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                hyper = {"lr": group["lr"], "beta1": beta1, "beta2": beta2, "eps": group["eps"],
                         "maximize": bool(group.get("maximize", False))}
                _group_step(self, group, "sparse_adam", ["exp_avg", "exp_avg_sq"], [True, True], self._init_state,
                            hyper, "SparseAdam", steps_are_ints=True)
        finally:
            _C._set_grad_enabled(prev)
        return loss
