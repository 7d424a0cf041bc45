"""The gateway's Envoy configuration without a running stack: what the dev stack renders passes
`envoy --mode validate`, and the descriptor set that REST transcoding reads is complete and fresh."""

from __future__ import annotations

import dataclasses
import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2, descriptor_pool

from devstack import envoy as gateway
from devstack.config import ConfigError, StackConfig
from devstack.secrets import load_or_create_secrets
from devstack.services import (
    ENVOY_ADMIN_PORT,
    GATEWAY_PORT,
    NOTIFIER_METRICS_PORT,
    NOTIFIER_PORT,
    Service,
    envoy,
    gateway_settings,
    notifier,
)
from devstack.stack import build_context, plan_infrastructure
from devstack.tokens import AUDIENCE, ISSUER

REPO_ROOT = Path(__file__).resolve().parents[2]
PUBLIC_METHODS = {
    "globalcredit.intake.v1.IntakeService": {
        "CreateApplication",
        "GetApplication",
        "ListApplications",
        "UpdateApplicationStatus",
        "CancelApplication",
        "ListApplicationEvents",
    },
    "globalcredit.scoring.v1.ScoringService": {"EvaluateApplication", "GetRuleSet"},
    "globalcredit.notifier.v1.NotifierService": {"WatchApplications"},
}


def services_for(environment: dict[str, str]) -> dict[str, Service]:
    config = StackConfig.from_env(environment)
    context = build_context(config, load_or_create_secrets(config.secrets_dir), plan_infrastructure(config))
    return {"envoy": envoy(context), "notifier": notifier(context)}


def environment_in(run_dir: Path, **extra: str) -> dict[str, str]:
    return {"GCC_RUN_DIR": str(run_dir), **extra}


def written(service: Service) -> Path:
    """Write the service's files as the stack does before starting it; the (one) path."""
    for path, content in service.files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    [(path, _)] = service.files
    return path


# --- the rendered configuration -----------------------------------------------------------------------


def test_the_dev_stacks_gateway_configuration_passes_envoy_validate(tmp_path: Path) -> None:
    service = services_for(environment_in(tmp_path / "run"))["envoy"]

    gateway.validate(written(service))


def test_a_configuration_with_other_origins_limits_and_hosts_passes_envoy_validate(tmp_path: Path) -> None:
    secrets = load_or_create_secrets(tmp_path / "secrets")
    settings = gateway.GatewaySettings(
        port=8443,
        admin_port=9902,
        listen_host="0.0.0.0",  # noqa: S104 - rendered, never started
        intake=gateway.Upstream.parse("intake.globalcredit.svc:50051"),
        scoring=gateway.Upstream.parse("scoring.globalcredit.svc:50052"),
        notifier=gateway.Upstream.parse("notifier.globalcredit.svc:50054"),
        webhook_shim=gateway.Upstream.parse("webhook-shim.globalcredit.svc:8090"),
        console=gateway.Upstream.parse("console.globalcredit.svc:8080"),
        jwks_path=secrets.jwks_path,
        issuer="https://issuer.example",
        audience="globalcredit",
        cors_origins=("https://console.example", "https://console.example:8443"),
        rate_limit=gateway.RateLimit(per_second=1, burst=2, shared_factor=1),
    )

    gateway.validate(gateway.write_config(settings, tmp_path / "envoy.yaml"))


def test_envoy_validate_rejects_a_broken_configuration(tmp_path: Path) -> None:
    broken = tmp_path / "envoy.yaml"
    broken.write_text("static_resources: {listeners: [{name: x}]}\n")

    with pytest.raises(ValueError, match="envoy rejects"):
        gateway.validate(broken)


def test_every_placeholder_of_the_template_gets_a_json_value(tmp_path: Path) -> None:
    settings = gateway_settings_for(tmp_path)

    rendered = gateway.render(settings)

    assert "${" not in rendered
    assert f'"{settings.jwks_path}"' in rendered  # a path arrives quoted, whatever it holds
    assert '[{"exact": "http://127.0.0.1:5173"}, {"exact": "http://localhost:5173"}' in rendered


def test_a_placeholder_without_a_value_is_an_error(tmp_path: Path) -> None:
    template = tmp_path / "envoy.yaml"
    template.write_text("admin: {port: ${unknown_port}}\n")

    with pytest.raises(KeyError, match="unknown_port"):
        gateway.render(gateway_settings_for(tmp_path), template)


def gateway_settings_for(tmp_path: Path) -> gateway.GatewaySettings:
    config = StackConfig.from_env(environment_in(tmp_path / "run"))
    context = build_context(config, load_or_create_secrets(config.secrets_dir), plan_infrastructure(config))
    return gateway_settings(context)


# --- the dev stack's entries ---------------------------------------------------------------------------


def test_envoy_runs_the_wheels_binary_on_its_rendered_configuration_ready_on_the_admin_port(
    tmp_path: Path,
) -> None:
    environment = environment_in(tmp_path / "run", GCC_GATEWAY_PORT="18080", GCC_ENVOY_ADMIN_PORT="19901")
    service = services_for(environment)["envoy"]

    assert Path(service.argv[0]) == gateway.envoy_binary()
    assert Path(service.argv[0]).is_file()
    assert service.argv[1:5] == ("-c", str(tmp_path / "run" / "envoy" / "envoy.yaml"), "--base-id", "18080")
    assert service.address == "127.0.0.1:18080"
    assert (service.health_address, service.http_health_path) == ("127.0.0.1:19901", "/ready")
    assert service.ports == (GATEWAY_PORT, ENVOY_ADMIN_PORT)
    assert any("/v1/applications?pageSize=5" in example for example in service.examples)


def test_the_gateway_settings_follow_the_stacks_ports_and_secrets(tmp_path: Path) -> None:
    environment = environment_in(
        tmp_path / "run", GCC_GATEWAY_PORT="18080", GCC_CONSOLE_PORT="15173", GCC_NOTIFIER_PORT="15054"
    )
    config = StackConfig.from_env(environment)
    secrets = load_or_create_secrets(config.secrets_dir)
    settings = gateway_settings(build_context(config, secrets, plan_infrastructure(config)))

    assert settings.cors_origins == (
        "http://127.0.0.1:15173",
        "http://localhost:15173",
        "http://127.0.0.1:18080",
        "http://localhost:18080",
    )
    assert settings.notifier == gateway.Upstream("127.0.0.1", 15054)
    assert (settings.jwks_path, settings.issuer, settings.audience) == (secrets.jwks_path, ISSUER, AUDIENCE)
    assert settings.rate_limit == gateway.RateLimit(per_second=200, burst=400)
    assert (settings.api_body_limit, settings.webhook_body_limit) == (64 * 1024, 1024 * 1024)


def test_cors_origins_and_rate_limits_come_from_the_environment(tmp_path: Path) -> None:
    environment = environment_in(
        tmp_path / "run",
        GCC_GATEWAY_CORS_ORIGINS="https://console.example, http://localhost:3000",
        GCC_GATEWAY_RATE_LIMIT="5",
        GCC_GATEWAY_RATE_BURST="10",
    )
    settings = gateway_settings_for_environment(environment)

    assert settings.cors_origins == ("https://console.example", "http://localhost:3000")
    assert dataclasses.astuple(settings.rate_limit)[:2] == (5, 10)


def test_a_malformed_rate_limit_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GCC_GATEWAY_RATE_BURST must be a positive whole number"):
        gateway_settings_for_environment(environment_in(tmp_path / "run", GCC_GATEWAY_RATE_BURST="lots"))


def gateway_settings_for_environment(environment: dict[str, str]) -> gateway.GatewaySettings:
    config = StackConfig.from_env(environment)
    context = build_context(config, load_or_create_secrets(config.secrets_dir), plan_infrastructure(config))
    return gateway_settings(context)


def test_cli_env_envoy_writes_the_configuration_and_prints_the_command_to_run_it(tmp_path: Path) -> None:
    environment = {**os.environ, "GCC_RUN_DIR": str(tmp_path / "run"), "GCC_GATEWAY_PORT": "18080"}
    result = subprocess.run(
        [sys.executable, "-m", "devstack", "env", "envoy"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    config = tmp_path / "run" / "envoy" / "envoy.yaml"
    command = result.stdout.splitlines()[-1].removeprefix("# then: ")
    assert shlex.split(command)[1:5] == ["-c", str(config), "--base-id", "18080"]
    gateway.validate(config)


def test_notifier_gets_every_setting_it_needs(tmp_path: Path) -> None:
    environment = environment_in(
        tmp_path / "run", GCC_NOTIFIER_PORT="15054", GCC_NOTIFIER_METRICS_PORT="19104"
    )
    service = services_for(environment)["notifier"]

    assert service.argv[1:] == ("-m", "notifier")
    assert service.address == service.environment["NOTIFIER_GRPC_LISTEN"] == "127.0.0.1:15054"
    assert service.environment["NOTIFIER_METRICS_LISTEN"] == "127.0.0.1:19104"
    assert service.environment["NATS_URL"].startswith("nats://127.0.0.1:")
    assert {"AUTH_JWKS_PATH", "AUTH_ISSUER", "AUTH_AUDIENCE"} <= set(service.environment)
    assert service.ports == (NOTIFIER_PORT, NOTIFIER_METRICS_PORT)


# --- the descriptor set -----------------------------------------------------------------------------------


def committed_descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    return descriptor_pb2.FileDescriptorSet.FromString(gateway.DESCRIPTOR_SET.read_bytes())


def test_the_descriptor_set_holds_every_public_method_with_its_rest_route() -> None:
    pool = descriptor_pool.DescriptorPool()
    for file in committed_descriptor_set().file:
        pool.Add(file)

    assert set(gateway.PUBLIC_SERVICES) == set(PUBLIC_METHODS)
    for service_name, methods in PUBLIC_METHODS.items():
        service = pool.FindServiceByName(service_name)
        for method in methods:
            options = descriptor_pb2.MethodOptions.FromString(
                service.FindMethodByName(method).GetOptions().SerializeToString()
            )
            rule = options.Extensions[annotations_pb2.http]
            assert rule.WhichOneof("pattern") in {"get", "post"}, f"{service_name}/{method} has no REST route"
    # The transcoder prints a google.rpc.Status' details only for types it knows.
    for name in ("google.rpc.Status", "google.rpc.BadRequest", "google.rpc.ErrorInfo"):
        assert pool.FindMessageTypeByName(name)


def test_the_descriptor_set_is_what_make_generate_builds_from_the_protos(tmp_path: Path) -> None:
    fresh = tmp_path / "descriptors.binpb"
    protos = sorted(
        str(path.relative_to(REPO_ROOT / "protos")) for path in (REPO_ROOT / "protos").rglob("*.proto")
    )
    subprocess.run(  # noqa: S603 - the repo's own protoc, as tools/generate.sh runs it
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            "-Iprotos",
            "-Ithird_party/googleapis",
            f"-I{sysconfig.get_paths()['purelib']}",
            "--include_imports",
            f"--descriptor_set_out={fresh}",
            *protos,
            "google/rpc/status.proto",
            "google/rpc/error_details.proto",
        ],
        cwd=REPO_ROOT,
        check=True,
    )

    def without_comments(files: descriptor_pb2.FileDescriptorSet) -> dict[str, bytes]:
        stripped = {}
        for file in files.file:
            file.ClearField("source_code_info")
            stripped[file.name] = file.SerializeToString(deterministic=True)
        return stripped

    committed = without_comments(committed_descriptor_set())
    rebuilt = without_comments(descriptor_pb2.FileDescriptorSet.FromString(fresh.read_bytes()))
    stale = sorted(
        name for name in committed.keys() | rebuilt.keys() if committed.get(name) != rebuilt.get(name)
    )
    assert not stale, f"gateway/envoy/descriptors.binpb is stale for {stale}: run `make generate`"
