"""The run store that travels with the repository: broken entries refused in one line, merging, the
committed store's own health, and what git keeps of a run."""
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from experiments.lr_sweep import trial as small_trial
from torchbearer_colorize.data.paintings import ColorizationDataset
from torchbearer_colorize.data.tasks import TaskData
from torchbearer_colorize.errors import UserError
from torchbearer_colorize.training import store
from torchbearer_colorize.training.runs import RunSpec, TrainOptions, run_dir, run_settings, train
from torchbearer_colorize.training.store import BrokenRun, load_saved, stored_result

ROOT = Path(__file__).resolve().parents[1]
SPEC = RunSpec("tiny", epochs=1, batch_size=4)


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    return TaskData(ColorizationDataset(images[:4]), ColorizationDataset(images[4:]),
                    label="random test images", fingerprint="tiny-store-v1")


@pytest.fixture(scope="module")
def trained(tiny, tmp_path_factory):
    """A store with one finished run (seed 0) and another with the same run plus seed 1."""
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    train(SPEC, tiny, small_trial, TrainOptions(runs_dir=a, verbose=0, log=lambda *_: None))
    for seed in (0, 1):
        train(SPEC, tiny, small_trial, TrainOptions(runs_dir=b, seed=seed, verbose=0, log=lambda *_: None))
    return a, b


def entry(tiny, runs, tmp_path, seed=0):
    """A copy of the seed's stored run in a fresh store under ``tmp_path`` (the shared one stays whole)."""
    source = run_dir(runs, run_settings(SPEC, tiny, seed))
    copy = tmp_path / "runs" / source.name
    shutil.copytree(source, copy)
    return tmp_path / "runs", copy


def test_result_records_the_machine_that_trained_it(trained):
    result = json.loads(next(trained[0].glob("*/result.json")).read_text())
    assert result["machine"]["cores"] >= 1 and result["machine"]["cpu"]
    assert "machine" not in result["settings"]  # the same run on any machine


@pytest.mark.parametrize("damage, words", [
    (lambda d: (d / "result.json").write_text((d / "result.json").read_text()[:40]), "result.json is truncated"),
    (lambda d: (d / "model.pt").unlink(), "model.pt is missing"),
    (lambda d: (d / "model.pt").write_bytes((d / "model.pt").read_bytes()[:500]), "truncated"),
    (lambda d: (d / "model.pt").write_text("notes\n"), "not a model this package saved"),
])
def test_a_broken_entry_is_one_line_naming_its_folder_and_never_reused(tiny, trained, tmp_path, damage, words):
    runs, directory = entry(tiny, trained[0], tmp_path)
    damage(directory)
    with pytest.raises(BrokenRun) as caught:
        train(SPEC, tiny, small_trial, TrainOptions(runs_dir=runs, verbose=0, log=lambda *_: None))
    message = str(caught.value)
    assert words in message and str(directory) in message and "--force" in message and "\n" not in message
    assert isinstance(caught.value, UserError)  # the commands print it in one line and exit 2
    retrained = train(SPEC, tiny, small_trial, TrainOptions(runs_dir=runs, verbose=0, force=True, log=lambda *_: None))
    assert retrained["status"] == "finished" and stored_result(directory)["settings"] == retrained["settings"]


def test_weights_of_another_model_do_not_pass_as_the_run(tiny, trained, tmp_path):
    runs, directory = entry(tiny, trained[0], tmp_path)
    saved = load_saved(directory / "model.pt")
    torch.save({**saved, "model": "deep", "state_dict": {}}, directory / "model.pt")
    with pytest.raises(BrokenRun, match="not a model this package saved"):
        train(SPEC, tiny, small_trial, TrainOptions(runs_dir=runs, verbose=0, log=lambda *_: None))


def test_a_model_of_another_kind_that_loads_is_still_refused(tiny, trained, tmp_path):
    runs, directory = entry(tiny, trained[0], tmp_path)
    result = json.loads((directory / "result.json").read_text())
    result["settings"]["model"] = "unet"  # e.g. a folder renamed by hand: settings and weights disagree
    (directory / "result.json").write_text(json.dumps(result))
    with pytest.raises(BrokenRun, match="another run's settings"):
        train(SPEC, tiny, small_trial, TrainOptions(runs_dir=runs, verbose=0, log=lambda *_: None))
    with pytest.raises(BrokenRun, match="holds a 'small' model, the run is a 'unet' one"):
        store.check(runs)


def test_merging_two_stores_keeps_each_run_once(trained, tmp_path, capsys):
    a, b = trained
    into = tmp_path / "merged"
    shutil.copytree(a, into)
    assert store.main(["merge", str(b), "--into", str(into)]) == 0
    assert "1 run(s) copied, 1 already there" in capsys.readouterr().out
    names = sorted(path.parent.name for path in into.glob("*/result.json"))
    assert names == sorted(path.parent.name for path in b.glob("*/result.json")) and len(names) == 2
    for directory in into.glob("*/result.json"):
        kept = {path.name for path in directory.parent.iterdir()} - {".lock", "checkpoint.pt", "log.csv"}
        assert kept <= set(store.KEPT)
    assert store.main(["merge", str(a), str(b), "--into", str(into)]) == 0
    assert "0 run(s) copied, 3 already there" in capsys.readouterr().out
    assert store.main(["check", str(into)]) == 0


def test_merge_refuses_a_broken_source_before_copying_anything(tiny, trained, tmp_path, capsys):
    runs, directory = entry(tiny, trained[1], tmp_path, seed=1)
    (directory / "model.pt").unlink()
    assert store.main(["merge", str(runs), "--into", str(tmp_path / "into")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model.pt is missing" in err and str(directory) in err
    assert not list((tmp_path / "into").glob("*/result.json"))


def test_git_keeps_only_what_a_finished_run_needs():
    ignored = subprocess.run(["git", "check-ignore", "--no-index", "runs/x/checkpoint.pt", "runs/x/log.csv",
                              "runs/x/.lock", "runs/quick/x/result.json"], cwd=ROOT, capture_output=True, text=True)
    assert len(ignored.stdout.split()) == 4
    kept = subprocess.run(["git", "check-ignore", "--no-index", *(f"runs/x/{name}" for name in store.KEPT),
                           "runs/references/colorize-x.json"], cwd=ROOT, capture_output=True, text=True)
    assert kept.stdout == ""


def test_the_committed_store_is_whole():
    """Every committed run reads back: its result, and a model.pt that loads into the model it names."""
    committed = ROOT / "runs"
    if not committed.is_dir():
        pytest.skip("no committed run store in this checkout")
    assert store.check(committed) >= 1


def test_the_one_large_weight_is_stored_in_eight_bits_and_read_back_close(tmp_path):
    from torchbearer_colorize.models import InceptionDecoder
    torch.manual_seed(0)
    decoder = InceptionDecoder()
    store.save_model(tmp_path / "model.pt", RunSpec("inception", model="inception_decoder"), decoder)
    assert (tmp_path / "model.pt").stat().st_size < 9 * 2 ** 20  # 32 MB in float32
    back = store.load_model(tmp_path / "model.pt")
    for (name, before), after in zip(decoder.state_dict().items(), back.state_dict().values()):
        if before.numel() > store.EIGHT_BIT:  # off by at most half a step of its slice's scale
            step = before.abs().flatten(1).amax(1) / 127
            assert ((after - before).abs().flatten(1).amax(1) <= step / 2 + 1e-9).all()
        else:
            assert torch.equal(before, after), name
    features = torch.rand(4, 2048)
    with torch.no_grad():
        assert torch.allclose(decoder.eval()(features), back(features), atol=1e-3)


def test_the_vaes_large_layers_are_stored_in_float16(tmp_path):
    from torchbearer_colorize.models import VAELatent
    torch.manual_seed(0)
    vae = VAELatent()
    store.save_model(tmp_path / "model.pt", RunSpec("vae", model="vae"), vae)
    saved = load_saved(tmp_path / "model.pt")
    assert sorted(saved["float16"]) == ["logvar.weight", "mu.weight", "upsample.weight"]
    back = store.load_model(tmp_path / "model.pt")
    for name, before in vae.state_dict().items():
        after = back.state_dict()[name]
        assert after.dtype == before.dtype
        assert torch.allclose(before, after, rtol=1e-3, atol=1e-7) if name in saved["float16"] else torch.equal(before, after)


def test_a_model_is_stored_gzip_compressed_the_same_bytes_each_time_and_an_uncompressed_one_still_loads(tmp_path):
    import gzip

    from torchbearer_colorize.models import SmallColorizer
    torch.manual_seed(0)
    model = SmallColorizer()
    for name in ("a.pt", "b.pt"):
        store.save_model(tmp_path / name, RunSpec("small"), model)
    packed = (tmp_path / "a.pt").read_bytes()
    assert packed[:2] == b"\x1f\x8b" and packed == (tmp_path / "b.pt").read_bytes()  # gzip, no timestamp inside
    (tmp_path / "plain.pt").write_bytes(gzip.decompress(packed))  # a model.pt saved before compression
    for name in ("a.pt", "plain.pt"):
        back = store.load_model(tmp_path / name)
        assert all(torch.equal(back.state_dict()[k], v) for k, v in model.state_dict().items())
