"""Optimizer: the base class of SGD, Adam and AdamW, as in ``torch.optim.Optimizer``.

An optimizer holds ``param_groups`` (lists of parameters, each with its own
hyper-parameters) and a per-parameter ``state`` dict (momentum buffers, moment
estimates). Updates run on the GPU as in-place tensor ops under ``no_grad``;
scalars such as the step count stay Python numbers on the host.
"""

import copy
import itertools
from collections import defaultdict

import engine


class _RequiredParameter:
    """Singleton marking a hyper-parameter that has no default."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    r"""Base class for all optimizers.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts
            (parameter groups, each with a ``"params"`` entry and optional
            hyper-parameters overriding ``defaults``).
        defaults (dict): default hyper-parameters for every group.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, engine.Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors "
                f"or dicts, but got {type(params).__name__}"
            )
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __repr__(self):
        text = type(self).__name__ + " ("
        for index, group in enumerate(self.param_groups):
            text += f"\nParameter Group {index}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    def add_param_group(self, param_group):
        """Add a group of parameters, e.g. layers unfrozen during fine-tuning.

        Missing hyper-parameters are taken from ``defaults``.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, engine.Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but "
                "the ordering of tensors in sets will change between runs. "
                "Please use a list instead."
            )
        else:
            params = list(params)

        tensors, names = [], []
        for param in params:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. "
                    "Some param names are missing"
                )
            param_group["param_names"] = names

        for param in tensors:
            if not isinstance(param, engine.Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, "
                    f"but one of the params is {type(param).__name__}"
                )
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)

        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in existing for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized parameters: to ``None`` (default), or
        to zeros in place."""
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                else:
                    if param.grad.grad_fn is not None:
                        param.grad.detach_()
                    else:
                        param.grad.requires_grad_(False)
                    param.grad.zero_()

    def step(self, closure=None):
        """Perform one optimization step. ``closure`` re-evaluates the model and
        returns the loss (needed by some optimizers; optional for SGD and Adam)."""
        raise NotImplementedError(f"{type(self).__name__}.step")

    def _evaluate_closure(self, closure):
        if closure is None:
            return None
        with engine.enable_grad():
            return closure()

    # -------------------------------------------------------------- state dict

    def state_dict(self):
        """Return the optimizer state as a dict in PyTorch's format::

            {"state": {0: {"momentum_buffer": tensor, ...}, 1: {...}},
             "param_groups": [{"lr": 0.01, ..., "params": [0, 1]}]}

        Parameters are referred to by their index across all groups, in order.
        State tensors are returned by reference, not copied.
        """
        index_of = {}
        next_index = 0
        packed_groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            for param in group["params"]:
                if id(param) not in index_of:
                    index_of[id(param)] = next_index
                    next_index += 1
            packed["params"] = [index_of[id(param)] for param in group["params"]]
            packed_groups.append(packed)
        packed_state = {
            (index_of[id(key)] if isinstance(key, engine.Tensor) else key): value
            for key, value in self.state.items()
        }
        return {"state": packed_state, "param_groups": packed_groups}

    def load_state_dict(self, state_dict):
        """Load a state dict produced by :meth:`state_dict` (of an optimizer built over
        the same parameters in the same order). A ``step`` saved as a tensor (as
        PyTorch does) is read back as a Python number."""
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group "
                "that doesn't match the size of optimizer's group"
            )
        param_of = dict(
            zip(
                itertools.chain.from_iterable(group["params"] for group in saved_groups),
                itertools.chain.from_iterable(group["params"] for group in groups),
            )
        )
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of:
                param = param_of[key]
                state[param] = {
                    name: _cast_state_value(param, name, item) for name, item in value.items()
                }
            else:
                state[key] = value
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})


def _cast_state_value(param, name, value):
    if name == "step":
        return float(value.item()) if hasattr(value, "item") else float(value)
    if isinstance(value, engine.Tensor) and value.dtype != param.dtype:
        return value.to(param.dtype)
    return value
