"""A downloaded archive or a stored checkpoint cannot write or run anything: bad archives are refused before
anything is extracted, checkpoints that would run code when unpickled are refused before a run resumes."""
import io
import shutil
import stat
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torchbearer
from torchbearer.callbacks import Callback

from callbacks.checkpoint import CheckpointRefused, load_checkpoint
from experiments.lr_sweep import trial as small_trial
from tests.conftest import cli
from tests.test_fruits360 import server, write_fruits  # noqa: F401 (server is a fixture)
from torchbearer_colorize.data.archives import extract, first_unsafe
from torchbearer_colorize.data.fruits360 import download_fruits360
from torchbearer_colorize.data.paintings import ColorizationDataset
from torchbearer_colorize.data.tasks import TaskData
from torchbearer_colorize.errors import UserError
from torchbearer_colorize.training.runs import RunSpec, TrainOptions, make_trial, run_dir, run_settings, train

ROOT = Path(__file__).resolve().parents[1]


# --- archives --------------------------------------------------------------------------------------

def tar_member(name, kind=tarfile.REGTYPE, linkname="", data=b"escaped"):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    if kind == tarfile.CHRTYPE:  # no mknod needed: the member is only described
        info.devmajor, info.devminor = 1, 3
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def zip_member(name, mode=stat.S_IFREG | 0o644, data=b"escaped"):
    info = zipfile.ZipInfo(name)
    info.create_system, info.external_attr = 3, mode << 16  # 3: Unix, whose mode sits in the high 16 bits
    return info, data


def bad_archive(kind, up, sentinel):
    """``(archive suffix, members, the first bad member's name, what the error says)``; ``up`` leads from the
    extraction folder to the folder holding ``sentinel`` (e.g. ``"../"``), where every bad member points."""
    out = f"{up}{sentinel.name}"
    good = tar_member("fruits/Training/a.txt", data=b"ok")
    cases = {
        "tar-dotdot": (".tar.gz", [good, tar_member(f"{out}/evil.txt")], f"{out}/evil.txt", "climbs out"),
        "tar-absolute": (".tar.gz", [good, tar_member(str(sentinel / "evil.txt"))], str(sentinel / "evil.txt"),
                         "absolute path"),
        "tar-symlink": (".tar.gz", [good, tar_member("link", tarfile.SYMTYPE, out), tar_member("link/evil.txt")],
                        "link", "is a symbolic link to"),
        "tar-hardlink": (".tar.gz", [good, tar_member("hard", tarfile.LNKTYPE, f"{out}/evil.txt"),
                                     tar_member("hard", data=b"overwritten")], "hard", "is a hard link to"),
        "tar-device": (".tar.gz", [good, tar_member("null", tarfile.CHRTYPE)], "null", "device file"),
        "zip-dotdot": (".zip", [zip_member("fruits/a.txt"), zip_member(f"{out}/evil.txt")], f"{out}/evil.txt",
                       "climbs out"),
        "zip-absolute": (".zip", [zip_member(str(sentinel / "evil.txt"))], str(sentinel / "evil.txt"),
                         "absolute path"),
        "zip-symlink": (".zip", [zip_member("link", stat.S_IFLNK | 0o777, out.encode())], "link", "symbolic link"),
    }
    return cases[kind]


BAD = ["tar-dotdot", "tar-absolute", "tar-symlink", "tar-hardlink", "tar-device", "zip-dotdot", "zip-absolute",
       "zip-symlink"]


def write_archive(path, members):
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w") as zf:
            for info, data in members:
                zf.writestr(info, data)
    else:
        with tarfile.open(path, "w:gz") as tar:
            for info, data in members:
                tar.addfile(info, data)
    return path


@pytest.mark.parametrize("kind", BAD)
def test_each_kind_of_bad_member_is_refused_before_anything_is_written(tmp_path, kind):
    sentinel, folder = tmp_path / "sentinel", tmp_path / "tree"
    sentinel.mkdir(), folder.mkdir()
    suffix, members, name, says = bad_archive(kind, "../", sentinel)
    archive = write_archive(tmp_path / f"x{suffix}", members)
    bad = first_unsafe(archive)
    assert bad[0] == name and says in bad[1], bad
    with pytest.raises(UserError) as err:
        extract(archive, folder, "http://example/x")
    assert f"refusing the archive http://example/x: its member {name!r}" in str(err.value)
    assert list(sentinel.iterdir()) == [] and list(folder.iterdir()) == []  # not even the good member before it


def test_links_inside_the_folder_are_extracted(tmp_path):
    members = [tar_member("top/data/a.txt", data=b"a"), tar_member("top/docs/link", tarfile.SYMTYPE, "../data/a.txt"),
               tar_member("top/hard", tarfile.LNKTYPE, "top/data/a.txt"), tar_member("top/self", tarfile.SYMTYPE, ".")]
    archive = write_archive(tmp_path / "x.tgz", members)
    assert first_unsafe(archive) is None
    extract(archive, tmp_path / "tree", "x")
    top = tmp_path / "tree" / "top"
    assert (top / "docs" / "link").read_text() == (top / "hard").read_text() == "a"
    assert (top / "docs" / "link").is_symlink()


@pytest.mark.parametrize("members, name, says", [
    # each link points inside on its own, but "l2" sits in "l1", which is the folder itself: ".." leaves it
    ([("l1", "."), ("l1/l2", "..")], "l1/l2", "goes through the archive's symbolic link 'l1'"),
    ([("b", "."), ("a", "b/..")], "a", "which goes through the archive's symbolic link 'b'"),
    ([("A", "."), ("a/../x", None)], "a/../x", "symbolic link 'a'"),  # one file on case-insensitive systems
    ([("link", "data"), ("link/x", None)], "link/x", "goes through"),
])
def test_paths_through_the_archives_own_links_are_refused(tmp_path, members, name, says):
    archive = write_archive(tmp_path / "x.tar.gz", [tar_member(n, tarfile.SYMTYPE, t) if t else tar_member(n)
                                                    for n, t in members])
    bad = first_unsafe(archive)
    assert bad[0] == name and says in bad[1], bad


def test_a_good_zip_is_extracted(tmp_path):
    top = write_fruits(tmp_path / "build" / "top", classes=["Kiwi"], n_train=1, n_test=1, train_only=())
    archive = shutil.make_archive(str(tmp_path / "good"), "zip", root_dir=top.parent, base_dir=top.name)
    assert first_unsafe(archive) is None
    extract(archive, tmp_path / "tree", "x")
    assert (tmp_path / "tree" / "top" / "Training" / "Kiwi" / "0_100.jpg").is_file()


@pytest.mark.parametrize("kind", ["tar-symlink", "zip-dotdot"])
def test_a_refused_download_leaves_nothing(server, tmp_path, kind):  # noqa: F811
    base_url, served, _ = server
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    suffix, members, name, _ = bad_archive(kind, "../../../", sentinel)  # from data/.staging/tree/
    url = f"{base_url}/{write_archive(served / f'x{suffix}', members).name}"
    with pytest.raises(UserError, match=f"refusing the archive {url}: its member '{name}'"):
        download_fruits360(tmp_path / "data", url=url, log=lambda message: None)
    assert list((tmp_path / "data").iterdir()) == [] and list(sentinel.iterdir()) == []


def vae_fruits(dirs, *args):
    return subprocess.run([sys.executable, "-m", "experiments.vae_fruits", *cli(dirs, *args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def in_process(dirs, capsys, *args):
    """``python -m experiments.vae_fruits ARGS`` as ``main`` runs it here: ``(exit code, stdout, stderr)``."""
    from experiments import vae_fruits as experiment
    capsys.readouterr()
    try:
        experiment.main(cli(dirs, *args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def serve_bad_archive(server, tmp_path, kind):
    """A bad archive of ``kind`` on the test server: ``(its url, its first bad member's name, the sentinel folder
    every bad member points into)``."""
    base_url, served, _ = server
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    suffix, members, name, _ = bad_archive(kind, "../../../", sentinel)
    return f"{base_url}/{write_archive(served / f'x{suffix}', members).name}", name, sentinel


def refused_in_one_line(code, out, err, url, name, sentinel, data):
    assert code == 2, err
    # one line after the download's progress bar (tqdm's, on stderr)
    errors = [line for line in err.splitlines() if "error" in line.lower()]
    assert errors == [err.strip().splitlines()[-1]] and "Traceback" not in err + out
    assert errors[0].startswith(f"error: refusing the archive {url}: its member {name!r}")
    assert list(sentinel.iterdir()) == [] and list(data.iterdir()) == []
    assert not [path for path in sentinel.parent.rglob("evil.txt")]


@pytest.mark.parametrize("kind", BAD)
def test_vae_fruits_download_refuses_a_bad_archive_in_one_line(server, dirs, tmp_path, capsys, kind):  # noqa: F811
    url, name, sentinel = serve_bad_archive(server, tmp_path, kind)
    data = tmp_path / "data"
    code, out, err = in_process(dirs, capsys, "--download", "--data-root", data, "--url", url, "--quick")
    refused_in_one_line(code, out, err, url, name, sentinel, data)


@pytest.mark.slow
def test_the_refusal_is_the_commands_exit_2_and_last_line(server, dirs, tmp_path):  # noqa: F811
    """The refusal above, from the command a user runs (one kind: the refusal of each kind is checked in-process)."""
    url, name, sentinel = serve_bad_archive(server, tmp_path, "tar-symlink")
    data = tmp_path / "data"
    job = vae_fruits(dirs, "--download", "--data-root", data, "--url", url, "--quick")
    refused_in_one_line(job.returncode, job.stdout, job.stderr, url, name, sentinel, data)


@pytest.mark.slow
def test_vae_fruits_downloads_a_good_archive_and_trains(server, dirs, tmp_path, capsys):  # noqa: F811
    base_url, served, _ = server
    top = write_fruits(tmp_path / "build" / "Fruit-Images-Dataset-x", classes=["Banana", "Kiwi", "Tomato 4"],
                       n_train=2, n_test=1, train_only=())
    archive = shutil.make_archive(str(served / "fruits"), "gztar", root_dir=top.parent, base_dir=top.name)
    code, _, err = in_process(dirs, capsys, "--download", "--data-root", tmp_path / "data", "--url",
                              f"{base_url}/{Path(archive).name}", "--quick", "--classes", "3")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["Fruit-Images-Dataset-x"]
    assert "Fruits-360 (3 classes)" in (dirs["out"] / "table.md").read_text()


# --- checkpoints -----------------------------------------------------------------------------------

class RunsCode:
    """Unpickled, it creates ``marker``: what a checkpoint crafted to run code would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').close()",)


def craft(checkpoint, marker):
    """Put an object that runs code when unpickled into the (good) ``checkpoint``."""
    saved = torch.load(checkpoint, weights_only=False)
    saved[torchbearer.HISTORY].append({"loss": RunsCode(marker)})
    torch.save(saved, checkpoint)


@pytest.fixture(scope="module")
def tiny():
    images = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    return TaskData(ColorizationDataset(images[:4]), ColorizationDataset(images[4:]), label="t", fingerprint="t")


def test_a_checkpoint_that_would_run_code_is_refused(tiny, tmp_path):
    spec, marker = RunSpec("r", epochs=1, batch_size=2), tmp_path / "marker"
    trial, _ = make_trial(small_trial, spec, tiny, tmp_path)
    trial.run(1, verbose=0)
    fresh, _ = make_trial(small_trial, spec, tiny, tmp_path)
    assert len(load_checkpoint(fresh, tmp_path / "checkpoint.pt").state[torchbearer.HISTORY]) == 1
    craft(tmp_path / "checkpoint.pt", marker)
    with pytest.raises(CheckpointRefused, match="holds the global exec, which is not allowed") as err:
        load_checkpoint(make_trial(small_trial, spec, tiny, tmp_path)[0], tmp_path / "checkpoint.pt")
    assert err.value.what == "the global exec" and not marker.exists()
    torch.load(tmp_path / "checkpoint.pt", weights_only=False)  # the crafted file really runs code
    assert marker.exists()


def test_a_saved_callback_class_that_is_neither_the_trials_nor_ours_is_refused(tiny, tmp_path):
    spec = RunSpec("r", epochs=1, batch_size=2)
    trial, _ = make_trial(small_trial, spec, tiny, tmp_path, callbacks=[Callback()])
    trial.run(1, verbose=0)
    with pytest.raises(CheckpointRefused, match="torchbearer.bases.Callback"):
        load_checkpoint(make_trial(small_trial, spec, tiny, tmp_path / "other")[0], tmp_path / "checkpoint.pt")


def test_a_checkpoint_naming_the_callbacks_by_their_former_module_still_resumes(tiny, tmp_path, monkeypatch):
    """An interrupted run's checkpoint written when the run's callbacks lived in callbacks/run_store.py."""
    import types

    from callbacks import AtomicCheckpoint, EpochSeed, StopOnNonFiniteLoss
    spec = RunSpec("r", epochs=1, batch_size=2)
    trial, _ = make_trial(small_trial, spec, tiny, tmp_path)
    trial.run(1, verbose=0)
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    former = types.ModuleType("callbacks.run_store")
    for cls in (AtomicCheckpoint, EpochSeed, StopOnNonFiniteLoss):
        monkeypatch.setattr(cls, "__module__", former.__name__)
        setattr(former, cls.__name__, cls)
    monkeypatch.setitem(sys.modules, former.__name__, former)
    torch.save(saved, tmp_path / "checkpoint.pt")
    monkeypatch.undo()
    assert b"callbacks.run_store" in (tmp_path / "checkpoint.pt").read_bytes()
    resumed = load_checkpoint(make_trial(small_trial, spec, tiny, tmp_path)[0], tmp_path / "checkpoint.pt")
    assert len(resumed.state[torchbearer.HISTORY]) == 1


def test_a_checkpoint_written_when_torchbearers_csv_logger_logged_the_epochs_still_resumes(tiny, tmp_path):
    from torchbearer.callbacks import CSVLogger

    from callbacks import EpochLog
    spec = RunSpec("r", epochs=1, batch_size=2)
    trial, _ = make_trial(small_trial, spec, tiny, tmp_path)
    callbacks = trial.state[torchbearer.CALLBACK_LIST].callback_list
    callbacks[:] = [CSVLogger(str(tmp_path / "log.csv")) if isinstance(c, EpochLog) else c for c in callbacks]
    trial.run(1, verbose=0)
    assert b"CSVLogger" in (tmp_path / "checkpoint.pt").read_bytes()
    resumed = load_checkpoint(make_trial(small_trial, spec, tiny, tmp_path)[0], tmp_path / "checkpoint.pt")
    assert len(resumed.state[torchbearer.HISTORY]) == 1


def test_train_refuses_to_resume_from_a_crafted_checkpoint(tiny, tmp_path):
    spec, marker = RunSpec("r", epochs=1, batch_size=2), tmp_path / "marker"
    train(spec, tiny, small_trial, TrainOptions(runs_dir=tmp_path, verbose=0, log=lambda *_: None))
    directory = run_dir(tmp_path, run_settings(spec, tiny, 0))
    (directory / "result.json").unlink()
    craft(directory / "checkpoint.pt", marker)
    with pytest.raises(UserError, match=f"cannot resume {directory}: .*checkpoint.pt holds the global exec "
                                        "that is not allowed .* delete it or pass --force"):
        train(spec, tiny, small_trial, TrainOptions(runs_dir=tmp_path, verbose=0, log=lambda *_: None))
    assert not marker.exists()
    retrained = train(spec, tiny, small_trial,
                      TrainOptions(runs_dir=tmp_path, verbose=0, force=True, log=lambda *_: None))
    assert retrained["status"] == "finished"


@pytest.mark.slow
def test_an_experiment_refuses_to_resume_from_a_crafted_checkpoint(dirs, tmp_path, capsys):
    marker, quick = tmp_path / "marker", ("--quick", "--classes", "3", "--limit", "2", "--batch-size", "2")
    assert in_process(dirs, capsys, *quick)[0] == 0
    [directory] = [path.parent for path in dirs["runs"].glob("*/result.json")]
    (directory / "result.json").unlink()
    craft(directory / "checkpoint.pt", marker)
    code, out, err = in_process(dirs, capsys, *quick)  # the exit code and line of a command: see the archive's
    assert code == 2 and "Traceback" not in err + out, err
    assert err.strip() == err.strip().splitlines()[0]
    assert err.startswith(f"error: cannot resume {directory}: {directory / 'checkpoint.pt'} holds the global "
                          "exec that is not allowed")
    assert not marker.exists() and not (directory / "result.json").exists()
