"""Module: registration, iteration, modes, state_dict, repr — against PyTorch."""

import re
from collections import OrderedDict

import pytest
import torch

import engine
from engine import nn
from tests.conftest import assert_close, to_engine


class Block(nn.Module):
    def __init__(self, lib):
        super().__init__()
        self.fc = lib.nn.Linear(3, 4)
        self.scale = lib.nn.Parameter(lib.ones(4))
        self.register_buffer("running", lib.zeros(4))
        self.register_buffer("scratch", lib.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc(x) * self.scale


class TorchBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 4)
        self.scale = torch.nn.Parameter(torch.ones(4))
        self.register_buffer("running", torch.zeros(4))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc(x) * self.scale


def make_pair():
    ours = nn.Sequential(Block(engine), nn.ReLU(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(TorchBlock(), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    return ours, theirs


def test_named_parameters_buffers_modules_match_torch():
    ours, theirs = make_pair()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_parameters(prefix="model")] == [
        n for n, _ in theirs.named_parameters(prefix="model")
    ]
    assert [n for n, _ in ours[0].named_parameters(recurse=False)] == ["scale"]
    assert len(list(ours.parameters())) == 5
    assert len(list(ours.buffers())) == 2
    assert len(list(ours.modules())) == 5
    assert len(list(ours.children())) == 3


def test_shared_parameters_and_modules_are_deduplicated():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, shared)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(model.named_parameters(remove_duplicate=False))) == 4
    assert len(list(model.modules())) == 2
    assert len(list(model.named_modules(remove_duplicate=False))) == 3


def test_setattr_routing_and_errors():
    module = nn.Module()
    module.weight = nn.Parameter(engine.ones(2))
    module.child = nn.Linear(2, 2)
    module.plain = engine.ones(2)
    assert "weight" in module._parameters and "child" in module._modules
    assert "plain" not in module._buffers
    with pytest.raises(TypeError):
        module.weight = engine.ones(2)
    module.weight = None
    assert module.weight is None and list(module.parameters()) == list(module.child.parameters())
    with pytest.raises(TypeError):
        module.child = 3
    del module.child
    assert not hasattr(module, "child")
    with pytest.raises(AttributeError):
        _ = module.missing
    with pytest.raises(KeyError):
        module.register_buffer("a.b", engine.ones(1))


def test_assign_before_init_raises():
    class Broken(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(engine.ones(1))

    with pytest.raises(AttributeError):
        Broken()


def test_train_eval_propagate():
    model, _ = make_pair()
    assert model.training and model[0].fc.training
    model.eval()
    assert not model.training and not model[0].fc.training
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_and_requires_grad():
    model = nn.Linear(3, 2)
    model(engine.ones(4, 3)).sum().backward()
    assert model.weight.grad is not None
    model.zero_grad(set_to_none=False)
    assert model.weight.grad.tolist() == [[0.0] * 3] * 2
    model.zero_grad()
    assert model.weight.grad is None
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_apply_visits_children_then_self():
    model, _ = make_pair()
    names = []
    model.apply(lambda m: names.append(type(m).__name__))
    assert names == ["Linear", "Block", "ReLU", "Linear", "Sequential"]


def test_to_device_and_dtype():
    model = nn.Linear(2, 2)
    weight = model.weight
    for device in (None, "webgpu", "cpu", "cuda", engine.device("webgpu")):
        assert model.to(device) is model
    assert model.to(engine.float32) is model and model.weight is weight
    assert model.to("cpu", engine.float32) is model
    assert model.to(engine.zeros(1)) is model
    assert model.float() is model
    with pytest.raises(TypeError):
        model.to(engine.int32)
    with pytest.raises(RuntimeError):
        model.to("tpu")


def test_state_dict_keys_values_and_keep_vars():
    ours, theirs = make_pair()
    state = ours.state_dict()
    assert isinstance(state, OrderedDict)
    assert list(state) == list(theirs.state_dict())
    assert all(not value.requires_grad for value in state.values())
    assert not isinstance(state["0.scale"], nn.Parameter)
    assert ours.state_dict(keep_vars=True)["0.scale"] is ours[0].scale
    with engine.no_grad():
        state["0.scale"].fill_(3.0)  # detached values share storage with the parameters
    assert ours[0].scale.tolist() == [3.0] * 4


def test_load_state_dict_from_torch_then_same_forward():
    ours, theirs = make_pair()
    with torch.no_grad():
        theirs[0].scale.uniform_()
        theirs[0].running.uniform_()
    result = ours.load_state_dict({k: to_engine(v) for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    x = torch.randn(5, 3)
    assert_close(ours(to_engine(x)), theirs(x))
    assert_close(ours[0].running, theirs[0].running)


def torch_error(module, state_dict, **kwargs):
    with pytest.raises(RuntimeError) as info:
        module.load_state_dict(state_dict, **kwargs)
    return str(info.value)


def test_load_state_dict_strict_errors_match_torch():
    ours, theirs = make_pair()
    their_state = theirs.state_dict()
    their_state.pop("2.bias")
    their_state["extra.weight"] = torch.zeros(1)
    their_state["0.extra"] = torch.zeros(1)
    our_state = {k: to_engine(v) for k, v in their_state.items()}
    assert torch_error(ours, our_state) == torch_error(theirs, their_state)

    result = ours.load_state_dict(our_state, strict=False)
    expected = theirs.load_state_dict(their_state, strict=False)
    assert result.missing_keys == expected.missing_keys
    assert result.unexpected_keys == expected.unexpected_keys


def test_load_state_dict_shape_mismatch_raises_even_when_not_strict():
    ours, theirs = make_pair()
    their_state = theirs.state_dict()
    their_state["2.weight"] = torch.zeros(3, 4)
    our_state = {k: to_engine(v) for k, v in their_state.items()}
    for strict in (True, False):
        ours_message = torch_error(ours, our_state, strict=strict)
        theirs_message = torch_error(theirs, their_state, strict=strict)
        normalize = lambda s: re.sub(r"(torch|engine)\.Size", "Size", s)  # noqa: E731
        assert normalize(ours_message) == normalize(theirs_message)


def test_load_state_dict_assign_takes_the_tensors():
    model = nn.Linear(2, 2)
    weight = engine.ones(2, 2)
    model.load_state_dict({"weight": weight, "bias": engine.zeros(2)}, assign=True)
    assert isinstance(model.weight, nn.Parameter) and model.weight.requires_grad
    with engine.no_grad():
        weight.fill_(5.0)
    assert model.weight.tolist() == [[5.0, 5.0], [5.0, 5.0]]


def test_forward_hooks():
    model = nn.Identity()
    calls = []
    pre = model.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    post = model.register_forward_hook(lambda m, args, out: calls.append(out.tolist()) or out + 1)
    assert model(engine.ones(1)).tolist() == [3.0]
    assert calls == [[2.0]]
    pre.remove()
    post.remove()
    assert model(engine.ones(1)).tolist() == [1.0]


def test_missing_forward_raises():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(engine.ones(1))


def test_repr_matches_torch():
    ours = nn.Sequential(
        nn.Linear(4, 8),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(8, 2, bias=False),
        nn.GELU(approximate="tanh"),
        nn.LeakyReLU(0.2),
        nn.Softmax(dim=1),
        nn.LogSoftmax(dim=-1),
        nn.Flatten(),
        nn.Identity(),
        nn.Sigmoid(),
        nn.Tanh(),
        nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()]),
        nn.ModuleDict({"a": nn.ReLU()}),
        nn.CrossEntropyLoss(),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.1),
        torch.nn.Linear(8, 2, bias=False),
        torch.nn.GELU(approximate="tanh"),
        torch.nn.LeakyReLU(0.2),
        torch.nn.Softmax(dim=1),
        torch.nn.LogSoftmax(dim=-1),
        torch.nn.Flatten(),
        torch.nn.Identity(),
        torch.nn.Sigmoid(),
        torch.nn.Tanh(),
        torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.ReLU()]),
        torch.nn.ModuleDict({"a": torch.nn.ReLU()}),
        torch.nn.CrossEntropyLoss(),
    )
    assert repr(ours) == repr(theirs)


def test_deepcopy_and_pickle_keep_parameters():
    import copy
    import pickle

    model = nn.Sequential(nn.Linear(3, 2))
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert isinstance(clone[0].weight, nn.Parameter) and clone[0].weight.requires_grad
        assert clone[0].weight.tolist() == model[0].weight.tolist()
        with engine.no_grad():
            clone[0].weight.fill_(0.0)
        assert model[0].weight.tolist() != clone[0].weight.tolist()


def test_state_dict_round_trips_through_safetensors_bytes():
    from engine import serialization

    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    restored = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    restored.load_state_dict(serialization.loads(serialization.dumps(model.state_dict())))
    x = engine.randn(5, 3)
    assert restored(x).tolist() == model(x).tolist()
