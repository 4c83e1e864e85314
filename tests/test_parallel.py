"""The seam where more than one process, --compile and --bf16 enter (``training.prepare.prepare``): on one process
it only stores the weights channels_last; --compile really runs the compiled module; bf16 runs on a GPU or a CPU
with native bf16 (refused elsewhere, in one line), only the model's forward in bf16, and is part of a run's
identity."""
import math

import numpy as np
import pytest
import torch
import torchbearer

from experiments import vae_fruits
from torchbearer_colorize.data.paintings import ReconstructionDataset
from torchbearer_colorize.data.tasks import TaskData
from torchbearer_colorize.errors import UserError
from torchbearer_colorize.training import prepare as prepare_module
from torchbearer_colorize.training.cli import parse_options
from torchbearer_colorize.training.prepare import StateAsOutput, TrialModel, bf16_refusal, native_bf16, prepare
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


def test_native_bf16_is_torchs_own_test():
    assert native_bf16() is bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def test_bf16_is_refused_on_a_cpu_without_native_bf16_before_anything_is_written(tmp_path, monkeypatch):
    from torchbearer_colorize.training.runs import train
    monkeypatch.setattr(prepare_module, "native_bf16", lambda: False)
    with pytest.raises(UserError, match="--bf16 needs a GPU or a CPU with native bf16.*emulate"):
        train(RunSpec("a"), TaskData(None, None, label="x", fingerprint="x"), vae_fruits.trial,
              TrainOptions(runs_dir=tmp_path / "runs", bf16=True, device="cpu"))
    common = ["--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]
    for device in ("cpu", "auto") if not torch.cuda.is_available() else ("cpu",):
        with pytest.raises(UserError, match="native bf16"):
            parse_options("lr_sweep", "", argv=["--bf16", "--device", device, *common])
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    monkeypatch.setattr(prepare_module, "native_bf16", lambda: True)
    assert parse_options("lr_sweep", "", argv=["--bf16", "--device", "cpu", *common]).bf16
    assert bf16_refusal("cpu") is None


def test_bf16_on_cuda_without_a_gpu_is_refused(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert "no CUDA device is available" in bf16_refusal("cuda")
    with pytest.raises(SystemExit) as exit_:  # the --device option itself says so first, exit 2
        parse_options("lr_sweep", "", argv=["--bf16", "--device", "cuda"])
    assert exit_.value.code == 2 and "no CUDA device" in capsys.readouterr().err


class Recorder(torch.nn.Module):
    """A convolution that records the dtype it computed in, and fills ``state`` as the VAE does."""

    def __init__(self):
        super().__init__()
        self.conv, self.seen = torch.nn.Conv2d(1, 2, 3), []

    def forward(self, x, state):
        y = self.conv(x)
        self.seen.append(y.dtype)
        state["code"] = y.mean()
        return y


def test_under_bf16_on_the_cpu_only_the_forward_is_bf16(monkeypatch):
    """The model computes in bf16; what it returns, and what it puts in torchbearer's state (the VAE's codes, which
    the KL term reads), reaches the loss, the KL callback and the metrics in fp32."""
    model, state = Recorder(), {}
    y = TrialModel(model, autocast_device="cpu")(torch.rand(2, 1, 8, 8), state=state)
    assert model.seen == [torch.bfloat16] and y.dtype == torch.float32 and state["code"].dtype == torch.float32
    assert next(model.parameters()).dtype == torch.float32  # the weights stay fp32 (what a checkpoint stores)


def test_trial_model_state_dict_round_trip():
    inner = torch.nn.Linear(3, 2)
    wrapped = TrialModel(inner)
    other = torch.nn.Linear(3, 2)
    wrapped.load_state_dict(other.state_dict())
    assert torch.equal(inner.weight, other.weight)
    assert list(wrapped.state_dict()) == ["weight", "bias"]
    assert [p is q for p, q in zip(wrapped.parameters(), inner.parameters())] == [True, True]


def test_compile_option(tmp_path):
    common = ["--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]
    args = parse_options("lr_sweep", "", argv=["--compile", *common])
    assert args.compile and not args.bf16
