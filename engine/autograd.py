"""Tape-based, dynamic automatic differentiation.

Every differentiable op calls `record(out, name, inputs, backward)` right beside its
forward computation. When gradients are enabled and an input requires one, `out`
gets a `Node` holding the inputs and the op's backward rule, a function
`backward(grad_out, out) -> tuple of input gradients` (None where not needed).
`backward()` sorts the graph topologically from the root and runs the rules in
reverse, summing the gradients of tensors used more than once.
"""

from __future__ import annotations

import functools

_grad_enabled = True


def is_grad_enabled() -> bool:
    return _grad_enabled


class _GradMode:
    """Base of the grad-mode switches: a `with` block and a decorator."""

    mode = True

    def __enter__(self):
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = self.mode
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return fn(*args, **kwargs)

        return wrapper

    def _fresh(self):
        return self.__class__()


class no_grad(_GradMode):
    """Disable gradient recording inside the block or the decorated function."""

    mode = False


class enable_grad(_GradMode):
    """Enable gradient recording inside the block or the decorated function."""

    mode = True


class set_grad_enabled(_GradMode):
    """Set gradient recording on or off: at once when called, until the end of the block
    when used with `with`, or inside the function when used as a decorator."""

    def __init__(self, mode: bool):
        global _grad_enabled
        self.mode = bool(mode)
        self.prev = _grad_enabled
        _grad_enabled = self.mode

    def __enter__(self):
        return self  # the constructor already switched

    def __call__(self, fn):
        global _grad_enabled
        _grad_enabled = self.prev  # decorating must not change the mode outside fn
        return super().__call__(fn)

    def _fresh(self):
        return set_grad_enabled(self.mode)


class Node:
    """One recorded op: its name, its input tensors and its backward rule."""

    __slots__ = ("name", "inputs", "backward")

    def __init__(self, name, inputs, backward):
        self.name = name
        self.inputs = inputs
        self.backward = backward

    def __repr__(self):
        return f"<{self.name}>"


def record(out, name: str, inputs: tuple, backward):
    """Attach a graph node to `out` when any tensor input requires a gradient."""
    if _grad_enabled:
        for t in inputs:
            if getattr(t, "requires_grad", False):
                out.requires_grad = True
                out.grad_fn = Node(name, inputs, backward)
                break
    return out


def _topological_order(roots, wanted=None):
    """Tensors with a grad_fn reachable from `roots`, every tensor after its users.

    With `wanted` (the ids of the tensors whose gradients are asked for), only those whose
    backward leads to a wanted tensor: the rest of the graph is not differentiated.
    """
    order, seen = [], set()
    leads: dict[int, bool] = {}  # id -> a wanted tensor is this one or below it

    def reaches(t) -> bool:
        if getattr(t, "grad_fn", None) is not None:
            return leads[id(t)]
        return id(t) in wanted and getattr(t, "requires_grad", False)

    for root in roots:
        if root.grad_fn is None or id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root.grad_fn.inputs))]
        while stack:
            tensor, children = stack[-1]
            for child in children:
                if getattr(child, "grad_fn", None) is not None and id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, iter(child.grad_fn.inputs)))
                    break
            else:
                stack.pop()
                if wanted is not None:
                    below = any([reaches(child) for child in tensor.grad_fn.inputs])
                    leads[id(tensor)] = below or id(tensor) in wanted
                    if not below:
                        continue  # a wanted tensor left here gets its gradient at the end
                order.append(tensor)
    order.reverse()
    return order


def _accumulate(grads: dict, tensor, grad):
    key = id(tensor)
    if key in grads:
        grads[key] = (tensor, grads[key][1] + grad)
    else:
        grads[key] = (tensor, grad)


def _run_backward(roots, root_grads, retain_graph, create_graph, inputs=None):
    """Propagate `root_grads` from `roots`; return the gradients of `inputs` if given.

    With `inputs` (autograd.grad), gradients are returned and no `.grad` is touched;
    without, they accumulate into the `.grad` of leaves and of retain_grad() tensors.
    """
    grads: dict[int, tuple] = {}
    for root, grad in zip(roots, root_grads, strict=True):
        _accumulate(grads, root, grad)
    wanted = None if inputs is None else {id(t) for t in inputs}
    captured: dict[int, object] = {}
    with set_grad_enabled(create_graph):
        for tensor in _topological_order(roots, wanted):
            entry = grads.pop(id(tensor), None)
            if entry is None:
                continue
            grad = entry[1]
            if wanted is not None:
                if id(tensor) in wanted:
                    captured[id(tensor)] = grad
            elif tensor._retains_grad:
                _store_grad(tensor, grad, create_graph)
            node = tensor.grad_fn
            if node.backward is None:
                raise RuntimeError(
                    f"Trying to backward through the graph a second time ({node.name}): "
                    "its saved tensors were freed; call backward(retain_graph=True) the first time"
                )
            input_grads = node.backward(grad, tensor)
            for child, child_grad in zip(node.inputs, input_grads, strict=True):
                if child_grad is not None and getattr(child, "requires_grad", False):
                    if child_grad.shape != child.shape:
                        raise RuntimeError(
                            f"{node.name} returned a gradient of shape {tuple(child_grad.shape)} "
                            f"for an input of shape {tuple(child.shape)}"
                        )
                    _accumulate(grads, child, child_grad)
            if not retain_graph:
                node.backward = None
        for tensor, grad in grads.values():  # what is left are leaves
            if wanted is not None:
                if id(tensor) in wanted:
                    captured[id(tensor)] = grad
            else:
                _store_grad(tensor, grad, create_graph)
    if inputs is not None:
        return tuple(captured.get(id(t)) for t in inputs)
    return None


def _store_grad(tensor, grad, create_graph):
    if not create_graph and grad.requires_grad:
        grad = grad.detach()
    if tensor.grad is None:
        # the same gradient object may reach several tensors (e.g. through add): own it
        tensor.grad = grad if grad._owns_data() else grad.clone()
    else:
        tensor.grad = tensor.grad + grad


def _ones_like_root(t):
    if t.numel() != 1:
        raise RuntimeError(
            f"grad can be implicitly created only for scalar outputs, got shape {tuple(t.shape)}"
        )
    from .ops.creation import ones_like  # a real cycle: every op records into autograd

    return ones_like(t)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's `.grad` (torch.autograd.backward)."""
    if inputs is not None:
        raise NotImplementedError("backward(inputs=...) is not implemented; use autograd.grad")
    roots = _as_tuple(tensors)
    for root in roots:
        if not root.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
    if grad_tensors is None:
        grad_tensors = [None] * len(roots)
    grads = [
        _ones_like_root(r) if g is None else _check_grad(r, g)
        for r, g in zip(roots, _as_tuple(grad_tensors), strict=True)
    ]
    retain = create_graph if retain_graph is None else retain_graph
    _run_backward(roots, grads, retain, create_graph)


def grad(
    outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None
):
    """The gradients of `outputs` with respect to `inputs`, without touching `.grad`."""
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    for t in ins:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if grad_outputs is None:
        grad_outputs = [None] * len(outs)
    grads = [
        _ones_like_root(o) if g is None else _check_grad(o, g)
        for o, g in zip(outs, _as_tuple(grad_outputs), strict=True)
    ]
    retain = create_graph if retain_graph is None else retain_graph
    result = _run_backward(outs, grads, retain, create_graph, inputs=ins)
    if not allow_unused and any(r is None for r in result):
        raise RuntimeError(
            "One of the differentiated Tensors appears to not have been used in the graph. "
            "Set allow_unused=True if this is the desired behavior."
        )
    return result


# ---- gradient helpers of the op families -----------------------------------------------


def sum_to(g, shape):
    """Sum `g` down to `shape`: the gradient of broadcasting from `shape` to g.shape."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.ndim - len(shape)
    dims = list(range(lead)) + [
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    ]
    return g.sum(dims, keepdim=True).reshape(shape) if dims else g.reshape(shape)


def expand_reduced(g, input, dims, keepdim: bool):
    """The gradient of `input` reduced over `dims`, viewed back to input's shape (no copy)."""
    if not keepdim:
        g = g.reshape([1 if d in dims else n for d, n in enumerate(input.shape)])
    return g.expand(input.shape)


def _check_grad(t, g):
    from .tensor import Tensor  # a real cycle: Tensor is built on autograd

    if not isinstance(g, Tensor):
        from .ops.creation import full  # a real cycle: every op records into autograd

        return full(t.shape, g)
    if tuple(g.shape) != tuple(t.shape):
        raise RuntimeError(
            f"Mismatch in shape: grad_output has a shape of {tuple(g.shape)} and output "
            f"has a shape of {tuple(t.shape)}"
        )
    return g


def _as_tuple(x):
    if isinstance(x, (tuple, list)):
        return tuple(x)
    return (x,)
