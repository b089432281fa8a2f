"""A tiny SMTP relay on loopback that misbehaves on cue: never greets, drops mid-message, answers 4xx or 5xx."""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Received:
    recipients: list[str]
    data: bytes


@dataclass
class ScriptedSmtp:
    """Accepts every message unless told otherwise; keeps each message it accepted (with its envelope)."""

    hang: bool = False  # accept the connection, then never say a word
    drop_in_data: int = 0  # this many times, close the connection in the middle of a message
    data_replies: list[str] = field(default_factory=list)  # replies to the end of DATA, in turn; then 250
    rcpt_reply: Callable[[str], str] = lambda _address: "250 2.1.5 OK"
    # Hold the answer to the end of DATA of a message to these recipients until release is set (a stalled connection).
    stall: Callable[[list[str]], bool] = lambda _recipients: False
    stalled: asyncio.Event = field(default_factory=asyncio.Event)  # set when a connection starts stalling
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)  # notified for every accepted message
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self, port: int = 0) -> int:
        """Listen on loopback (a free port unless one is given); returns the port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def wait_for(self, *addresses: str) -> None:
        """Return once every one of these addresses was accepted (bound it with asyncio.wait_for)."""
        async with self.arrived:
            await self.arrived.wait_for(lambda: set(addresses) <= set(self.recipients))

    @property
    def recipients(self) -> list[str]:
        return [address for message in self.received for address in message.recipients]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        try:
            if self.hang:
                await asyncio.Event().wait()  # until stop() cancels it
            await self._session(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        await say("220 relay.test ESMTP")
        recipients: list[str] = []
        while line := (await reader.readline()).decode("utf-8", "replace").rstrip("\r\n"):
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                await say("250-relay.test\r\n250-8BITMIME\r\n250 SMTPUTF8")
            elif verb in ("HELO", "NOOP"):
                await say("250 OK")
            elif verb in ("MAIL", "RSET"):
                recipients = []
                await say("250 OK")
            elif verb == "RCPT":
                address = line.partition(":")[2].split(">", 1)[0].strip(" <")
                reply = self.rcpt_reply(address)
                recipients += [address] if reply.startswith("2") else []
                await say(reply)
            elif verb == "DATA":
                await say("354 End data with <CR><LF>.<CR><LF>")
                data = await self._data(reader)
                if data is None:
                    return  # dropped mid-message
                if self.stall(recipients) and not await self._held(reader):
                    return  # the client gave up waiting: the message goes with the connection, as on a real relay
                reply = self.data_replies.pop(0) if self.data_replies else "250 2.0.0 Queued"
                if reply.startswith("2"):
                    self.received.append(Received(recipients, data))
                    async with self.arrived:
                        self.arrived.notify_all()
                recipients = []
                await say(reply)
            elif verb == "QUIT":
                await say("221 Bye")
                return
            else:
                await say("500 Unknown command")

    async def _held(self, reader: asyncio.StreamReader) -> bool:
        """Stall until released (True) or until the client closes the connection (False)."""
        self.stalled.set()
        gone, released = asyncio.ensure_future(reader.read(1)), asyncio.ensure_future(self.release.wait())
        done, pending = await asyncio.wait({gone, released}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        return released in done

    async def _data(self, reader: asyncio.StreamReader) -> bytes | None:
        lines = []
        while (line := await reader.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
            if self.drop_in_data and len(lines) == 3:
                self.drop_in_data -= 1
                return None
        return b"".join(lines)
