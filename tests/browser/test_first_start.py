"""The first start, as `./run.sh` does it, is closed to the network: it listens on loopback only, so the mailbox
with the first Super Admin's link is out of reach of anyone but this machine."""

import ipaddress
import urllib.request
from pathlib import Path

from tests.browser.conftest import AppServer

LISTEN = "0A"  # the TCP state of a listening socket in /proc/net/tcp*


def _listening_addresses(port: int) -> set[str]:
    """The local addresses this machine listens on at the port, read from the kernel's socket tables."""
    found = set()
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == LISTEN and int(port_hex, 16) == port:
                raw = bytes.fromhex(address)
                # The kernel writes each 32-bit word in host (little-endian) order.
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, width, 4))
                found.add(str(ipaddress.ip_address(words)))
    return found


def test_the_first_start_listens_on_loopback_only_and_its_mailbox_answers_there(first_start_server: AppServer) -> None:
    port = int(first_start_server.base_url.rsplit(":", 1)[1])
    assert _listening_addresses(port) == {"127.0.0.1"}
    with urllib.request.urlopen(first_start_server.url("/dev/mailbox"), timeout=5) as response:  # noqa: S310  (our own URL)
        assert response.status == 200
