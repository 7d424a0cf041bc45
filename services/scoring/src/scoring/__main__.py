"""`python -m scoring` serves the ScoringService and works on submitted applications."""

from scoring.app import serve
from scoring.settings import ScoringSettings
from svckit.server import run


def main() -> None:
    settings = ScoringSettings()
    run(lambda: serve(settings))


if __name__ == "__main__":
    main()
