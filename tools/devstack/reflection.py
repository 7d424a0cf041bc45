"""A grpcurl-like client that needs no generated code: it learns the API through server reflection and
speaks JSON, for trying the services by hand (`python -m devstack call`) where grpcurl isn't installed."""

from __future__ import annotations

import json
from typing import Any

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase


class ReflectionClient:
    """Calls `package.Service/Method` with a JSON body and returns the JSON answer."""

    def __init__(self, channel: grpc.Channel, *, token: str | None = None, timeout: float = 10.0) -> None:
        self._channel = channel
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout
        self._database = ProtoReflectionDescriptorDatabase(channel)
        self._pool = descriptor_pool.DescriptorPool(self._database)

    def services(self) -> list[str]:
        return list(self._database.get_services())

    def call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        service_name, _, method_name = method.rpartition("/")
        descriptor = self._pool.FindServiceByName(service_name).FindMethodByName(method_name)
        request = json_format.ParseDict(body, message_factory.GetMessageClass(descriptor.input_type)())
        response_class = message_factory.GetMessageClass(descriptor.output_type)
        rpc: grpc.UnaryUnaryMultiCallable[Any, Any] = self._channel.unary_unary(
            f"/{service_name}/{method_name}",
            request_serializer=lambda message: message.SerializeToString(),
            response_deserializer=response_class.FromString,
        )
        response = rpc(request, metadata=self._metadata, timeout=self._timeout)
        return json_format.MessageToDict(response)


def call(address: str, method: str, body: str, *, token: str | None) -> str:
    """One call, JSON in and out; `method` may omit the package (`IntakeService/GetApplication`)."""
    with grpc.insecure_channel(address) as channel:
        client = ReflectionClient(channel, token=token)
        if "." not in method.partition("/")[0]:
            service, _, name = method.partition("/")
            matches = [s for s in client.services() if s.endswith(f".{service}")]
            if len(matches) != 1:
                raise ValueError(f"no single service named {service} at {address}: {client.services()}")
            method = f"{matches[0]}/{name}"
        return json.dumps(client.call(method, json.loads(body or "{}")), indent=2, ensure_ascii=False)
