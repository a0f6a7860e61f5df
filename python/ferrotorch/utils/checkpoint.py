"""torch.utils.checkpoint: activation checkpointing (trade compute for memory).

``checkpoint(fn, *args)`` runs ``fn`` without recording a graph, keeps only its inputs, and in
backward runs ``fn`` again (with the random-number state of the first run, so dropout draws the
same mask) and backpropagates through that recomputation. The gradients equal those of a plain
run of ``fn``.

Both ``use_reentrant`` variants are one mechanism here (a custom autograd Function whose backward
runs a nested backward through the recomputed graph), PyTorch's reentrant one. ``use_reentrant=
False`` adds what PyTorch's non-reentrant variant gives over it: keyword arguments, and gradients
for the parameters ``fn`` uses even when no input requires grad. Like the reentrant variant, it
reaches parameters used inside ``fn`` through ``.backward()`` (their ``.grad``), not through
``torch.autograd.grad(..., inputs=params)`` (see README's deviations).
"""
import contextlib
import warnings

from .. import _C
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointFunction", "noop_context_fn"]


def noop_context_fn():
    """The default `context_fn`: no context around the forward or the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    if isinstance(inputs, tuple):
        out = []
        for inp in inputs:
            if not isinstance(inp, _C.Tensor):
                out.append(inp)
                continue
            x = inp.detach()
            x.requires_grad = inp.requires_grad
            out.append(x)
        return tuple(out)
    raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")


def check_backward_validity(inputs):
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, _C.Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


class CheckpointFunction(Function):
    """forward(ctx, run_function, preserve_rng_state, *args): runs without a graph; backward
    recomputes and backpropagates through the recomputation."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        ctx.recompute_context = getattr(run_function, "_ferrotorch_recompute_context", None)
        if preserve_rng_state:
            # One generator serves CPU and CUDA tensors in ferrotorch, so its state is all there is.
            ctx.fwd_rng_state = _C.default_generator().get_state()
        ctx.inputs = args
        return run_function(*args)

    @staticmethod
    def backward(ctx, *args):
        inputs = ctx.inputs
        detached_inputs = detach_variable(tuple(inputs))
        gen = _C.default_generator()
        rng_before = gen.get_state() if ctx.preserve_rng_state else None
        try:
            if ctx.preserve_rng_state:
                gen.set_state(ctx.fwd_rng_state)
            recompute_ctx = ctx.recompute_context() if ctx.recompute_context is not None else contextlib.nullcontext()
            with enable_grad(), recompute_ctx:
                outputs = ctx.run_function(*detached_inputs)
        finally:
            # The recomputation's draws must not shift the stream the rest of the program sees.
            if rng_before is not None:
                gen.set_state(rng_before)

        if isinstance(outputs, _C.Tensor):
            outputs = (outputs,)
        outputs_with_grad = []
        args_with_grad = []
        for out, grad in zip(outputs, args):
            if isinstance(out, _C.Tensor) and out.requires_grad:
                outputs_with_grad.append(out)
                args_with_grad.append(grad)
        if len(outputs_with_grad) == 0:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        _C._backward(outputs_with_grad, args_with_grad, None, False, None)
        grads = tuple(inp.grad if isinstance(inp, _C.Tensor) else None for inp in detached_inputs)
        ctx.inputs = None
        return (None, None) + grads


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, context_fn=noop_context_fn,
               determinism_check="default", debug=False, **kwargs):
    r"""Run ``function(*args, **kwargs)`` without keeping its activations; recompute them in backward.

    ``use_reentrant`` should be passed (a warning says so otherwise, and True is used, as PyTorch
    does). ``preserve_rng_state``: the recomputation draws the same random numbers as the first run.
    ``context_fn`` (non-reentrant only): returns two context managers, around the forward and the
    recomputation. Keyword arguments for ``function`` need ``use_reentrant=False``."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be "
            "passed explicitly. In a future release, calling checkpoint "
            "without use_reentrant will raise an exception. use_reentrant=False is "
            "recommended, but if you need to preserve the current default "
            "behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True

    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn`, `debug`, or `respect_saved_tensors_hooks` "
                             "is only supported when use_reentrant=False.")
        if _C.is_grad_enabled():
            check_backward_validity(args)
        return CheckpointFunction.apply(function, preserve_rng_state, *args)

    forward_ctx, recompute_ctx = context_fn()
    recompute_ctxs = iter([recompute_ctx])

    def run(*a):
        return function(*a[:n_args], **kwargs)

    # The recomputation gets context_fn's second context manager (its first call, in the
    # forward below, runs without it: CheckpointFunction.forward is the original run).
    run._ferrotorch_recompute_context = lambda: next(recompute_ctxs, contextlib.nullcontext())
    n_args = len(args)
    # A tensor that requires grad makes the Function record a node even when no input does, so
    # the parameters `function` uses get gradients (PyTorch's non-reentrant behaviour).
    anchor = _C.empty(0, requires_grad=True) if _C.is_grad_enabled() else None
    with forward_ctx:
        if anchor is None:
            return run(*args)
        return CheckpointFunction.apply(run, preserve_rng_state, *args, anchor)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    r"""Run a sequential model (an ``nn.Sequential`` or a list of modules/functions) in ``segments``
    chunks, checkpointing every chunk but the last."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant "
            "parameter should be passed explicitly. "
            "In a future release, we will raise an exception if use_reentrant "
            "is not passed. use_reentrant=False is "
            "recommended, but if you need to preserve the current default "
            "behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True

    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input

        return forward

    from ..nn import Sequential

    if isinstance(functions, Sequential):
        functions = list(functions.children())

    segment_size = len(functions) // segments
    # the last chunk has to be non-volatile
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)


