"""The pure half of the progress callback: every line it prints, built from values."""
from __future__ import annotations

from collections import Counter

import pytest
from ansible_collections.johann.monitor.plugins.plugin_utils._progress import (
    HIDDEN,
    Outcome,
    Pacer,
    Tally,
    device_outcome,
    format_duration,
    generic_outcome,
    printable,
    progress_line,
    remaining,
    summary_lines,
    totals_line,
    truncate,
)

DURATIONS = [
    (None, "--"), (-1.0, "--"), (0.0, "0.0s"), (0.44, "0.4s"), (9.94, "9.9s"), (9.96, "10s"), (12.4, "12s"),
    (59.4, "59s"), (59.6, "1m00s"), (185.0, "3m05s"), (3599.4, "59m59s"), (3720.0, "1h02m"), (90061.0, "25h01m"),
]


@pytest.mark.parametrize("seconds,text", DURATIONS)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


REMAINING = [
    # elapsed, done, total, seconds left
    (10.0, 0, 100, None),       # no rate before the first result
    (10.0, 5, None, None),      # no total, no estimate
    (0.0, 5, 10, None),
    (10.0, 50, 100, 10.0),
    (10.0, 25, 100, 30.0),
    (10.0, 100, 100, 0.0),
    (10.0, 120, 100, 0.0),      # more than expected came back: never negative
]


@pytest.mark.parametrize("elapsed,done,total,left", REMAINING)
def test_remaining(elapsed, done, total, left):
    assert remaining(elapsed, done, total) == left


@pytest.mark.parametrize("text,width,cut", [
    ("abc", 5, "abc"), ("abcde", 5, "abcde"), ("abcdef", 5, "ab..."), ("abcdef", 3, "..."), ("abcdef", 2, ".."),
    ("abcdef", 0, ""),
])
def test_truncate(text, width, cut):
    assert truncate(text, width) == cut


@pytest.mark.parametrize("raw,clean", [
    ("plain words: 401", "plain words: 401"),
    ("a\x1b[2Jb", "a?[2Jb"),              # no escape sequence reaches the terminal
    ("line\nnext\tcol\r", "line next col "),
    ("\u202eevil", "?evil"),              # nor a bidirectional override
    (None, "None"),
])
def test_printable(raw, clean):
    assert printable(raw) == clean


RECORD_401 = {"status": "auth_failed", "message": "authentication failed: 401 access-denied"}
DEVICE_CASES = [
    ("ok", {"status": "ok", "device": {"status": "ok", "message": None}}, Outcome("h", "ok")),
    ("ok", {"status": "auth_failed", "device": RECORD_401},
     Outcome("h", "auth_failed", "authentication failed: 401 access-denied")),
    ("ok", {"device": {"status": "degraded", "message": "environment: 500"}}, Outcome("h", "degraded", "environment: 500")),
    # fail_on_error: counted under the device's status, with the device's cause
    ("failed", {"failed": True, "msg": "h: auth_failed: ...", "device": RECORD_401},
     Outcome("h", "auth_failed", "authentication failed: 401 access-denied")),
    # a failure in Ansible itself: the msg the default callback shows
    ("failed", {"failed": True, "msg": "unsupported parameters: bogus"}, Outcome("h", "failed", "unsupported parameters: bogus")),
    ("failed", {"failed": True, "device": {"status": "ok"}, "msg": "failed_when"}, Outcome("h", "failed", "failed_when")),
    # no_log: the result is censored, nothing of it is printed
    ("ok", {"censored": "hidden", "_ansible_no_log": True}, Outcome("h", "hidden")),
    ("failed", {"censored": "hidden", "_ansible_no_log": True, "msg": "secret"}, Outcome("h", "failed", HIDDEN)),
    ("unreachable", {"msg": "no route"}, Outcome("h", "unreachable", "no route")),
    ("skipped", {"skipped": True}, Outcome("h", "skipped")),
    # a loop: the first item that is not ok speaks for the host
    ("ok", {"results": [{"device": {"status": "ok"}}, {"device": {"status": "error", "message": "malformed JSON"}}]},
     Outcome("h", "error", "malformed JSON")),
    ("ok", {"status": "unreachable"}, Outcome("h", "unreachable")),          # a status without a record
    ("ok", {"device": {"status": "error", "message": "bad\x1b[31m"}}, Outcome("h", "error", "bad?[31m")),
]


@pytest.mark.parametrize("event,payload,outcome", DEVICE_CASES)
def test_device_outcome(event, payload, outcome):
    assert device_outcome("h", event, payload) == outcome


@pytest.mark.parametrize("event,payload,outcome", [
    ("ok", {"changed": False}, Outcome("h", "ok")),
    ("ok", {"changed": True}, Outcome("h", "changed")),
    ("skipped", {}, Outcome("h", "skipped")),
    ("failed", {"msg": "boom"}, Outcome("h", "failed", "boom")),
    ("failed", {"msg": ""}, Outcome("h", "failed", None)),
    ("failed", {"_ansible_no_log": True, "censored": "x"}, Outcome("h", "failed", HIDDEN)),
    ("unreachable", {"msg": "ssh: timeout"}, Outcome("h", "unreachable", "ssh: timeout")),
])
def test_generic_outcome(event, payload, outcome):
    assert generic_outcome("h", event, payload) == outcome


def _tally(total, *outcomes, keep=20, noun="devices"):
    tally = Tally(noun, total, keep=keep)
    for outcome in outcomes:
        tally.add(outcome)
    return tally


FLEET = [Outcome("r1", "ok"), Outcome("r2", "unreachable", "connection refused by 10.0.0.2:443"),
         Outcome("r3", "ok"), Outcome("r4", "auth_failed", "authentication failed: 401 access-denied"),
         Outcome("r5", "degraded", "environment: 500"), Outcome("r6", "unreachable", "timed out after 1 s"),
         Outcome("r7", "skipped"), Outcome("r8", "failed", "unsupported parameters: bogus")]

LINES = [
    (_tally(1000), 0.0, "0/1000 devices (0%) | elapsed 0.0s | eta --"),
    (_tally(10, *FLEET[:4]), 2.0,
     "4/10 devices (40%) | not ok 2: auth_failed 1, unreachable 1 | elapsed 2.0s | eta 3.0s"),
    (_tally(8, *FLEET), 61.0,
     "8/8 devices (100%) | not ok 5: degraded 1, auth_failed 1, unreachable 2, failed 1 | elapsed 1m01s"),
    (_tally(None, *FLEET[:3]), 5.0, "3 devices | not ok 1: unreachable 1 | elapsed 5.0s"),
    (_tally(2, *FLEET[:3]), 5.0, "3/3 devices (100%) | not ok 1: unreachable 1 | elapsed 5.0s"),  # total grows
    (_tally(400, *[Outcome(f"h{i}", "changed") for i in range(100)], noun="hosts"), 30.0,
     "100/400 hosts (25%) | elapsed 30s | eta 1m30s"),
]


@pytest.mark.parametrize("tally,elapsed,line", LINES)
def test_progress_line(tally, elapsed, line):
    assert progress_line(tally, elapsed) == line


def test_summary_lists_counts_then_not_ok_hosts_grouped_by_status():
    assert summary_lines(_tally(8, *FLEET), "Read the device", 2.34, width=20) == [
        "SUMMARY [Read the device] 8 devices in 2.3s, 5 not ok",
        "  status        devices",
        "  ok                  2",
        "  skipped             1",
        "  degraded            1",
        "  auth_failed         1",
        "  unreachable         2",
        "  failed              1",
        "  not ok:",
        "    r5  degraded     environment: 500",
        "    r4  auth_failed  authentication fa...",
        "    r2  unreachable  connection refuse...",
        "    r6  unreachable  timed out after 1 s",
        "    r8  failed       unsupported param...",
    ]


SUMMARY_HEADS = [
    ([Outcome("a", "ok"), Outcome("b", "changed")], "SUMMARY [t] 2 hosts in 1.0s, all ok"),
    ([Outcome("a", "hidden"), Outcome("b", "hidden")], "SUMMARY [t] 2 hosts in 1.0s, 2 hidden by no_log"),
    ([Outcome("a", "hidden"), Outcome("b", "error", "x")], "SUMMARY [t] 2 hosts in 1.0s, 1 not ok, 1 hidden by no_log"),
    ([Outcome("a", "ok")], "SUMMARY [t] 1 hosts in 1.0s, all ok"),
]


@pytest.mark.parametrize("outcomes,head", SUMMARY_HEADS)
def test_summary_head(outcomes, head):
    assert summary_lines(_tally(None, *outcomes, noun="hosts"), "t", 1.0)[0] == head


def test_summary_lists_the_first_not_ok_hosts_only():
    tally = _tally(50, *[Outcome(f"host-{i:02d}", "unreachable", "refused") for i in range(30)], keep=3)
    lines = summary_lines(tally, "t", 1.0)
    assert lines[2:] == ["  unreachable        30", "  not ok (first 3 of 30):",
                         "    host-00  unreachable  refused", "    host-01  unreachable  refused",
                         "    host-02  unreachable  refused"]


def test_summary_cuts_long_host_names_and_sanitises_them():
    lines = summary_lines(_tally(1, Outcome("x" * 40 + "\x1b", "error", None)), "t\x07", 1.0)
    assert lines[0] == "SUMMARY [t?] 1 devices in 1.0s, 1 not ok"
    assert lines[-1] == "    " + "x" * 27 + "...  error"


@pytest.mark.parametrize("counts,tasks,seconds,line", [
    (Counter(ok=4, unreachable=3, auth_failed=1), 1, 2.3,
     "DEVICES: 1 device_info task, 8 results in 2.3s: ok 4, auth_failed 1, unreachable 3"),
    (Counter(ok=1000, error=2, hidden=5), 3, 754.0,
     "DEVICES: 3 device_info tasks, 1007 results in 12m34s: ok 1000, hidden 5, error 2"),
])
def test_totals_line(counts, tasks, seconds, line):
    assert totals_line(counts, tasks, seconds) == line


def _run(pacer, steps):
    """Feed (now, done, total) steps; return the steps at which a line was printed."""
    printed = []
    for now, done, total in steps:
        if pacer.due(now, done, total):
            pacer.mark(now, done, total)
            printed.append((now, done))
    return printed


PACING = [
    ("tty: first draw at once, then at most every 0.2 s",
     Pacer(True, 0.0), [(0.0, 0, 10), (0.1, 1, 10), (0.25, 2, 10), (0.3, 3, 10), (0.5, 4, 10)],
     [(0.0, 0), (0.25, 2), (0.5, 4)]),
    ("plain: a quick task prints nothing before the summary",
     Pacer(False, 0.0), [(0.1, 1, 10), (0.2, 5, 10), (0.3, 10, 10)], []),
    ("plain: every further tenth, at least 1 s apart",
     Pacer(False, 0.0), [(1.0, 10, 100), (1.5, 20, 100), (2.1, 25, 100), (3.5, 31, 100), (3.6, 39, 100)],
     [(1.0, 10), (2.1, 25), (3.5, 31)]),
    ("plain: every 10 s when no tenth is crossed",
     Pacer(False, 0.0), [(5.0, 1, 1000), (10.0, 2, 1000), (15.0, 3, 1000), (20.0, 4, 1000)],
     [(10.0, 2), (20.0, 4)]),
    ("plain: without a total, every interval",
     Pacer(False, 0.0, interval=2.0), [(1.0, 1, None), (2.0, 2, None), (3.0, 3, None), (4.5, 4, None)],
     [(2.0, 2), (4.5, 4)]),
    ("plain: a long task spaces its lines by half its age",
     Pacer(False, 0.0), [(10.0, 1, 1000), (40.0, 2, 1000), (60.0, 3, 1000), (75.0, 4, 1000), (80.0, 5, 1000)],
     [(10.0, 1), (40.0, 2), (80.0, 5)]),
    ("plain: ... and by its expected duration / 20 once that is shorter",
     # 500 of 1000 after 200 s: 400 s expected, a line every 20 s rather than every 100 s
     Pacer(False, 0.0, last=180.0, lines=5, next_mark=600), [(195.0, 480, 1000), (200.0, 500, 1000)], [(200.0, 500)]),
]


@pytest.mark.parametrize("name,pacer,steps,printed", PACING, ids=[p[0] for p in PACING])
def test_pacing(name, pacer, steps, printed):
    assert _run(pacer, steps) == printed


def test_plain_lines_are_bounded_per_task():
    pacer = Pacer(False, 0.0, interval=1.0, min_gap=0.0)
    printed = _run(pacer, [(float(t), 10 * t, 10000) for t in range(1, 1000)])
    assert len(printed) == 20 and printed[-1][0] < 999    # the cap, not the end, stopped it
