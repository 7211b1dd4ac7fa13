# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only place the collection reads internals of ansible-core and ARA: where neither has a public API.

Each function says which internal it reads and why no public API does the job. Every one is
checked on the installed ansible-core and ARA by tests/unit/plugins/plugin_utils/test_compat.py,
which fails when that internal changes, so an upgrade breaks that test instead of a run
(the collection allows ansible-core 2.19 to 2.21 and ARA 1.7 and later; make test runs the
tests on 2.19 and 2.21).

It also tells ARA's clients apart (``ara_client_kind``), by ARA's public classes, next to the
function that finds the client.

The protected members a plugin inherits from its base class (a callback's ``self._display``, an
action's ``self._task`` and ``self._templar``, the default callback's ``_print_task_banner`` that
progress.py overrides) are the interface those classes give their subclasses, and stay there;
test_compat.py checks the default callback's too.
"""
from __future__ import annotations

import sys
from typing import Any


def task_id(task: Any) -> str:
    """The task's id, the same for the task a callback sees start and for each of its results.

    Reads ``Task._uuid``. A result carries a copy of its task (ansible-core copies it for each
    result it hands to callbacks), so identity does not match them, nor does a task's name or
    path (two tasks can share them); ansible-core's own default callback matches on ``_uuid``,
    and no public attribute gives it in ansible-core 2.19 to 2.21.
    """
    return task._uuid


def play_hosts(play: Any) -> list[str] | None:
    """The hosts the play still runs on: its pattern under --limit, less the hosts it removed
    (failed or unreachable). This is the magic variable ``ansible_play_hosts``; None when the
    play cannot say.

    Reads ``VariableManager._inventory`` (the inventory: ``play.get_variable_manager()`` is
    public, the inventory behind it is not, and a callback is given neither) and
    ``Play._removed_hosts`` (what ``ansible_play_hosts`` subtracts; that variable reaches
    tasks, not callbacks, and ``VariableManager.get_vars`` computes it without ``--limit``
    when not called by a strategy).
    """
    try:
        inventory = play.get_variable_manager()._inventory
        removed = set(play._removed_hosts)
        hosts = inventory.get_hosts(play.hosts, order=play.order)
    except (AttributeError, TypeError):
        return None
    return [host.name for host in hosts if host.name not in removed]


def ara_active_client() -> Any | None:
    """The ARA client that ARA's callback made in this process, or None (ARA not installed, its
    callback not loaded, or its client gone).

    Reads ``ara.clients.utils.active_client._instance``: ARA keeps its client there (a weak
    reference that ``AraHttpClient.__init__`` sets, None until a client is made), and
    ``active_client()``, ARA's only public way to it, fails with TypeError while it is None.
    ARA's own plugins call it only after its callback made the client; the collection's report
    and ara_server callback also run where ARA's callback is not loaded, and need the same
    client (its settings, its HTTP session) rather than one of their own.
    """
    try:
        from ara.clients.utils import active_client
    except ImportError:
        return None
    if getattr(active_client, "_instance", None) is None:
        return None
    return active_client()


def ara_client_kind(client: Any) -> str | None:
    """``offline`` for ARA's offline client (an API server in this process), ``http`` for its client of an API
    server elsewhere, None for anything else (no client, not ARA's).

    Public classes only: ``ara.clients.offline.AraOfflineClient`` (a subclass of the other) and
    ``ara.clients.http.AraHttpClient``. The offline class is looked up only where it is already imported,
    as it is wherever such a client exists: importing it imports Django (about 140 ms) and fails without
    ARA's server dependencies, for nothing when the client is the http one.
    """
    offline = sys.modules.get("ara.clients.offline")
    if offline is not None and isinstance(client, offline.AraOfflineClient):
        return "offline"
    try:
        from ara.clients.http import AraHttpClient
    except ImportError:   # ARA not installed: no client of its
        return None
    return "http" if isinstance(client, AraHttpClient) else None


def play_id(play: Any) -> str:
    """The play's id: what ARA's callback recorded the play under (``/api/v1/plays?uuid=``), which leads to the
    playbook a report attaches its run's summary to.

    Reads ``Play._uuid``, as ARA's own ara_record and ara_label actions do: ansible-core gives a play's id to
    callbacks only inside ``Play`` itself, and no public attribute holds it in ansible-core 2.19 to 2.21.
    """
    return play._uuid
