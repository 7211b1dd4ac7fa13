# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documentation of johann.monitor.report, and only that: the action plugin of the same name
(plugins/action/report.py) runs the task on the controller, so there is no module to run on a host."""
from __future__ import annotations

DOCUMENTATION = r"""
module: report
short_description: Render the static HTML report of a fleet from device_info records
version_added: 0.1.0
description:
  - Takes the C(johann.monitor.device_info) results of the play's hosts (or the records stored in an
    earlier report's C(fleet.json.gz)) and writes a self-contained static report into O(output_dir)
    (C(index.html) fleet overview, C(devices/<host>.html), C(stats.html), C(licensing.html), the CSS and script
    they share in C(assets/)) plus the exports C(devices.csv), C(devices.xlsx), C(interfaces.csv) and
    C(fleet.json.gz) (every record as C(device_info) returned it, gzip-compressed JSON; versions before this one
    wrote it uncompressed as C(fleet.json), which is still read and is removed when the report is next written).
  - C(devices.xlsx) holds a C(Devices) sheet (the columns of C(devices.csv), then every per-device field of the
    record) and an C(Interfaces) sheet (the rows of C(interfaces.csv)), with typed cells (numbers, booleans, times
    as dates in UTC), a filtered header row and frozen panes. Device strings are always text cells, never formulas;
    strings over Excel's 32,767-character limit are cut with a marker. The collection writes the workbook itself
    (no spreadsheet package needed on the controller). A workbook that cannot be written (a full disk) costs the
    report that file only; it is listed in RV(export_errors) and the task warns.
  - Pages open from C(file://), from an AWX artifact or behind any web server; they fetch nothing
    from the network, and their Content-Security-Policy allows only the report's own files (C(script-src 'self'),
    that is C(assets/report.js); no inline script runs). A device page does not repeat the device's raw record; it
    says where it is in C(fleet.json.gz).
  - The index holds every device as compact data and shows 50 rows at a time (pages, filter and sort in the
    browser, each under 150 ms at 10,000 devices); without JavaScript it shows the first 50 rows and the devices
    that need attention.
  - Rendered with Jinja2, autoescape on and undefined variables as errors; device-provided strings
    are shown as text, never run.
  - Every host is in the report whatever its C(device_info) result is - a failed task (bad parameters for
    that host), a task stopped by Ansible's task C(timeout), an unreachable or skipped host, no result at
    all, or a result of an unexpected shape (another task registered under O(result_var), a section of the
    wrong type). Each record is completed to the shape the pages read, keeping what is usable, and the
    host's status and message say the cause (status C(error), or C(unreachable) and C(missing) for Ansible's
    unreachable and skipped results). Hosts stopped by the task timeout are listed in RV(timed_out).
  - A device page that fails to render (a template or record problem) is replaced by a plain page naming
    the problem, and the device is shown as an error in the index; a device whose data break the index,
    statistics or licensing page is shown there as an error row. Both are listed in RV(page_errors). A
    template that fails whatever the devices fails the task.
  - The whole report is written into a staging directory inside O(output_dir) (C(.johann-staging-<host>-<pid>)),
    then put in place file by file with renames - device pages first, C(index.html) last - in a short phase
    where SIGINT and SIGTERM wait. A run stopped before that (Ctrl-C, SIGTERM, a full disk, a directory that
    cannot be written) leaves the previous report as it was and removes the staging directory; one left by a
    process killed outright (SIGKILL) is removed by the next report. Pages of devices no longer in the report
    are removed after.
  - "A report directory that cannot be written fails the task with one message naming the directory and the
    reason, for example C(cannot write the report to /srv/www/network: No space left on device (the previous
    report there is unchanged))."
  - A run over part of the inventory (C(--limit), C(-e target=core)) updates its devices and keeps the rest of the
    fleet (O(carry_over)) - every device of the previous report in O(output_dir) (its C(fleet.json.gz)) that is not
    among O(hosts) stays with its last known record, marked as carried over with its age (C(last read 14m ago))
    in the index and on its page. Hosts of this run always replace their carried record, whatever their status.
    A carried device last read more than O(stale_after) seconds ago is shown with the status C(stale), not with
    its old status, and without the alerts of its old readings; one last read more than O(forget_after) seconds
    ago leaves the report (listed in RV(forgotten)), so a device removed from the inventory leaves after that time,
    not on the next partial run. A carried device whose serial, address and port are those of one host of this
    run, and of no other host, is that host under its old name (a host renamed in the inventory) and leaves at
    once (RV(renamed)).
  - The age counts from the record's C(polled_at), never later than the last run that had the host
    (C(fleet.json.gz) keeps it as C(seen)), so a skewed clock cannot keep a device forever. Stored records that
    cannot be read, of another schema or not written by this collection carries nothing over, with a warning;
    none at all (a first run) carries nothing, silently.
  - RV(statuses), RV(not_ok) and RV(alerting), the run summary attached to ARA (C(summary.json)) and the trends
    are about the devices of this run only; carried devices are in RV(carried).
  - Runs on the controller as an action plugin; use it once per run (C(run_once) and C(delegate_to=localhost)).
author: johann.monitor contributors (!UNKNOWN)
options:
  hosts:
    description:
      - Hosts whose results to include. Defaults to the play's hosts (C(ansible_play_hosts_all)).
      - A host without a result is listed as having no record.
    type: list
    elements: str
  result_var:
    description: The variable the C(device_info) results were registered as.
    type: str
    default: johann_device
  fleet_json:
    description:
      - Render from the records stored in this C(fleet.json.gz) (or a report directory) instead of this run's results
        (re-render without polling).
      - A C(fleet.json) written by an earlier version is read too (plain JSON). When a directory has both
        C(fleet.json.gz) and C(fleet.json), and either is asked for, the newer file of the two is read
        (C(fleet.json.gz) when they are as old).
      - Its title is used unless O(title) is given. Its devices keep the alerts stored with their records
        (found by M(johann.monitor.device_info) when it read them; O(thresholds) changes nothing).
    type: path
  output_dir:
    description:
      - Directory of the report. Defaults to the variable C(johann_report_dir), else C(reports/out) of the project,
        created when missing.
      - The project is the directory of the C(ansible.cfg) the run uses, when the playbook is in that directory or
        below it (a playbook in C(playbooks/) of a project with C(ansible.cfg) at its root writes to
        C(<root>/reports/out)); else the playbook's own directory (C(site.yml) at a project's root without an
        C(ansible.cfg) writes to C(<root>/reports/out) too). The user's C(~/.ansible.cfg) marks no project. Nothing
        is ever written above the project.
      - A relative path is relative to the working directory of C(ansible-playbook).
      - The lookup C(johann.monitor.report_path) gives the same directory; it does not see this option, so set
        C(johann_report_dir) to move both.
    type: path
  templates_dir:
    description:
      - Your own Jinja2 templates. A template found there replaces the default of the same name
        (C(base.html), C(index.html), C(device.html), C(stats.html), C(licensing.html), C(partials/...));
        the others come from the project's C(reports/templates) (at the project's root, see O(output_dir); no
        directory above it is searched), then from the defaults shipped in the collection.
    type: path
  thresholds:
    description:
      - Ignored (a warning says so); kept so that playbooks written for earlier versions still run.
      - The report shows the alerts M(johann.monitor.device_info) found when it read each device, with that host's
        own levels (its O(johann.monitor.device_info#module:thresholds) option, else the host's variable
        C(johann_thresholds)). One evaluation, so the task's result, the run's summary in ARA and every page agree,
        and a group of hosts can have levels of its own. A report rendered again from O(fleet_json) shows the
        alerts stored with each record.
    type: dict
  title:
    description: Title of the pages.
    type: str
    default: johann.monitor
  history:
    description:
      - Read the last O(history_runs) run summaries from ARA and show trends - CPU, memory and temperature
        sparklines, interface throughput and error rates from counter deltas since the previous run, what
        changed since then, and the fleet's availability per run.
      - Needs ARA's callback loaded in the run (the project's C(ansible.cfg) does it). Without ARA, or when
        ARA cannot be read, the report shows this run only and says why history is off; it never fails
        over history.
      - Each run's summary is written to C(summary.json) in O(output_dir) and, with O(ara_record), attached to the
        run in ARA (key C(johann.summary)), which is what later runs read.
    type: bool
    default: true
  ara_record:
    description:
      - When ARA's callback records the run, attach this run's summary to it (records C(johann.summary),
        C(johann.summary.2)... of at most about 1 MB each, which is what later reports read for their trends) and the
        report's location (record C(report), a C(file://) URL), and add O(ara_labels) to the run's labels. Through the
        ARA client of the run, so any playbook that calls this task keeps history; no C(ara_record) task is needed.
      - Not done with O(source=ara) (the slices recorded their runs) nor with O(fleet_json) (nothing was read).
        A run ARA cannot record keeps its report; a warning says why.
    type: bool
    default: true
  ara_labels:
    description:
      - Labels added to the run in ARA with O(ara_record), e.g. C(target:core). C(playbooks/monitor.yml) adds
        C(project:johann.monitor), C(inventory:<file>), C(target:<pattern>) and, with C(johann_run_id),
        C(johann.run:<id>), the label O(source=ara) reads the slices of a sliced job by.
    type: list
    elements: str
    default: []
  history_runs:
    description: How many past runs to read from ARA (the newest first). V(0) reads none.
    type: int
    default: 30
  carry_over:
    description:
      - Keep the devices of the previous report in O(output_dir) that are not among this run's O(hosts), with their
        last known record and its age (see the description). V(false) writes a report of this run's hosts only and
        removes the other device pages, as earlier versions did.
      - Not used with O(fleet_json).
    type: bool
    default: true
  stale_after:
    description:
      - Seconds after its last read from which a carried device is shown as C(stale). The default, an hour, is four
        missed runs of a 15-minute schedule; set it a little over the interval of your full runs.
    type: int
    default: 3600
  forget_after:
    description:
      - Seconds after its last read from which a carried device leaves the report (a device removed from the
        inventory leaves after this time). The default is 7 days, so a device survives a weekend of partial runs
        or a broken schedule. V(0) drops every carried device older than a second.
    type: int
    default: 604800
  source:
    description:
      - Where the records come from. V(results) - the C(device_info) results registered in this play (O(result_var)).
      - V(ara) - the C(device_info) results that other runs recorded in ARA, each host's newest; this is how one
        report is made of a sliced job (AWX/AAP job slicing, or several C(ansible-playbook) runs over parts of
        the inventory, recording to one ARA server). The runs are those labelled C(johann.run:)O(ara_run) in ARA
        (C(playbooks/monitor.yml) adds that label from the variable C(johann_run_id)), else those whose
        C(device_info) task started in the last O(ara_within) seconds. Needs ARA's callback loaded in this run
        (it gives the client to read with). With O(hosts), only those hosts are read, and a host no run recorded
        is carried over from the previous report, or shown as C(missing) with the reason.
      - The results are turned into records exactly as in a single run, so the statuses, alerts and pages equal those
        of one unsliced run over the same devices. The runs' own summaries in ARA are not shown twice in the trends.
    type: str
    choices: [results, ara]
    default: results
  ara_run:
    description:
      - With O(source=ara), the run id the slices were given as C(johann_run_id) (their ARA label C(johann.run:<id>)).
    type: str
  ara_within:
    description:
      - With O(source=ara) and no O(ara_run), how many seconds back to look for runs; each host's newest
        C(device_info) result recorded since then is read.
    type: int
    default: 3600
attributes:
  check_mode:
    support: none
    description: Writes the report files even in check mode.
  diff_mode:
    support: none
    description: No diff.
seealso:
  - module: johann.monitor.device_info
"""

EXAMPLES = r"""
- name: Monitor
  hosts: all
  gather_facts: false
  tasks:
    - name: Read the device
      johann.monitor.device_info:
      register: johann_device

    - name: Write the report
      johann.monitor.report:
        output_dir: /srv/www/network
      run_once: true
      delegate_to: localhost

# Without polling: the stored records, with your own templates (the alerts are those stored with each record)
- name: Render again from stored records
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Render
      johann.monitor.report:
        fleet_json: /srv/www/network/fleet.json.gz
        output_dir: /srv/www/network
        templates_dir: /srv/johann/templates

# The report step of a sliced job: every slice ran playbooks/monitor.yml with -e johann_run_id=nightly-42,
# recording to the same ARA server; one report of the whole fleet from their results
- name: One report from the slices
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Render from ARA
      johann.monitor.report:
        source: ara
        ara_run: nightly-42
        output_dir: /srv/www/network
"""

RETURN = r"""
from_ara:
  description:
    - With O(source=ara), where the records came from - the ARA playbooks read (newest first) and, per run, its
      C(device_info) task's results and how many were used (a host's newest result wins).
  returned: with O(source=ara)
  type: dict
  sample: {"run": "nightly-42", "hosts": 3000, "playbooks": [12, 11, 10],
           "runs": [{"playbook": 12, "task": 80, "status": "completed", "results": 1000, "used": 1000}]}
path:
  description: The index page.
  returned: success
  type: str
  sample: /srv/www/network/index.html
output_dir:
  description: The report's directory.
  returned: success
  type: str
  sample: /srv/www/network
devices:
  description: Devices in the report.
  returned: success
  type: int
  sample: 27
polled:
  description: Devices of this run in the report (RV(devices) less the carried ones).
  returned: success
  type: int
  sample: 1
statuses:
  description:
    - Devices of this run per status (ok, degraded, auth_failed, unreachable, error, missing); carried devices are
      in RV(carried), not here.
  returned: success
  type: dict
  sample: {"ok": 22, "degraded": 1, "auth_failed": 1, "unreachable": 2, "error": 1, "missing": 0}
carried:
  description:
    - The devices of the previous report that this run did not read, kept with their last known record - their
      status then, when they were last read, their age in seconds and whether they are stale (O(stale_after)).
  returned: success
  type: dict
  sample: {"csr-02": {"last_status": "ok", "last_read": "2026-11-29T10:45:02Z", "age": 912, "stale": false}}
forgotten:
  description: Devices of the previous report left out because they were last read more than O(forget_after) ago
    (host and age in seconds).
  returned: success
  type: dict
  sample: {"c9300-old": 605012}
renamed:
  description: Devices of the previous report left out because a host of this run is the same device (serial,
    address and port), by old and new name.
  returned: success
  type: dict
  sample: {"c9300-01": "c9300-01.core"}
alerting:
  description: The alerts of every device of this run that has any.
  returned: success
  type: dict
  sample: {"c9300-hot": [{"kind": "cpu", "level": "critical", "subject": null,
                          "message": "CPU 95% over 5 minutes (threshold 95%)"}]}
not_ok:
  description:
    - Every device of this run whose status is not ok, with its cause (failed, timed-out, missing device_info tasks
      too).
  returned: success
  type: dict
  sample: {"c9300-badpass": "auth_failed: authentication failed: 401 access-denied on /.well-known/host-meta"}
timed_out:
  description: Hosts whose C(device_info) task was stopped by Ansible's task C(timeout) (their pages say so).
  returned: success
  type: list
  elements: str
  sample: ["c9300-07"]
page_errors:
  description:
    - Devices the report could not show as their templates wanted, with the problem. A device page that failed
      was replaced by a plain page; a device that broke the index, statistics or licensing page is an error row there.
  returned: success
  type: dict
  sample: {"c9300-07": "UndefinedError: 'dict object' has no attribute 'serial'"}
export_errors:
  description:
    - Export files that could not be written, with the problem (the rest of the report was written, and the
      previous report's copy of such a file was removed). Empty when every file was written.
  returned: success
  type: dict
  sample: {"devices.xlsx": "OSError: [Errno 28] No space left on device"}
stale_pages_removed:
  description: Pages of devices that were no longer in the report and were removed.
  returned: success
  type: int
  sample: 0
render_seconds:
  description: Seconds spent rendering and writing.
  returned: success
  type: float
  sample: 0.8
summary_path:
  description: This run's compact summary of every device (what O(ara_record) attaches to the run in ARA).
  returned: success
  type: str
  sample: /srv/www/network/summary.json
history:
  description:
    - Whether trends are shown, from where, how many past runs were read, and why not when off.
    - C(recording) is true when ARA's callback is loaded in this run and its server answered; the report then
      attaches the run's summary to the run in ARA (O(ara_record)), and C(recorded) says what it attached
      (the playbook's id, the records' keys, the run's labels), or is null when ARA refused (a warning says why).
  returned: success
  type: dict
  sample: {"enabled": true, "recording": true, "source": "ARA at http://127.0.0.1:8055", "past_runs": 29,
           "reason": null}
changes:
  description: What changed on each device since its previous run (devices with changes only).
  returned: success
  type: dict
  sample: {"c9300-01": ["rebooted at 2026-11-29T10:00:30.000Z", "lost neighbour core-2"]}
msg:
  description: What went wrong.
  returned: failure
  type: str
  sample: "johann.monitor.report: cannot write the report to /srv/www/network: No space left on device (the previous
    report there is unchanged)"
"""
