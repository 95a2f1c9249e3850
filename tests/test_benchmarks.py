"""The benchmark scripts still run and still measure correct work, on tiny inputs.

Only what they deliver and reject is checked, never how fast: timings are for
benchmarks/README.md, not for tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run(script: str, *args: str, tmp_path: Path) -> str:
    # The send benchmark writes its CSV under the temporary directory: keep it in tmp_path.
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def test_the_send_benchmark_delivers_what_the_emulator_accepts(tmp_path):
    results = json.loads(
        run(
            "send.py",
            "--rows",
            "3000",
            "--baseline-rows",
            "1000",
            "--concurrency",
            "1,4",
            "--profile",
            "--json",
            tmp_path=tmp_path,
        )
    )
    for concurrency in ("1", "4"):
        host = results["host"][concurrency]
        assert host["status"] == "succeeded"
        # make_events.py spoils 3.6% of its rows on purpose.
        assert (host["rows"], host["delivered"], host["rejected"]) == (3000, 2892, 108)
        assert host["emulator_accepted"] == host["delivered"]
        assert host["peak_mb"] > 0
    baseline = results["baseline"]
    assert (baseline["rows"], baseline["delivered"], baseline["rejected"]) == (1000, 964, 36)
    assert baseline["emulator_accepted"] == baseline["delivered"]
    warm = json.loads(
        run(
            "send.py",
            "--rows",
            "2000",
            "--baseline-rows",
            "0",
            "--sent-index",
            "warm",
            "--json",
            tmp_path=tmp_path,
        )
    )
    # An index holding other keys: every event looked up, none skipped.
    assert warm["host"]["24"]["delivered"] == warm["host"]["24"]["emulator_accepted"] == 1928
    stages, top = results["profile"]
    assert "prepare (plugin)" in stages and "total CPU of the send" in stages
    assert "ncalls" in top


@pytest.mark.parametrize(
    "script, args, expected",
    [
        ("readers.py", ("--rows", "2000", "--repeat", "1"), "events.csv values()"),
        ("prepare_tiktok.py", ("--rows", "2000"), "2,000 rows, best of 3"),
        ("sent_index.py", ("--keys", "4000", "--runs", "2"), "4,000 keys: database"),
    ],
)
def test_the_other_benchmarks_run(tmp_path, script, args, expected):
    assert expected in run(script, *args, tmp_path=tmp_path)


@pytest.mark.slow
def test_the_instruction_count_is_a_figure_a_row(tmp_path):
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed")
    results = json.loads(
        run(
            "instructions.py",
            *("--rows", "200,600", "--sent-index", "on", "--index-keys", "1000", "--json"),
            tmp_path=tmp_path,
        )
    )
    counts = results["counts"]["on"]
    # Interpreter start and imports (billions of instructions, the same at both row
    # counts) cancel out: what is left is tens of thousands of instructions a row.
    assert counts["600"] > counts["200"] > 1_000_000_000
    assert 10_000 < results["instructions_per_row"]["on"] < 1_000_000


@pytest.mark.spark
@pytest.mark.slow
def test_the_spark_benchmark_sends_what_one_process_sends(tmp_path):
    pytest.importorskip("pyspark", reason="the [spark] extra is not installed")
    results = json.loads(run("spark_send.py", "--rows", "2000", "--json", tmp_path=tmp_path))
    single, spark = results["single"], results["spark"]
    for measured in (single, spark):
        assert measured["status"] == "succeeded"
        assert measured["emulator_accepted"] == measured["delivered"]
    assert (spark["rows"], spark["delivered"], spark["rejected"]) == (
        single["rows"],
        single["delivered"],
        single["rejected"],
    )
    assert spark["partitions"] == 4
