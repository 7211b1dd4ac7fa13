"""The AWX/AAP objects in awx/: they load, and what the credential types inject is what the collection
and ARA read (injected as AWX does: tests/awx.py, which the ansible-runner test uses too).
"""
from __future__ import annotations

import re
import stat

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean

from tests.awx import ARA_TYPE, AWX, RESTCONF_TYPE, inject_credential, load
from tests.lablib import ROOT

COLLECTION = ROOT / "collections/ansible_collections/johann/monitor"
PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUX\n-----END CERTIFICATE-----\n"


def documented_env_vars() -> set[str]:
    """The JOHANN_RESTCONF_* variables the collection documents (doc fragment) and reads (env fallbacks)."""
    fragment = (COLLECTION / "plugins/doc_fragments/restconf.py").read_text()
    options = (COLLECTION / "plugins/module_utils/_restconf/options.py").read_text()
    documented = set(re.findall(r"E\((JOHANN_RESTCONF_[A-Z_]+)\)", fragment))
    read = set(re.findall(r'env_fallback, \["(JOHANN_RESTCONF_[A-Z_]+)"\]', options))
    assert documented == read, (documented, read)
    return read


def collection_params(env: dict, monkeypatch) -> dict:
    """The connection options the collection's argument spec takes from this environment."""
    from ansible_collections.johann.monitor.plugins.module_utils._restconf.options import restconf_argument_spec

    for name in documented_env_vars():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = ArgumentSpecValidator(restconf_argument_spec()).validate({"host": "192.0.2.1"})
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_every_awx_file_loads_and_is_named():
    files = sorted(AWX.glob("*.yml"))
    assert {p.name for p in files} >= {"credential_type_restconf.yml", "credential_type_ara.yml",
                                       "job_template_monitor.yml", "schedule_monitor.yml"}
    for path in files:
        assert load(path).get("name"), path


@pytest.mark.parametrize("path", [RESTCONF_TYPE, ARA_TYPE], ids=lambda p: p.stem)
def test_credential_types_are_well_formed(path):
    ctype = load(path)
    assert ctype["kind"] == "cloud"
    fields = ctype["inputs"]["fields"]
    ids = [f["id"] for f in fields]
    assert len(ids) == len(set(ids))
    assert set(ctype["inputs"]["required"]) <= set(ids)
    for field in fields:
        assert field["type"] in ("string", "boolean") and field.get("label")
        if "choices" in field:
            assert field.get("default") in field["choices"]
    assert [f["id"] for f in fields if f.get("secret")] == ["password"]
    assert set(ctype["injectors"]) <= {"env", "file", "extra_vars"}
    assert "extra_vars" not in ctype["injectors"], "secrets as extra vars would show in the job's variables"
    for name in ctype["injectors"]["env"]:
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name) and not name.startswith("ANSIBLE_"), name


def test_restconf_credential_injects_exactly_the_variables_the_collection_reads(tmp_path):
    env, files = inject_credential(load(RESTCONF_TYPE), {"username": "u", "password": "p"}, tmp_path)
    injected = set(env)
    assert injected <= documented_env_vars()
    assert injected == {"JOHANN_RESTCONF_USERNAME", "JOHANN_RESTCONF_PASSWORD", "JOHANN_RESTCONF_CA_PATH",
                        "JOHANN_RESTCONF_VALIDATE_CERTS"}
    assert set(files) == {"template.ca_bundle"}


def test_full_credential_reaches_the_collection(tmp_path, monkeypatch):
    inputs = {"username": "netops", "password": "s3cret pass", "ca_bundle": PEM, "validate_certs": "yes"}
    env, files = inject_credential(load(RESTCONF_TYPE), inputs, tmp_path)
    ca = files["template.ca_bundle"]
    assert ca.read_text() == PEM and stat.S_IMODE(ca.stat().st_mode) == 0o600 and ca.parent == tmp_path / "env"
    assert env["JOHANN_RESTCONF_CA_PATH"] == str(ca)
    params = collection_params(env, monkeypatch)
    assert (params["username"], params["password"], params["ca_path"], params["validate_certs"]) == \
        ("netops", "s3cret pass", str(ca), True)


def test_without_a_ca_bundle_the_system_trust_store_is_used(tmp_path, monkeypatch):
    env, _ = inject_credential(load(RESTCONF_TYPE), {"username": "u", "password": "p"}, tmp_path)
    assert env["JOHANN_RESTCONF_CA_PATH"] == ""
    params = collection_params(env, monkeypatch)
    assert not params["ca_path"] and params["validate_certs"] is True


@pytest.mark.parametrize(("choice", "expected"), [(None, True), ("yes", True), ("no", False)])
def test_validate_certs_is_always_a_boolean_and_on_unless_switched_off(tmp_path, monkeypatch, choice, expected):
    inputs = {"username": "u", "password": "p", **({"validate_certs": choice} if choice else {})}
    env, _ = inject_credential(load(RESTCONF_TYPE), inputs, tmp_path)
    assert boolean(env["JOHANN_RESTCONF_VALIDATE_CERTS"]) is expected
    assert collection_params(env, monkeypatch)["validate_certs"] is expected


def test_ara_credential_injects_what_aras_callback_and_the_project_read(tmp_path):
    import ara.plugins.callback.ara_default as ara_callback

    ara_env = {e["name"] for option in yaml.safe_load(ara_callback.DOCUMENTATION)["options"].values()
               for e in option.get("env", [])}
    project_doc = (COLLECTION / "plugins/callback/ara_server.py").read_text()
    env, files = inject_credential(load(ARA_TYPE), {"api_server": "https://ara.example.com", "username": "awx",
                                                    "password": "pw"}, tmp_path)
    assert not files
    assert env == {"ARA_API_CLIENT": "http", "ARA_API_SERVER": "https://ara.example.com", "ARA_API_USERNAME": "awx",
                   "ARA_API_PASSWORD": "pw", "JOHANN_ARA_AUTOSTART": "false", "ARA_CALLBACK_THREADS": "4"}
    assert {n for n in env if n.startswith("ARA_")} <= ara_env   # ARA_CALLBACK_THREADS is ARA's own too
    assert "JOHANN_ARA_AUTOSTART" in project_doc and boolean(env["JOHANN_ARA_AUTOSTART"]) is False


def test_job_template_runs_the_monitor_with_a_survey_of_its_variables():
    template = load(AWX / "job_template_monitor.yml")
    playbook = ROOT / template["playbook"]
    assert playbook.is_file()
    text = playbook.read_text()
    assert template["survey_enabled"] is True
    spec = template["survey_spec"]["spec"]
    variables = [q["variable"] for q in spec]
    assert len(variables) == len(set(variables))
    for question in spec:
        assert question["variable"] in text, question["variable"]   # monitor.yml documents and reads it
        assert question["type"] in ("text", "integer", "multiplechoice", "password", "float", "textarea")
        if question["type"] == "multiplechoice":
            assert question["default"] in question["choices"]
        if question["type"] == "integer":
            assert question["min"] <= question["default"] <= question["max"]
    assert set(template.get("extra_vars", {})) <= {"johann_report_dir", "johann_thresholds", "johann_report_title"}
    assert len(template["credentials"]) == 2


def test_schedule_runs_the_job_template_with_survey_answers():
    template = load(AWX / "job_template_monitor.yml")
    schedule = load(AWX / "schedule_monitor.yml")
    assert schedule["unified_job_template"] == template["name"]
    assert re.fullmatch(r"DTSTART;TZID=UTC:\d{8}T\d{6} RRULE:FREQ=(MINUTELY|HOURLY|DAILY|WEEKLY);INTERVAL=\d+",
                        schedule["rrule"])
    assert set(schedule["extra_data"]) <= {q["variable"] for q in template["survey_spec"]["spec"]}


def test_execution_environment_sets_what_aras_callback_reads():
    import ara.plugins.callback.ara_default as ara_callback

    ara_env = {e["name"] for option in yaml.safe_load(ara_callback.DOCUMENTATION)["options"].values()
               for e in option.get("env", [])}
    ee = load(ROOT / "execution-environment.yml")
    lines = ee["additional_build_steps"]["append_final"]
    env = dict(re.match(r"ENV (\w+)=(\S+)$", line).groups() for line in lines if line.startswith("ENV "))
    assert env["ANSIBLE_CALLBACK_PLUGINS"] == "/usr/share/ara/plugins/callback"
    assert env["ARA_API_CLIENT"] == "http" and "ARA_API_SERVER" not in env   # AWX's credential names the server
    assert {n for n in env if n.startswith("ARA_")} <= ara_env


def test_enable_restconf_template_runs_its_playbook_with_ssh_and_restconf_credentials():
    template = load(AWX / "job_template_enable_restconf.yml")
    text = (ROOT / template["playbook"]).read_text()
    plays = yaml.safe_load(text)
    assert [p["name"] for p in plays] == ["Enable RESTCONF on Cisco IOS XE over SSH", "Prove that RESTCONF answers"]
    assert plays[0]["vars"]["ansible_connection"] == "ansible.netcommon.network_cli"
    assert "ansible_connection" not in plays[1].get("vars", {})   # the proof reads over RESTCONF
    for question in template["survey_spec"]["spec"]:
        assert question["variable"] in text, question["variable"]
        if question["type"] == "multiplechoice":
            assert question["default"] in question["choices"]
    assert template["ask_limit_on_launch"] is True and template["diff_mode"] is True
    assert len(template["credentials"]) == 3 and template["become_enabled"] is False


def test_show_run_template_writes_beside_the_monitors_report():
    template = load(AWX / "job_template_show_run.yml")
    monitor = load(AWX / "job_template_monitor.yml")
    text = (ROOT / template["playbook"]).read_text()
    (play,) = yaml.safe_load(text)
    assert play["hosts"] == "{{ target | default('all') }}"   # monitor.yml's targeting
    for question in template["survey_spec"]["spec"]:
        assert question["variable"] in text, question["variable"]
        if question["type"] == "multiplechoice":
            assert question["default"] in question["choices"]
    # the same report directory as the monitor's: the device pages link the files
    assert template["extra_vars"] == {"johann_report_dir": monitor["extra_vars"]["johann_report_dir"]}
    assert "johann_report_dir" in text and "lookup('johann.monitor.report_path'" in text
    assert template["credentials"] == monitor["credentials"] and template["ask_limit_on_launch"] is True
    assert template["inventory"] == monitor["inventory"] and template["allow_simultaneous"] is False


def test_the_sliced_workflow_runs_the_slices_then_the_report_from_the_templates_in_awx():
    templates = {load(p)["name"]: load(p) for p in AWX.glob("job_template_*.yml")}
    workflow = load(AWX / "workflow_monitor_sliced.yml")
    nodes = {n["identifier"]: n for n in workflow["workflow_nodes"]}
    assert [n["identifier"] for n in nodes["slices"]["related"]["always_nodes"]] == ["report"]
    slices = templates[nodes["slices"]["unified_job_template"]["name"]]
    report = templates[nodes["report"]["unified_job_template"]["name"]]
    assert (slices["playbook"], report["playbook"]) == ("playbooks/monitor.yml", "playbooks/fleet_report.yml")
    assert (ROOT / slices["playbook"]).is_file() and (ROOT / report["playbook"]).is_file()
    assert slices["job_slice_count"] > 1 and slices["ask_limit_on_launch"] is False   # limits fail empty slices
    assert slices["ask_variables_on_launch"] and report["ask_variables_on_launch"]   # the survey reaches both
    assert slices["inventory"] == report["inventory"] == workflow["inventory"]
    assert "ARA (run history)" in slices["credentials"] and report["credentials"] == ["ARA (run history)"]
    asked = {q["variable"] for q in workflow["survey_spec"]["spec"]}
    assert asked == {"target", "johann_run_id"}
    for variable in asked:   # both playbooks read what the survey asks
        assert variable in (ROOT / "playbooks/fleet_report.yml").read_text()
        assert variable in (ROOT / "playbooks/monitor.yml").read_text()
