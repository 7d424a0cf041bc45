"""A small grpc-web client framed by hand over HTTP/1.1 (aiohttp), as a browser's grpc-web library frames it.

A grpc-web body is a sequence of frames: one flag byte, a 4-byte big-endian length, then the payload.
Flag 0x00 carries a serialized message; flag 0x80 carries the trailers as HTTP/1 header lines
(`grpc-status:0\\r\\ngrpc-message:…\\r\\n`). A call that fails before any message may instead put
`grpc-status` in the response headers ("trailers-only"). `application/grpc-web-text` is the same byte
stream in base64, for clients that cannot read binary bodies.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import aiohttp
from google.protobuf.message import Message
from multidict import CIMultiDict

GRPC_WEB = "application/grpc-web+proto"
GRPC_WEB_TEXT = "application/grpc-web-text+proto"
DATA_FLAG = 0x00
TRAILERS_FLAG = 0x80
_HEADER = struct.Struct(">BI")

M = TypeVar("M", bound=Message)


def frame(payload: bytes, flag: int = DATA_FLAG) -> bytes:
    """One grpc-web frame."""
    return _HEADER.pack(flag, len(payload)) + payload


def parse_trailers(block: bytes) -> dict[str, str]:
    """The trailers frame's header lines, names lower-cased."""
    trailers: dict[str, str] = {}
    for line in block.decode("utf-8").split("\r\n"):
        name, separator, value = line.partition(":")
        if separator:
            trailers[name.strip().lower()] = value.strip()
    return trailers


class FrameReader:
    """Turns body bytes, as they arrive in chunks of any size, into (flag, payload) frames."""

    def __init__(self, *, text: bool = False) -> None:
        self._text = text
        self._pending_text = b""
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[tuple[int, bytes]]:
        if self._text:
            # Base64 in groups of four characters: each chunk of the server may carry its own padding.
            self._pending_text += b"".join(chunk.split())
            usable = len(self._pending_text) - len(self._pending_text) % 4
            decoded = b"".join(
                base64.b64decode(self._pending_text[index : index + 4]) for index in range(0, usable, 4)
            )
            self._pending_text = self._pending_text[usable:]
            chunk = decoded
        self._buffer += chunk
        frames = []
        while len(self._buffer) >= _HEADER.size:
            flag, length = _HEADER.unpack_from(self._buffer)
            if len(self._buffer) < _HEADER.size + length:
                break
            frames.append((flag, self._buffer[_HEADER.size : _HEADER.size + length]))
            self._buffer = self._buffer[_HEADER.size + length :]
        return frames

    @property
    def leftover(self) -> bytes:
        """Bytes that never made a whole frame (a malformed or cut body)."""
        return self._pending_text + self._buffer


@dataclass
class GrpcWebReply(Generic[M]):
    """What came back: the HTTP status and headers, the messages, and the trailers."""

    http_status: int
    headers: Mapping[str, str]
    messages: list[M] = field(default_factory=list)
    trailers: dict[str, str] = field(default_factory=dict)

    @property
    def grpc_status(self) -> int | None:
        """From the trailers, or from the headers of a trailers-only answer; None without either."""
        raw = self.trailers.get("grpc-status", self.headers.get("grpc-status"))
        return None if raw is None else int(raw)

    @property
    def grpc_message(self) -> str:
        return self.trailers.get("grpc-message", self.headers.get("grpc-message", ""))

    @property
    def message(self) -> M:
        """The one message of a successful unary call."""
        assert self.grpc_status == 0, f"grpc-status {self.grpc_status}: {self.grpc_message}"
        assert len(self.messages) == 1, self.messages
        return self.messages[0]


class WatchStream(Generic[M]):
    """An open server-streaming call: read messages as they arrive, until the trailers."""

    def __init__(self, response: aiohttp.ClientResponse, response_type: type[M], *, text: bool) -> None:
        self.response = response
        self.reply: GrpcWebReply[M] = GrpcWebReply(response.status, CIMultiDict(response.headers))
        self._type = response_type
        self._reader = FrameReader(text=text)
        self._ready: list[M] = []
        self.ended = False

    async def next(self) -> M | None:
        """The next message, waiting for it; None once the server has sent its trailers."""
        while not self._ready:
            if self.ended:
                return None
            chunk = await self.response.content.readany()
            if not chunk:
                self.ended = True
                continue
            for flag, payload in self._reader.feed(chunk):
                if flag & TRAILERS_FLAG:
                    self.reply.trailers.update(parse_trailers(payload))
                    self.ended = True
                else:
                    self._ready.append(self._type.FromString(payload))
        message = self._ready.pop(0)
        self.reply.messages.append(message)
        return message


class GrpcWebClient:
    """Calls methods by path (`/package.Service/Method`) through a grpc-web endpoint."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")

    def _request(
        self, request: Message, *, token: str | None, text: bool, headers: Mapping[str, str] | None
    ) -> tuple[bytes, dict[str, str]]:
        body = frame(request.SerializeToString())
        sent = {
            "content-type": GRPC_WEB_TEXT if text else GRPC_WEB,
            "accept": GRPC_WEB_TEXT if text else GRPC_WEB,
            "x-grpc-web": "1",
            "x-user-agent": "grpc-web-python/e2e",
        }
        if token is not None:
            sent["authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        return (base64.b64encode(body) if text else body), sent

    async def unary(
        self,
        method: str,
        request: Message,
        response_type: type[M],
        *,
        token: str | None = None,
        text: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> GrpcWebReply[M]:
        body, sent = self._request(request, token=token, text=text, headers=headers)
        async with self._session.post(f"{self._base_url}{method}", data=body, headers=sent) as response:
            reply: GrpcWebReply[M] = GrpcWebReply(response.status, CIMultiDict(response.headers))
            reader = FrameReader(text=text)
            for flag, payload in reader.feed(await response.read()):
                if flag & TRAILERS_FLAG:
                    reply.trailers.update(parse_trailers(payload))
                else:
                    reply.messages.append(response_type.FromString(payload))
            assert not reader.leftover, f"a cut grpc-web body: {reader.leftover!r}"
            return reply

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        request: Message,
        response_type: type[M],
        *,
        token: str | None = None,
        text: bool = False,
    ) -> AsyncIterator[WatchStream[M]]:
        """A server-streaming call, open until the block ends (then the connection is closed)."""
        body, sent = self._request(request, token=token, text=text, headers=None)
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with self._session.post(
            f"{self._base_url}{method}", data=body, headers=sent, timeout=timeout
        ) as response:
            yield WatchStream(response, response_type, text=text)
            response.close()
