"""The host's CPU work a row, counted in instructions: a figure that noise does not move.

    .venv/bin/python benchmarks/instructions.py [--rows 5000,25000]
        [--sent-index off,on,warm] [--index-keys 100000] [--json]

Events/s on a shared VM moved by 20% and more between two sends of the same code, in
either direction, which hides a cost of 5 to 10%. So this runs ``send.py``'s host client
under valgrind (``callgrind``, which counts the instructions a process executes, no
timing involved) against the emulator, once per row count and mode, and reports the
marginal instructions a row: (count at the larger row count - count at the smaller) /
(the difference in rows). Interpreter start, imports, and the ``warm`` mode's filling
of the index with --index-keys keys (the same at both row counts) cancel out; what is
left is what every row costs, the index's merge at the end of the run included.
Needs valgrind (Debian's ``valgrind`` package); a row costs 50 to 100 times longer
under it.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import send  # the benchmark whose client is counted


def instructions(spec: dict, work: Path) -> int:
    """The instructions the host client executes for one send of ``spec``."""
    out = work / "callgrind.out"
    completed = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            send.__file__,
            "--client",
            "host",
            json.dumps(spec),
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if completed.returncode != 0:
        raise SystemExit(f"the client failed under valgrind:\n{completed.stderr[-2000:]}")
    summary = re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE)
    if summary is None:
        raise SystemExit(f"no instruction count in {out}")
    out.unlink()
    return int(summary.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="5000,25000", help="two row counts, smaller first")
    parser.add_argument("--sent-index", default="off,on,warm")
    parser.add_argument("--index-keys", type=int, default=100_000, help="keys a warm index holds")
    parser.add_argument("--concurrency", type=int, default=send.DEFAULT_CONCURRENCY)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt install valgrind)")
    small, large = (int(value) for value in args.rows.split(","))
    modes = args.sent_index.split(",")
    counts: dict[str, dict[int, int]] = {mode: {} for mode in modes}
    with tempfile.TemporaryDirectory(prefix="amp-dest-instructions-") as folder:
        work = Path(folder)
        with send.EmulatorProcess(work) as emulator:
            for rows in (small, large):
                csv_path = send.input_csv(rows)
                for mode in modes:
                    emulator.reset()
                    spec = {
                        "csv": str(csv_path),
                        "base_url": emulator.base_url,
                        "sent_index": mode,
                        "index_keys": args.index_keys,
                        "home": str(work / f"home-{mode}-{rows}"),
                        "concurrency": args.concurrency,
                    }
                    counts[mode][rows] = instructions(spec, work)
                    if not args.json:
                        print(f"{mode} {rows:,} rows: {counts[mode][rows]:,} instructions")
    per_row = {mode: (c[large] - c[small]) / (large - small) for mode, c in counts.items()}
    results = {"rows": [small, large], "counts": counts, "instructions_per_row": per_row}
    if "off" in per_row:
        results["cost_over_off"] = {
            mode: value / per_row["off"] - 1 for mode, value in per_row.items() if mode != "off"
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for mode, value in per_row.items():
        extra = ""
        if "off" in per_row and mode != "off":
            extra = f"  ({results['cost_over_off'][mode]:+.1%} over off)"
        print(f"{mode}: {value:,.0f} instructions a row{extra}")


if __name__ == "__main__":
    main()
