"""The benchmark command (``--quick``: synthetic images, batch 4): every section there, every number finite and
positive, and the document rendered again from its JSON alone. No timing assertions."""
import json
import math
import re

import pytest

from experiments import bench
from torchbearer_colorize.training import prepare

SECTIONS = ("## Summary", "## 1. Training images/s", "## 2. The small colorizer's weights", "## 3. The data path",
            "## 4. The inception experiment", "## 6. --bf16 (bf16 autocast) vs fp32")
MODELS = ("small", "deep", "U-net", "denoise", "inception decoder", "beta-VAE")


def positive_finite(value):
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "BENCH.md"
    # --quick at a quarter of its work: batches of 2, one a round (2 rounds still rotate the runners' order),
    # 4 JPEGs; every section is still measured and rendered (bf16 too: an emulated one computes the same, slower)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench, "QUICK", dict(bench.QUICK, batch=2, steps=1, jpegs=4))
        patch.setattr(prepare, "native_bf16", lambda: True)
        results, text = bench.main(["--quick", "--out", str(out)])
    return results, text, out


@pytest.mark.slow
def test_quick_bench_writes_every_section_and_renders_again_from_its_json(quick):
    results, text, out = quick
    assert out.read_text() == text and bench.render(json.loads(out.with_suffix(".json").read_text())) == text
    for section in SECTIONS:
        assert section in text, section
    for model in MODELS:
        assert f"| {model}" in text
    assert "--quick" in text
    out.write_text("")
    assert bench.main(["--render", "--out", str(out)])[1] == text and out.read_text() == text


@pytest.mark.slow
def test_quick_bench_numbers_are_finite_and_positive(quick):
    results, text, _ = quick
    assert len(results["models"]) == 6
    for row in results["models"]:
        for key in ("trial", "hand", "ratio", "ratio_min", "ratio_max"):
            assert positive_finite(row[key]), (row["model"], key, row[key])
        for key in ("rate", "ratio", "ratio_min", "ratio_max"):  # every model at --bf16, beside its fp32 Trial
            assert positive_finite(row["bf16"][key]), (row["model"], key, row["bf16"])
    assert "bf16_skipped" not in results and positive_finite(bench.bf16_speedup(results))
    assert "| 6 | training images/s, --bf16 autocast / fp32, the Trial (worst model) | >= 1.5 |" in text
    assert [name for name, _ in results["variants"]] == ["defaults (channels_last, eager)",
                                                          "NCHW (channels_last=False)"]  # --quick: no --compile
    assert all(positive_finite(rate) for _, rate in results["variants"] + results["data"]["workers"])
    assert all(positive_finite(results["data"][key]) for key in ("decode", "cached", "gray"))
    inception = results["inception"]
    assert all(positive_finite(inception[k]) for k in ("encode", "with_cache", "without", "ratio"))
    assert inception["ratio"] > 1
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            for cell in line.strip("|").split("|"):
                assert not re.search(r"\b(nan|inf)\b", cell, re.IGNORECASE), line


def committed():
    return json.loads((bench.ROOT / "BENCHMARKS.json").read_text())


def test_the_bf16_section_is_met_at_1_5_for_every_model_and_says_when_it_was_skipped():
    """Section 6 as rendered from made-up numbers (the committed measurement's, each model given a bf16 ratio)."""
    numbers = committed()
    for row, ratio in zip(numbers["models"], (2.0, 1.8, 2.2, 1.9, 2.1, 1.49)):
        row["bf16"] = dict(rate=row["trial"] * ratio, ratio=ratio, ratio_min=ratio - 0.1, ratio_max=ratio + 0.1)
    text = bench.render(numbers)
    assert "| 6 | training images/s, --bf16 autocast / fp32, the Trial (worst model) | >= 1.5 | 1.49 (beta-VAE) | " \
           "**no** |" in text
    assert "Median over the models: 1.95." in text and bench.bf16_speedup(numbers) == pytest.approx(1.95)
    section = text.split("## 6. --bf16 (bf16 autocast) vs fp32", 1)[1]
    assert all(f"| {model}" in section for model in MODELS) and "| 2.00 (1.90-2.10) |" in section
    numbers["models"][-1]["bf16"].update(ratio=1.5)
    assert "| >= 1.5 | 1.50 (beta-VAE) | yes |" in bench.render(numbers)
    skipped = dict(committed(), bf16_skipped="--bf16 needs a GPU or a CPU with native bf16")
    skipped["models"] = [{k: v for k, v in row.items() if k != "bf16"} for row in skipped["models"]]
    text = bench.render(skipped)
    assert "| 6 | training images/s, --bf16 autocast / fp32 | >= 1.5 | skipped | skipped |" in text
    assert "## 6. --bf16 (bf16 autocast) vs fp32\n\nSkipped: --bf16 needs a GPU or a CPU with native bf16." in text
    assert bench.bf16_speedup(skipped) is None


def test_the_committed_benchmarks_are_rendered_from_the_committed_numbers():
    root = bench.Path(__file__).resolve().parents[1]
    numbers = json.loads((root / "BENCHMARKS.json").read_text())
    assert bench.render(numbers) == (root / "BENCHMARKS.md").read_text()


def test_the_help_says_how_long_the_last_measurement_took():
    root = bench.Path(__file__).resolve().parents[1]
    minutes = json.loads((root / "BENCHMARKS.json").read_text())["seconds"] / 60
    said = re.search(r"Time on 2 CPU cores: about (\d+) min", bench.__doc__)
    assert said and abs(int(said.group(1)) - minutes) <= max(1, 0.2 * minutes), (said, minutes)
