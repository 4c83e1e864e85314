"""The report's conclusions, each checked by a rule against the runs (a :class:`.summary.Summary`); REPORT.md
and checks.md render them (:mod:`.page`).

Every verdict is computed on the quantity the claim is about (losses, or measures of the test predictions:
:mod:`.metrics`). With several seeds a difference within one standard deviation is "within noise"; with one
seed the spread is unknown and every verdict says so.
"""
import functools
import math
from dataclasses import dataclass

import numpy as np
import torch

from ..color_space import lab_to_rgb, rgb_to_lab
from ..data.images import IMAGE_SIZE
from ..data.noise import AMOUNT
from .metrics import TONE_CHROMA
from .reported import REPORTED, reported
from .summary import BEYOND, Stat, has_measure, percent, relation, share_of_truth, versus
from .tables import fmt

SMALL = ("lr_sweep", "lr 0.001")  # the report's reference small colorizer: Adam, lr 0.001, 5 epochs
COLORIZERS = (SMALL, ("deep", "deep"), ("inception", "inception"), ("unet", "unet"))  # the report's RGB colorizers

# Thresholds of the verdicts; each is also in the fidelity notes ("verdict thresholds").
# Two numbers differ when their means differ by more than the larger of their standard deviations over
# seeds (``relation``); with one seed any difference counts. Every threshold below is tested both ways.
VAE_FACTOR = 10  # scale check only: the VAE's loss reduction was chosen to match the report's scale
ACCEPTABLE = 0.5  # "reconstructed acceptably": at least half of the pixel variance around the mean image explained
BROWN_HUE = (40.0, 90.0)  # degrees in Lab's a*b* plane: from pure red's hue (40) to just below gold's (91);
#                           orange (60), brown (61), sepia (65) and tan (78) lie inside, yellow (103) does not
SAME_SHARE = 0.5  # "one colour everywhere": the spread of the test images' tones below half the truth's
FLAT_SHARE = 0.1  # "one flat colour": the predictions' Lab spread (lightness included) below a tenth of the truth's
TREND_SHARE = 0.25  # "still falling" is read on the last quarter of the epochs (at least 3)
TREND_NOISE = 2.0  # ... whose fitted fall must exceed twice the epoch-to-epoch noise around the fitted line
FALL_SHARE = 0.1  # "slowly": later than lr 1e-3 to bring its test loss 10 % below its first epoch's
REACH_FACTOR = 10  # "would learn with more epochs": Adam's test loss reached within 10 x the epochs run, at its rate
GOOD_DB = 3.0  # "fairly good" denoising: PSNR at least 3 dB above the noisy input's (MSE at least halved)
SHARP_SHARE = 0.9  # "not sharp": half-resolution sharpness below 90 % of the truth's
# The named colours a flat prediction is called by: the nearest in Lab (CIE76) to its mean colour.
NAMED_COLOURS = {"black": (0, 0, 0), "white": (1, 1, 1), "gray": (.5, .5, .5), "red": (1, 0, 0),
                 "dark red": (.55, 0, 0), "brown": (.55, .3, .1), "orange": (1, .55, 0), "yellow": (1, 1, 0),
                 "green": (0, .6, 0), "cyan": (0, 1, 1), "blue": (0, 0, 1), "purple": (.5, 0, .5),
                 "pink": (1, .7, .8)}
REPORT_FLAT_COLOURS = ("brown", "black")  # the report's "one brown/black colour everywhere"
ONE_SEED = "one seed: any difference counts"
SHARPNESS = "sharpness (half resolution, share of the truth's)"
# L* units a pixel at full resolution: a flat colour this sharp (and not at half resolution) is a checkerboard
CHECKER_SHARPNESS = 1.0
COLORIZING = ("lr_sweep", "optimizers", "deep", "inception", "unet", "color_classes")  # the experiments that colorize


# ---- verdicts -------------------------------------------------------------------------------------

LOSS_RULE = f"test loss lower or higher, {BEYOND}"


@dataclass
class Verdict:
    claim: str  # what the report concludes
    report: str  # the report's numbers behind it
    ours: str  # our numbers
    verdict: str  # agrees / disagrees / partly / within noise / not comparable / not run
    measure: str = LOSS_RULE  # the measure and threshold the rule used
    runs: tuple = ()  # the (experiment, run) keys it rests on: their instability is reported beside it
    key: str = ""  # the deciding numbers in a few words, for the one-line summary


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
    key = f"{pick} {stats[pick]}" + ("" if pick == lr_run else f" vs {lr_run} {stats[lr_run]}")
    return Verdict(claim, report, ours, verdict, runs=tuple(("lr_sweep", name) for name in stats), key=key)


def pairwise(summary, claim, a, b, expected):
    """Claim "a is ``expected`` ("below"/"above") b" in test loss, for two (experiment, run) keys."""
    stat_a, stat_b = loss(summary, *a), loss(summary, *b)
    if stat_a is None or stat_b is None:
        return Verdict(claim, "", "", "not run")
    name_a = summary.get(*a).display_name
    ours = f"{name_a}: {stat_a}; {b[1]}: {stat_b}"
    report = f"{a[1]}: {report_loss(*a)}; {b[1]}: {report_loss(*b)}"
    return Verdict(claim, report, ours, verdict_of([relation(stat_a, stat_b)], [expected]), runs=(a, b),
                   key=f"{name_a} {stat_a} vs {b[1]} {stat_b}")


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
    return Verdict(claim, report, ours, verdict, runs=tuple(("optimizers", n) for n in names), key=ours)


def image_comparison(summary, claim, a, b, measures, report):
    """Claim "a's predictions are ``expected`` b's" in each of ``measures`` ((key, label, expected, as a
    share of the truth's)), measured on the test images; the test losses are shown beside them."""
    run_a, run_b = summary.get(*a), summary.get(*b)
    measure = " and ".join(f"{label} {expected}" for _, label, expected, _ in measures) + f", {BEYOND}"
    if not all(has_measure(run, key) for run in (run_a, run_b) for key, *_ in measures):
        return Verdict(claim, "", "", "not run", measure)
    found, ours = [], []
    for key, label, _, share in measures:
        stat_a, stat_b = ((share_of_truth(r, key) if share else r.stat(f"metrics.{key}")) for r in (run_a, run_b))
        found.append(relation(stat_a, stat_b))
        shown = (percent if share else str)
        ours.append(f"{label} {a[1]} {shown(stat_a)} vs {b[1]} {shown(stat_b)}")
    losses = f"test loss {a[1]} {run_a.stat('test_loss')} vs {b[1]} {run_b.stat('test_loss')}"
    return Verdict(claim, report, "; ".join(ours + [losses]), verdict_of(found, [m[2] for m in measures]),
                   measure, (a, b), key="; ".join(ours))


def unet_is_sharper(summary):
    report = (f"unet: {report_loss('unet', 'unet')}; lr 0.001: {report_loss(*SMALL)} (test losses; the report "
              "judged the pictures by eye)")
    return image_comparison(summary, "the U-net's pictures are clearer and sharper than the small net's "
                            "(the skips carry the detail the bottleneck loses)", ("unet", "unet"), SMALL,
                            [("ssim", "SSIM", "above", False), ("sharpness_half", SHARPNESS, "above", True)], report)


def deep_is_blurrier(summary):
    report = f"deep: {report_loss('deep', 'deep')}; lr 0.001: {report_loss(*SMALL)} (test losses)"
    return image_comparison(summary, "the deep net's pictures are blurrier than the small net's (its latent "
                            "is very small)", ("deep", "deep"), SMALL,
                            [("sharpness_half", SHARPNESS, "below", True)], report)


def hue(scores):
    """The mean hue angle (degrees) of a metrics dict's mean a*, b* (weighted by chroma)."""
    return math.degrees(math.atan2(scores["lab_b"], scores["lab_a"]))


def one_tone(result):
    """``(share, hue, holds)`` for one seed's run: its test images' tone spread as a share of the truth's, their
    mean tone's hue, and whether that is "one brownish tone everywhere" (share below SAME_SHARE, hue in the
    brown window); share None when the predictions have no tone at all (gray)."""
    spread, truth = result["metrics"]["tone_spread"], result["references"]["truth"]["tone_spread"]
    if not math.isfinite(spread):
        return None, None, False
    share, tone_hue = spread / truth, result["metrics"]["tone_hue"]
    return share, tone_hue, share < SAME_SHARE and BROWN_HUE[0] <= tone_hue <= BROWN_HUE[1]


def checkerboard(scores):
    """Whether predictions are a stride-2 checkerboard of a flat colour: sharp at full resolution
    (CHECKER_SHARPNESS), hardly at half resolution (a tenth of that), where each 2 x 2 block averages it out."""
    return scores["sharpness"] >= CHECKER_SHARPNESS and scores["sharpness_half"] < 0.1 * scores["sharpness"]


def seed_picture(result):
    """What one seed's flat prediction shows: "seed 0: flat yellow", or, for a checkerboard, the colour its two
    colours average to."""
    scores, seed = result["metrics"], result["settings"]["seed"]
    name = mean_colour(scores)[0]
    if checkerboard(scores):
        return (f"seed {seed}: a stride-2 checkerboard of two colours that average to {name} (sharpness "
                f"{scores['sharpness']:.0f} at full resolution, {scores['sharpness_half']:.1f} at half)")
    return f"seed {seed}: flat {name}"


def tone_text(result):
    """One seed's tone, named and placed against the brown window (and a checkerboard said as such)."""
    share, tone_hue, holds = one_tone(result)
    if share is None:
        return f"seed {result['settings']['seed']}: no tone (gray)"
    one = "one tone" if share < SAME_SHARE else "not one tone"
    window = "in" if BROWN_HUE[0] <= tone_hue <= BROWN_HUE[1] else "outside"
    board = ", a checkerboard at full resolution" if checkerboard(result["metrics"]) else ""
    return (f"seed {result['settings']['seed']}: tone spread {share:.0%} of the truth's, mean tone {tone_hue:.0f} "
            f"degrees ({one}, {tone_name(tone_hue)}, {window} the brown window{board})")


HUES = ("red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink")  # the named colours that name a hue


@functools.cache
def hue_of(name):
    """The Lab hue angle (degrees) of one of NAMED_COLOURS."""
    lab = rgb_to_lab(torch.tensor(NAMED_COLOURS[name], dtype=torch.float64)[None, :, None])[0, :, 0]
    return math.degrees(math.atan2(lab[2], lab[1]))


def tone_name(hue_degrees):
    """The hue family of a Lab hue angle: the one of HUES whose own hue angle is nearest (circularly)."""
    return min(HUES, key=lambda name: abs((hue_of(name) - hue_degrees + 180) % 360 - 180))


def brown_cast(summary):
    """MSE paints everything brown: every test image gets the same brownish tone whatever its own colour, judged
    for each seed on its own (a seed's picture is what the eye judges), and said for every run of the sweep."""
    low, high = BROWN_HUE
    claim = "MSE paints everything brown: one brownish colour everywhere, whatever the truth's colour"
    measure = (f"each test image's tone: its chroma-weighted mean hue at half resolution over pixels of chroma at "
               f"least {TONE_CHROMA:g}; the spread of the tones over the images (angular deviation) below "
               f"{SAME_SHARE:.0%} of the truth's, and their mean hue within {low:g}-{high:g} degrees "
               "(brown-orange); for each seed on its own")
    run = summary.get(*SMALL)
    if not has_measure(run, "tone_spread"):
        return Verdict(claim, "", "", "not run", measure)
    tones = [one_tone(result) for result in run.results]
    holds = [brown for _, _, brown in tones]
    one = [share is not None and share < SAME_SHARE for share, _, _ in tones]
    if all(holds):
        verdict = "agrees"
    elif all(one):  # one tone for every image, as the report says, but not a brownish one
        hues = "/".join(f"{tone_hue:.0f}" for _, tone_hue, _ in tones)
        verdict = f"partly: one tone for every image, but at {hues} degrees, outside the brown window"
    elif any(holds):
        verdict = f"partly: in {sum(holds)} of {len(holds)} seeds"
    else:
        verdict = "disagrees"
    truth = run.first["references"]["truth"]
    others = [r for r in summary.of("lr_sweep") if r.run != SMALL[1] and has_measure(r, "tone_spread")]
    sweep = "; ".join(f"{other.run}: " + ", ".join(tone_text(r) for r in other.results) for other in others)
    brown = [r for r in summary.distinct(lambda r: r.experiment in COLORIZING and has_measure(r, "tone_spread"))
             if r.experiment != "lr_sweep" and any(one_tone(result)[2] for result in r.results)]  # the sweep: below

    def seeds_of(r):
        k = sum(one_tone(x)[2] for x in r.results)
        return "" if k == len(r.results) else f", in {k} of its {len(r.results)} seeds"
    by_rule = ("; by the same rule, " + ", ".join(
        f"{r.run} ({'/'.join(f'{one_tone(x)[1]:.0f}' for x in r.results)} degrees, tone spread "
        f"{'/'.join(f'{one_tone(x)[0]:.0%}' for x in r.results)} of the truth's{seeds_of(r)})" for r in brown)
        + f" {'does' if len(brown) == 1 else 'do'} paint everything one brownish tone") if brown else ""
    if verdict != "agrees":
        verdict += by_rule
    ours = (f"lr 0.001's tone spread as a share of the truth's ({truth['tone_spread']:.0f} degrees, mean tone "
            f"{truth['tone_hue']:.0f}, {tone_name(truth['tone_hue'])}), and its mean tone: "
            + ", ".join(tone_text(r) for r in run.results) + (f". The rest of the sweep: {sweep}" if sweep else ""))
    key = ", ".join(tone_text(r) for r in run.results)
    return Verdict(claim, "stated in words", ours, verdict, measure, (SMALL,), key)


def colour_name(lab):
    """The nearest of ``NAMED_COLOURS`` (CIE76 distance in Lab) to a Lab colour (3 numbers)."""
    names = list(NAMED_COLOURS)
    named = rgb_to_lab(torch.tensor([NAMED_COLOURS[n] for n in names], dtype=torch.float64)[..., None])[..., 0]
    distance = (named - torch.tensor(lab, dtype=torch.float64)).norm(dim=1)
    return names[int(distance.argmin())]


def mean_colour(scores):
    """``(name, "RGB r, g, b")`` of the mean Lab colour of a metrics dict."""
    lab = [scores["lab_l"], scores["lab_a"], scores["lab_b"]]
    rgb = lab_to_rgb(torch.tensor(lab, dtype=torch.float64)[None, :, None])[0, :, 0].tolist()
    return colour_name(lab), "RGB " + ", ".join(f"{c:.2f}" for c in rgb)


FLAT_MEASURE = (f"Lab spread of the predictions over all test pixels (lightness included) below {FLAT_SHARE:.0%} of "
                "the truth's")


def colour_names(run):
    """The named colours nearest to ``run``'s mean predicted colour, one per seed where they differ: "khaki/gray"."""
    return "/".join(dict.fromkeys(mean_colour(r["metrics"])[0] for r in run.results))


def flat_colour(summary):
    """lr 1e-1 learns nothing, "one brown/black colour everywhere": its predictions' Lab spread over all
    test pixels near zero, and the colour named."""
    claim = "lr 1e-1 learns nothing: one brown/black colour everywhere"
    measure = (f"{FLAT_MEASURE}, {BEYOND}; the colour: the nearest of {len(NAMED_COLOURS)} named colours to their "
               "mean (in Lab)")
    run = summary.get("lr_sweep", "lr 0.1")
    if not has_measure(run, "lab_spread"):
        return Verdict(claim, "", "", "not run", measure)
    share = share_of_truth(run, "lab_spread")
    named = [mean_colour(r["metrics"]) for r in run.results]
    flat = versus(share, FLAT_SHARE)
    pictures = "; ".join(seed_picture(r) for r in run.results)
    if flat == "above":
        verdict = f"disagrees: not one flat colour (Lab spread {percent(share)} of the truth's)"
    elif all(name in REPORT_FLAT_COLOURS for name, _ in named) and not any(checkerboard(r["metrics"])
                                                                          for r in run.results):
        verdict = "agrees" if flat == "below" else "within noise"
    else:
        verdict = (f"partly: one flat colour in each seed{'' if flat == 'below' else ' (within noise)'}, as the "
                   f"report says, but not {'/'.join(REPORT_FLAT_COLOURS)}: {pictures}")
    ours = (f"lr 0.1's predictions: Lab spread {run.stat('metrics.lab_spread')} ({percent(share)} of the truth's, at "
            "half resolution); mean colour " + "; ".join(f"seed {r['settings']['seed']}: {n} ({rgb})"
                                                          for r, (n, rgb) in zip(run.results, named)))
    return Verdict(claim, "stated in words", ours, verdict, measure, (("lr_sweep", "lr 0.1"),),
                   f"Lab spread {percent(share)} of the truth's")


def barely_learn(summary):
    """SGD and Adadelta "barely learn in 5 epochs": their predictions are one flat colour (Lab spread below
    FLAT_SHARE of the truth's: nothing of the image's colour or light learned), Adam's beside them."""
    claim = "SGD and Adadelta barely learn in 5 epochs"
    measure = f"{FLAT_MEASURE} for both, {BEYOND}; Adam's beside them"
    runs = [summary.get("optimizers", name) for name in ("SGD", "Adadelta", "Adam")]
    if not all(has_measure(run, "lab_spread") for run in runs):
        return Verdict(claim, "", "", "not run", measure)
    shares = [share_of_truth(run, "lab_spread") for run in runs]
    ours = "; ".join(f"{run.run}: Lab spread {percent(share)} of the truth's, mean colour {colour_names(run)}"
                     for run, share in zip(runs, shares))
    verdict = verdict_of([versus(share, FLAT_SHARE) for share in shares[:2]], ["below", "below"])
    return Verdict(claim, "SGD: " + report_loss("optimizers", "SGD") + "; Adadelta: "
                   + report_loss("optimizers", "Adadelta") + " (test losses)", ours, verdict, measure,
                   (("optimizers", "SGD"), ("optimizers", "Adadelta")),
                   ", ".join(f"{run.run} {percent(share)}" for run, share in zip(runs, shares))
                   + " of the truth's Lab spread")


def trend_window(epochs):
    """How many of a run's last epochs "still falling" is read on: the last TREND_SHARE of them, at least 3."""
    return max(3, round(TREND_SHARE * epochs))


def fall_per_epoch(history):
    """The mean fall of one seed's test loss per epoch over its trend window, as a share (:func:`trend`)."""
    return trend(history)[0] / (trend_window(len(history)) - 1)


def trend(history):
    """``(fall, noise)`` of one seed's test loss over the last ``TREND_SHARE`` of its epochs (at least 3): the fall
    of the least-squares line over that window as a share of the window's mean loss, and the residuals' standard
    deviation around the line as a share of it (the epoch-to-epoch noise). None with fewer than 3 epochs."""
    losses = [h["test_loss"] for h in history]
    window = losses[-trend_window(len(losses)):]
    if len(losses) < 3 or not all(map(math.isfinite, window)):
        return None
    x = np.arange(len(window), dtype=np.float64)
    slope, intercept = np.polyfit(x, window, 1)
    mean = float(np.mean(window))
    residuals = np.asarray(window) - (slope * x + intercept)
    noise = float(np.sqrt((residuals ** 2).sum() / max(len(window) - 2, 1)))
    return -slope * (len(window) - 1) / mean, noise / mean


def falling(history):
    """Whether one seed's test loss still falls: the last quarter's fitted fall is above TREND_NOISE times the
    epoch-to-epoch noise around the fit (any size of fall, if steady)."""
    found = trend(history)
    return found is not None and found[0] > 0 and found[0] > TREND_NOISE * found[1]


def fall_epoch(history, share=FALL_SHARE):
    """The first epoch whose test loss is at least ``share`` below the first epoch's (None: never)."""
    first = history[0]["test_loss"]
    return next((h["epoch"] for h in history if h["test_loss"] <= (1 - share) * first), None)


def trend_text(result):
    fall, noise = trend(result["history"])
    state = "still falling" if falling(result["history"]) else "flat"
    return (f"seed {result['settings']['seed']}: {state} (last {trend_window(len(result['history']))} epochs: "
            f"fitted fall {100 * fall:.2g}%, noise {100 * noise:.2g}%)")


def learns_slowly(summary):
    """lr 1e-4 "learns slowly and needs more epochs", two halves judged apart, seed by seed: slowly (its test loss
    falls FALL_SHARE below its first epoch's later than lr 1e-3's does, and ends above lr 1e-3's) and still
    falling at the end (:func:`falling`)."""
    claim = "lr 1e-4 learns slowly and needs more epochs"
    measure = (f"slowly: its test loss first {FALL_SHARE:.0%} below its first epoch's later than lr 1e-3's (each "
               f"seed), and its final test loss above lr 1e-3's, {BEYOND}; needs more epochs: still falling in each "
               f"seed, the least-squares fall over the last quarter of the epochs above {TREND_NOISE:g} x the "
               "epoch-to-epoch noise around it")
    run, small = summary.get("lr_sweep", "lr 0.0001"), summary.get(*SMALL)
    if run is None or small is None or trend(run.first.get("history") or []) is None:
        return Verdict(claim, "", "", "not run", measure)
    seeds = [r["settings"]["seed"] for r in run.results]
    reference = {r["settings"]["seed"]: fall_epoch(r["history"]) for r in small.results}
    epochs = [fall_epoch(r["history"]) for r in run.results]
    late = [e is None or (reference.get(seed) is not None and e > reference[seed]) for seed, e in zip(seeds, epochs)]
    above = relation(run.stat("test_loss"), small.stat("test_loss"))
    still = [falling(r["history"]) for r in run.results]
    slow = all(late) and above == "above"
    ours = (f"first {FALL_SHARE:.0%} below epoch 1 at epoch " + "/".join(str(e or "never") for e in epochs)
            + " (lr 0.001: " + "/".join(str(reference.get(seed) or "never") for seed in seeds) + "); final test loss "
            f"{run.stat('test_loss')} vs lr 0.001 {small.stat('test_loss')} ({above}); "
            + "; ".join(trend_text(r) for r in run.results))
    if slow and all(still):
        verdict = "agrees"
    elif not slow and not any(still):
        verdict = "disagrees"
    else:
        halves = [f"slowly: {'yes' if slow else 'no'}"]
        falling_seeds = [str(seed) for seed, s in zip(seeds, still) if s]
        halves.append("still falling in " + (f"seed{'s' if len(falling_seeds) > 1 else ''} "
                                             f"{' and '.join(falling_seeds)}" if falling_seeds else "no seed")
                      + f" of {len(seeds)}")
        verdict = "partly: " + "; ".join(halves)
    return Verdict(claim, "stated in words (the learning curve)", ours, verdict, measure,
                   (("lr_sweep", "lr 0.0001"), SMALL), ours)


def epochs_to_reach(result, target):
    """At the mean fall per epoch of the last quarter of one seed's epochs, how many more epochs until its test loss
    reaches ``target`` (0 when it is there; None when it does not fall)."""
    per_epoch = fall_per_epoch(result["history"])
    loss = result["history"][-1]["test_loss"]
    if loss <= target:
        return 0
    if per_epoch <= 0:
        return None
    return math.ceil(math.log(target / loss) / math.log(1 - per_epoch))


def sgd_would_learn(summary):
    """SGD "would learn with more epochs (its curve still falls)": still falling (:func:`falling`) in each seed, and
    at its last quarter's rate it reaches Adam's test loss within REACH_FACTOR times the epochs it ran."""
    claim = "SGD would learn with more epochs (its curve still falls)"
    measure = (f"still falling in each seed (the least-squares fall over the last quarter of the epochs above "
               f"{TREND_NOISE:g} x the epoch-to-epoch noise around it); and, at that rate, Adam's (lr 0.001) test "
               f"loss reached within {REACH_FACTOR} x the epochs run")
    run, adam = summary.get("optimizers", "SGD"), summary.get(*SMALL)
    if run is None or adam is None or trend(run.first.get("history") or []) is None:
        return Verdict(claim, "", "", "not run", measure)
    still = [falling(r["history"]) for r in run.results]
    target = adam.stat("test_loss").mean
    needed = [epochs_to_reach(r, target) for r in run.results]
    ran = len(run.first["history"])
    per_epoch = Stat([fall_per_epoch(r["history"]) for r in run.results])
    lower = [sum(b["test_loss"] < a["test_loss"] for a, b in zip(r["history"], r["history"][1:])) for r in run.results]
    ours = (f"{'/'.join(map(str, lower))} of its {ran - 1} epochs after the first lowered its test loss; over the last "
            f"quarter it fell by {percent(per_epoch, None)} an epoch; at that rate Adam's test loss ({fmt(target)}) "
            "is " + ("/".join("never" if n is None else str(n) for n in needed)) + " epochs away; "
            + "; ".join(trend_text(r) for r in run.results))
    if not all(still):
        verdict = "disagrees: " + ", ".join(trend_text(r) for r, s in zip(run.results, still) if not s)
    elif all(n is not None and n <= REACH_FACTOR * ran for n in needed):
        verdict = "agrees"
    else:
        verdict = (f"partly: it still falls, by {percent(per_epoch, None)} an epoch: at that rate about "
                   f"{max(n for n in needed if n is not None):,} more epochs to reach Adam's test loss")
    return Verdict(claim, "stated in words (the learning curve)", ours, verdict, measure,
                   (("optimizers", "SGD"), SMALL), ours)


def psnr_gain(run):
    """Over seeds: how many dB the run's test PSNR lies above its baseline's (for the denoiser, the noisy input)."""
    return Stat([r["metrics"]["psnr"] - r["references"]["baseline"]["psnr"] for r in run.results])


def explained_variance(run):
    """Over seeds: 1 - the run's test MSE / its baseline's (for the VAE, the training-set mean image's)."""
    return Stat([1 - r["metrics"]["mse"] / r["references"]["baseline"]["mse"] for r in run.results])


def denoiser_fairly_good_not_sharp(summary):
    claim = "the denoiser is fairly good but not sharp"
    measure = (f"PSNR at least {GOOD_DB:g} dB above the noisy input's, and {SHARPNESS} below {SHARP_SHARE:.0%}, "
               f"{BEYOND}")
    run = summary.get("denoise", "denoise")
    if not has_measure(run, "sharpness_half"):
        return Verdict(claim, "", "", "not run", measure)
    gain = psnr_gain(run)
    share = share_of_truth(run, "sharpness_half")
    found = [versus(gain, GOOD_DB), versus(share, SHARP_SHARE)]
    restored = run.stat("metrics.restored_share")
    ours = (f"PSNR {run.stat('metrics.psnr')} dB vs the noisy input's {run.reference('baseline', 'psnr')} "
            f"(gain {gain} dB); {SHARPNESS} {percent(share)}"
            + (f"; dotted pixels restored (within 0.1 of the clean value): {percent(restored)}" if restored else ""))
    return Verdict(claim, "stated in words; the table's cells are empty", ours, verdict_of(found, ["above", "below"]),
                   measure, (("denoise", "denoise"),), f"PSNR gain {gain} dB, sharpness {percent(share)} of the truth's")


def vae_scale(summary):
    claim = (f"scale check, not a finding (the loss reduction was chosen to match the report's scale): the beta-VAE's "
             f"test loss is within a factor of {VAE_FACTOR} of the report's")
    measure = (f"test loss (summed over pixels) between 1/{VAE_FACTOR} and {VAE_FACTOR} times the report's; the "
               "loss reduction (summed MSE) was chosen to match the report's scale, so this checks the scale only")
    vae = loss(summary, "vae_fruits", "beta-VAE")
    if vae is None:
        return Verdict(claim, "", "", "not run", measure)
    report_vae = reported("vae_fruits", "beta-VAE")
    ratio = vae.mean / report_vae.test_loss
    within = 1 / VAE_FACTOR <= ratio <= VAE_FACTOR
    return Verdict(claim, report_vae.test, f"{vae} (ratio {ratio:.2f})", "agrees" if within else "disagrees",
                   measure, (("vae_fruits", "beta-VAE"),), f"ratio {ratio:.2f}")


def vae_acceptable(summary):
    claim = "the beta-VAE reconstructs the fruits acceptably"
    measure = (f"test reconstructions: share of the pixel variance around the training-set mean image explained, "
               f"1 - MSE / MSE of the mean image, at least {ACCEPTABLE:.0%}; and of the variance of the fruits' mean "
               f"colours (a*, b*) over the test images, at least {ACCEPTABLE:.0%}, {BEYOND}")
    run = summary.get("vae_fruits", "beta-VAE")
    if not has_measure(run, "mse"):
        return Verdict(claim, "", "", "not run", measure)
    explained = explained_variance(run)
    colour = run.stat("metrics.colour_explained")
    ours = (f"per-pixel MSE {run.stat('metrics.mse')} vs the training-set mean image's "
            f"{run.reference('baseline', 'mse')}: {percent(explained)} of the variance explained; SSIM "
            f"{run.stat('metrics.ssim')} vs {run.reference('baseline', 'ssim')}"
            + (f"; each fruit's mean colour: {percent(colour)} of its variance over the test images explained"
               if colour else ""))
    shape = verdict_of([versus(explained, ACCEPTABLE)], ["above"])
    verdict = shape
    if colour is not None:
        hue = verdict_of([versus(colour, ACCEPTABLE)], ["above"])
        if hue != shape:
            said = {"agrees": "yes", "disagrees": "no", "within noise": "within noise"}
            verdict = f"partly: the pixels (shape, position) {said[shape]}, each fruit's colour {said[hue]}"
    return Verdict(claim, "stated in words", ours, verdict, measure, (("vae_fruits", "beta-VAE"),),
                   f"{percent(explained)} of the pixel variance explained"
                   + (f", {percent(colour)} of the fruits' colour variance" if colour else ""))


REGRESSION, PLAIN, CLASSES = "ab regression (L2)", "classification, not rebalanced", "classification (annealed mean)"


def ablation_line(run, label=None):
    """A colour-classification ablation run's deciding numbers, over seeds."""
    return (f"{label or run.run}: chroma {run.stat('metrics.chroma')}, colourfulness "
            f"{run.stat('metrics.colourfulness')}, AuC {run.stat('metrics.auc')} (rebalanced "
            f"{run.stat('metrics.auc_rebalanced')}), MSE {run.stat('metrics.mse')}")


def classification_is_more_colourful(summary):
    """Judged like with like: the rebalanced classification against the a*b* regression on the same blocks, both
    decoded onto the input's lightness (the report's MSE net redraws its own lightness: it is no fair comparison)."""
    claim = "colour classification gives brighter, more saturated colour than MSE"
    measure = (f"like with like: the rebalanced classification against the a*b* regression with an L2 loss (the "
               f"paper's Table 1), both on the input's lightness; saturation: Lab mean chroma higher, {BEYOND}; "
               "'brighter' cannot differ: both keep the input's lightness")
    classes, regression = summary.get("color_classes", CLASSES), summary.get("color_classes", REGRESSION)
    if not all(has_measure(run, "auc_rebalanced") for run in (classes, regression)):
        return Verdict(claim, "", "", "not run", measure)
    truth = classes.first["references"]["truth"]
    ours = (f"{ablation_line(classes, 'classification (rebalanced)')}; {ablation_line(regression)}; the truth: "
            f"chroma {fmt(truth['chroma'])}, colourfulness {fmt(truth['colourfulness'])}")
    chroma = relation(classes.stat("metrics.chroma"), regression.stat("metrics.chroma"))
    found = verdict_of([chroma], ["above"])
    return Verdict(claim, "stated in words; not built in the report", ours,
                   f"{found} on saturation; brightness: the same lightness by construction", measure,
                   (("color_classes", CLASSES), ("color_classes", REGRESSION)),
                   f"chroma {classes.stat('metrics.chroma')} vs the a*b* regression's "
                   f"{regression.stat('metrics.chroma')}")


def higher_or_lower(a, b):
    """"higher", "lower" or "within noise": Stat ``a`` against ``b``."""
    return {"above": "higher", "below": "lower"}.get(relation(a, b), "within noise")


def rebalancing_shape(summary):
    """The paper's ablation in one line: what rebalancing and classification change (chroma, AuCs, MSE)."""
    runs = [summary.get("color_classes", name) for name in (REGRESSION, PLAIN, CLASSES)]
    if not all(has_measure(run, "auc_rebalanced") for run in runs):
        return None
    regression, plain, classes = runs
    parts = []
    for key, label in (("chroma", "chroma"), ("auc_rebalanced", "rebalanced AuC"), ("auc", "raw AuC"),
                       ("mse", "MSE")):
        stats = [run.stat(f"metrics.{key}") for run in runs]
        parts.append(f"{label} {' / '.join(map(str, stats))} ({higher_or_lower(stats[2], stats[0])} than the "
                     f"regression's, {higher_or_lower(stats[2], stats[1])} than unrebalanced classification's)")
    return Shape("The paper's ablation on our blocks (a*b* regression / classification / rebalanced "
                 "classification, all on the input's lightness): " + "; ".join(parts) + ".", ("color_classes",))


def ratio_word(ratio):
    """"15.6 x" or "level" (within 10 %) for a ratio of two losses."""
    return "level" if abs(ratio - 1) <= 0.1 else f"{ratio:.2g} x"


@dataclass
class Shape:
    """A line on where the pattern of the report's numbers and of ours differ or agree, and the experiments it is
    about (REPORT.md prints it in their sections; under "What we found" when it is about none, or is a
    disagreement the reader must not miss: ``found``)."""
    text: str
    experiments: tuple
    found: bool = False


def shapes(summary):
    """Where the shape of the report's numbers and of ours differ or agree, beyond its stated conclusions: one
    computed :class:`Shape` each (the report's side from its printed numbers, ours from the runs' means)."""
    lines = []

    def mean(experiment, run, key="test_loss"):
        found = summary.get(experiment, run)
        stat = found.stat(key) if found else None
        return stat.mean if stat else None

    small, tenfold = mean(*SMALL), mean("lr_sweep", "lr 0.01")
    if small and tenfold:
        theirs = reported("lr_sweep", "lr 0.01").test_loss / reported(*SMALL).test_loss
        words = ratio_word(theirs), ratio_word(tenfold / small)
        same = (words[0] == "level") == (words[1] == "level")
        lines.append(Shape(f"lr 0.01 against lr 0.001 (test loss): the report's {words[0]}, ours {words[1]}"
                           + ("." if same else ": a disagreement (the report's lr 0.01 run may be mislabelled: its "
                              "printed settings repeat lr 0.001's)."), ("lr_sweep",), found=not same))
    sweep = [r for r in summary.of("lr_sweep") if has_measure(r, "sharpness_half")]
    if len(sweep) > 1:
        shares = {r.run: share_of_truth(r, "sharpness_half") for r in sweep}
        sharpest = max(shares, key=lambda name: shares[name].mean)
        # the runs as sharp as the sharpest within noise (beyond one std over seeds; with one seed, none)
        level = [name for name in shares if name != sharpest and relation(shares[name], shares[sharpest]) != "below"]
        said = f"{sharpest}, within noise of {' and '.join(level)}" if level else sharpest
        lines.append(Shape("The report calls lr 0.001's pictures the sharpest of the sweep; ours: the sharpest is "
                           f"{said} (" + ", ".join(f"{name} {percent(stat)}" for name, stat in shares.items())
                           + " of the truth's half-resolution sharpness).", ("lr_sweep",)))
    unet = mean("unet", "unet")
    if unet and small:
        report = reported("unet", "unet").test_loss > reported(*SMALL).test_loss
        ours = relation(summary.get("unet", "unet").stat("test_loss"), summary.get(*SMALL).stat("test_loss"))
        lines.append(Shape(f"The U-net's test loss against the small net's: the report's "
                           f"{'above' if report else 'below'} ({reported('unet', 'unet').test} vs "
                           f"{reported(*SMALL).test}), ours {ours} ({fmt(unet)} vs {fmt(small)}).", ("unet",)))
    vae = summary.get("vae_fruits", "beta-VAE")
    if vae:
        numbers = reported("vae_fruits", "beta-VAE")
        gap = Stat([r["test_loss"] / r["train_loss"] - 1 for r in vae.results])
        lines.append(Shape(f"The beta-VAE's test loss above its train loss: the report's by "
                           f"{numbers.test_loss / numbers.train_loss - 1:.0%}, ours by {percent(gap)}.",
                           ("vae_fruits",)))
    ablation = rebalancing_shape(summary)
    if ablation:
        lines.append(ablation)
    colorize = [r for e in ("lr_sweep", "optimizers", "deep", "inception", "unet")
                for r in summary.of(e) if r.stat("train_loss")]
    if colorize:
        below = sum(r.stat("test_loss").mean < r.stat("train_loss").mean for r in colorize)
        theirs = [n for e in ("lr_sweep", "optimizers", "deep", "inception", "unet") for n in REPORTED[e].values()]
        report_below = sum(n.test_loss < n.train_loss for n in theirs)
        lines.append(Shape(f"Test loss below train loss (the train loss is the epoch's mean while the model "
                           f"learns): in {report_below} of the report's {len(theirs)} colorization rows, in {below} "
                           f"of our {len(colorize)}.", ()))
    return lines


NEAR_SAME = 0.1  # "near-identical whatever the input": predictions varying from image to image by under 10 % of
#                   the truth's variance (between_images)
NORMAL_TOL = 0.2  # latent codes "like N(0, 1)": every dimension's mean within 0.2 of 0 and sd within 0.2 of 1
RISE = 0.01  # a test loss "rising" after its best epoch: ending at least 1 % above its best
BLUR_SHARE = 0.25  # "blurs": half-resolution sharpness below a quarter of the truth's


def between_share(run):
    """Over seeds: how much the predictions differ from image to image, as a share of the truth's."""
    return Stat([r["metrics"]["between_images"] / r["references"]["truth"]["between_images"] for r in run.results])


def after_best(result):
    """One seed's ``(best epoch, the test loss's rise from its best to the end, the train loss's fall over the same
    epochs)``, the last two as shares."""
    history = result["history"]
    best = min(history, key=lambda h: h["test_loss"])
    last = history[-1]
    return best["epoch"], last["test_loss"] / best["test_loss"] - 1, 1 - last["train_loss"] / best["train_loss"]


def inception_reading(run):
    share, sharp = between_share(run), share_of_truth(run, "sharpness_half")
    blur = "blurs" if versus(sharp, BLUR_SHARE) == "below" else "pictures"
    same = versus(share, NEAR_SAME)
    text = (f"Its predictions are {blur} (half-resolution sharpness {percent(sharp)} of the truth's) that vary from "
            f"image to image by {percent(share, None)} of the truth's variance: "
            + ("near-identical whatever the input" if same == "below" else
               "they change with the input, in overall lightness and coarse layout at most" if blur == "blurs"
               else "they change with the input" if same == "above" else "about the edge of near-identical")
            + f" (under {NEAR_SAME:.0%}: near-identical).")
    turns = [after_best(r) for r in run.results]
    if all(rise >= RISE for _, rise, _ in turns):
        text += (" Its test loss is lowest at epoch " + "/".join(str(e) for e, _, _ in turns) + ", then rises by "
                 + "/".join(f"{rise:.0%}" for _, rise, _ in turns) + " to the end while its train loss falls by "
                 + "/".join(f"{fall:.0%}" for _, _, fall in turns) + ": the decoder overfits the training paintings.")
    return text


def denoise_reading(run):
    pixels = IMAGE_SIZE * IMAGE_SIZE
    dotted = Stat([r["references"]["baseline"]["corrupted"] / pixels for r in run.results])
    restored = run.stat("metrics.restored_share")
    off = Stat([math.sqrt(r["metrics"]["colour_err_sq"]) for r in run.results])
    noisy = Stat([math.sqrt(r["references"]["baseline"]["colour_err_sq"]) for r in run.results])
    return (f"The noise: each image gets its own share of black or white dots, drawn from U({AMOUNT[0]:.0%}, "
            f"{AMOUNT[1]:.0%}); {percent(dotted, 1)} of the test pixels are more than 0.2 off the clean value. "
            + (f"The dots go, but {percent(restored)} of the dotted pixels come back within 0.1 of the clean value; "
               if restored else "")
            + f"each image's mean colour lands {off} ab units from the clean image's (RMS), the noisy input's "
            f"{noisy}: " + {"higher": "the denoiser shifts the colours further than the dots do.",
                            "lower": "the denoiser brings the colours closer than the dots left them."}.get(
                                higher_or_lower(off, noisy), "within noise of the noisy input's."))


def vae_reading(run):
    latent = [r.get("readings") for r in run.results]
    lines = []
    if all(latent):
        sd = Stat([x["encoder_sd"] for x in latent])
        spread = Stat([float(np.median(x["mu_sd"])) for x in latent])
        lines.append(f"The encoder's sd (median) {sd} against the codes' spread over the test set (median sd of mu "
                     f"{spread}): the noise q(z|x) adds is {spread.mean / sd.mean:.0f} x smaller than the codes' "
                     "spread, so the noisy-codes figure's third row changes nothing visible.")
        first = latent[0]
        normal = all(abs(m) <= NORMAL_TOL and abs(sd - 1) <= NORMAL_TOL
                     for m, sd in zip(first["mu_mean"], first["mu_sd"]))
        lines.append(f"The codes (seed {run.first['settings']['seed']}) are {'' if normal else 'not '}N(0, 1): per "
                     f"dimension mean {', '.join(f'{m:+.2f}' for m in first['mu_mean'])}, sd "
                     f"{', '.join(f'{s:.2f}' for s in first['mu_sd'])}; so the samples are drawn from the codes' "
                     "histogram, each dimension on its own, as the report did.")
        lines.append("Each traversal dimension, -2.5 to +2.5 sd, in the decoded fruit's mean colour: " + "; ".join(
            f"z[{d}] {traversal_words(*ends)}" for d, ends in enumerate(first["traversal_lab"])) + ".")
    if trend(run.first.get("history") or []) is not None:
        still = [falling(r["history"]) for r in run.results]
        lines.append(f"At epoch {len(run.first['history'])} its test loss is still falling in {sum(still)} of "
                     f"{len(still)} seeds (" + "; ".join(trend_text(r) for r in run.results) + ").")
    return " ".join(lines)


TRAVERSAL_STEP = 5.0  # a change in mean L* or chroma (Lab units) a traversal is said to make; hue: 4 x that, in degrees


def traversal_words(start, end):
    """What a traversal changes between the decoded fruit's mean Lab colours at its two ends, in words: lightness,
    chroma and (between two colours of some chroma) the named hue: "lighter (L* 40 -> 62), greyer (chroma 45 -> 8)"."""
    (l0, a0, b0), (l1, a1, b1) = start, end
    c0, c1 = math.hypot(a0, b0), math.hypot(a1, b1)
    words = []
    if abs(l1 - l0) >= TRAVERSAL_STEP:
        words.append(f"{'lighter' if l1 > l0 else 'darker'} (L* {l0:.0f} -> {l1:.0f})")
    if abs(c1 - c0) >= TRAVERSAL_STEP:
        words.append(f"{'more colourful' if c1 > c0 else 'greyer'} (chroma {c0:.0f} -> {c1:.0f})")
    h0, h1 = (math.degrees(math.atan2(b, a)) for a, b in ((a0, b0), (a1, b1)))
    turn = abs((h1 - h0 + 180) % 360 - 180)
    if min(c0, c1) >= 2 * TRAVERSAL_STEP and turn >= 4 * TRAVERSAL_STEP:
        words.append(f"{tone_name(h0)} -> {tone_name(h1)} ({h0:.0f} -> {h1:.0f} degrees)")
    return ", ".join(words) or "little (mean colour within 5 Lab units)"


def readings(summary):
    """What the figures of the inception, denoising and VAE sections show, in numbers (a :class:`Shape` each)."""
    found = []
    for key, read in ((("inception", "inception"), inception_reading), (("denoise", "denoise"), denoise_reading),
                      (("vae_fruits", "beta-VAE"), vae_reading)):
        run = summary.get(*key)
        if run is not None and has_measure(run, "between_images"):
            text = read(run)
            if text:
                found.append(Shape(text, (key[0],)))
    return found


def best_colorizer(summary):
    """The colorizer whose colour alone scores best: the lowest per-image MSE on the input's lightness (what
    ``tbc-colorize`` outputs), those within noise of it ranked by the raw AuC. ``(run, line)``, or None when no
    colorizer was scored so."""
    runs = summary.distinct(lambda r: input_l_scored(r) and r.results[0]["status"] == "finished"
                            and math.isfinite(r.stat("metrics.mse_input_l").mean))
    if not runs:
        return None
    lowest = min(runs, key=lambda r: r.stat("metrics.mse_input_l").mean)
    tied = [lowest] + [r for r in runs if r is not lowest and relation(
        r.stat("metrics.mse_input_l"), lowest.stat("metrics.mse_input_l")) != "above"]
    best = max(tied, key=lambda r: r.stat("metrics.auc").mean)
    others = [r for r in tied if r is not best]
    line = (f"The best colour alone: {best.run} (per-image MSE on the input's lightness "
            f"{best.stat('metrics.mse_input_l')}"
            + ("; within noise of it: " + ", ".join(f"{r.run} {r.stat('metrics.mse_input_l')}" for r in others)
               + f"; of these the highest AuC, {best.stat('metrics.auc')}" if others else ", the lowest") + ").")
    return best, line


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
    """The report's conclusions, each checked against ``summary``, in the report's order."""
    inception = pairwise(summary, "the frozen-inception net's test loss is above the small net's",
                         ("inception", "inception"), SMALL, "above")
    run = summary.get("inception", "inception")
    if run and run.not_pretrained and inception.verdict != "not run":
        above = {"agrees": "above", "disagrees": "below"}.get(inception.verdict, "within noise of")
        inception.verdict = (f"not comparable: our encoder is random, not ImageNet-pretrained (for the record, its "
                             f"test loss is {above} the small net's)")
    found = [
        extreme_of_sweep(summary, "lowest", "lr 0.001", "lr 1e-3 has the lowest test loss of the sweep"),
        extreme_of_sweep(summary, "highest", "lr 0.1", "lr 1e-1 is the worst of the sweep"),
        flat_colour(summary),
        learns_slowly(summary),
        adam_beats_the_others(summary),
        barely_learn(summary),
        sgd_would_learn(summary),
        pairwise(summary, "the deep net's test loss is above the small net's", ("deep", "deep"), SMALL, "above"),
        deep_is_blurrier(summary),
        inception,
        unet_is_sharper(summary),
        denoiser_fairly_good_not_sharp(summary),
        vae_scale(summary),
        vae_acceptable(summary),
        brown_cast(summary),
        classification_is_more_colourful(summary),
    ]
    one_seed = summary.seeds_per_run() <= 1
    for verdict in found:
        verdict.verdict += unstable_note(summary, verdict.runs)
        if one_seed and verdict.verdict != "not run":
            verdict.verdict += f" ({ONE_SEED.split(':')[0]})"
            verdict.measure = verdict.measure.replace(BEYOND, ONE_SEED)
    return found


COLOUR_TASKS = ("colorize", "colorize-inception", "color-classes")  # those scored on the input's lightness too


def input_l_scored(run):
    """Whether ``run`` colorizes, so that its colour on the input's lightness is scored."""
    return run.first["settings"].get("task") in COLOUR_TASKS and run.stat("metrics.mse_input_l") is not None


def baseline_cell(run, key="mse"):
    """Whether ``run``'s test ``key`` (the per-image MSE as trained, or ``mse_input_l``) is below its baseline's:
    yes / no / within noise ("—": no metrics)."""
    mse = run.stat(f"metrics.{key}")
    if mse is None:
        return "—"
    base = run.reference("baseline", key)
    return {"below": "yes", "above": "no", "within noise": "within noise"}[relation(mse, base)]


def colour_finding(summary, compared=COLORIZERS):
    """The page's finding in one line, computed: how many of the ``compared`` colorizers ((experiment, run) keys)
    beat the gray copy's per-image MSE as trained and with their colour on the input's lightness; what the
    rebalanced classification buys (colour) and costs (MSE) against the a*b* regression. None when not run."""
    runs = [run for run in (summary.get(*key) for key in compared) if run is not None and input_l_scored(run)]
    if not runs:
        return None
    gray = runs[0].reference("baseline", "mse")
    trained = [r for r in runs if baseline_cell(r) == "yes"]
    kept = [r for r in runs if baseline_cell(r, "mse_input_l") == "yes"]
    shares = [r.stat("metrics.mse_input_l").mean / gray.mean - 1 for r in runs]
    best = min(runs, key=lambda r: r.stat("metrics.mse").mean)
    line = (f"As trained, {len(trained)} of the {len(runs)} colorizers ({', '.join(r.run for r in runs)}) beat the "
            f"gray copy's per-image test MSE ({gray}; the best, {best.run}: {best.stat('metrics.mse')}): they redraw "
            f"the lightness through their bottleneck. With their colour on the input's lightness, {len(kept)} of "
            f"{len(runs)} beat it ({min(shares):+.0%} to {max(shares):+.0%} against it).")
    classes, regression = summary.get("color_classes", CLASSES), summary.get("color_classes", REGRESSION)
    if all(has_measure(run, "auc_rebalanced") for run in (classes, regression)):
        stats = {key: (classes.stat(f"metrics.{key}"), regression.stat(f"metrics.{key}"))
                 for key in ("colourfulness", "auc_rebalanced", "mse")}
        said = {key: f"{a} vs {b}, {higher_or_lower(a, b)}" for key, (a, b) in stats.items()}
        line += (" Colour classification (rebalanced) against the a*b* regression on the same blocks, both on the "
                 f"input's lightness: colourfulness {said['colourfulness']}; rebalanced AuC "
                 f"{said['auc_rebalanced']}; per-image MSE {said['mse']}.")
    return line


def baseline_checks(summary):
    """Beyond the report: does each distinct model (a run shown in several tables counts once) beat
    its baseline (the input copied, or the training-set mean image) on test MSE, as trained and (colorizers) with
    its colour on the input's lightness? ``[(run, cell as trained, cell on the input's L or None)]``."""
    return [(run, baseline_cell(run), baseline_cell(run, "mse_input_l") if input_l_scored(run) else None)
            for run in summary.distinct(lambda run: run.stat("metrics.mse") is not None)]
