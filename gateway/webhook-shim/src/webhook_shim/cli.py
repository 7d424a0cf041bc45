"""For people trying the shim by hand: `send` signs and posts a sample confirmation the way a bank would
and prints the answer; `new-secret` prints a fresh `whsec_` secret."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp

from webhook_shim.routes import WEBHOOK_PATH
from webhook_shim.signatures import InvalidSecret, WebhookSecret, parse_secrets, sign

DEFAULT_URL = f"http://127.0.0.1:8090{WEBHOOK_PATH}"
SECRETS_ENV = "WEBHOOK_SHIM_SECRETS"


def parser() -> argparse.ArgumentParser:
    """`python -m webhook_shim [serve | send … | new-secret]`."""
    root = argparse.ArgumentParser(
        prog="python -m webhook_shim",
        description="The bank webhook shim. Without a command it serves (settings from the environment).",
    )
    commands = root.add_subparsers(dest="command", metavar="{serve,send,new-secret}")
    commands.add_parser("serve", help="receive webhooks until SIGTERM (the default)")
    send = commands.add_parser("send", help="sign and send a sample bank confirmation, print the answer")
    send.add_argument("--url", default=DEFAULT_URL, help=f"the webhook endpoint (default {DEFAULT_URL})")
    send.add_argument(
        "--secret",
        help=f"whsec_… to sign with (default: the first of ${SECRETS_ENV}); visible to other local users "
        f"in the process list, so prefer ${SECRETS_ENV} on a shared machine",
    )
    send.add_argument("--application", required=True, help="applications/<id>, or the bare id")
    send.add_argument("--not-verified", action="store_true", help="the bank could not verify the identity")
    send.add_argument("--not-disbursed", action="store_true", help="the bank has not disbursed the funds")
    send.add_argument("--amount", help='the amount disbursed, a decimal such as "12000.00"')
    send.add_argument("--currency", default="EUR", help="currency of --amount (default EUR)")
    send.add_argument("--bank-reference", help="the bank's reference (default: a new one)")
    send.add_argument("--webhook-id", help="the delivery id; repeat one to redeliver (default: a new one)")
    send.add_argument("--occurred-at", help="RFC 3339 time it happened at the bank (default: now)")
    send.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the answer")
    commands.add_parser("new-secret", help="print a new random whsec_ secret")
    return root


def new_secret() -> int:
    print(WebhookSecret.generate().encoded())
    return 0


def sample_confirmation(args: argparse.Namespace) -> dict[str, Any]:
    confirmation: dict[str, Any] = {
        "application": args.application,
        "bank_reference": args.bank_reference or f"BANK-{uuid.uuid4().hex[:10].upper()}",
        "identity_verified": not args.not_verified,
        "disbursed": not args.not_disbursed,
        "occurred_at": args.occurred_at
        or datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    if args.amount is not None:
        confirmation["amount_disbursed"] = {"currency_code": args.currency, "amount": args.amount}
    return confirmation


async def send(args: argparse.Namespace) -> int:
    """Exit status: 0 for a 2xx answer, 1 for any other answer, 2 when nothing answered."""
    try:
        secret = _secret(args.secret)
    except InvalidSecret as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    body = json.dumps(sample_confirmation(args)).encode()
    webhook_id = args.webhook_id or f"msg_{uuid.uuid4().hex}"
    headers = {**sign([secret], webhook_id, int(time.time()), body), "content-type": "application/json"}
    print(f"POST {args.url}\nwebhook-id: {webhook_id}\n{body.decode()}\n")
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=args.timeout)) as session,
            session.post(args.url, data=body, headers=headers) as response,
        ):
            text = await response.text()
            print(f"{response.status} {response.reason}")
            for name in ("Retry-After", "x-request-id"):
                if name in response.headers:
                    print(f"{name}: {response.headers[name]}")
            print(_pretty(text))
            return 0 if 200 <= response.status < 300 else 1
    except (aiohttp.ClientError, TimeoutError) as error:
        print(f"error: no answer from {args.url}: {error or type(error).__name__}", file=sys.stderr)
        return 2


def _secret(given: str | None) -> WebhookSecret:
    if given:
        return WebhookSecret.parse(given)
    configured = os.environ.get(SECRETS_ENV, "")
    if not configured.strip():
        raise InvalidSecret(f"give --secret or set {SECRETS_ENV}")
    return parse_secrets(configured)[0]


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text
