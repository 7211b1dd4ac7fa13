"""The one place bench/ imports the collection's private modules.

Every other bench measures the collection through its public face: ``ansible-playbook`` with the project's
``ansible.cfg`` (the collection from its ``collections_path``), the plugins by FQCN and their documented options.
Three benches are profilers of private parts by design and import them from here, by the names below:

* ``bench/poller_profile.py`` times the shared poller's parts (TLS, decoding, normalisers, alerts, encoding,
  hand-over) one by one, in this process: no public face runs one part alone, and timing a playbook would put
  Ansible's own work in every figure;
* ``bench/asyncio_limit.py`` is the floor of device_info's network work and reads the same resources: the
  platform tables are the only statement of which paths device_info GETs;
* ``bench/report_bench.py`` measures the renderer alone, without Ansible: records built by the normalisers
  from the lab's answers, past runs through the report's own history reader, and memory figures for the
  renderer's process and its page writers apart (inside an Ansible worker they mix with Ansible's own).

What each name is, and why no public face can serve:

* ``platforms`` (``module_utils/_normalise/platforms.py``): the RESTCONF resources of each platform and the
  sections built from them; device_info's options choose sections, never paths.
* ``normalise_common`` (``module_utils/_normalise/common.py``): ``SECTIONS``, the record's section names, to
  build a whole record outside device_info.
* ``alerts`` (``module_utils/_alerts.py``): ``evaluate`` and ``DEFAULT_THRESHOLDS``, the alerts device_info puts in
  a record; report_bench builds records without a device_info task.
* ``tasks`` (``module_utils/_tasks.py``): ``device_info_spec`` (the options validated the way a worker validates
  them) and ``device_info`` (one device's whole read, the poller's unit of work), timed without Ansible.
* ``device_info`` (``module_utils/_device_info.py``): its ``_Run._build``, the normalisers as one call to time.
* ``client``, ``decode``, ``transport`` (``module_utils/_restconf/``): the TLS context, decoding and transport
  functions that poller_profile wraps in CPU timers.
* ``poller`` (``plugin_utils/_poller.py``): the shared poller's socket protocol, which poller_profile's threads
  speak in place of Ansible's forks; ``POLLER_CODE`` is how ``_poller._start`` starts its process.
* ``report_history``, ``report_records``, ``report_render`` (``plugin_utils/_report/``): the report's history
  reader and summary, its records (``Lazy``, ``from_result``) and ``render_report``: the renderer alone.

The modules load from a collections directory (``ansible_collections/`` below it; default this checkout's
``collections/``, the directory ``ansible.cfg``'s ``collections_path`` names first), given as the package
``ansible_collections``'s only search location, not by putting the directory on the import path: nothing else
is imported from it, and Ansible is not loaded (bench/asyncio_limit.py's CPU, counted whole, stays its own).
``use(path)`` chooses another checkout's collections (bench/poller_profile.py ``--collections``) before the
first name is read.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "ansible_collections.johann.monitor.plugins"
NAMES = {
    "platforms": "module_utils._normalise.platforms",
    "normalise_common": "module_utils._normalise.common",
    "alerts": "module_utils._alerts",
    "tasks": "module_utils._tasks",
    "device_info": "module_utils._device_info",
    "client": "module_utils._restconf.client",
    "decode": "module_utils._restconf.decode",
    "transport": "module_utils._restconf.transport",
    "poller": "plugin_utils._poller",
    "report_history": "plugin_utils._report.history",
    "report_records": "plugin_utils._report.records",
    "report_render": "plugin_utils._report.render",
}
# the shared poller's process as _poller._start runs it (with the collections directory in PYTHONPATH)
POLLER_CODE = f"import sys; from {PACKAGE}.plugin_utils._poller import main; sys.exit(main(sys.argv[1:]))"

_chosen: list[Path] = []


def use(collections: Path) -> None:
    """Load the names below from ``collections`` (a directory holding ``ansible_collections/johann/monitor``)."""
    collections = collections.resolve()
    if not (collections / "ansible_collections" / "johann" / "monitor").is_dir():
        raise SystemExit(f"{collections} holds no ansible_collections/johann/monitor")
    loaded = sys.modules.get("ansible_collections")
    if loaded is not None:
        where = [Path(p).resolve() for p in getattr(loaded, "__path__", [])]
        if collections / "ansible_collections" not in where:
            raise SystemExit(f"ansible_collections is already loaded from {', '.join(map(str, where))}, "
                             f"not from {collections}: choose the collections before reading a name")
    else:
        spec = importlib.machinery.ModuleSpec("ansible_collections", None, is_package=True)
        package = importlib.util.module_from_spec(spec)
        package.__path__ = [str(collections / "ansible_collections")]
        sys.modules["ansible_collections"] = package
    _chosen[:] = [collections]


def __getattr__(name: str) -> ModuleType:
    """``from bench.internals import platforms``: the module, imported on first use."""
    if name not in NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if not _chosen:
        use(ROOT / "collections")
    module = importlib.import_module(f"{PACKAGE}.{NAMES[name]}")
    globals()[name] = module
    return module
