"""The benchmark command (``--quick``: synthetic images, batch 4): every section there, every number finite and
positive, and the document rendered again from its JSON alone. No timing assertions."""
import json
import math
import re

import pytest

from experiments import bench

SECTIONS = ("## Summary", "## 1. Training images/s", "## 2. The small colorizer's weights", "## 3. The data path",
            "## 4. The inception experiment")


def positive_finite(value):
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "BENCH.md"
    # --quick at a quarter of its work: batches of 2, one a round (2 rounds still rotate the runners' order),
    # 4 JPEGs; every section is still measured and rendered
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench, "QUICK", dict(bench.QUICK, batch=2, steps=1, jpegs=4))
        results, text = bench.main(["--quick", "--out", str(out)])
    return results, text, out


@pytest.mark.slow
def test_quick_bench_writes_every_section_and_renders_again_from_its_json(quick):
    results, text, out = quick
    assert out.read_text() == text and bench.render(json.loads(out.with_suffix(".json").read_text())) == text
    for section in SECTIONS:
        assert section in text, section
    for model in ("small", "deep", "U-net", "denoise", "inception decoder", "beta-VAE"):
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


def test_the_committed_benchmarks_are_rendered_from_the_committed_numbers():
    root = bench.Path(__file__).resolve().parents[1]
    numbers = json.loads((root / "BENCHMARKS.json").read_text())
    assert bench.render(numbers) == (root / "BENCHMARKS.md").read_text()


def test_the_help_says_how_long_the_last_measurement_took():
    root = bench.Path(__file__).resolve().parents[1]
    minutes = json.loads((root / "BENCHMARKS.json").read_text())["seconds"] / 60
    said = re.search(r"Time on 2 CPU cores: about (\d+) min", bench.__doc__)
    assert said and abs(int(said.group(1)) - minutes) <= max(1, 0.2 * minutes), (said, minutes)
