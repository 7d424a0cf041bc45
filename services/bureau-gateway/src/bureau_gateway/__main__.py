"""`python -m bureau_gateway` serves; `python -m bureau_gateway sandbox` prints the sandbox identities."""

from __future__ import annotations

import sys


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    if command == "sandbox":
        from bureau_gateway.sandbox import render_sandbox_table

        sys.stdout.write(render_sandbox_table())
    elif command == "serve":
        from bureau_gateway.app import serve
        from bureau_gateway.settings import BureauSettings
        from svckit.server import run

        settings = BureauSettings()
        run(lambda: serve(settings))
    else:
        sys.exit(f"usage: python -m bureau_gateway [serve|sandbox]; unknown command {command!r}")


if __name__ == "__main__":
    main()
