"""What a run trains on: a train and a test split of (input, target) pairs and what identifies them
(:class:`TaskData`), and the colorization task most experiments share (:func:`colorization_data`)."""
from dataclasses import dataclass
from typing import Callable

from .builtin import REPORT_STEPS
from .paintings import colorization_split, load_paintings

GRAY_COPY = "gray copy (baseline)"  # the colorization tables' baseline row: the gray input as the prediction


@dataclass
class TaskData:
    """A train and a test ``Dataset`` of (input, target) pairs, and what identifies them."""
    train: object
    test: object
    label: str  # e.g. "built-in paintings (Monet, Van Gogh; ...)"
    fingerprint: str
    task: str = "colorize"  # what input and target mean; part of the run identity
    # Sample grids show ``display`` items (default: ``test``) through ``display_model(trained model)``:
    # the inception decoder trains on cached features but is shown on gray images.
    display: object = None
    display_model: Callable = None
    row_labels: tuple = ("gray input", "prediction", "ground truth")
    # Tasks whose targets are images get color metrics and a baseline row with this label (None: no metrics):
    # ``baseline_predict(inputs)`` (default: the input itself taken as the prediction, gray copied to RGB).
    baseline_label: str = None
    baseline_predict: Callable = None
    # Named subsets of the test split scored on their own besides the whole (the built-in paintings: per painter)
    test_groups: dict = None
    report_steps: int = None  # the report's optimizer steps per epoch on its data, where it states them

    @property
    def has_baseline(self):
        """Whether the task's tables get colour metrics, a baseline row and a ground-truth row."""
        return self.baseline_label is not None


def paintings(args):
    """The paintings the options ask for: ``--data-root`` (or the built-in set), ``--limit``, ``--strict``."""
    return load_paintings(args.data_root, args.cache_dir, args.limit, strict=args.strict)


def colorization_data(args):
    """Gray -> colour pairs from ``--data-root`` (or the built-in paintings)."""
    splits = paintings(args)
    return TaskData(colorization_split(splits, "train"), colorization_split(splits, "test"),
                    label=splits.label, fingerprint=splits.fingerprint, task="colorize", baseline_label=GRAY_COPY,
                    test_groups=splits.test_groups, report_steps=REPORT_STEPS)


def small_splits_warning(batch_size, data):
    """One line when a split holds fewer images than ``batch_size`` (its loader then gives the whole split as
    one batch: a tiny ``--data-root`` trains on all its images at every step); None otherwise."""
    short = [f"{n} {split}" for split, n in (("train", len(data.train)), ("test", len(data.test))) if n < batch_size]
    if short:
        return (f"warning: batch {batch_size} is more than the {' and '.join(short)} images: each step takes the "
                f"whole split (a batch of {min(batch_size, len(data.train))} in training)")
    return None
