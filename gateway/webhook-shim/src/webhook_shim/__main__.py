"""`python -m webhook_shim` serves; `python -m webhook_shim send …` posts a signed sample confirmation;
`python -m webhook_shim new-secret` prints a fresh secret."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from webhook_shim import cli


def main(argv: Sequence[str] | None = None) -> None:
    args = cli.parser().parse_args(argv)
    if args.command == "send":
        sys.exit(asyncio.run(cli.send(args)))
    if args.command == "new-secret":
        sys.exit(cli.new_secret())

    from svckit.server import run
    from webhook_shim.app import serve
    from webhook_shim.settings import WebhookShimSettings

    settings = WebhookShimSettings()
    run(lambda: serve(settings))


if __name__ == "__main__":
    main()
