"""The ``amp-dest`` commands: plugins, credentials, destinations, send, runs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from . import _display as fmt
from . import _match_keys as match_keys
from ._cli_completion import (
    RegisteredChoice,
    credential_names,
    destination_names,
    run_ids,
    type_names,
)
from ._cli_hints import renewal_hint
from ._cli_schema import schema_help
from ._cli_support import (
    EXIT_FAILED,
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_NOT_READY,
    EXIT_TERMINATED,
    CliError,
    _print_json,
    _state,
    json_option,
    print_table,
    read_secrets,
)
from ._cli_verdict import print_verdict
from ._defaults import DEFAULT_CONCURRENCY, DEFAULT_SAMPLE, MAX_SAMPLE
from ._names import check_name
from ._terminal import echo

if TYPE_CHECKING:  # for annotations only: importing them costs nothing at run time
    from ._host import SaveResult
    from ._records import CredentialInfo, RunResult
    from ._results import ConnectionStatus

__all__ = ["add_commands"]

set_option = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="A setting or non-secret field; repeat for more.",
)


# plugins ---------------------------------------------------------------------------


@click.group()
def plugins():
    """What plugins loaded, and what they registered."""


@plugins.command("list")
@click.option(
    "--verify",
    is_flag=True,
    help="Also import every class the plugins registered by path, report each that fails, "
    "and exit 1 if any plugin failed.",
)
@json_option
@click.pass_context
def plugins_list(ctx, verify, as_json):
    """List plugins with their distribution, version, registrations and load errors."""
    registry = _state(ctx).registry
    if verify:
        registry.verify()
    infos = registry.plugins
    if as_json:
        _print_json([info.to_dict() for info in infos])
        return
    for info in infos:
        origin = f"{info.distribution or '?'} {info.version or ''}".strip()
        echo(f"{info.name}  ({info.source}: {origin})")
        for kind, names in sorted(info.registered.items()):
            echo(f"    {kind.replace('_', ' ')}: {', '.join(names)}")
        if info.error:
            echo(f"    FAILED TO LOAD: {info.error}")
    if verify and registry.errors:
        ctx.exit(EXIT_FAILED)


# credentials -----------------------------------------------------------------------


@click.group()
@click.pass_context
def credentials(ctx):
    """Credentials: secrets go to the system keyring, the rest to the database."""
    # Said when a credentials command opens the host: not for --help, which opens none.
    _state(ctx).warn_insecure_keyring = True


def _unset_secret(record: CredentialInfo, field: str) -> str:
    """A required secret that is not set is missing; an optional one is only not set."""
    return "MISSING (required)" if field in record.missing_secrets else "not set"


def _show_credential(record: CredentialInfo) -> None:
    echo(f"{record.name}  type: {record.type}")
    for key, value in sorted(record.fields.items()):
        echo(f"    {key}: {fmt.value(value)}")
    for field, source in sorted(record.secrets.items()):
        echo(f"    {field}: {f'set ({source})' if source else _unset_secret(record, field)}")
    if record.facts:  # what an authorization said about the account
        echo("    facts:")
        for key, value in sorted(record.facts.items()):
            echo(f"        {key}: {fmt.value(value)}")


@credentials.command("add")
@click.argument("name")
@click.option(
    "--type",
    "type_name",
    required=True,
    help="Credential type, see `amp-dest plugins list`.",
    shell_complete=type_names("credential_types"),
)
@set_option
@click.option(
    "--secret",
    "ask",
    multiple=True,
    metavar="FIELD",
    help="Also prompt for this optional secret field.",
)
@click.option(
    "--secrets-stdin",
    is_flag=True,
    help='Read secret fields as one JSON object from stdin, e.g. {"token": "..."}.',
)
@json_option
@click.pass_context
def credentials_add(ctx, name, type_name, sets, ask, secrets_stdin, as_json):
    """Add a credential. Secret fields are prompted for (hidden) or read from stdin."""
    check_name(name, "credential")  # before any secret is asked for
    host = _state(ctx).host
    host.store.refuse_taken("credential", name)  # so is a name that is taken
    credential_type = host.registry.credential_type(type_name)
    from ._schemas import parse_assignments  # marshmallow: not for --help

    fields = parse_assignments(credential_type.schema, sets, f"credential {name}")
    secrets = read_secrets(ctx, credential_type, name, secrets_stdin, ask)
    record = host.add_credential(name, type_name, fields, secrets)
    if as_json:
        _print_json(record.to_dict())
    else:
        echo(f"added credential {name}")
        _show_credential(record)


@credentials.command("update")
@click.argument("name", shell_complete=credential_names)
@set_option
@click.option(
    "--secret",
    "ask",
    multiple=True,
    metavar="FIELD",
    help="Prompt for a new value of this secret field.",
)
@click.option("--secrets-stdin", is_flag=True, help="Read new secret values as JSON from stdin.")
@json_option
@click.pass_context
def credentials_update(ctx, name, sets, ask, secrets_stdin, as_json):
    """Change fields (--set) or secrets (--secret FIELD, --secrets-stdin) of a credential."""
    host = _state(ctx).host
    record = host.store.credential(name)
    credential_type = host.registry.credential_type(record["type"])
    from ._schemas import parse_assignments  # marshmallow: not for --help

    fields = parse_assignments(credential_type.schema, sets, f"credential {name}")
    secrets = {}
    if ask or secrets_stdin:
        secrets = read_secrets(ctx, credential_type, name, secrets_stdin, ask, required_only=False)
    record = host.update_credential(name, fields, secrets)
    if as_json:
        _print_json(record.to_dict())
    else:
        echo(f"updated credential {name}")
        _show_credential(record)


@credentials.command("list")
@json_option
@click.pass_context
def credentials_list(ctx, as_json):
    """List credentials (which secrets are set, never their values)."""
    records = _state(ctx).host.credentials()
    if as_json:
        _print_json([record.to_dict() for record in records])
        return
    if not records:
        echo("no credentials; add one with `amp-dest credentials add NAME --type TYPE`")
        return
    print_table(
        [
            [
                r.name,
                r.type,
                ", ".join(
                    f"{field}={source or _unset_secret(r, field)}"
                    for field, source in sorted(r.secrets.items())
                ),
            ]
            for r in records
        ],
        ["NAME", "TYPE", "SECRETS"],
    )


@credentials.command("show")
@click.argument("name", shell_complete=credential_names)
@json_option
@click.pass_context
def credentials_show(ctx, name, as_json):
    """Show a credential's fields and where each secret comes from."""
    record = _state(ctx).host.credential(name)
    _print_json(record.to_dict()) if as_json else _show_credential(record)


@credentials.command("remove")
@click.argument("name", shell_complete=credential_names)
@click.pass_context
def credentials_remove(ctx, name):
    """Remove a credential and its keyring entries."""
    _state(ctx).host.remove_credential(name)
    echo(f"removed credential {name}")


# destinations ----------------------------------------------------------------------


@click.group()
def destinations():
    """Configured destinations: add, test, inspect."""


def _print_status(status: ConnectionStatus) -> None:
    for check in status.checks:
        mark = "ok  " if check.ok else "FAIL"
        echo(f"  [{mark}] {check.name}" + (f": {check.message}" if check.message else ""))
        if not check.ok and check.hint:
            echo(f"         hint: {check.hint}")


def _report_save(verb: str, name: str, result: SaveResult, as_json: bool) -> None:
    if as_json:
        _print_json(result.to_dict())
        return
    if result.status is None:
        echo(
            f"{verb} destination {name} without testing the connection "
            "(remote settings were not applied)"
        )
    else:
        echo(f"connection test passed for {name}:")
        _print_status(result.status)
        echo(f"{verb} destination {name}")
    for message in result.messages:
        echo(f"  applied: {message}")


@destinations.command("add")
@click.argument("name")
@click.option(
    "--type",
    "type_name",
    required=True,
    help="Destination type, see `amp-dest plugins list`.",
    shell_complete=type_names("destinations"),
)
@click.option(
    "--credential",
    help="The credential to use (`amp-dest credentials list`).",
    shell_complete=credential_names,
)
@set_option
@click.option("--no-test", is_flag=True, help="Save without testing the connection.")
@json_option
@click.pass_context
def destinations_add(ctx, name, type_name, credential, sets, no_test, as_json):
    """Add a destination; its connection is tested before it is saved."""
    host = _state(ctx).host
    destination_cls = host.registry.destination(type_name)
    from ._schemas import parse_assignments  # marshmallow: not for --help

    settings = parse_assignments(destination_cls.settings_schema, sets, f"settings for {name}")
    from ._cli_choices import complete_choices

    settings = complete_choices(host, destination_cls, credential, settings)
    result = host.add_destination(name, type_name, credential, settings, test=not no_test)
    _report_save("added", name, result, as_json)


@destinations.command("update")
@click.argument("name", shell_complete=destination_names)
@click.option("--credential", help="Switch to another credential.", shell_complete=credential_names)
@set_option
@click.option("--no-test", is_flag=True, help="Save without testing the connection.")
@json_option
@click.pass_context
def destinations_update(ctx, name, credential, sets, no_test, as_json):
    """Change settings (--set KEY=VALUE; KEY= clears) or the credential."""
    host = _state(ctx).host
    record = host.store.destination(name)
    destination_cls = host.registry.destination(record["type"])
    from ._schemas import parse_assignments  # marshmallow: not for --help

    settings = parse_assignments(destination_cls.settings_schema, sets, f"settings for {name}")
    result = host.update_destination(name, settings, credential=credential, test=not no_test)
    _report_save("updated", name, result, as_json)


@destinations.command("list")
@json_option
@click.pass_context
def destinations_list(ctx, as_json):
    """List configured destinations."""
    records = _state(ctx).host.destinations()
    if as_json:
        _print_json([record.to_dict() for record in records])
        return
    if not records:
        echo("no destinations; add one with `amp-dest destinations add NAME --type TYPE`")
        return
    print_table(
        [[r.name, r.type, fmt.value(r.credential), fmt.when(r.updated_at)] for r in records],
        ["NAME", "TYPE", "CREDENTIAL", "UPDATED"],
    )


@destinations.command("show")
@click.argument("name", shell_complete=destination_names)
@json_option
@click.pass_context
def destinations_show(ctx, name, as_json):
    """Show a destination's settings (defaults included)."""
    record = _state(ctx).host.destination_info(name)
    if as_json:
        _print_json(record.to_dict())
        return
    echo(f"{record.name}  type: {record.type}  credential: {fmt.value(record.credential)}")
    for key, value in sorted(record.settings.items()):
        echo(f"    {key}: {fmt.value(value)}")


@destinations.command("remove")
@click.argument("name", shell_complete=destination_names)
@click.pass_context
def destinations_remove(ctx, name):
    """Remove a destination (its run history stays)."""
    _state(ctx).host.remove_destination(name)
    echo(f"removed destination {name}")


@destinations.command("forget")
@click.argument("name", shell_complete=destination_names)
@click.option(
    "--before",
    metavar="DATE",
    help="Only what was sent before this date or time (ISO 8601; UTC unless it says).",
)
@json_option
@click.pass_context
def destinations_forget(ctx, name, before, as_json):
    """Clear a destination's sent-events index, so that later runs send those events
    again: all of it, or what was sent before DATE."""
    cutoff = None
    if before is not None:
        try:
            moment = datetime.fromisoformat(before)
        except ValueError:
            raise CliError(
                f"--before takes a date or time such as 2026-11-30 or 2026-11-30T12:00, "
                f"not {before!r}"
            ) from None
        cutoff = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    forgotten = _state(ctx).host.forget_sent(name, cutoff)
    if as_json:
        _print_json({"destination": name, "before": cutoff, "forgotten": forgotten})
        return
    since = f" sent before {before}" if before is not None else ""
    echo(f"forgot {fmt.counted(forgotten, 'sent event')}{since} of {name}")


@destinations.command("test")
@click.argument("name", shell_complete=destination_names)
@json_option
@click.pass_context
def destinations_test(ctx, name, as_json):
    """Test a destination's connection; exit 0 only when every check passed."""
    host = _state(ctx).host
    status = host.test_destination(name)
    if as_json:
        _print_json(status.to_dict())
    else:
        echo(f"connection test for {name}: {'passed' if status.ok else 'FAILED'}")
        _print_status(status)
    if not status.ok:
        renew = renewal_hint(host, name, status.failure)
        if renew:
            echo(f"amp-dest: error: {renew}", err=True)
        ctx.exit(EXIT_FAILED)


@destinations.command("schema")
@click.argument("type_name", metavar="TYPE", shell_complete=type_names("destinations"))
@json_option
@click.pass_context
def destinations_schema(ctx, type_name, as_json):
    """The settings of a destination type and the fields of its credential: what each
    is for and its rules; --json prints them as JSON Schema (secrets writeOnly)."""
    document = _state(ctx).host.schema(type_name)
    if as_json:
        _print_json(document)
    else:
        for line in schema_help(document).splitlines():
            echo(line)


# send ------------------------------------------------------------------------------


def _coverage(shares: dict[str, float]) -> str:
    return ", ".join(f"{label} {fmt.share(fraction)}" for label, fraction in shares.items())


def _seconds(seconds: float) -> str:
    return f"{seconds:,.2f}s"


def _rate(rows_per_second: float) -> str:
    return f"{fmt.count(round(rows_per_second))} rows/s"


def _print_summary(result: RunResult, input: str | None) -> None:
    s = result.summary
    validation = "verdict" in s
    if validation:
        counts = (
            f"{fmt.count(s['delivered'])} sent as test events and accepted, "
            f"{fmt.count(s['rejected'])} rejected, {fmt.count(s['not_sent'])} valid and not sent"
        )
    else:
        verb = "would deliver" if s.get("dry_run") else "delivered"
        counts = f"{fmt.count(s['delivered'])} {verb}, {fmt.count(s['rejected'])} rejected"
        if s.get("already_sent"):
            skip = "would skip" if s.get("dry_run") else "skipped"
            counts += f", {fmt.count(s['already_sent'])} already sent ({skip})"
    echo(
        f"{'validation ' if validation else ''}run {result.id} {result.status}: "
        f"{fmt.counted(s['rows_read'], 'row')} read, {counts}, "
        f"{fmt.count(s['pending'])} pending in {_seconds(s['elapsed_seconds'])} "
        f"({_rate(s['rows_per_second'])})"
    )
    if s.get("resend"):
        echo(
            f"  resent {fmt.counted(s['resent'], 'row')} that an earlier run had delivered "
            "(--resend)"
        )
    if s["rejected_by_code"]:
        echo(f"  rejected by reason: {fmt.counts(s['rejected_by_code'])}")
    if s["warnings_by_code"]:
        echo(f"  warnings: {fmt.counts(s['warnings_by_code'])}")
    echo(
        f"  batches: {fmt.count(s['batches'])}, requests: {fmt.count(s['requests'])}, "
        f"retries: {fmt.count(s['retries'])}"
    )
    if s.get("rate_limit_pauses"):
        echo(
            f"  rate limited {fmt.counted(s['rate_limit_pauses'], 'time')}: sends in flight "
            f"went down to {fmt.count(s['lowest_concurrency'])}"
        )
    if s["identifier_coverage"]:
        echo(f"  identifier coverage: {_coverage(s['identifier_coverage'])}")
    if any(s.get("match_keys", {}).values()):
        echo(f"  match keys per event: {match_keys.shares(s['match_keys'])}")
    _print_advice(s, "  ")
    if result.rejects_path:
        echo(f"  rejects file: {result.rejects_path}")
    if result.output_path:
        echo(f"  request bodies: {result.output_path}")
    print_verdict(s, result.destination, input)


@click.command()
@click.argument("name", required=False, shell_complete=destination_names)
@click.option(
    "--input",
    "input_path",
    type=click.Path(dir_okay=False),
    help="A CSV, TSV, JSON Lines or Parquet file, optionally .gz; its suffix tells the "
    "format, or --format does.",
)
@click.option(
    "--format",
    "format_name",
    type=RegisteredChoice("readers"),
    help="The input's format, when its suffix does not tell.",
)
@click.option(
    "--delimiter",
    metavar="CHAR",
    help="CSV/TSV: the character between fields when it is not ',' (CSV) or a "
    "tab (TSV), e.g. ';'; '\\t' is a tab.",
)
@click.option("--dry-run", is_flag=True, help="Do everything but send; write request bodies.")
@click.option(
    "--validate",
    is_flag=True,
    help="Check every row here, send only a sample as test events, and say what a "
    "full send would do.",
)
@click.option(
    "--sample",
    type=click.IntRange(1, MAX_SAMPLE),
    default=DEFAULT_SAMPLE,
    show_default=True,
    help="With --validate: the valid rows sent, spread across the input.",
)
@click.option(
    "--test-event-code",
    metavar="CODE",
    help="With --validate: the code that marks test events (else the destination's).",
)
@click.option("--rejects", type=click.Path(), help="Where to write rejected rows (a file).")
@click.option(
    "--output", type=click.Path(file_okay=False), help="Dry run: the folder for request bodies."
)
@click.option(
    "--resume",
    type=int,
    metavar="RUN_ID",
    help="Continue an unfinished run.",
    shell_complete=run_ids,
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Requests in flight at once; raise it for a remote system that "
    "answers slower than ~200 ms.",
)
@click.option("--batch-size", type=click.IntRange(1), help="Fewer items per request.")
@click.option(
    "--timeout",
    type=click.FloatRange(0.1),
    default=30.0,
    show_default=True,
    help="Seconds a request may take before it is retried.",
)
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option(
    "--resend",
    is_flag=True,
    help="Send events an earlier run delivered too, instead of skipping them.",
)
@json_option
@click.pass_context
def send(
    ctx,
    name,
    input_path,
    format_name,
    dry_run,
    rejects,
    output,
    resume,
    concurrency,
    batch_size,
    timeout,
    no_progress,
    as_json,
    delimiter,
    validate,
    sample,
    test_event_code,
    resend,
):
    """Send a file (CSV, TSV, JSON Lines or Parquet) through a destination, validate it
    first with --validate, or resume a run with --resume RUN_ID."""
    if resume is None and (not name or not input_path):
        raise CliError("give a destination and --input PATH, or --resume RUN_ID")
    source = ctx.get_parameter_source("sample")
    if not validate and (test_event_code is not None or source is ParameterSource.COMMANDLINE):
        raise CliError("--sample and --test-event-code go with --validate: add it")
    host = _state(ctx).host
    result = host.send(
        name,
        input=input_path,
        format=format_name,
        dry_run=dry_run,
        rejects=rejects,
        delimiter=delimiter,
        output=output,
        resume=resume,
        concurrency=concurrency,
        batch_size=batch_size,
        timeout=timeout,
        progress=not (as_json or no_progress) and sys.stderr.isatty(),
        validate=validate,
        sample=sample,
        test_event_code=test_event_code,
        resend=resend,
    )
    if as_json:
        _print_json(result.to_dict())
    else:
        _print_summary(result, input_path)
    from ._records import RunKind, RunStatus

    if result.status is RunStatus.SUCCEEDED:
        if result.kind is RunKind.VALIDATION and not result.summary["verdict"]["ready"]:
            ctx.exit(EXIT_NOT_READY)
        return
    if result.kind is RunKind.VALIDATION:
        if not as_json:
            echo(
                f"amp-dest: error: validation run {result.id} {result.status}: "
                f"{result.error}; validate again",
                err=True,
            )
    elif not as_json:
        resume = f"amp-dest send --resume {result.id}"
        if result.rejects_path and result.rejects_path in (result.error or ""):
            resume += " --rejects OTHER_FILE"  # the rejects file itself failed
        # The configured destination: on a resume, no name may have been given.
        sent_to = host.run(result.id).destination
        renew = renewal_hint(host, sent_to, result.summary.get("failure"))
        echo(
            f"amp-dest: error: run {result.id} {result.status}: {result.error}; "
            + (f"{renew}, then resume with `{resume}`" if renew else f"resume with `{resume}`"),
            err=True,
        )
    if result.summary.get("stopped_by") == "SIGTERM" and result.status is RunStatus.INTERRUPTED:
        ctx.exit(EXIT_TERMINATED)
    codes = {RunStatus.INTERRUPTED: EXIT_INTERRUPTED, RunStatus.INCOMPLETE: EXIT_INCOMPLETE}
    ctx.exit(codes.get(result.status, EXIT_FAILED))


def _print_advice(summary: dict, indent: str) -> None:
    """What send and runs show both end a summary with: the match-key warning and what
    the remote system said."""
    advice = match_keys.warning(summary)
    if advice:
        echo(f"{indent}warning: {advice}")
    for note in summary.get("remote_notes", []):
        echo(f"{indent}remote said: {note}")


# runs ------------------------------------------------------------------------------


@click.group()
def runs():
    """Run history."""


@runs.command("list")
@click.option(
    "--destination", help="Only runs of this destination.", shell_complete=destination_names
)
@click.option(
    "--kind",
    type=click.Choice(["send", "dry_run", "validation"]),
    help="Only runs of this kind.",
)
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@json_option
@click.pass_context
def runs_list(ctx, destination, kind, limit, as_json):
    """The latest runs, newest first."""
    records = _state(ctx).host.runs(destination, limit, kind=kind)
    if as_json:
        _print_json([record.to_dict() for record in records])
        return
    if not records:
        echo("no runs yet")
        return
    print_table(
        [
            [
                str(r.id),
                r.destination,
                r.kind.replace("_", " "),
                r.status,
                fmt.when(r.started_at),
                fmt.count(r.rows_read),
                fmt.count(r.delivered),
                fmt.count(r.rejected),
                fmt.count(r.already_sent),
                fmt.count(r.pending),
            ]
            for r in records
        ],
        [
            "ID",
            "DESTINATION",
            "KIND",
            "STATUS",
            "STARTED",
            "READ",
            "DELIVERED",
            "REJECTED",
            "SKIPPED",
            "PENDING",
        ],
    )


# What runs show prints of a run, in this order; the counts always, the rest when set.
_RUN_FIELDS = (
    "id",
    "destination",
    "destination_type",
    "kind",
    "status",
    "input",
    "format",
    "rows_read",
    "delivered",
    "rejected",
    "already_sent",
    "pending",
    "rejects_path",
    "output_path",
    "error",
)
_RUN_COUNTS = ("rows_read", "delivered", "rejected", "already_sent", "pending")
# The summary's figures runs show prints (when the run has them), each as send does.
_FIGURES: dict[str, Callable[[Any], str]] = {
    "rejected_by_code": fmt.counts,
    "warnings_by_code": fmt.counts,
    "identifier_coverage": _coverage,
    "match_keys": match_keys.shares,
    "retries": fmt.count,
    "batches": fmt.count,
    "requests": fmt.count,
    "requests_written": fmt.count,
    "not_sent": fmt.count,
    "resent": fmt.count,
    "rate_limit_pauses": fmt.count,
    "lowest_concurrency": fmt.count,
    "elapsed_seconds": lambda seconds: f"{seconds:,.2f}",
    "rows_per_second": lambda rate: fmt.count(round(rate)),
    "stopped_by": fmt.value,
}


@runs.command("show")
@click.argument("run_id", type=int, shell_complete=run_ids)
@json_option
@click.pass_context
def runs_show(ctx, run_id, as_json):
    """One run with its summary."""
    record = _state(ctx).host.run(run_id)
    if as_json:
        _print_json(record.to_dict())
        return
    for key in _RUN_FIELDS:
        value = getattr(record, key)
        if key in _RUN_COUNTS:
            echo(f"{key}: {fmt.count(value)}")
        elif value not in (None, ""):
            echo(f"{key}: {fmt.value(value)}")
    echo(f"started: {fmt.when(record.started_at)}  ended: {fmt.when(record.ended_at)}")
    summary = record.summary
    for key, shown in _FIGURES.items():
        if summary.get(key) not in (None, {}) and (
            (key != "lowest_concurrency" or summary.get("rate_limit_pauses"))
            and (key != "resent" or summary.get("resend"))
        ):
            echo(f"{key}: {shown(summary[key])}")
    if record.already_sent_rows:
        echo(f"already_sent rows: {fmt.ranges(record.already_sent_rows)}")
    _print_advice(summary, "")
    print_verdict(summary, record.destination, record.input)
    if summary.get("partitions"):
        _print_partitions(summary["partitions"])
    if record.attempts:
        echo("attempts:")
        print_table(
            [
                [
                    str(a.attempt),
                    a.status,
                    fmt.when(a.started_at),
                    fmt.when(a.ended_at),
                    fmt.count(a.rows_read),
                    fmt.count(a.delivered),
                    fmt.count(a.rejected),
                    fmt.count(a.batches),
                    fmt.count(a.retries),
                    a.error or "",
                ]
                for a in record.attempts
            ],
            [
                "#",
                "STATUS",
                "STARTED",
                "ENDED",
                "READ",
                "DELIVERED",
                "REJECTED",
                "BATCHES",
                "RETRIES",
                "ERROR",
            ],
        )


def _print_partitions(partitions: list[dict[str, Any]]) -> None:
    """A Spark run's partitions: each one's latest delivery, by which attempt (job) of
    the run and which try of its Spark task."""
    echo("partitions:")
    print_table(
        [
            [
                str(p["partition"]),
                p["status"],
                str(p["attempt"]),
                "" if p["task_attempt"] is None else str(p["task_attempt"]),
                fmt.count(p["rows_read"]),
                fmt.count(p["delivered"]),
                fmt.count(p["rejected"]),
                fmt.count(p["pending"]),
            ]
            for p in partitions
        ],
        ["PARTITION", "STATUS", "ATTEMPT", "TASK TRY", "READ", "DELIVERED", "REJECTED", "PENDING"],
    )


def add_commands(cli: click.Group) -> None:
    for command in (plugins, credentials, destinations, send, runs):
        cli.add_command(command)
