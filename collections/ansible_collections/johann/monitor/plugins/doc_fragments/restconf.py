# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    """The connection options shared by every RESTCONF plugin (see module_utils/_restconf/options.py)."""

    DOCUMENTATION = r"""
options:
  host:
    description:
      - Address or name of the device.
      - Defaults to the inventory variable C(ansible_host), else the inventory host name.
    type: str
  port:
    description:
      - HTTPS port of the device's RESTCONF server.
      - Defaults to the inventory variable C(restconf_port), C(ansible_httpapi_port) or C(ansible_port), else 443.
    type: int
  username:
    description:
      - User for HTTP Basic authentication (IOS XE accepts privilege-15 users only).
      - Defaults to the inventory variable C(restconf_user) or C(ansible_user), then the environment
        variable E(JOHANN_RESTCONF_USERNAME).
    type: str
    aliases: [user]
  password:
    description:
      - Password for HTTP Basic authentication. Never logged or returned.
      - Defaults to the inventory variable C(restconf_password) or C(ansible_password), then the
        environment variable E(JOHANN_RESTCONF_PASSWORD) (what an AWX credential type injects).
    type: str
  validate_certs:
    description:
      - Verify the device's TLS certificate (chain and name). Leave it on; give O(ca_path) for a private CA.
      - Defaults to the inventory variable C(restconf_validate_certs), then E(JOHANN_RESTCONF_VALIDATE_CERTS).
    type: bool
    default: true
  ca_path:
    description:
      - PEM bundle of the CA certificates to trust instead of the system store.
      - Defaults to the inventory variable C(restconf_ca_path), then E(JOHANN_RESTCONF_CA_PATH).
    type: path
  client_cert:
    description:
      - PEM client certificate for mutual TLS (a device that requires one closes the connection
        without it); needs O(client_key).
      - Defaults to the inventory variable C(restconf_client_cert).
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert), unencrypted.
      - Defaults to the inventory variable C(restconf_client_key).
    type: path
  proxy:
    description:
      - HTTP(S) proxy URL for this device, such as V(http://proxy.example:3128).
      - The proxy tunnels the connection with HTTP C(CONNECT), so TLS, its verification and any
        client certificate stay end to end between the controller and the device.
      - Defaults to the inventory variable C(restconf_proxy), then E(JOHANN_RESTCONF_PROXY).
    type: str
  root:
    description:
      - RESTCONF root path, such as V(/restconf). Without it the root is discovered from
        C(/.well-known/host-meta) (falling back to V(/restconf)) and cached in the host fact
        C(johann_restconf_root) for later tasks.
    type: str
  connect_timeout:
    description: Seconds to wait for a TCP and TLS connection.
    type: float
    default: 5.0
  timeout:
    description:
      - Seconds to wait for each read from the device (the reply's first bytes, then each next part).
      - A device that keeps sending a byte now and then never trips it; O(deadline) bounds the whole read.
    type: float
    default: 10.0
  deadline:
    description:
      - Seconds the whole read of the device may take, discovery, every request, retries and their waits
        included. When it runs out, the reads still going are cut, and the result names each one and the bytes
        it had received.
      - Defaults to the inventory variable C(restconf_deadline).
    type: float
    default: 60.0
  max_reply_size:
    description:
      - Largest reply accepted, in bytes after decompression. Replies are read as a stream and reading stops
        past this size; the read is then an error naming the limit and the resource. Reply headers are
        limited to 100 KiB.
      - The default is generous for a 500-interface switch (whose biggest reply is a few MB). Memory per
        device is at most O(max_concurrency) replies of this size; replies over 4 MiB are held two at a
        time per controller process.
      - Defaults to the inventory variable C(restconf_max_reply_size).
    type: int
    default: 67108864
  retries:
    description:
      - Retries after a refused connection or a 429/503 reply (honouring C(Retry-After) up to 30 s),
        with exponential backoff from 0.5 s, as long as the wait ends before O(deadline). Timeouts are not retried.
    type: int
    default: 2
  max_concurrency:
    description:
      - Requests in flight at once to this device. IOS XE serialises RESTCONF work and caps HTTP
        connections (C(ip http max-connections)), so keep it small.
      - A device that answers 503 or 429 to the requests beyond those it takes gets fewer at a time, down to
        one; the refused request is retried without counting against O(retries), and the record says so.
    type: int
    default: 2
notes:
  - Runs on the controller as an action plugin; nothing is copied to the device. Use
    C(ansible_connection=local) for RESTCONF hosts.
  - Set these options once for a play with C(module_defaults) and the action group
    C(group/johann.monitor.restconf).
requirements:
  - httpx >= 0.27 on the controller
"""
