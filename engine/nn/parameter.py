"""Parameter: a Tensor that a Module registers as trainable state."""

import engine


class Parameter(engine.Tensor):
    r"""A kind of Tensor that is to be considered a module parameter.

    Assigning a ``Parameter`` as an attribute of a :class:`Module` adds it to the
    module's :meth:`~Module.parameters`. A Parameter shares its storage with ``data``
    (no copy) and is a leaf of the autograd graph.

    Args:
        data (Tensor): parameter tensor. Default: an empty float tensor.
        requires_grad (bool): whether the parameter requires gradient. Default: ``True``.
    """

    # Adds no attributes of its own: a Parameter is a relabelled Tensor.
    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = engine.empty(0)
        # A new tensor object sharing data's storage (as torch's Tensor._make_subclass).
        return engine.Tensor._make_subclass(cls, data.detach(), requires_grad)

    def __init__(self, data=None, requires_grad=True):
        # Everything happened in __new__; Tensor.__init__ must not run again.
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        # Pickle as the plain tensor plus the flag, so that unpickling gives a Parameter.
        return (Parameter, (self.detach(), self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(self.detach().clone(), self.requires_grad)
        memo[id(self)] = result
        return result
