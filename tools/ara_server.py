"""Start the project's local ARA API server the way a run starts it (``make ara-start``).

    .venv/bin/python tools/ara_server.py start http://127.0.0.1:8055 .ara/server [--timeout 30]

Does nothing when a server already answers there; otherwise starts it (gunicorn, its data in the directory
given) and waits until it answers. Exit status 0 when it answers, 1 with the reason on stderr when it does not.

The johann.monitor.ara_server callback starts this server when a playbook needs it; this command runs that same
code - the callback module's ``answers()`` and ``start_server()``, the one place that says how the server starts
- without a playbook (a playbook would start it too, but ARA would record that run in the history). No public
entry point runs a callback's code outside a playbook, so ``plugin()`` loads the callback by its FQCN through
Ansible's plugin loader, from where Ansible finds the collection (``ansible.cfg``'s ``collections_path``,
``ANSIBLE_COLLECTIONS_PATH``), and calls those two functions directly: here and nowhere else
(bench/ara_overhead.py takes ``plugin()`` from here). Run it from the project's root, where its ansible.cfg is.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from types import ModuleType

FQCN = "johann.monitor.ara_server"
MODULE = "ansible_collections.johann.monitor.plugins.callback.ara_server"


def plugin() -> ModuleType:
    """The johann.monitor.ara_server callback's module, as Ansible loads it."""
    if importlib.util.find_spec("ansible_collections") is not None:
        # a process that has the collections on its path already (a test session, Ansible itself): from there
        return importlib.import_module(MODULE)
    from ansible.plugins.loader import callback_loader, init_plugin_loader
    from ansible.utils.collection_loader import AnsibleCollectionConfig

    if AnsibleCollectionConfig.collection_finder is None:
        init_plugin_loader()
    callback = callback_loader.get(FQCN, class_only=True)
    if callback is None:
        raise SystemExit(f"Ansible finds no callback {FQCN}: is the collection in ansible.cfg's collections_path "
                         "(run this from the project's root) or in ANSIBLE_COLLECTIONS_PATH?")
    return sys.modules[callback.__module__]


def start(endpoint: str, data_dir: str, timeout: float) -> str | None:
    """None when the server at ``endpoint`` answers (already, or once started here), else why not."""
    server = plugin()
    if server.answers(endpoint):
        return None
    try:
        return server.start_server(endpoint, data_dir, timeout)
    except OSError as exc:   # the data directory cannot be made or written
        return f"{exc.strerror or exc}: {exc.filename or data_dir}"


def main(argv: list[str] | None = None) -> int | str:
    parser = argparse.ArgumentParser(prog="tools/ara_server.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    start_parser = commands.add_parser("start", help="start the server unless it answers")
    start_parser.add_argument("endpoint", help="the server's URL, e.g. http://127.0.0.1:8055")
    start_parser.add_argument("data_dir", help="its data directory (ARA_BASE_DIR): database, settings, log, pid file")
    start_parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for it to answer (30)")
    args = parser.parse_args(argv)
    problem = start(args.endpoint, args.data_dir, args.timeout)
    return f"ARA's server at {args.endpoint} is not running: {problem}" if problem else 0   # sys.exit: stderr, 1


if __name__ == "__main__":
    sys.exit(main())
