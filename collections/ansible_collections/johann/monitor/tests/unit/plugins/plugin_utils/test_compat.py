"""The internals of ansible-core and ARA that plugin_utils/_compat.py reads, on the installed versions.

Each test fails when the internal it covers changes, so an upgrade of ansible-core or ARA shows here
first: fix _compat.py (or drop the function, when a public API appeared) until these pass again.
The last tests cover what progress.py inherits from ansible-core's default callback.
"""
from __future__ import annotations

import gc
import inspect
import sys
import weakref

import pytest
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play import Play
from ansible.playbook.task import Task
from ansible.plugins.callback import CallbackBase
from ansible.plugins.callback.default import CallbackModule as DefaultCallback
from ansible.vars.manager import VariableManager
from ansible_collections.johann.monitor.plugins.plugin_utils import _compat


def _task(args: dict | None = None) -> Task:
    return Task.load({"name": "Read the device", "action": {"module": "johann.monitor.device_info", **(args or {})}})


def test_a_task_id_is_a_text_kept_by_the_copies_of_the_task():
    task = _task()
    assert isinstance(task._uuid, str) and task._uuid
    assert _compat.task_id(task) == task._uuid
    copy = task.copy(exclude_tasks=True)   # what a result carries, and what progress.py prints banners from
    assert copy is not task and _compat.task_id(copy) == _compat.task_id(task)
    assert _compat.task_id(_task()) != _compat.task_id(task)


@pytest.fixture
def play():
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[])
    for name in ("r1", "r2", "r3", "r4"):
        inventory.add_host(name, group="all")
    manager = VariableManager(loader=loader, inventory=inventory)
    loaded = Play.load({"hosts": "all", "gather_facts": False, "tasks": []}, variable_manager=manager, loader=loader)
    assert manager._inventory is inventory   # the inventory behind the play's variable manager
    assert loaded.get_variable_manager() is manager and loaded._removed_hosts == []
    return loaded


def test_play_hosts_follow_the_limit_and_leave_out_removed_hosts(play):
    inventory = play.get_variable_manager()._inventory
    assert _compat.play_hosts(play) == ["r1", "r2", "r3", "r4"]
    inventory.subset("r1,r2,r3")   # --limit
    assert _compat.play_hosts(play) == ["r1", "r2", "r3"]
    play._removed_hosts.append("r2")   # what a strategy does with a host that failed or is unreachable
    assert _compat.play_hosts(play) == ["r1", "r3"]


def test_play_hosts_of_something_that_is_not_a_play_is_none():
    assert _compat.play_hosts(object()) is None


def test_ara_active_client_is_the_client_ara_made_and_none_before_or_after(monkeypatch):
    from ara.clients import utils
    from ara.clients.http import AraHttpClient

    assert hasattr(utils.active_client, "_instance")
    monkeypatch.setattr(utils.active_client, "_instance", None)   # no ARA client made in this process yet
    assert _compat.ara_active_client() is None
    with pytest.raises(TypeError):   # why the shim looks before calling
        utils.active_client()

    client = AraHttpClient(endpoint="http://127.0.0.1:9", timeout=1)   # what ARA's callback makes; no request
    assert isinstance(utils.active_client._instance, weakref.ref)
    assert utils.active_client() is client and _compat.ara_active_client() is client

    del client
    gc.collect()
    assert _compat.ara_active_client() is None


def test_ara_client_kind_tells_the_offline_client_from_the_http_one(monkeypatch):
    from ara.clients import utils
    from ara.clients.http import AraHttpClient
    from ara.clients.offline import AraOfflineClient

    assert issubclass(AraOfflineClient, AraHttpClient)   # why the offline class is asked first
    monkeypatch.setattr(utils.active_client, "_instance", None)   # restored after: the client below sets it
    http = AraHttpClient(endpoint="http://127.0.0.1:9", timeout=1)   # no request
    offline = AraOfflineClient.__new__(AraOfflineClient)   # its __init__ would migrate and start a server
    assert _compat.ara_client_kind(http) == "http"
    assert _compat.ara_client_kind(offline) == "offline"
    for other in (None, object(), "AraHttpClient", type("AraOfflineClient", (), {})()):
        assert _compat.ara_client_kind(other) is None


def test_ara_client_kind_imports_neither_django_nor_the_offline_client(monkeypatch):
    from ara.clients import utils
    from ara.clients.http import AraHttpClient

    monkeypatch.setattr(utils.active_client, "_instance", None)
    monkeypatch.delitem(sys.modules, "ara.clients.offline", raising=False)   # put back after the test
    http = AraHttpClient(endpoint="http://127.0.0.1:9", timeout=1)
    assert _compat.ara_client_kind(http) == "http"
    assert "ara.clients.offline" not in sys.modules


def test_ara_client_kind_without_ara_is_none(monkeypatch):
    monkeypatch.setitem(sys.modules, "ara.clients.http", None)   # import ara.clients.http fails
    monkeypatch.setitem(sys.modules, "ara.clients.offline", None)
    assert _compat.ara_client_kind(object()) is None


class _Banners:
    """A stand-in for the callback's Display that keeps the banners."""

    verbosity = 0

    def __init__(self) -> None:
        self.banners: list[str] = []

    def banner(self, msg: str, *args, **kwargs) -> None:
        self.banners.append(msg)


@pytest.mark.parametrize("no_log, shown", [(False, True), (True, False)])
def test_the_default_banner_shows_arguments_unless_the_task_is_no_log(monkeypatch, no_log, shown):
    """progress.py overrides _print_task_banner and hides a device task's arguments by marking a copy no_log."""
    assert list(inspect.signature(DefaultCallback._print_task_banner).parameters) == ["self", "task"]
    from ansible import constants as C
    monkeypatch.setattr(C, "DISPLAY_ARGS_TO_STDOUT", True)
    callback = DefaultCallback()
    callback.set_options()
    callback._display = _Banners()
    task = _task({"password": "s3cret"})
    task.no_log = no_log
    callback._print_task_banner(task)
    assert len(callback._display.banners) == 1
    assert callback._display.banners[0].startswith("TASK [Read the device")
    assert ("s3cret" in callback._display.banners[0]) is shown


def test_the_callback_base_still_shows_warnings_from_a_result_dictionary():
    """progress.py shows a compacted task's warnings with CallbackBase._handle_warnings(result dict)."""
    assert list(inspect.signature(CallbackBase._handle_warnings).parameters) == ["self", "res"]


def test_a_play_id_is_the_uuid_its_tasks_lead_to(play):
    """What ARA's callback records a play under, reached from a task as the report action reaches it."""
    loaded = Play.load({"hosts": "all", "gather_facts": False,
                        "tasks": [{"name": "t", "action": {"module": "johann.monitor.device_info"}}]},
                       variable_manager=play.get_variable_manager(), loader=DataLoader())
    task = loaded.compile()[-1].block[0]
    assert task.get_play() is loaded
    assert isinstance(loaded._uuid, str) and loaded._uuid and _compat.play_id(task.get_play()) == loaded._uuid
    assert _compat.play_id(task.copy().get_play()) == loaded._uuid   # a worker's copy of the task
