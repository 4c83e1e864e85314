"""The runs of every experiment over seeds (:class:`Summary`, from the experiments' results), and how two
numbers compare: with several seeds a difference within one standard deviation is "within noise"."""
import datetime
import statistics
from dataclasses import dataclass, field

from .tables import fmt, stability

# The data label's mark of an inception run whose encoder had no ImageNet weights (random frozen weights):
# experiments.inception writes it into the run's stored "data", the page reads it there.
NOT_PRETRAINED = "encoder NOT pretrained (random frozen weights)"
BEYOND = "beyond one std over seeds"


@dataclass
class Stat:
    """One quantity over seeds."""
    values: list

    @property
    def mean(self):
        return statistics.fmean(self.values)

    @property
    def std(self):
        """Sample standard deviation; None with one seed (the spread is unknown)."""
        return statistics.stdev(self.values) if len(self.values) > 1 else None

    def __str__(self):
        if self.std is None:
            return fmt(self.mean)
        return f"{fmt(self.mean)} ± {self.std:.2g}"


@dataclass
class RunSummary:
    experiment: str
    run: str
    results: list  # one result dict per seed

    def stat(self, key):
        """``key`` ("test_loss", "metrics.psnr", ...) over seeds; None when a result lacks it."""
        values = []
        for result in self.results:
            value = result
            for part in key.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value is None:
                return None
            values.append(float(value))
        return Stat(values)

    def reference(self, which, key):
        """``key`` of the ``which`` ("baseline" or "truth") row's metrics over seeds."""
        return Stat([result["references"][which][key] for result in self.results])

    def unstable(self):
        """In how many seeds the run blew up after its best epoch (``tables.stability``)."""
        return sum(stability(r.get("history", []))[2] for r in self.results)

    @property
    def first(self):
        return self.results[0]

    @property
    def not_pretrained(self):
        return NOT_PRETRAINED in self.first["data"]

    @property
    def display_name(self):
        """The run's name as the page shows it: the inception run says its encoder was not pretrained."""
        return f"{self.run} (encoder NOT pretrained)" if self.not_pretrained else self.run


@dataclass
class Summary:
    runs: dict = field(default_factory=dict)  # {(experiment, run): RunSummary}, in report order

    def get(self, experiment, run):
        return self.runs.get((experiment, run))

    def of(self, experiment):
        return [r for (e, _), r in self.runs.items() if e == experiment]

    @property
    def experiments(self):
        return list(dict.fromkeys(e for e, _ in self.runs))

    def seeds_per_run(self):
        """The most seeds any run has (1: every verdict rests on one seed)."""
        return max((len(r.results) for r in self.runs.values()), default=0)

    @property
    def n_runs(self):
        """Distinct stored runs (a run shown in two tables counts once)."""
        return len({run_key(result) for r in self.runs.values() for result in r.results})

    def distinct(self, keep=lambda run: True):
        """The rows that ``keep`` keeps, each setting once: a row is left out when it shares a stored run with an
        earlier one (the optimizer table's Adam is the sweep's lr 0.001 run)."""
        seen, rows = set(), []
        for r in self.runs.values():
            keys = {run_key(result) for result in r.results}
            if keep(r) and not keys & seen:
                rows.append(r)
                seen |= keys
        return rows

    def trained_since(self, moment):
        """How many distinct runs finished at or after ``moment`` (a timezone-aware datetime)."""
        return len({run_key(result) for r in self.runs.values() for result in r.results
                    if datetime.datetime.fromisoformat(result["finished_at"]) >= moment})

    def training_seconds(self):
        seen = {}
        for r in self.runs.values():
            for result in r.results:
                seen[run_key(result)] = result["seconds"]
        return sum(seen.values())


def run_key(result):
    return tuple(sorted((k, str(v)) for k, v in result["settings"].items()))


def collect(results):
    """{experiment: {seed: [result, ...]}} -> Summary."""
    summary = Summary()
    for experiment, by_seed in results.items():
        for seed_results in by_seed.values():
            for result in seed_results:
                key = (experiment, result["run"])
                summary.runs.setdefault(key, RunSummary(experiment, result["run"], [])).results.append(result)
    return summary


def relation(a, b):
    """How ``a`` compares with ``b`` (two Stats): "below", "above" or "within noise" (|difference|
    no larger than the larger of the two standard deviations; only with several seeds)."""
    spreads = [s for s in (a.std, b.std) if s is not None]
    if spreads and abs(a.mean - b.mean) <= max(spreads):
        return "within noise"
    return "below" if a.mean < b.mean else "above"


def versus(a, threshold):
    """``relation`` of a Stat with a fixed number."""
    return relation(a, Stat([threshold]))


def percent(stat, digits=0):
    """A share (a Stat) as a percentage with ``digits`` decimals (None: two significant digits, so a tiny share
    shows its size, 0.0031%, not 0.00%), with its std over seeds when known."""
    def text(share):
        return f"{share:.{digits}%}" if digits is not None else f"{100 * share:.2g}%"
    return text(stat.mean) + (f" ± {text(stat.std)}" if stat.std is not None else "")


def share_of_truth(run, key):
    """``key`` of a run's test predictions as a share of the ground truth's, over seeds."""
    return Stat([r["metrics"][key] / r["references"]["truth"][key] for r in run.results])


def has_measure(run, key):
    return run is not None and run.stat(f"metrics.{key}") is not None
