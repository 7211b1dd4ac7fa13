# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure half of the johann.monitor.progress callback: outcomes, tallies, pacing and lines.

Nothing here touches Ansible objects, the clock or the terminal: the callback passes plain
values in and prints the strings that come out, so every line it can print is tested from
values alone. Only host names, statuses and the device's own ``message`` (or, for a task that
failed in Ansible, the ``msg`` the default callback would have shown) ever reach a line.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Statuses in the order they are shown; FINE ones are not counted as "not ok".
ORDER = ("ok", "changed", "skipped", "hidden", "degraded", "auth_failed", "unreachable", "error", "failed")
FINE = frozenset(("ok", "changed", "skipped", "hidden"))
DEVICE_PROBLEMS = frozenset(("degraded", "auth_failed", "unreachable", "error"))
HIDDEN = "output hidden by no_log"


@dataclass(frozen=True)
class Outcome:
    """What one host's result amounts to: a status and, when not ok, its cause in words."""

    host: str
    status: str
    cause: str | None = None


def printable(text: Any) -> str:
    """One line without control characters: a hostile device must not drive the terminal."""
    return "".join(ch if ch.isprintable() else " " if ch in "\t\n\r" else "?" for ch in str(text))


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the cut marked with an ellipsis."""
    if len(text) <= width:
        return text
    if width <= 3:
        return "." * max(width, 0)
    return text[: width - 3] + "..."


def _cause(value: Any) -> str | None:
    return None if value is None or value == "" else printable(value)


def _device_records(payload: Mapping) -> list[Mapping]:
    """The device records in a result: one, or one per item when the task loops."""
    items = payload.get("results") if isinstance(payload.get("results"), list) else [payload]
    records = []
    for item in items:
        if isinstance(item, Mapping):
            device = item.get("device")
            records.append(device if isinstance(device, Mapping) else {"status": item.get("status")})
    return records


def generic_outcome(host: str, event: str, payload: Mapping) -> Outcome:
    """Any task's outcome from the callback event (ok, failed, unreachable, skipped)."""
    if event == "ok":
        return Outcome(host, "changed" if payload.get("changed") else "ok")
    if event == "skipped":
        return Outcome(host, "skipped")
    return Outcome(host, event, HIDDEN if payload.get("_ansible_no_log") else _cause(payload.get("msg")))


def device_outcome(host: str, event: str, payload: Mapping) -> Outcome:
    """A device_info outcome: the device record's status and message, else what Ansible says.

    A task failed by ``fail_on_error`` still counts under its device status (the cause is
    the device's), so ``failed`` means a failure in Ansible itself: bad options, a crash.
    """
    if event in ("skipped", "unreachable"):
        return generic_outcome(host, event, payload)
    if payload.get("_ansible_no_log"):
        return Outcome(host, "hidden") if event == "ok" else Outcome(host, event, HIDDEN)
    for record in _device_records(payload):
        if record.get("status") in DEVICE_PROBLEMS:
            return Outcome(host, record["status"], _cause(record.get("message")))
    return Outcome(host, "ok") if event == "ok" else generic_outcome(host, event, payload)


@dataclass
class Tally:
    """Counts per status of one compacted task, and the first not-ok outcomes in arrival order."""

    noun: str
    total: int | None
    keep: int = 20
    counts: Counter = field(default_factory=Counter)
    problems: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.status] += 1
        if outcome.status not in FINE and len(self.problems) < self.keep:
            self.problems.append(outcome)

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    @property
    def not_ok(self) -> int:
        return sum(n for status, n in self.counts.items() if status not in FINE)

    @property
    def expected(self) -> int | None:
        """The host count to aim at; never below what already came back (a rescued host, say)."""
        return None if self.total is None else max(self.total, self.done)


def ordered(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """Non-zero counts in display order, unknown statuses last."""
    known = [(s, counts[s]) for s in ORDER if counts.get(s)]
    return known + sorted((s, n) for s, n in counts.items() if s not in ORDER and n)


def format_duration(seconds: float | None) -> str:
    """Short human durations: 0.4s, 12s, 3m05s, 1h02m; ``--`` when unknown."""
    if seconds is None or seconds < 0:
        return "--"
    if seconds < 9.95:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def remaining(elapsed: float, done: int, total: int | None) -> float | None:
    """Seconds left at the rate so far; None before the first result or without a total."""
    if total is None or done <= 0 or elapsed <= 0:
        return None
    return max(0.0, elapsed * (total - done) / done)


def _not_ok_part(tally: Tally) -> str | None:
    problems = [(s, n) for s, n in ordered(tally.counts) if s not in FINE]
    if not problems:
        return None
    return f"not ok {tally.not_ok}: " + ", ".join(f"{s} {n}" for s, n in problems)


def progress_line(tally: Tally, elapsed: float) -> str:
    """The one progress line: done/total, not ok by status, elapsed and estimated time left."""
    done, total = tally.done, tally.expected
    head = f"{done} {tally.noun}" if total is None else f"{done}/{total} {tally.noun} ({done * 100 // max(total, 1)}%)"
    parts = [head, _not_ok_part(tally), f"elapsed {format_duration(elapsed)}"]
    if total is not None and done < total:
        parts.append(f"eta {format_duration(remaining(elapsed, done, total))}")
    return " | ".join(p for p in parts if p)


def summary_lines(tally: Tally, task_name: str, elapsed: float, width: int = 240) -> list[str]:
    """The table printed when a compacted task ends: counts per status, then what is not ok."""
    head = f"SUMMARY [{printable(task_name)}] {tally.done} {tally.noun} in {format_duration(elapsed)}"
    lines = [head + _verdict(tally)]
    lines.append(f"  {'status':<12} {tally.noun:>8}")
    lines += [f"  {status:<12} {count:>8}" for status, count in ordered(tally.counts)]
    return lines + _problem_lines(tally, width)


def _verdict(tally: Tally) -> str:
    """``all ok`` only when it is known: results hidden by no_log are said to be hidden."""
    parts = [f"{tally.not_ok} not ok"] if tally.not_ok else []
    parts += [f"{tally.counts['hidden']} hidden by no_log"] if tally.counts.get("hidden") else []
    return ", " + (", ".join(parts) if parts else "all ok")


def _rank(outcome: Outcome) -> int:
    return ORDER.index(outcome.status) if outcome.status in ORDER else len(ORDER)


def _problem_lines(tally: Tally, width: int) -> list[str]:
    """The first not-ok hosts, grouped by status, each in the order it came back."""
    if not tally.problems:
        return []
    shown = len(tally.problems)
    title = "  not ok:" if shown == tally.not_ok else f"  not ok (first {shown} of {tally.not_ok}):"
    host_width = min(max(len(p.host) for p in tally.problems), 30)
    status_width = max(len(p.status) for p in tally.problems)
    rows = [f"    {truncate(printable(p.host), host_width):<{host_width}}  {p.status:<{status_width}}  "
            f"{truncate(p.cause or '', width) if width > 0 else p.cause or ''}".rstrip()
            for p in sorted(tally.problems, key=_rank)]
    return [title, *rows]


def totals_line(counts: Mapping[str, int], tasks: int, seconds: float) -> str:
    """The line after the play recap: every device_info result of the playbook, by status."""
    done = sum(counts.values())
    plural = "" if tasks == 1 else "s"
    detail = ", ".join(f"{s} {n}" for s, n in ordered(counts))
    return f"DEVICES: {tasks} device_info task{plural}, {done} results in {format_duration(seconds)}: {detail}"


@dataclass
class Pacer:
    """When to print progress: often on a terminal, rarely and boundedly in logs.

    On a TTY the line is redrawn at most every ``tty_interval`` seconds. Elsewhere (CI, pipes)
    a line is printed when another tenth of the hosts is done (at least ``min_gap`` seconds
    after the previous line, so quick tasks stay quiet) or after ``interval`` seconds. A long
    task stretches that interval to half its age, or to its expected duration / ``max_lines``
    when that is shorter (an early estimate from a few results is too long to trust alone),
    so it says it is alive without printing more than ``max_lines`` lines.
    """

    tty: bool
    started: float
    tty_interval: float = 0.2
    interval: float = 10.0
    min_gap: float = 1.0
    max_lines: int = 20
    last: float | None = None
    lines: int = 0
    next_mark: int | None = None

    def due(self, now: float, done: int, total: int | None) -> bool:
        if self.tty:
            return self.last is None or now - self.last >= self.tty_interval
        if self.lines >= self.max_lines or (total is not None and done >= total):
            return False
        since = now - (self.started if self.last is None else self.last)
        return since >= self._spacing(now, done, total) or (self._crossed(done, total) and since >= self.min_gap)

    def mark(self, now: float, done: int, total: int | None) -> None:
        """Record a printed line."""
        self.last, self.lines = now, self.lines + 1
        if total:
            step = _step(total)
            self.next_mark = (done // step + 1) * step

    def _spacing(self, now: float, done: int, total: int | None) -> float:
        age = now - self.started
        left = remaining(age, done, total)
        stretch = age / 2 if left is None else min(age / 2, (age + left) / self.max_lines)
        return max(self.interval, stretch)

    def _crossed(self, done: int, total: int | None) -> bool:
        if not total:
            return False
        return done >= (self.next_mark if self.next_mark is not None else _step(total))


def _step(total: int) -> int:
    return max(1, -(-total // 10))
