"""`python -m intake` serves; `python -m intake migrate` brings the schema up to date; `python -m intake
rewrap` re-wraps every record's data key under the current PII key (after a key rotation)."""

import sys

from intake.settings import IntakeSettings


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    if command == "migrate":
        from intake.migrate import migrate
        from svckit.settings import DatabaseSettings

        migrate(DatabaseSettings().database_url)
    elif command == "serve":
        from intake.app import serve
        from svckit.server import run

        settings = IntakeSettings()
        run(lambda: serve(settings))
    elif command == "rewrap":
        import asyncio

        from intake.app import rewrap

        count = asyncio.run(rewrap(IntakeSettings()))
        print(f"re-wrapped {count} data key(s) under {IntakeSettings().pii_current_key_id}")
    else:
        sys.exit(f"usage: python -m intake [serve|migrate|rewrap]; unknown command {command!r}")


if __name__ == "__main__":
    main()
