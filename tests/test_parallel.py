"""The seam where more than one process, --compile and --bf16 enter (``training.prepare.prepare``): on one process
it only stores the weights channels_last; --compile really runs the compiled module; bf16 is CUDA only and part of
a run's identity."""
import math

import numpy as np
import pytest
import torch
import torchbearer

from experiments import vae_fruits
from torchbearer_colorize.data.paintings import ReconstructionDataset
from torchbearer_colorize.data.tasks import TaskData
from torchbearer_colorize.training.prepare import StateAsOutput, TrialModel, prepare
from torchbearer_colorize.training.runs import Run, RunSpec, TrainOptions, make_trial, run_settings


def test_on_one_cpu_process_prepare_only_stores_the_weights_channels_last(tmp_path):
    """The default path: the Trial's model, loaders and callbacks stay the ones the experiment wrote; only the
    weights' memory layout changes (the arithmetic stays fp32)."""
    images = np.random.default_rng(0).integers(0, 256, (4, 100, 100, 3), dtype=np.uint8)
    data = TaskData(ReconstructionDataset(images), ReconstructionDataset(images), label="random", fingerprint="t")
    spec = RunSpec("vae", model="vae", lr=5e-4, epochs=1, batch_size=2, loss="mse_sum", beta=1.0)
    trial = vae_fruits.trial(Run(spec, data, 0, tmp_path))
    state = dict(trial.state)
    model = state[torchbearer.MODEL]
    assert not next(model.parameters()).is_contiguous(memory_format=torch.channels_last)
    assert prepare(trial, "cpu") is trial
    for key in (torchbearer.MODEL, torchbearer.TRAIN_GENERATOR, torchbearer.VALIDATION_GENERATOR,
                torchbearer.CALLBACK_LIST, torchbearer.CRITERION, torchbearer.OPTIMIZER):
        assert trial.state[key] is state[key]
    assert next(model.parameters()).is_contiguous(memory_format=torch.channels_last)
    assert len(trial.state[torchbearer.CALLBACK_LIST].callback_list) == 5  # the KL term + the store's four


def test_compiled_trial_really_runs_the_compiled_module(tmp_path, monkeypatch):
    """torchbearer calls ``model(x, state=state)``; the wrapper must take it, so that the compiled graph
    runs (not an eager fallback), and the VAE's mu/logvar still reach the KL callback."""
    torch._dynamo.reset()
    compiled_calls = []
    real_compile = torch.compile

    def eager_backend_compile(model, **kwargs):  # dynamo's graph capture without inductor's C++ build
        compiled_calls.append(model)
        return real_compile(model, backend=counting_backend)

    graphs = []

    def counting_backend(graph_module, example_inputs):
        graphs.append(graph_module)
        return graph_module.forward

    monkeypatch.setattr(torch, "compile", eager_backend_compile)
    images = np.random.default_rng(0).integers(0, 256, (4, 100, 100, 3), dtype=np.uint8)
    dataset = ReconstructionDataset(images)
    data = TaskData(dataset, dataset, label="random", fingerprint="t")
    spec = RunSpec("vae", model="vae", lr=5e-4, epochs=1, batch_size=2, loss="mse_sum", beta=1.0)
    trial, model = make_trial(vae_fruits.trial, spec, data, tmp_path, TrainOptions(device="cpu", compile=True))
    assert isinstance(trial.state[torchbearer.MODEL], TrialModel)
    [compiled] = compiled_calls  # the VAE, returning the state it fills (its forward takes state)
    assert isinstance(compiled, StateAsOutput) and compiled.model is model
    history = trial.run(1, verbose=0)
    assert graphs, "the compiled module never ran"
    assert math.isfinite(history[0]["kl"]) and history[0]["kl"] > 0  # mu and logvar reached the KL callback
    # the wrapper's state dict is the bare model's: checkpoints load with or without --compile
    assert trial.state[torchbearer.MODEL].state_dict().keys() == model.state_dict().keys()
    torch._dynamo.reset()


def test_compile_is_not_in_the_run_identity_and_bf16_is_only_when_on():
    data = TaskData(None, None, label="x", fingerprint="x")
    spec = RunSpec("a")
    assert run_settings(spec, data, 0, autocast=True)["autocast"] == "bf16"
    assert "autocast" not in run_settings(spec, data, 0)  # fp32 runs keep the identity they always had
    assert "compile" not in run_settings(spec, data, 0) and "compiled" not in run_settings(spec, data, 0)


def test_bf16_is_refused_on_the_cpu(tmp_path):
    from torchbearer_colorize.training.runs import train
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="CUDA"):
        train(RunSpec("a"), TaskData(None, None, label="x", fingerprint="x"), vae_fruits.trial,
              TrainOptions(runs_dir=tmp_path, bf16=True, device="cpu"))


def test_trial_model_state_dict_round_trip():
    inner = torch.nn.Linear(3, 2)
    wrapped = TrialModel(inner)
    other = torch.nn.Linear(3, 2)
    wrapped.load_state_dict(other.state_dict())
    assert torch.equal(inner.weight, other.weight)
    assert list(wrapped.state_dict()) == ["weight", "bias"]
    assert [p is q for p, q in zip(wrapped.parameters(), inner.parameters())] == [True, True]


def test_compile_and_bf16_options(tmp_path):
    from torchbearer_colorize.errors import UserError
    from torchbearer_colorize.training.cli import parse_options
    common = ["--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]
    args = parse_options("lr_sweep", "", argv=["--compile", *common])
    assert args.compile and not args.bf16
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="CUDA only"):
            parse_options("lr_sweep", "", argv=["--bf16", "--device", "cpu", *common])

