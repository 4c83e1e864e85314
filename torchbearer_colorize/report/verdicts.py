"""REPORT.md from the runs of every experiment: tables (mean ± std over seeds), figures, settings,
and the report's conclusions checked against our numbers.

Every number comes from the run results; every verdict is computed by a rule written here. With
several seeds a difference within one standard deviation is "within noise"; with one seed the spread
is unknown and the verdicts say so.
"""
import datetime
import math
import statistics
from dataclasses import dataclass, field

from ..models.inception import NOT_PRETRAINED
from .fidelity import to_markdown
from .figures import slug
from .reported import reported
from .tables import UNSTABLE_FACTOR, fmt, markdown_table, settings_text, stability

SMALL = ("lr_sweep", "lr 0.001")  # the report's reference small colorizer: Adam, lr 0.001, 5 epochs

# Thresholds of the verdicts; each is also in the fidelity notes ("verdict thresholds").
# Two numbers differ when their means differ by more than the larger of their standard deviations over
# seeds (``relation``); with one seed any difference counts. Every threshold below is tested the same way.
VAE_FACTOR = 10  # the VAE's summed loss depends on the data (image size, count, colours): only its scale compares
BROWN_HUE = (40.0, 90.0)  # degrees in Lab's a*b* plane: from pure red's hue (40) to just below gold's (91);
#                           orange (60), brown (61), sepia (65) and tan (78) lie inside, yellow (103) does not
CHROMA_SHARE = 2 / 3  # "far less colourful" read as losing at least a third of the truth's mean chroma

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

    def best(self):
        """The best epoch's test loss over seeds (None without histories) and the best epochs, "/"-joined."""
        found = [stability(r.get("history", [])) for r in self.results]
        if any(best is None for best, _, _ in found):
            return None, "—"
        return Stat([best for best, _, _ in found]), "/".join(str(epoch) for _, epoch, _ in found)

    def unstable(self):
        """In how many seeds the run blew up after its best epoch (``tables.stability``)."""
        return sum(stability(r.get("history", []))[2] for r in self.results)

    @property
    def first(self):
        return self.results[0]


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

    @property
    def n_runs(self):
        """Distinct stored runs (a run shown in two tables counts once)."""
        return len({run_key(result) for r in self.runs.values() for result in r.results})

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


# ---- verdicts -------------------------------------------------------------------------------------

LOSS_RULE = "test loss; lower or higher beyond one std over seeds"


@dataclass
class Verdict:
    claim: str  # what the report concludes
    report: str  # the report's numbers behind it
    ours: str  # our numbers
    verdict: str  # agrees / disagrees / within noise / not comparable / not run
    measure: str = LOSS_RULE  # the measure and threshold the rule used
    runs: tuple = ()  # the (experiment, run) keys it rests on: their instability is reported beside it


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


def verdict_of(found, expected):
    """"agrees" when every relation in ``found`` is the ``expected`` one, "disagrees" when any is the
    opposite, else "within noise"."""
    if all(f == e for f, e in zip(found, expected)):
        return "agrees"
    return "within noise" if all(f in (e, "within noise") for f, e in zip(found, expected)) else "disagrees"


def loss(summary, experiment, run):
    found = summary.get(experiment, run)
    return found.stat("test_loss") if found else None


def report_loss(experiment, run):
    numbers = reported(experiment, run)
    return fmt(numbers.test if numbers else None)


def extreme_of_sweep(summary, which, lr_run, claim):
    runs = summary.of("lr_sweep")
    if not runs or summary.get("lr_sweep", lr_run) is None:
        return Verdict(claim, "", "", "not run")
    stats = {r.run: r.stat("test_loss") for r in runs}
    pick = (min if which == "lowest" else max)(stats, key=lambda name: stats[name].mean)
    ours = "; ".join(f"{name}: {stat}" for name, stat in stats.items())
    report = "; ".join(f"{name}: {report_loss('lr_sweep', name)}" for name in stats)
    if pick == lr_run:
        others = [relation(stats[lr_run], stats[name]) for name in stats if name != lr_run]
        verdict = "within noise" if "within noise" in others else "agrees"
    else:
        verdict = ("within noise" if relation(stats[lr_run], stats[pick]) == "within noise"
                   else f"disagrees: {pick} is the {which}")
    return Verdict(claim, report, ours, verdict, runs=tuple(("lr_sweep", name) for name in stats))


def pairwise(summary, claim, a, b, expected):
    """Claim "a is ``expected`` ("below"/"above") b" in test loss, for two (experiment, run) keys."""
    stat_a, stat_b = loss(summary, *a), loss(summary, *b)
    if stat_a is None or stat_b is None:
        return Verdict(claim, "", "", "not run")
    ours = f"{a[1]}: {stat_a}; {b[1]}: {stat_b}"
    report = f"{a[1]}: {report_loss(*a)}; {b[1]}: {report_loss(*b)}"
    return Verdict(claim, report, ours, verdict_of([relation(stat_a, stat_b)], [expected]), runs=(a, b))


def adam_beats_the_others(summary):
    claim, others = "Adam beats SGD and Adadelta at 5 epochs (lr 1e-3)", ("SGD", "Adadelta")
    pairs = [pairwise(summary, claim, ("optimizers", "Adam"), ("optimizers", o), "below") for o in others]
    if any(p.verdict == "not run" for p in pairs):
        return Verdict(claim, "", "", "not run")
    names = ("Adam",) + others
    report = "; ".join(f"{n}: {report_loss('optimizers', n)}" for n in names)
    ours = "; ".join(f"{n}: {loss(summary, 'optimizers', n)}" for n in names)
    verdict = ("agrees" if all(p.verdict == "agrees" for p in pairs)
               else "; ".join(f"vs {o}: {p.verdict}" for o, p in zip(others, pairs)))
    return Verdict(claim, report, ours, verdict, runs=tuple(("optimizers", n) for n in names))


def share_of_truth(run, key):
    """``key`` of a run's test predictions as a share of the ground truth's, over seeds."""
    return Stat([r["metrics"][key] / r["references"]["truth"][key] for r in run.results])


def image_measure(run, key):
    """``key`` of a run's test predictions over seeds ("sharpness" as a share of the truth's)."""
    stat = run.stat(f"metrics.{key}")
    return share_of_truth(run, key) if stat is not None and key == "sharpness" else stat


def image_comparison(summary, claim, a, b, measures, report):
    """Claim "a's predictions are ``expected`` b's" in each of ``measures`` ((key, label, expected)),
    measured on the test images; the test losses are shown beside them."""
    run_a, run_b = summary.get(*a), summary.get(*b)
    if run_a is None or run_b is None or image_measure(run_a, measures[0][0]) is None:
        return Verdict(claim, "", "", "not run")
    found, ours = [], []
    for key, label, _ in measures:
        stat_a, stat_b = image_measure(run_a, key), image_measure(run_b, key)
        found.append(relation(stat_a, stat_b))
        ours.append(f"{label} {a[1]} {stat_a} vs {b[1]} {stat_b}")
    ours.append(f"test loss {a[1]} {run_a.stat('test_loss')} vs {b[1]} {run_b.stat('test_loss')}")
    measure = " and ".join(f"{label} {expected}" for _, label, expected in measures) + ", beyond one std over seeds"
    return Verdict(claim, report, "; ".join(ours), verdict_of(found, [e for *_, e in measures]), measure, (a, b))


SHARPNESS = "sharpness (mean gradient magnitude of the predictions' Lab lightness, as a share of the truth's)"


def unet_is_sharper(summary):
    report = (f"unet: {report_loss('unet', 'unet')}; lr 0.001: {report_loss(*SMALL)} (test losses; the report "
              "judged the pictures by eye)")
    return image_comparison(summary, "the U-net's pictures are clearer and sharper than the small net's "
                            "(the skips carry the detail the bottleneck loses)", ("unet", "unet"), SMALL,
                            [("ssim", "SSIM", "above"), ("sharpness", SHARPNESS, "above")], report)


def deep_is_blurrier(summary):
    report = f"deep: {report_loss('deep', 'deep')}; lr 0.001: {report_loss(*SMALL)} (test losses)"
    return image_comparison(summary, "the deep net's pictures are blurrier than the small net's (its latent "
                            "is very small)", ("deep", "deep"), SMALL, [("sharpness", SHARPNESS, "below")], report)


def hue(scores):
    """The mean hue angle (degrees) of a metrics dict's mean a*, b*."""
    return math.degrees(math.atan2(scores["lab_b"], scores["lab_a"]))


def brown_cast(summary):
    """MSE paints everything brown: the small net's mean hue is brown-orange and its chroma far below the truth's."""
    low, high = BROWN_HUE
    claim = "MSE paints everything brown: the small net's predictions are brown and far less colourful than the truth"
    measure = (f"Lab: mean hue of the predictions' chroma within {low:g}-{high:g} degrees (brown-orange) and mean "
               f"chroma below {CHROMA_SHARE:.0%} of the truth's, beyond one std over seeds")
    run = summary.get(*SMALL)
    if run is None or run.stat("metrics.chroma") is None:
        return Verdict(claim, "", "", "not run", measure)
    hues = Stat([hue(r["metrics"]) for r in run.results])
    share = share_of_truth(run, "chroma")
    truth = run.first["references"]["truth"]
    found, expected = [versus(hues, low), versus(hues, high), versus(share, CHROMA_SHARE)], ["above", "below", "below"]
    ours = (f"lr 0.001's predictions: hue {hues} degrees, chroma {run.stat('metrics.chroma')} "
            f"({percent(share)} of the truth's); the truth: hue {hue(truth):.1f} degrees, "
            f"chroma {fmt(truth['chroma'])}")
    verdict = verdict_of(found, expected)
    if verdict == "disagrees":
        failed = [part for part, f, e in zip(("hue below the range", "hue above the range",
                                              f"chroma {percent(share)} of the truth's, not below {CHROMA_SHARE:.0%}"),
                                             found, expected) if f not in (e, "within noise")]
        verdict += ": " + "; ".join(failed)
    return Verdict(claim, "stated in words", ours, verdict, measure, (SMALL,))


def percent(stat):
    """A share (a Stat) as a percentage, with its std over seeds when known."""
    return f"{stat.mean:.0%}" + (f" ± {stat.std:.0%}" if stat.std is not None else "")


def classification_is_more_colourful(summary):
    claim = "colour classification gives brighter, more saturated colour than MSE"
    measure = ("Lab mean chroma higher, beyond one std over seeds (lightness is the input's in both, so "
               "'brighter' is not measured apart)")
    runs = summary.of("color_classes")
    if len(runs) != 2 or runs[0].stat("metrics.chroma") is None:
        return Verdict(claim, "", "", "not run", measure)
    mse, classes = runs
    chroma = [r.stat("metrics.chroma") for r in runs]
    ours = (f"chroma: {classes.run} {chroma[1]}, {mse.run} {chroma[0]}, the truth "
            f"{fmt(mse.first['references']['truth']['chroma'])}; colourfulness: {classes.run} "
            f"{classes.stat('metrics.colourfulness')}, {mse.run} {mse.stat('metrics.colourfulness')}")
    return Verdict(claim, "stated in words; not built in the report", ours,
                   verdict_of([relation(chroma[1], chroma[0])], ["above"]), measure)


def unstable_note(summary, keys):
    """"; unstable: RUN in k/n seeds" for the runs among ``keys`` that blew up in some seed ("" if none)."""
    notes = []
    for key in keys:
        run = summary.get(*key)
        count = run.unstable() if run else 0
        if count:
            notes.append(f"{key[1]} in {count}/{len(run.results)} seeds")
    return f"; unstable: {', '.join(notes)}" if notes else ""


def verdicts(summary):
    """The report's conclusions, each checked against ``summary``."""
    found = [
        extreme_of_sweep(summary, "lowest", "lr 0.001", "lr 1e-3 has the lowest test loss of the sweep"),
        extreme_of_sweep(summary, "highest", "lr 0.1", "lr 1e-1 is the worst of the sweep"),
        adam_beats_the_others(summary),
        pairwise(summary, "the deep net's test loss is above the small net's", ("deep", "deep"), SMALL, "above"),
        deep_is_blurrier(summary),
    ]
    inception = pairwise(summary, "the frozen-inception net's test loss is above the small net's",
                         ("inception", "inception"), SMALL, "above")
    run = summary.get("inception", "inception")
    if run and NOT_PRETRAINED in run.first["data"]:
        inception.verdict = f"not comparable: the encoder was not pretrained (ours {inception.verdict})"
    found += [inception, unet_is_sharper(summary)]
    vae = loss(summary, "vae_fruits", "beta-VAE")
    claim = f"the beta-VAE's test loss is within a factor of {VAE_FACTOR} of the report's"
    measure = f"test loss (summed over pixels) between 1/{VAE_FACTOR} and {VAE_FACTOR} times the report's"
    if vae is None:
        found.append(Verdict(claim, "", "", "not run", measure))
    else:
        report_vae = reported("vae_fruits", "beta-VAE")
        ratio = vae.mean / report_vae.test_loss
        within = 1 / VAE_FACTOR <= ratio <= VAE_FACTOR
        found.append(Verdict(claim, report_vae.test, f"{vae} (ratio {ratio:.2f})", "agrees" if within else "disagrees",
                             measure, (("vae_fruits", "beta-VAE"),)))
    found += [brown_cast(summary), classification_is_more_colourful(summary)]
    for verdict in found:
        verdict.verdict += unstable_note(summary, verdict.runs)
    return found


def baseline_checks(summary):
    """Beyond the report: does each model beat the input copied as the prediction (test MSE)?"""
    checks = []
    for (experiment, name), run in summary.runs.items():
        if run.stat("metrics.mse") is None:
            continue
        base = run.reference("baseline", "mse")
        verdict = {"yes": "beats it", "no": "does not beat it", "within noise": "within noise"}[beats_cell(run)]
        checks.append(Verdict(f"{experiment}: {name} beats the {run.first['references']['baseline_label']}",
                              "", f"MSE {run.stat('metrics.mse')} vs {base}", verdict))
    return checks


# ---- rendering ------------------------------------------------------------------------------------

SECTIONS = (
    ("## Exercise 1: colorizing grayscale paintings", None, ""),
    ("### Data (questions 1 and 3)", None,
     "Every image is rescaled to 256 x 256 and made gray with `skimage.color.rgb2gray`; batch size 32; the "
     "data sets and their sizes are listed at the top. The report's 2024 paintings are not public: without "
     "`--paintings-root` the built-in sample set stands in, so only the trends compare with the report."),
    ("### Question 2: the loss", "color_classes",
     "MSE averages the plausible colours into brown; the report describes, but did not build, colorization "
     "as per-pixel classification over quantized ab colours (Zhang, Isola & Efros 2016). Built here with the "
     "small colorizer's blocks and the MSE model's optimizer, lr and epochs; the full table (with a ceiling "
     "row) is in [color_classes/table.md](color_classes/table.md)."),
    ("### Question 4: learning-rate sweep", "lr_sweep", "The small colorizer at four learning rates."),
    ("### Question 4: optimizers", "optimizers", "SGD and Adadelta beside Adam."),
    ("### Question 4: a deeper net", "deep", "5 + 5 layers down to a 64 x 8 x 8 bottleneck."),
    ("### Question 4: frozen inception_v3 encoder", "inception",
     "The pooled 2048-value features of a frozen inception_v3, a 6-layer decoder."),
    ("### Question 4: U-net", "unet", "The small colorizer with two additive skips."),
    ("### Question 5: salt-and-pepper denoising", "denoise",
     "Noisy colour image (black and white dots) in, clean one out; the small net with 3 input channels."),
    ("## Exercise 2: beta-VAE on Fruits-360", "vae_fruits",
     "Latent size 5; the KL term is added by a torchbearer callback."),
)  # each intro is followed by the settings read from the runs (tables.settings_text)


def beats_cell(run):
    """Whether ``run``'s test MSE is below its baseline's: yes / no / within noise ("—": no metrics)."""
    mse = run.stat("metrics.mse")
    if mse is None:
        return "—"
    base = run.reference("baseline", "mse")
    return {"below": "yes", "above": "no", "within noise": "within noise"}[relation(mse, base)]


def experiment_table(runs):
    """One experiment's table: the report's numbers beside ours (mean ± std over seeds)."""
    with_metrics = runs[0].stat("metrics.mse") is not None
    header = ["run", "report test", "report train", "our test", "our train", "status", "best test (epoch)",
              f"unstable (> {UNSTABLE_FACTOR}x best)"]
    if with_metrics:
        header += ["PSNR (dB)", "SSIM", "colourfulness", f"beats the {runs[0].first['references']['baseline_label']}"]
    rows = []
    for run in runs:
        numbers = reported(run.experiment, run.run)
        statuses = sorted({r["status"] for r in run.results})
        best, epochs = run.best()
        row = [run.run, fmt(numbers.test if numbers else None), fmt(numbers.train if numbers else None),
               run.stat("test_loss"), run.stat("train_loss"), "/".join(statuses),
               f"{best} ({epochs})" if best else "—", f"{run.unstable()}/{len(run.results)}"]
        if with_metrics:
            row += [run.stat("metrics.psnr"), run.stat("metrics.ssim"), run.stat("metrics.colourfulness"),
                    beats_cell(run)]
        rows.append(row)
    if with_metrics:
        references = runs[0].first["references"]
        for label, key in ((references["baseline_label"], "baseline"), ("ground truth (reference)", "truth")):
            scores = references[key]
            rows.append([label, "—", "—", fmt(scores["mse"]), "—", "—", "—", "—",
                         *(fmt(scores[key]) for key in ("psnr", "ssim", "colourfulness")), "—"])
    return markdown_table(header, rows)


def figures_block(out, experiment, runs):
    """Links to the experiment's figures under ``out``: the test-loss overlay, per run its loss curves,
    sample grid and figures of its own (the VAE's latent plots), then any other figure of the folder."""
    folder, lines, shown = out / experiment, [], set()

    def link(name, alt):
        if (folder / name).exists() and name not in shown:
            lines.append(f"![{alt}]({experiment}/{name})")
            shown.add(name)

    link("test_loss.png", "test loss per epoch")
    for run in runs:
        name = slug(run.run)
        lines += ["", f"**{run.run}**: loss per epoch; the same test images through the model (rows labelled)", ""]
        link(f"{name}_loss.png", f"{run.run} loss")
        link(f"{name}_samples.png", f"{run.run} samples")
        for path in sorted(folder.glob(f"{name}_*.png")):
            link(path.name, f"{run.run} {path.stem[len(name) + 1:]}")
    rest = sorted(p.name for p in folder.glob("*.png") if p.name not in shown)
    if rest:
        lines += ["", "More figures:", ""]
        for name in rest:
            link(name, name[:-4])
    return "\n".join(lines) + "\n"


def headline_table(summary):
    """One row per run of every experiment: the report's test loss beside ours, colour metrics, wall time."""
    header = ["experiment", "run", "epochs", "report test", "report train", "our test", "our train",
              "best test (epoch)", "unstable",
              "PSNR (dB)", "SSIM", "colourfulness", "beats baseline", "wall time (min)"]
    rows = []
    for (experiment, name), run in summary.runs.items():
        numbers = reported(experiment, name)
        metrics = [run.stat(f"metrics.{key}") for key in ("psnr", "ssim", "colourfulness")]
        best, epochs = run.best()
        rows.append([f"[{experiment}]({experiment}/table.md)", name, run.first["settings"]["epochs"],
                     fmt(numbers.test if numbers else None), fmt(numbers.train if numbers else None),
                     run.stat("test_loss"), run.stat("train_loss"),
                     f"{best} ({epochs})" if best else "—", f"{run.unstable()}/{len(run.results)}",
                     *(m if m is not None else "—" for m in metrics), beats_cell(run),
                     f"{run.stat('seconds').mean / 60:.1f}"])
    return markdown_table(header, rows)


def settings_table(summary):
    header = ["experiment", "run", "model", "optimizer", "lr", "epochs", "batch", "seeds", "device",
              "wall time per seed (s)", "peak memory (MiB)"]
    rows = []
    for (experiment, name), run in summary.runs.items():
        s = run.first["settings"]
        peak = run.stat("peak_rss_mb")
        rows.append([experiment, name, s["model"], s["optimizer"], fmt(s["lr"]), s["epochs"], s["batch_size"],
                     ",".join(str(r["settings"]["seed"]) for r in run.results),
                     "/".join(sorted({r["device"] for r in run.results})), run.stat("seconds"),
                     peak if peak is not None else "not recorded"])
    return markdown_table(header, rows)


def data_lines(summary):
    seen = {}
    for run in summary.runs.values():
        seen.setdefault(run.first["data"], (run.first["n_train"], run.first["n_test"]))
    return [f"- {label}: {n_train} train / {n_test} test images" for label, (n_train, n_test) in seen.items()]


def render_report(summary, *, out, command, seeds, notes, quick=False):
    """The whole REPORT.md (to be written in ``out``, beside the experiments' folders) as a string."""
    first = next(iter(summary.runs.values())).first
    found = verdicts(summary)
    fewer = sorted({r.experiment for r in summary.runs.values() if len(r.results) < len(seeds)})
    versions = ", ".join(f"{k} {v}" for k, v in sorted(first["versions"].items()))
    seed_text = ", ".join(map(str, seeds))
    spread = ("mean ± sample standard deviation over the seeds" if len(seeds) > 1
              else "one seed, so no spread is measured and no verdict can say 'within noise'")
    parts = [
        "# The report, regenerated",
        "",
        f"Generated by `{command}` from the runs in the run store. Every number below is computed from "
        "those runs; the report's columns are its own numbers on its own data, so where the data differ "
        "only the trends compare.",
        "",
        *(["**A `--quick` smoke run: a few images and one epoch, not the report's settings; the verdicts "
            "below mean nothing.**", ""] if quick else []),
        "Data:",
        *data_lines(summary),
        "",
        f"Seeds: {seed_text} ({spread})"
        f"{'; trained at the first seed only: ' + ', '.join(fewer) if fewer else ''}. "
        f"Library versions: {versions}. Training time of the "
        f"{summary.n_runs} distinct runs: {summary.training_seconds() / 60:.1f} min (wall time per run below).",
        "",
        "## Headline",
        "",
        headline_table(summary),
        f"Best test (epoch): the lowest test loss over the epochs and when; unstable: in how many seeds a later "
        f"epoch's test loss exceeds {UNSTABLE_FACTOR}x the best. In short, the report's conclusions against ours "
        "(the next section has the numbers):",
        "",
        *(f"- {v.claim}: **{v.verdict}**" for v in found),
        "",
        "## The report's conclusions, checked",
        "",
        markdown_table(["the report concludes", "the report's test losses", "ours", "measure and threshold",
                        "verdict"], [[v.claim, v.report or "—", v.ours or "—", v.measure, f"**{v.verdict}**"]
                                     for v in found]),
    ]
    checks = baseline_checks(summary)
    if checks:
        beaten = sum(v.verdict == "beats it" for v in checks)
        parts += ["Beyond the report: does each model beat the input itself taken as the prediction (test MSE)? "
                  "For colorization that input is the gray copy, the MSE of predicting no colour at all: the less "
                  f"colourful the images, the higher this bar. Here {beaten} of {len(checks)} models beat it.", "",
                  markdown_table(["model", "ours", "verdict"], [[v.claim, v.ours, f"**{v.verdict}**"] for v in checks])]
    for heading, experiment, text in SECTIONS:
        if experiment is None:
            parts += [heading, ""] + ([text, ""] if text else [])
            continue
        runs = summary.of(experiment)
        if not runs:
            parts += [heading, "", "Not run in this invocation (`--only`).", ""]
            continue
        ran = f"Ran: {settings_text([r.first['settings'] for r in runs])}."
        parts += [heading, "", f"{text} {ran}", "", experiment_table(runs), figures_block(out, experiment, runs), ""]
    parts += ["## Settings of every run", "",
              "Wall time: the run's training (its epochs, test passes included). Peak memory: the peak resident "
              "memory of the process that trained the run, when the run finished; when one process trains several "
              "runs (this command does), that includes everything it ran before.", "",
              settings_table(summary), "## Fidelity notes", "",
              "Every place where the report is silent, ambiguous or wrong, and what the code does "
              "(the same table as docs/fidelity.md, from one source).", "", to_markdown(notes)]
    return "\n".join(str(p) for p in parts)
