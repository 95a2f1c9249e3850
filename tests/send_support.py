"""What the send tests share: rows for the recorder destination, a fast retry policy,
and reading a rejects file. The tests folder is not a package (pytest runs with
``--import-mode=importlib``), so the modules that use this put the folder on
``sys.path`` and import it by name."""

from __future__ import annotations

import csv

import amp_destinations as amp

FAST = amp.RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.01)


def rows(count, overrides=None):
    """Rows E1..E<count> with an email each; ``overrides`` maps a row number to the
    values to change in it."""
    out = []
    for i in range(1, count + 1):
        row = {"id": f"E{i}", "email": f"user{i}@example.com"}
        row.update((overrides or {}).get(i, {}))
        out.append(row)
    return out


def read_rejects(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def assert_counts_add_up(result):
    s = result.summary
    settled = s["delivered"] + s["rejected"] + s.get("already_sent", 0)
    assert s["rows_read"] == settled + s["pending"]
