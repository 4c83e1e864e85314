"""The report's printed numbers, in one place. They appear only beside ours, never instead of ours."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Reported:
    """One run's numbers with the report's own digits (strings, shown as printed: 19005.3105 stays
    19005.3105); ``test_loss``/``train_loss`` are their values for rules that compute with them."""
    test: str = None  # None: the report's cell is empty
    train: str = None
    note: str = ""
    epochs: int = None  # the report's epoch count (over its ~1,619 paintings); None: not stated

    @property
    def test_loss(self):
        return None if self.test is None else float(self.test)

    @property
    def train_loss(self):
        return None if self.train is None else float(self.train)


REPORTED = {
    "lr_sweep": {
        "lr 0.0001": Reported("0.0038", "0.0043", epochs=5),
        "lr 0.001": Reported("0.0028", "0.0035", "the report's best, sharpest pictures", epochs=5),
        "lr 0.01": Reported("0.0438", "0.0444",
                            "printed as lr 0.001, a repeat of run 2; the sweep's pattern says 0.01", epochs=5),
        "lr 0.1": Reported("0.1148", "0.1225", "the report: one brown/black colour everywhere", epochs=5),
    },
    "optimizers": {
        "SGD": Reported("0.104", "0.1126", epochs=5),
        "Adadelta": Reported("0.1137", "0.1224", epochs=5),
        "Adam": Reported("0.0028", "0.0035", "the lr sweep's Adam 0.001 run", epochs=5),
    },
    "deep": {"deep": Reported("0.0057", "0.0062", epochs=10)},
    "inception": {"inception": Reported("0.0202", "0.0251", epochs=10)},
    "unet": {"unet": Reported("0.0035", "0.0041", epochs=5)},
    "denoise": {"denoise": Reported(note="the report's cells are empty", epochs=10)},
    "vae_fruits": {"beta-VAE": Reported("19005.3105", "17458.7891")},
}


def reported(experiment, run):
    """The report's numbers for ``run`` of ``experiment``, or None where the report has no such run."""
    return REPORTED.get(experiment, {}).get(run)
