"""What device_info returns for a device the controller could not read (a stalled shared poller)."""
from __future__ import annotations

import json

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.johann.monitor.plugins.module_utils._tasks import device_info_spec, device_not_read


def _params(**given):
    result = ArgumentSpecValidator(device_info_spec()).validate({"host": "192.0.2.7", **given})
    assert not result.error_messages
    return result.validated_parameters


def test_a_device_not_read_is_an_error_record_with_the_reason_in_both_result_formats():
    for result_format in ("dict", "json"):
        result = device_not_read(_params(result_format=result_format, gather=["min"]), "c9300-07",
                                 "not read: the shared poller did not answer within 75 s")
        record = json.loads(result["device_json"]) if result_format == "json" else result["device"]
        assert (result["status"], record["status"], record["host"]) == ("error", "error", "c9300-07")
        assert record["message"] == "not read: the shared poller did not answer within 75 s"
        assert record["requests"] == 0 and record["alerts"] == [] and record["deadline"] == 60.0
        assert record["sections"]["identity"]["status"] == "skipped"
        assert "failed" not in result


def test_fail_on_error_fails_the_task_for_a_device_not_read():
    result = device_not_read(_params(fail_on_error=True), "c9300-07", "not read: stalled")
    assert result["failed"] is True and result["msg"] == "c9300-07: error: not read: stalled"
