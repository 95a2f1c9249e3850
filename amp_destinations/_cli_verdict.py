"""How ``send --validate`` and ``runs show`` print a validation run's verdict: what a
full send would do, how each row of the sample fared, and what to run next."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from . import _display as fmt
from ._cli_support import print_table
from ._terminal import echo

__all__ = ["print_verdict"]

# Up to this many sample rows are listed one by one; beyond it, the accepted ones are
# counted and only the others listed (``--json`` has every row).
_LISTED = 25


def print_verdict(summary: Mapping[str, Any], destination: str, input: str | None) -> None:
    verdict = summary.get("verdict")
    if not verdict:
        return
    sample = verdict["sample"]
    echo(
        f"a full send would deliver {fmt.counted(verdict['would_deliver'], 'row')} and "
        f"reject {fmt.count(verdict['would_reject'])}"
        + (f" ({fmt.counts(verdict['rejected_by_code'])})" if verdict["rejected_by_code"] else "")
    )
    echo(
        f"sample: {fmt.counted(sample['sent'], 'test event')} sent, one per request: "
        f"{fmt.count(sample['accepted'])} accepted, {fmt.count(sample['refused'])} refused"
        + (f", {fmt.count(sample['unanswered'])} unanswered" if sample["unanswered"] else "")
    )
    rows = sample["rows"]
    listed = rows if len(rows) <= _LISTED else [r for r in rows if r["outcome"] != "accepted"]
    if listed:
        print_table(
            [
                [
                    fmt.count(r["row"]),
                    fmt.value(r["record_id"]),
                    r["outcome"],
                    r["code"] or "",
                    r["message"] or "",
                ]
                for r in listed
            ],
            ["ROW", "RECORD ID", "OUTCOME", "CODE", "MESSAGE"],
            indent="  ",
        )
    if len(listed) < len(rows):
        echo(f"  and {fmt.count(len(rows) - len(listed))} more accepted (--json lists each)")
    echo("verdict: " + _next_step(verdict, destination, input))


def _next_step(verdict: Mapping[str, Any], destination: str, input: str | None) -> str:
    sample = verdict["sample"]
    if verdict["ready"]:
        send = f"amp-dest send {shlex.quote(destination)}"
        if input:
            send += f" --input {shlex.quote(input)}"
        return f"ready: every test event was accepted; send it all with `{send}`"
    if not verdict["would_deliver"]:
        return "not ready: no row is valid, so nothing was sent; fix the rejects and validate again"
    if sample["refused"]:
        return (
            f"not ready: {fmt.count(sample['refused'])} of {fmt.count(sample['sent'])} test "
            "events were refused (see their messages); fix those rows and validate again"
        )
    return "not ready: the run ended before every test event was answered; validate again"
