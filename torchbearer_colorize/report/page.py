"""REPORT.md, a page a student reads in five minutes, and checks.md beside it (every check with its
measure, threshold and numbers; every run's settings), from a :class:`.verdicts.Summary`.

Every number on the page comes from the runs; every sentence that states a direction (above, below,
flat, sharper) is computed from them. The report's own numbers appear only in its column, with its
digits. The experiments' full tables are linked (``<experiment>/table.md``), as are the fidelity notes. The
pages' fixed prose is in their templates beside this module (``report.md.template``, ``checks.md.template``).
"""
import datetime
import re
from importlib.resources import files
from string import Template

from ..pretrained import bundled_info
from . import verdicts as v
from .figures import slug
from .reported import reported
from .summary import NOT_PRETRAINED, run_key
from .tables import UNSTABLE_FACTOR, fmt, markdown_table, settings_text

FIDELITY_LINK = "../docs/fidelity.md"  # from figures/REPORT.md
CHECKS = "checks.md"
# The fidelity notes that change how the results read, summarised on the page (the rest are linked).
KEY_CHOICES = ("paintings data set", "training length", "random (not pretrained) encoder", "learning-rate sweep, run 3",
               "SGD and Adadelta", "small architecture", "VAE loss", "beta, epochs, batch size of the VAE")
SECTIONS = (  # (heading, experiment, what ran, in words); each is followed by its settings read from the runs
    ("### Learning-rate sweep (question 4)", "lr_sweep", "The small colorizer at four learning rates."),
    ("### Optimizers (question 4)", "optimizers", "SGD and Adadelta beside Adam."),
    ("### A deeper net (question 4)", "deep", "5 + 5 layers down to a 64 x 8 x 8 bottleneck."),
    ("### Frozen inception_v3 encoder (question 4)", "inception",
     "The pooled 2048-value features of a frozen inception_v3, a 6-layer decoder."),
    ("### U-net (question 4)", "unet", "The small colorizer with two additive skips."),
    ("### Salt-and-pepper denoising (question 5)", "denoise",
     "Noisy colour image (black and white dots) in, clean one out; the small net with 3 input channels."),
    ("### Colour classification (question 2, not built in the report)", "color_classes",
     "Per-pixel classification over quantized ab colours (Zhang, Isola & Efros 2016) on the small net's blocks, with "
     "the paper's ablation: a*b* regression (L2), classification, rebalanced classification, all three keeping the "
     "input's lightness, beside the report's RGB MSE net."),
    ("### beta-VAE on fruits (exercise 2)", "vae_fruits", "Latent size 5; the KL term added by a torchbearer callback. "
     "The noisy-codes figure states the size of the noise it adds (from the encoder's logvar)."),
)


def template(name):
    return Template(files(__package__).joinpath(f"{name}.template").read_text(encoding="utf-8"))


# ---- blocks ---------------------------------------------------------------------------------------

def baseline_name(run):
    return run.first["references"]["baseline_label"].replace(" (baseline)", "")


def first_names(summary):
    """{run key: (experiment, run name)} of each distinct run's first appearance."""
    found = {}
    for (experiment, name), run in summary.runs.items():
        found.setdefault(run_key(run.first), (experiment, name))
    return found


def table_name(run):
    """The experiment's table a run is read in: over its seeds (``table_seeds.md``) when it has several."""
    return "table_seeds.md" if len(run.results) > 1 else "table.md"


def against_baseline(run):
    """The headline's last cell: whether the run's per-image test MSE beats its baseline's (yes / no / within noise),
    as trained, then on the input's lightness for a colorizer that redraws it ("no / yes"); the baseline named
    where it is not the gray copy."""
    words = {"yes": "yes", "no": "no"}
    cell = v.baseline_cell(run)
    if cell == "—":
        return "—"
    text = words.get(cell, "within noise")
    if v.input_l_scored(run) and run.first["settings"].get("task") != "color-classes":
        # the colour-classification ablation decodes onto the input's lightness already: one score
        text += f" / {words.get(v.baseline_cell(run, 'mse_input_l'), 'within noise')}"
    name = baseline_name(run)
    return text if name == "gray copy" else f"{text} ({name})"


BEATS = "beats the gray copy: as trained / on the input's L"


def headline_table(summary):
    """One row per run: the report's test loss beside ours (torchbearer's batch mean, as the report printed it; a
    model trained on another loss shows none), then the per-image test MSE its baseline is scored with, as trained
    and with its colour on the input's lightness, Zhang et al.'s AuC (raw / rebalanced), and whether it beats the
    baseline on each MSE."""
    first = first_names(summary)
    rows = []
    for (experiment, name), run in summary.runs.items():
        numbers = reported(experiment, name)
        shown = run.display_name
        original = first[run_key(run.first)]
        if original != (experiment, name):
            shown += f" (= {original[1]})"
        if len(run.results) < summary.seeds_per_run():
            shown += f" (seed {'/'.join(str(r['settings']['seed']) for r in run.results)} only)"
        own_loss = run.first["settings"].get("loss", "mse") in ("mse", "mse_sum")
        colour = v.input_l_scored(run)
        auc = f"{run.stat('metrics.auc')} / {run.stat('metrics.auc_rebalanced')}" if colour else "—"
        rows.append([f"[{experiment}]({experiment}/{table_name(run)})", shown, fmt(numbers.test if numbers else None),
                     run.stat("test_loss") if own_loss else "— (another loss)", run.stat("metrics.mse") or "—",
                     run.stat("metrics.mse_input_l") if colour else "—", auc, against_baseline(run)])
    return markdown_table(["experiment", "run", "report's test loss", "our test loss", "test MSE per image",
                           "on the input's L", "AuC / rebalanced", BEATS], rows)


def machine_text(result):
    machine = result.get("machine")
    if isinstance(machine, dict) and machine:
        cores = machine.get("cores")
        return ", ".join(str(x) for x in (machine.get("cpu"), f"{cores} cores" if cores else None,
                                          machine.get("platform"), machine.get("gpu")) if x)
    return f"{result.get('device', 'unknown device')}, {result.get('threads', '?')} threads"


def machines_lines(summary):
    """One line per distinct (machine, versions) with the seeds it trained."""
    by = {}
    for run in summary.runs.values():
        for result in run.results:
            versions = ", ".join(f"{k} {x}" for k, x in sorted(result.get("versions", {}).items()))
            by.setdefault((machine_text(result), versions), set()).add(result["settings"]["seed"])
    return [f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, sorted(seeds)))} trained on {machine}; "
            f"{versions}" for (machine, versions), seeds in by.items()]


def data_lines(summary):
    seen = {}
    for run in summary.runs.values():
        label = run.first["data"].replace(f"; {NOT_PRETRAINED}", "")
        seen.setdefault(label, (run.first["n_train"], run.first["n_test"]))
    return [f"{label} ({n_train} train / {n_test} test images)" for label, (n_train, n_test) in seen.items()]


def caveats(summary, seeds, quick):
    n = summary.seeds_per_run()
    lines = []
    if quick:
        lines.append("**A `--quick` smoke run: a few images and one epoch; the verdicts below mean nothing.**")
    lines.append("**Data**: " + "; ".join(data_lines(summary))
                 + ". Every test image is one the model never saw in training (for the paintings: no test painting "
                 "is in the training set). The report's own 2024 paintings are not public, so only trends compare "
                 "with its numbers.")
    lines.append(f"**Seeds**: {', '.join(map(str, seeds))}. " + (
        "One seed: no spread is measured, so no verdict can say 'within noise', and any may flip with another "
        "seed or CPU." if n <= 1 else
        "Tables show mean ± sample std over the seeds; a difference within one std is 'within noise'."))
    fewer = sorted({r.experiment for r in summary.runs.values() if len(r.results) < len(seeds)})
    if fewer and len(seeds) > 1:
        lines[-1] += f" Trained at the first seed only: {', '.join(fewer)}."
    inception = summary.get("inception", "inception")
    if n > 1:
        lines.append("**Words**: *within noise*: two means no further apart than the larger of their standard "
                     f"deviations over the {n} seeds; *Lab spread*: the standard deviation of L*, a*, b* over all test "
                     "pixels (0: one flat colour); *tone spread*: how much the images' mean hues differ (0: one tone "
                     "for every image); *sharpness share*: the predictions' mean lightness gradient as a share of the "
                     "truth's; the measures and thresholds: [checks.md](checks.md).")
    if inception and inception.not_pretrained:
        lines.append("**Inception encoder NOT pretrained**: no ImageNet weights offline, so a random frozen "
                     "encoder stands in; its verdict is 'not comparable'.")
    bf16 = len({run_key(r) for run in summary.runs.values() for r in run.results if r["settings"].get("autocast")})
    if bf16:
        lines.append(f"**bf16**: {bf16} of the {summary.n_runs} runs trained with `--bf16` (bf16 autocast): their "
                     "numbers differ from fp32's (the committed report is fp32); their sections say bf16.")
    runs, settings = f"{summary.n_runs} stored runs", len(summary.distinct())
    if settings < summary.n_runs:
        runs += f" of {settings} settings (one run per setting and seed)"
    lines.append("**Machines**: " + "; ".join(machines_lines(summary)) + f". {runs}, "
                 f"{summary.training_seconds() / 60:.1f} min of training.")
    return [f"- {line}" for line in lines]


def found_line(verdict):
    """A conclusion and our verdict on it: its numbers are in its experiment's section and in checks.md."""
    return f"- {verdict.claim}: **{verdict.verdict}**"


def figure_links(out, experiment, runs, summary, shown_runs):
    folder, lines = out / experiment, []

    def link(name, alt):
        if (folder / name).exists():
            lines.append(f"![{alt}]({experiment}/{name})")

    if len(runs) > 1:
        link("test_loss.png", "test loss per epoch")
    link("test_loss_vs_lr.png", "final test loss against the learning rate")
    link("tones.png", "the brown window and each colorizer's mean tone")
    for run in runs:
        key = run_key(run.first)
        if key in shown_runs:  # the same run under another name (Adam = lr 0.001): shown once
            continue
        shown_runs.add(key)
        name = slug(run.run)
        if len(runs) == 1:
            link(f"{name}_loss.png", f"{run.run} loss")
        link(f"{name}_samples.png", f"{run.run} samples")
        if len(run.results) > 1 and lines and lines[-1].endswith("_samples.png)"):
            lines.append(f"*{run.run}'s pictures: seed {run.first['settings']['seed']}'s model (the numbers are "
                         f"means over {len(run.results)} seeds; the other seeds' grids: {experiment}/seed<N>/)*")
        for path in sorted(folder.glob(f"{name}_*.png")):
            if path.stem[len(name) + 1:] not in ("loss", "samples"):
                link(path.name, f"{run.run} {path.stem[len(name) + 1:]}")
    return lines


def choices_lines(notes):
    by_topic = {note.topic: note for note in notes}
    return [f"- **{topic}**: {by_topic[topic].code}" for topic in KEY_CHOICES if topic in by_topic]


def report_epochs(runs):
    """", the report's 5 epochs in optimizer steps" where our epochs are the report's counted in optimizer steps on
    its larger data set (the report's conclusions that say "5 epochs" mean these runs); "" otherwise."""
    said = {reported(r.experiment, r.run).epochs for r in runs if reported(r.experiment, r.run)} - {None}
    ours = {r.first["settings"]["epochs"] for r in runs}
    if len(said) == 1 and len(ours) == 1 and ours != said:
        return f" (the report's {said.pop()} epochs, counted in optimizer steps on its 4x larger data set)"
    return ""


def section(out, summary, heading, experiment, text, shown_runs, found, shapes):
    """One experiment's section of REPORT.md: what ran; the verdicts (``found``) whose first run is one of its runs,
    with their deciding numbers (all of them: checks.md), and the ``shapes`` lines about it; its figures."""
    runs = summary.of(experiment)
    if not runs:
        return f"{heading}\n\nNot run in this invocation (`--only`).\n\n"
    ran = (f"Ran: {settings_text([r.first['settings'] for r in runs])}{report_epochs(runs)}; "
           f"[table]({experiment}/{table_name(runs[0])}).")
    claims = [f"- {x.claim}: **{x.verdict}**" + (f" ({x.key or x.ours})" if x.key or x.ours else "") for x in found
              if x.runs and x.runs[0][0] == experiment and x.verdict != "not run"]
    claims += [f"- {shape.text}" for shape in shapes if experiment in shape.experiments]
    checked = "The report's conclusions on these runs, against ours:\n\n" + "\n".join(claims) + "\n\n" if claims else ""
    links = "".join(f"{link}\n" for link in figure_links(out, experiment, runs, summary, shown_runs))
    return f"{heading}\n\n{text} {ran}\n\n{checked}{links}\n"


def render_report(summary, *, out, command, seeds, notes, quick=False, date=None):
    """REPORT.md (to be written in ``out``, beside the experiments' folders) as a string; its one line that
    names the ``command`` and the ``date`` (today's, by default) starts with "Generated "."""
    checks = v.baseline_checks(summary)
    beaten = sum(cell == "yes" for _, cell, _ in checks)
    colorizers = [kept for _, _, kept in checks if kept is not None]
    kept = (f"; with their colour on the input's lightness, {colorizers.count('yes')} of the {len(colorizers)} "
            "colorizers do" if colorizers else "")
    shown_runs, found, shapes = set(), v.verdicts(summary), v.shapes(summary) + v.readings(summary)
    finding = v.colour_finding(summary)
    if (best := v.best_colorizer(summary)) is not None:
        bundled = bundled_info()["settings"]
        same = {k: bundled[k] for k in ("model", "task")} == {k: best[0].first["settings"][k] for k in ("model", "task")}
        finding = (finding or "") + (f" {best[1]} `tbc-colorize` bundles " + ("its seed-" + str(bundled["seed"])
                                     + " model." if same else f"another: a {bundled['model']!r} model."))
    return template("report.md").substitute(
        date=date or datetime.date.today().isoformat(), command=command, checks=CHECKS, fidelity=FIDELITY_LINK,
        caveats="\n".join(caveats(summary, seeds, quick)),
        found="\n".join(found_line(verdict) for verdict in found),
        shapes="\n".join(f"- {shape.text}" for shape in shapes if not shape.experiments or shape.found),
        beyond=(f"Beyond the report: {beaten} of the {len(checks)} distinct models beat their baseline on per-image "
                f"test MSE as trained{kept} (the gray copy has every pixel's lightness right: a colorizer that "
                "redraws it must beat that first).\n\n" if checks else ""),
        finding=f"**{finding}**\n\n" if finding else "",
        headline=headline_table(summary),
        comparison=("## The same test images through every colorizer\n\n"
                    "![gray input, each colorizer, the truth](comparison.png)\n\n"
                    if (out / "comparison.png").exists() else ""),
        sections="".join(section(out, summary, *entry, shown_runs, found, shapes) for entry in SECTIONS),
        choices="\n".join(choices_lines(notes)))


# ---- checks.md ------------------------------------------------------------------------------------

def settings_table(summary):
    header = ["experiment", "run", "model", "optimizer", "lr", "epochs", "batch", "seeds", "device",
              "wall time per seed (s)", "peak memory (MiB)", "unstable (seeds)"]
    rows = []
    for (experiment, name), run in summary.runs.items():
        s = run.first["settings"]
        peak = run.stat("peak_rss_mb")
        rows.append([experiment, name, s["model"], s["optimizer"], fmt(s["lr"]), s["epochs"], s["batch_size"],
                     ",".join(str(r["settings"]["seed"]) for r in run.results),
                     "/".join(sorted({r["device"] + (" bf16" if r["settings"].get("autocast") else "")
                                      for r in run.results})), run.stat("seconds"),
                     peak if peak is not None else "not recorded", f"{run.unstable()}/{len(run.results)}"])
    return markdown_table(header, rows)


def render_checks(summary):
    """checks.md: every verdict with the report's numbers, ours, the measure and threshold; the baseline
    checks; every run's settings and the machines."""
    found = v.verdicts(summary)
    checks = v.baseline_checks(summary)
    words = {"yes": "beats it", "no": "does not beat it"}
    baselines = markdown_table(["model", "per-image test MSE", "verdict", "on the input's L", "verdict"], [
        [f"{r.experiment}: {r.display_name} vs the {baseline_name(r)}",
         f"{r.stat('metrics.mse')} vs {r.reference('baseline', 'mse')}", f"**{words.get(cell, cell)}**",
         f"{r.stat('metrics.mse_input_l')} vs {r.reference('baseline', 'mse_input_l')}" if kept else "—",
         f"**{words.get(kept, kept)}**" if kept else "—"] for r, cell, kept in checks])
    return template("checks.md").substitute(
        verdicts=markdown_table(["the report concludes", "the report's numbers", "ours", "measure and threshold",
                                 "verdict"],
                                [[x.claim, x.report or "—", x.ours or "—", x.measure, f"**{x.verdict}**"] for x in found]),
        baselines=(f"Beyond the report: does each distinct model beat its baseline? Here the MSE is per test image, "
                   "averaged (the tables' `test_mse`), since a baseline has no training loss; the test losses above "
                   "are torchbearer's, the mean of the test batches' losses as the report printed them, which weighs "
                   f"the images of a short last batch more.\n\n{baselines}\n"
                   if checks else ""),
        unstable=UNSTABLE_FACTOR, settings=settings_table(summary),
        machines="\n".join(f"- {line}" for line in machines_lines(summary)))


# ---- the README's copy ----------------------------------------------------------------------------

README_COLUMNS = ("experiment", "run", "test MSE per image", "on the input's L", BEATS)


def readme_block(report):
    """What the README copies from REPORT.md: how the report's conclusions fared (a count by verdict, linked), the
    headline's finding and its table's ``README_COLUMNS``, links made relative to the repository root (None when
    ``report`` has no such sections)."""
    if "## What we found" not in report or "## Headline" not in report:
        return None
    found = report.split("## What we found", 1)[1].split("\n## ", 1)[0]
    conclusions = found.split("The report's conclusions, against ours", 1)[-1]
    conclusions = conclusions.split("Beyond its stated conclusions", 1)[0]
    verdicts = [re.search(r"\*\*([^*:(;]+)", line).group(1).strip() for line in conclusions.splitlines()
                if line.startswith("- ") and "**" in line]
    counts = ", ".join(f"{n} {word}" for word, n in sorted(
        {w: verdicts.count(w) for w in verdicts}.items(), key=lambda item: -item[1]))
    tally = (f"The report's {len(verdicts)} conclusions against our runs: {counts} "
             "([each, with its numbers](figures/REPORT.md#what-we-found)).")
    headline = report.split("## Headline", 1)[1].split("\n## ", 1)[0]
    finding = [line for line in headline.splitlines() if line.startswith("**")]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in headline.splitlines()
            if line.startswith("|")]
    keep = [i for i, name in enumerate(rows[0]) if name in README_COLUMNS] if rows else []
    table = ["| " + " | ".join(row[i] for i in keep) + " |" for row in rows]
    table = [re.sub(r"\]\((?!https?:)", "](figures/", line) for line in table]
    if len(table) > 1:
        table[1] = "|" + "---|" * len(keep)
    return tally + "\n\n" + "".join(f"{line}\n\n" for line in finding) + "\n".join(table) + "\n"


README_START, README_END = "<!-- results: copied from figures/REPORT.md -->", "<!-- end of results -->"


def sync_readme(readme, report):
    """``readme`` with the text between its results markers replaced by ``readme_block(report)``."""
    block = readme_block(report)
    if block is None or README_START not in readme or README_END not in readme:
        return readme
    before, rest = readme.split(README_START, 1)
    after = rest.split(README_END, 1)[1]
    return f"{before}{README_START}\n{block}{README_END}{after}"
