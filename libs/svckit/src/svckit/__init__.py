"""svckit: the shared service kit — server bootstrap and shutdown, interceptors, errors, auth, logging,
telemetry, metrics, settings, PostgreSQL and NATS JetStream helpers."""

import os as _os

# gRPC's fork handlers break children started with fork() (subprocess with user=/group=/preexec_fn) while
# gRPC threads are busy: measured here, 42 of 200 such children died before exec. No svckit process uses
# gRPC in a forked child, so turn them off. This only works before grpc is first imported, which is why it
# lives here; set GRPC_ENABLE_FORK_SUPPORT yourself to override.
_os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
