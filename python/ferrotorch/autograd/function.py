"""Custom differentiable operations (`torch.autograd.Function`)."""
from .. import _C
from .grad_mode import no_grad


class FunctionCtx:
    """The `ctx` passed to forward/backward."""

    def __init__(self):
        self._saved = ()
        self._non_differentiable = ()
        self.needs_input_grad = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        self._saved = tensors

    @property
    def saved_tensors(self):
        return self._saved

    def mark_non_differentiable(self, *tensors):
        # Kept only until apply() has sorted the outputs (then cleared, so ctx pins no extra tensors).
        self._non_differentiable += tensors

    def mark_dirty(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        self.materialize_grads = value


def _validate_grad(name, i, g, x):
    """PyTorch's check on a gradient returned by a custom backward for input ``x``: a gradient whose
    shape ``x`` broadcasts to is summed down to ``x``'s shape; the dtype is cast to ``x``'s."""
    if g is None:
        return None
    if not isinstance(g, _C.Tensor):
        raise RuntimeError("expected Variable or None (got %s)" % type(g).__name__)
    shape, gshape = tuple(x.shape), tuple(g.shape)
    if gshape != shape:
        lead = len(gshape) - len(shape)
        if lead < 0 or any(s != 1 and s != gs for s, gs in zip(shape, gshape[lead:])):
            raise RuntimeError("Function %s returned an invalid gradient at index %d - got %s but expected shape "
                               "compatible with %s" % (name, i, list(gshape), list(shape)))
        if lead:
            g = g.sum(dim=list(range(lead)))
        ones = [d for d, (s, gs) in enumerate(zip(shape, gshape[lead:])) if s == 1 and gs != 1]
        if ones:
            g = g.sum(dim=ones, keepdim=True)
    if g.dtype != x.dtype:
        g = g.to(x.dtype)
    return g


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
        non_diff = {id(t) for t in ctx._non_differentiable}
        ctx._non_differentiable = ()
        if not (_C.is_grad_enabled() and any(ctx.needs_input_grad)):
            return outputs
        is_tuple = isinstance(outputs, tuple)
        outs = list(outputs) if is_tuple else [outputs]
        inputs = [a for a in args if isinstance(a, _C.Tensor)]
        input_ids = {id(t) for t in inputs}
        diff_pos = []          # indices into outs of the outputs the graph tracks
        for k, o in enumerate(outs):
            if not isinstance(o, _C.Tensor):
                continue
            marked = id(o) in non_diff
            if id(o) in input_ids:
                # An input returned as-is: give the output its own identity in the graph
                # (a marked one is thereby cut from the input's history too).
                o = o.detach()
                outs[k] = o
            if marked:
                continue
            if o.is_floating_point() or o.is_complex():
                diff_pos.append(k)
        if not diff_pos:
            return tuple(outs) if is_tuple else outs[0]

        # backward sees one gradient per forward output (as PyTorch): the engine supplies those of
        # the tracked outputs; non-differentiable tensor outputs get zeros, non-tensor outputs None.
        out_meta = [(tuple(o.shape), o.dtype, o.device) if isinstance(o, _C.Tensor) else None for o in outs]
        name = cls.__name__ + "Backward"
        n_args = len(args)

        def _backward(*grads):
            full = [None] * len(outs)
            for k, g in zip(diff_pos, grads):
                full[k] = g
            if ctx.materialize_grads:
                for k, meta in enumerate(out_meta):
                    if full[k] is None and meta is not None:
                        full[k] = _C.zeros(*meta[0], dtype=meta[1], device=meta[2])
            res = cls.backward(ctx, *full)
            if not isinstance(res, tuple):
                res = (res,)
            if len(res) > n_args and all(r is None for r in res[n_args:]):
                res = res[:n_args]       # trailing Nones beyond the inputs are tolerated
            if len(res) != n_args:
                raise RuntimeError("function %s returned an incorrect number of gradients (expected %d, got %d)"
                                   % (name, n_args, len(res)))
            grads_in = []
            for i, (r, a) in enumerate(zip(res, args)):
                if isinstance(a, _C.Tensor):
                    grads_in.append(_validate_grad(name, len(grads_in), r, a))
                elif r is not None:
                    raise RuntimeError("function %s returned a gradient different than None at position %d, but the "
                                       "corresponding forward input was not a Variable" % (name, i + 1))
            return grads_in

        _C._record_function(name, inputs, [outs[k] for k in diff_pos], _backward)
        return tuple(outs) if is_tuple else outs[0]
