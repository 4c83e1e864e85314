"""A retrain reproduces a stored run: the first epoch of the committed sweep's lr 0.001 run, trained again from
its settings through the experiment's own Trial, gives the losses its history stored, within float tolerance
(another CPU rounds the last bits differently). A change that silently alters the training arithmetic (the
data, the gray conversion, the model, its initialisation, the loss, the optimizer, the seeding, the batch
order) fails here."""
import json
from dataclasses import replace
from pathlib import Path

import pytest

from experiments import lr_sweep
from tests.test_run_identity import default_args
from torchbearer_colorize.data.tasks import colorization_data
from torchbearer_colorize.training.runs import TrainOptions, train

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_first_epoch_of_a_committed_run_is_trained_again_to_its_stored_losses(tmp_path):
    args = default_args(lr_sweep, tmp_path)
    spec = next(s for s in lr_sweep.specs(args) if s.lr == 1e-3)
    stored = sorted(ROOT.glob(f"runs/colorize-small-adam-lr0.001-e{spec.epochs}-b32-s0-*/result.json"))
    assert stored, "the committed run store lacks the sweep's lr 0.001 run at seed 0"
    first = json.loads(stored[0].read_text())["history"][0]
    again = train(replace(spec, epochs=1), colorization_data(args), lr_sweep.trial,
                  TrainOptions(runs_dir=tmp_path / "runs", seed=0, device="cpu", verbose=0))["history"][0]
    for key in ("train_loss", "test_loss"):
        assert again[key] == pytest.approx(first[key], rel=1e-4), key
