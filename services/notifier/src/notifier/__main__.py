"""`python -m notifier` serves WatchApplications until SIGTERM or SIGINT."""

from notifier.settings import NotifierSettings


def main() -> None:
    from notifier.app import serve
    from svckit.server import run

    settings = NotifierSettings()
    run(lambda: serve(settings))


if __name__ == "__main__":
    main()
