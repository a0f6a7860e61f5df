"""Custom differentiable operations (`torch.autograd.Function`)."""
from .. import _C
from .grad_mode import no_grad


class FunctionCtx:
    """The `ctx` passed to forward/backward."""

    def __init__(self):
        self._saved = ()
        self._non_differentiable = set()
        self.needs_input_grad = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        self._saved = tensors

    @property
    def saved_tensors(self):
        return self._saved

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        self.materialize_grads = value


class Function:
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``; call ``.apply``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement the backward function for custom autograd.Function.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, _C.Tensor) and a.requires_grad for a in args)
        with no_grad():
            outputs = cls.forward(ctx, *args, **kwargs)
        is_tuple = isinstance(outputs, tuple)
        outs = list(outputs) if is_tuple else [outputs]
        tensor_pos = [i for i, a in enumerate(args) if isinstance(a, _C.Tensor)]
        if not (_C.is_grad_enabled() and any(ctx.needs_input_grad)):
            return outputs
        inputs = [args[i] for i in tensor_pos]
        input_ids = {id(t) for t in inputs}
        diff = []
        for k, o in enumerate(outs):
            if not isinstance(o, _C.Tensor) or id(o) in ctx._non_differentiable:
                continue
            if id(o) in input_ids:
                # An input returned as-is: give the output its own identity in the graph.
                o = o.detach()
                outs[k] = o
            if o.is_floating_point():
                diff.append(o)

        def _backward(*grads):
            res = cls.backward(ctx, *grads)
            if not isinstance(res, tuple):
                res = (res,)
            return [res[i] if i < len(res) else None for i in tensor_pos]

        if diff:
            _C._record_function(cls.__name__ + "Backward", inputs, diff, _backward)
        return tuple(outs) if is_tuple else outs[0]

