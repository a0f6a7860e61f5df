"""``nn.Parameter``: a Tensor subclass that modules register as a learnable parameter."""

import ferrotorch as torch
from ferrotorch import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    r"""A kind of Tensor that is to be considered a module parameter.

    Assigning a ``Parameter`` as a module attribute registers it in the module's
    parameters; assigning a plain Tensor does not.

    Args:
        data (Tensor): parameter tensor (shared, not copied; the parameter is a
            detached leaf aliasing the same storage).
        requires_grad (bool, optional): if the parameter requires gradient. Default: ``True``
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = torch.empty(0)
        # Tensor(t) returns a detached alias sharing t's storage: exactly the
        # semantics of PyTorch's Tensor._make_subclass(cls, data, requires_grad).
        self = super().__new__(cls, data)
        if requires_grad:
            self.requires_grad_(True)
        return self

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    # repr: the core's printer already writes "Parameter containing:\n tensor(...)" for
    # this type, so Tensor.__repr__ is used as is.

    def __reduce_ex__(self, proto):
        # Pickle the plain data (Tensor pickles itself) and rebuild the Parameter
        # around it, so the type and requires_grad survive a round trip.
        state = dict(self.__dict__) if getattr(self, "__dict__", None) else None
        if not state:
            return (_rebuild_parameter, (self.data, self.requires_grad))
        return (_rebuild_parameter, (self.data, self.requires_grad, state))


def _rebuild_parameter(data, requires_grad, state=None):
    param = Parameter(data, requires_grad)
    if state:
        param.__dict__.update(state)
    return param
