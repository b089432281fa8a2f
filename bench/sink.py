"""A loopback SMTP server that only counts what it accepts, run in its own process by the delivery benchmark.

`python -m bench.sink PORT` prints "ready", then answers each line "count" on stdin with the number of
messages accepted so far and the CPU seconds it has used, and stops when stdin closes.
"""

import logging
import sys
import time
from typing import Any

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=int(sys.argv[1]), server_hostname="bench-sink")
    controller.start()
    print("ready", flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "count":
                print(counter.count, time.process_time(), flush=True)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
