"""The Send and Runs screens through Starlette's test client: a send, a dry run and a
validation started from a form, the run's page with its figures, live progress, Stop
and Resume, the rejects file, uploads deleted once their run ends, the history's
filters."""

from __future__ import annotations

import csv
import io
import re

import pytest


def write_input(tmp_path, count=30, bad=(4, 9)):
    lines = ["id,email"]
    for i in range(1, count + 1):
        lines.append(f"E{i}," + ("" if i in bad else f"user{i}@example.com"))
    path = tmp_path / "in.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_send_from_a_path_ends_on_its_run_page_with_its_figures(console, ready_host, tmp_path):
    path = write_input(tmp_path)
    answer = console.post("/send", {"destination": "rec", "input": str(path), "action": "send"})
    run = console.wait_for(console.run_id(answer))
    assert run.status == "succeeded"
    assert (run.rows_read, run.delivered, run.rejected) == (30, 28, 2)
    page = console.get(f"/runs/{run.id}").text
    assert "28 delivered, 2 rejected" in page
    assert "<code>email.missing</code>" in page  # rejects by reason
    assert '<meter min="0" max="1" value=' in page  # coverage drawn as a bar
    assert "Resume run" not in page  # it succeeded
    rejects = console.get(f"/runs/{run.id}/rejects")
    assert rejects.headers["content-type"].startswith("text/csv")
    assert "attachment" in rejects.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(rejects.text)))
    assert [row["row"] for row in rows] == ["4", "9"]


def test_a_dry_run_shows_the_request_bodies_it_wrote(console, ready_host, tmp_path):
    path = write_input(tmp_path, count=12, bad=())
    answer = console.post("/send", {"destination": "rec", "input": str(path), "action": "dry_run"})
    run = console.wait_for(console.run_id(answer))
    assert run.kind == "dry_run" and run.status == "succeeded"
    page = console.get(f"/runs/{run.id}").text
    assert "Request bodies" in page
    assert "request-000001.json" in page and "request-000002.json" in page
    assert "user12@example.com" in page  # the recorder sends emails as they are


def test_a_validation_the_destination_cannot_run_says_why(console, ready_host, tmp_path):
    path = write_input(tmp_path)
    answer = console.post(
        "/send", {"destination": "rec", "input": str(path), "action": "validation", "sample": "5"}
    )
    assert answer.status_code == 400
    assert "test events" in answer.text
    assert ready_host.runs() == []


def test_an_input_that_cannot_be_read_is_refused_on_the_send_page(console, ready_host, tmp_path):
    answer = console.post(
        "/send", {"destination": "rec", "input": str(tmp_path / "none.csv"), "action": "send"}
    )
    assert answer.status_code == 400
    assert "does not exist" in answer.text


def test_an_upload_is_sent_and_deleted_once_its_run_ends(console, ready_host, tmp_path):
    body = write_input(tmp_path).read_bytes()
    answer = console.client.post(
        "/send",
        data={"csrf_token": console.csrf, "destination": "rec", "action": "send"},
        files={"upload": ("../../my events.csv", body, "text/csv")},
    )
    run = console.wait_for(console.run_id(answer))
    assert run.status == "succeeded" and run.delivered == 28
    uploads = console.app.state.console.uploads
    assert run.input.startswith(str(uploads)) and run.input.endswith("my_events.csv")
    assert list(uploads.iterdir()) == []


def test_progress_shows_live_figures_and_stop_ends_the_run_resumable(
    console, ready_host, tmp_path, script
):
    ready_host.update_destination("rec", {"delay": 0.05})
    path = write_input(tmp_path, count=400, bad=())
    answer = console.post("/send", {"destination": "rec", "input": str(path), "action": "send"})
    run_id = console.run_id(answer)
    page = console.get(f"/runs/{run_id}").text
    assert f'hx-get="/runs/{run_id}/progress" hx-trigger="every 1s"' in page
    assert 'id="stop"' in page
    fragment = console.get(f"/runs/{run_id}/progress")
    assert "running" in fragment.text and "HX-Refresh" not in fragment.headers
    assert console.post(f"/runs/{run_id}/stop").status_code == 303
    run = console.wait_for(run_id)
    assert run.status == "interrupted" and run.error == "stopped by the operator"
    assert run.rows_read == run.delivered + run.rejected + run.pending
    fragment = console.get(f"/runs/{run_id}/progress")
    assert fragment.headers["HX-Refresh"] == "true"  # the page reloads to its summary
    page = console.get(f"/runs/{run_id}").text
    assert "Resume run" in page
    ready_host.update_destination("rec", {"delay": 0.0})
    answer = console.post(f"/runs/{run_id}/resume")
    assert console.run_id(answer) == run_id
    run = console.wait_for(run_id)
    assert run.status == "succeeded" and run.delivered == 400
    assert len({item["id"] for item in script.received}) == len(script.received) == 400


def test_a_stop_for_a_run_of_another_process_says_so(console, ready_host):
    run = ready_host.send("rec", rows=[{"id": "E1", "email": "a@example.com"}])
    answer = console.post(f"/runs/{run.id}/stop")
    assert answer.status_code == 409
    assert "not running in this console" in answer.text


@pytest.mark.parametrize(
    ("query", "shown"),
    [("", {"1", "2", "3"}), ("?kind=dry_run", {"2"}), ("?status=failed", {"3"})],
)
def test_the_history_filters_by_kind_and_status(console, ready_host, tmp_path, query, shown):
    rows = [{"id": "E1", "email": "a@example.com"}]
    ready_host.send("rec", rows=rows)
    ready_host.send("rec", rows=rows, dry_run=True, output=tmp_path / "out")
    ready_host.update_destination("rec", {"fatal_after": 0})
    ready_host.send("rec", rows=rows)
    page = console.get(f"/runs{query}").text
    listed = set(re.findall(r'<td><a href="/runs/(\d+)">', page))
    assert listed == shown


def test_an_unknown_run_is_a_404_page(console):
    answer = console.get("/runs/999")
    assert answer.status_code == 404
    assert "999" in answer.text
