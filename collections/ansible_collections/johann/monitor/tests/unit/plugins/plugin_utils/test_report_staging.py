"""The report is staged, then put in place at once; a stopped or failed report leaves the previous one (staging.py)."""
from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ansible_collections.johann.monitor.plugins.plugin_utils._report import staging
from ansible_collections.johann.monitor.plugins.plugin_utils._report.staging import (
    Interrupted,
    ReportWriteError,
    Staging,
    interruptible,
)


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def _previous(out: Path) -> None:
    (out / "devices").mkdir(parents=True)
    (out / "summary-parts").mkdir()
    for name, text in {"index.html": "old index", "devices/a.html": "old a", "devices/gone.html": "old gone",
                       "summary-parts/part-1.json": "{}", "summary-parts/part-2.json": "{}",
                       "notes.txt": "the user's own file"}.items():
        (out / name).write_text(text)


def test_a_committed_report_replaces_the_previous_one_index_last_and_removes_stale_pages(tmp_path, monkeypatch):
    _previous(tmp_path)
    moved = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (moved.append(Path(dst).name), real_replace(src, dst)))
    with Staging(tmp_path) as stage:
        for name in ("index.html", "stats.html", "devices/a.html", "devices/b.html", "summary-parts/part-1.json"):
            stage.write(name, f"new {name}")
        assert _tree(tmp_path)["index.html"] == "old index"   # nothing changes before the commit
        assert stage.commit() == 1
    assert moved[-1] == "index.html" and moved[:3] == ["a.html", "b.html", "part-1.json"]
    assert _tree(tmp_path) == {"devices/a.html": "new devices/a.html", "devices/b.html": "new devices/b.html",
                               "index.html": "new index.html", "notes.txt": "the user's own file",
                               "stats.html": "new stats.html", "summary-parts/part-1.json": "new summary-parts/part-1.json"}
    assert (tmp_path / "index.html").stat().st_mode & 0o777 == 0o644


def test_a_failed_write_leaves_the_previous_report_and_nothing_else(tmp_path, monkeypatch):
    _previous(tmp_path)
    before = _tree(tmp_path)
    real_open = os.open

    def full(path, *args, **kwargs):
        if str(path).endswith("b.html"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", full)
    with pytest.raises(ReportWriteError) as caught, Staging(tmp_path) as stage:
        stage.write("devices/a.html", "new a")
        stage.write("devices/b.html", "new b")
    assert str(caught.value) == (f"cannot write the report to {tmp_path}: No space left on device "
                                 f"(the previous report there is unchanged)")
    assert _tree(tmp_path) == before and not list(tmp_path.glob(".johann-staging-*"))


def test_a_directory_that_cannot_be_made_says_so(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ReportWriteError, match=r"cannot write the report to .*/file/out: Not a directory "
                                               r"\(nothing was written\)$"), Staging(tmp_path / "file" / "out"):
        pass


def test_staging_left_by_a_killed_process_is_removed_and_a_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    gone = tmp_path / staging.staging_name(int(dead.stdout))
    live = tmp_path / staging.staging_name(1)
    elsewhere = tmp_path / f"{staging.PREFIX}other-machine-{int(dead.stdout)}"   # a report directory shared
    for directory in (gone, live, elsewhere):
        (directory / "devices").mkdir(parents=True)
    with Staging(tmp_path) as stage:
        assert stage.dir.name == f"{staging.PREFIX}{socket.gethostname()}-{os.getpid()}"
    assert not gone.exists() and live.exists() and elsewhere.exists() and not stage.dir.exists()
    old = time.time() - staging.ORPHAN_AGE_S - 60
    os.utime(live, (old, old))
    assert staging.sweep(tmp_path) == [live]


@pytest.fixture
def term_handler():
    """SIGTERM goes to a recorder here (in place of Ansible's handler, which ends the worker)."""
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _frame: seen.append(signum))
    yield seen
    signal.signal(signal.SIGTERM, previous)


def test_a_signal_while_rendering_stops_it_cleans_up_then_reaches_the_previous_handler(tmp_path, term_handler):
    _previous(tmp_path)
    before = _tree(tmp_path)
    with pytest.raises(Interrupted, match="stopped by SIGTERM"), interruptible(), Staging(tmp_path) as stage:
        stage.write("devices/a.html", "new a")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)   # never reached: the signal raises at once
    assert term_handler == [signal.SIGTERM]   # what would have happened without us, after the cleanup
    assert _tree(tmp_path) == before and not list(tmp_path.glob(".johann-staging-*"))


def test_a_signal_during_the_commit_waits_until_the_report_is_in_place(tmp_path, term_handler, monkeypatch):
    _previous(tmp_path)
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst).name == "a.html":
            os.kill(os.getpid(), signal.SIGTERM)   # held back: the commit goes on
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(Interrupted), interruptible(), Staging(tmp_path) as stage:
        stage.write("devices/a.html", "new a")
        stage.write("index.html", "new index")
        stage.commit()
    assert term_handler == [signal.SIGTERM]
    assert (tmp_path / "index.html").read_text() == "new index" and not (tmp_path / "devices/gone.html").exists()
    assert not list(tmp_path.glob(".johann-staging-*"))


def test_outside_the_main_thread_signals_are_left_alone(tmp_path):
    import threading

    handlers = []

    def work():
        with interruptible():
            handlers.append(signal.getsignal(signal.SIGTERM))

    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert handlers == [before]
