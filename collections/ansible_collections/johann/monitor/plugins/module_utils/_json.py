# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON of the collection's own data (device records, results, the poller's messages): orjson when installed.

orjson (Rust) writes a 60 kB device record in about a tenth of json.dumps' time (0.1 ms against 1.1 ms on these
machines): a millisecond of the poller's CPU per IOS XE device. What it cannot
write the way json does, json writes: an integer past 64 bits, a string with a lone surrogate (device replies may
hold both), a key that is not a string. So the text always says what json.dumps' would; the only difference is
that orjson writes non-ASCII characters as UTF-8, not as ``\\uXXXX`` escapes (the same string, read back), and a
non-finite float as ``null`` where json would write ``NaN``, which is not JSON (the normalisers give ``None``
for those anyway).

Only writing: orjson reads an integer past 64 bits as a float (a different value, silently) and makes no
duplicate-member check, so JSON is read with json (device replies by ``_restconf/decode.py``, with its bounds).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

try:
    import orjson
    # datetimes and dataclasses go to ``default`` as with json (orjson would write them its own way)
    _AS_JSON_DOES = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
except ImportError:   # optional: json does the same work, slower
    orjson = None


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """Compact JSON text, UTF-8: ``json.dumps(value, separators=(",", ":"), default=default)``'s (see the module's
    docstring); ``default`` is given what neither writes natively, datetimes and dataclasses included."""
    if orjson is not None:
        try:
            return orjson.dumps(value, default=default, option=_AS_JSON_DOES)
        except TypeError:   # orjson.JSONEncodeError: what it cannot write, json can (or says why not)
            pass
    return json.dumps(value, separators=(",", ":"), check_circular=False, default=default).encode()
