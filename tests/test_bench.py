"""The benchmark command (``--quick``: synthetic images, batch 4) and the compile wrapper it measures.
No timing assertions: only that every section is there and every number is finite and positive."""
import json
import math
import re

import numpy as np
import pytest
import torch
import torchbearer

from torchbearer_colorize.tools import bench
from torchbearer_colorize.data import ReconstructionDataset
from torchbearer_colorize.training import RunSpec, TaskData, build_trial, run_dir, run_settings
from torchbearer_colorize.training.trial import TrialModel

SECTIONS = ("## Summary", "## 1. Training images/s", "## 2. Achieved FLOP/s", "## 3. The data path",
            "## 4. The inception experiment", "## 5. Memory", "## 6. Wall time of the whole report", "## GPU")


def fake_stored_run(runs_dir, spec, seconds, peak, task="colorize", seed=0, autocast=False, status="finished",
                    label="built-in sample set, not the report's paintings", n_train=None,
                    finished_at="2026-01-01T10:00:00+00:00"):
    """A report run in a run store, as ``train`` writes its result.json."""
    data = TaskData(None, None, label=label, fingerprint="x", task=task)
    settings = run_settings(spec, data, seed, autocast=autocast)
    folder = run_dir(runs_dir, settings)
    folder = folder.with_name(f"{folder.name}-{seconds:g}")  # several versions of one run side by side
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps({
        "settings": settings, "status": status, "seconds": seconds, "peak_rss_mb": peak, "data": data.label,
        "n_train": bench.PAINTINGS_TRAIN if n_train is None else n_train, "finished_at": finished_at}))


def positive_finite(value):
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    runs = tmp / "runs"
    small = next(s for s in bench.report_specs()["lr_sweep"] if s.lr == 1e-3)
    fake_stored_run(runs, small, 240.0, 2300.0)
    out = tmp / "BENCH.md"
    results, text = bench.main(["--quick", "--runs-dir", str(runs), "--out", str(out)])
    return results, text, out


@pytest.mark.slow
def test_quick_bench_writes_every_section(quick):
    results, text, out = quick
    assert out.read_text() == text
    for section in SECTIONS:
        assert section in text, section
    for model in ("small", "deep", "U-net", "denoise", "inception decoder", "beta-VAE"):
        assert f"| {model}" in text
    assert ("no GPU figure was measured" in text) == (results["gpu"] is None)
    # the stored run is read, the missing ones are said to be missing
    assert "| lr_sweep | lr 0.001 | 240 |" in text and "| deep | deep | missing |" in text
    assert "| lr_sweep | lr 0.001 | 2300 |" in text and "| deep | deep | not measured |" in text
    assert "--quick" in text


@pytest.mark.slow
def test_quick_bench_numbers_are_finite_and_positive(quick):
    results, _, _ = quick
    assert positive_finite(results["peak"]) and all(positive_finite(p) for p in results["peaks"])
    assert len(results["models"]) == 6
    for row in results["models"]:
        for key in ("trial", "hand", "ratio", "epoch_ratio", "flops", "epoch_trial"):
            assert positive_finite(row[key]), (row["model"], key, row[key])
        assert 0 <= row["wait"] < 1 and row["overhead"] >= 0
    small = results["models"][0]
    assert 1.2e9 < small["flops"] < 1.6e9  # 1.39 GFLOP per image, forward + backward, counted by hand
    for variant in results["variants"]:
        assert positive_finite(variant["rate"])
    for worker in results["workers"]:
        assert positive_finite(worker["rate"]) and positive_finite(worker["epoch"]) and 0 <= worker["wait"] < 1
    assert all(positive_finite(v) for v in results["data"]["per_image"].values())
    assert all(positive_finite(v) for v in results["data"]["epochs"].values())
    inception = results["inception"]
    assert all(positive_finite(inception[k]) for k in ("encode", "decode_eval", "with_cache", "without", "ratio"))
    assert inception["ratio"] > 1
    assert all(positive_finite(nbytes) for _, _, nbytes, _ in results["memory"])
    assert positive_finite(results["bench_rss"])
    assert results["full"] is None


@pytest.mark.slow
def test_every_number_in_the_tables_is_finite(quick):
    _, text, _ = quick
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            for cell in line.strip("|").split("|"):
                assert not re.search(r"\b(nan|inf)\b", cell, re.IGNORECASE), line


def test_modes():
    quick = bench.config(bench.parser().parse_args(["--quick"]))
    assert quick.quick and quick.batch == 4 and not quick.compile
    default = bench.config(bench.parser().parse_args(["--rounds", "3"]))
    assert not default.quick and default.batch == 32 and default.compile and default.rounds == 3
    assert not bench.config(bench.parser().parse_args(["--no-compile"])).compile


def test_stored_runs_match_the_report_settings_seed_0_fp32_built_in_newest(tmp_path):
    specs = bench.report_specs()
    small = next(s for s in specs["lr_sweep"] if s.lr == 1e-3)
    fake_stored_run(tmp_path, small, 100.0, 1.0)
    fake_stored_run(tmp_path, small, 200.0, 2.0, finished_at="2026-01-02T10:00:00+00:00")  # the newest: this one
    for i, other in enumerate((dict(seed=1), dict(autocast=True), dict(status="failed"), dict(n_train=7),
                               dict(label="paintings from elsewhere"), dict(task="denoise"))):
        fake_stored_run(tmp_path, small, 300.0 + i, 3.0, finished_at="2026-01-03T10:00:00+00:00", **other)
    vae = specs["vae_fruits"][0]
    fake_stored_run(tmp_path, vae, 400.0, 4.0, task="reconstruct", n_train=bench.FRUITS_TRAIN)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "result.json").write_text("{not json")
    runs = {(experiment, name): result for experiment, name, result in bench.stored_runs(tmp_path)}
    assert runs[("lr_sweep", "lr 0.001")]["seconds"] == 200.0 and runs[("vae_fruits", "beta-VAE")]["seconds"] == 400
    # one row per run of the report: the optimizer table's Adam row is the sweep's lr 0.001 run
    assert len(runs) == 11 and not any(name == "Adam" for _, name in runs)
    assert [key for key, result in runs.items() if result] == [("lr_sweep", "lr 0.001"), ("vae_fruits", "beta-VAE")]


def test_full_mode_reruns_the_report_without_colour_classification(tmp_path):
    from experiments import report
    args = report.parser().parse_args(bench.full_report_argv("auto", tmp_path))
    assert "color_classes" not in args.only and len(args.only) == len(report.NAMES) - 1
    assert args.runs_dir == tmp_path / "report-runs" and args.seeds == (0,) and not args.quick
    assert report.parser().parse_args(bench.full_report_argv("cpu", tmp_path, quick=True)).quick


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
    trial, model = build_trial(spec, data, tmp_path, compile=True, verbose=0)
    assert isinstance(trial.state[torchbearer.MODEL], TrialModel) and compiled_calls == [model]
    history = trial.run(1)
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
    from torchbearer_colorize.training import train
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="CUDA"):
        train(RunSpec("a"), TaskData(None, None, label="x", fingerprint="x"), runs_dir=tmp_path, autocast=True,
              device="cpu")


def test_trial_model_state_dict_round_trip():
    inner = torch.nn.Linear(3, 2)
    wrapped = TrialModel(inner)
    other = torch.nn.Linear(3, 2)
    wrapped.load_state_dict(other.state_dict())
    assert torch.equal(inner.weight, other.weight)
    assert list(wrapped.state_dict()) == ["weight", "bias"]
    assert [p is q for p, q in zip(wrapped.parameters(), inner.parameters())] == [True, True]


def test_compile_and_bf16_options(tmp_path):
    from torchbearer_colorize.training.cli import experiment_parser, finish_args
    from torchbearer_colorize.errors import UserError
    parser = experiment_parser("lr_sweep", "")
    common = ["--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]
    args = finish_args(parser.parse_args(["--compile", *common]))
    assert args.compile and not args.bf16
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="CUDA only"):
            finish_args(parser.parse_args(["--bf16", "--device", "cpu", *common]))

