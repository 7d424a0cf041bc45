"""What the dev stack prints: one line per step as it starts and stops, and a summary once it is up."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

OK = "✓"
FAILED = "✗"
_LABEL_WIDTH = 14


@dataclass
class StepOutcome:
    """Filled in by the code inside a step: what to print after the label when it succeeds."""

    detail: str = ""


@dataclass(frozen=True)
class Summary:
    """Everything a developer needs once the stack is up."""

    endpoints: tuple[tuple[str, str], ...]
    logs_dir: str
    secrets_dir: str
    tokens: Mapping[str, str]
    examples: tuple[str, ...] = ()
    example_token: str = ""
    notes: tuple[str, ...] = ()
    appendices: tuple[str, ...] = ()


class Console:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout

    def line(self, text: str = "") -> None:
        print(text, file=self._stream, flush=True)

    @contextmanager
    def step(self, label: str) -> Iterator[StepOutcome]:
        """`✓ label  detail  (0.8 s)` when the block succeeds; `✗ label  why` (all of it) when it raises."""
        started = time.monotonic()
        outcome = StepOutcome()
        try:
            yield outcome
        except KeyboardInterrupt:
            self.line(f"{FAILED} {label:<{_LABEL_WIDTH}} interrupted")
            raise
        except Exception as exc:
            first, *rest = (str(exc) or type(exc).__name__).splitlines()
            self.line(f"{FAILED} {label:<{_LABEL_WIDTH}} {first}")
            for text in rest:
                self.line(f"    {text}")
            raise
        elapsed = time.monotonic() - started
        self.line(f"{OK} {label:<{_LABEL_WIDTH}} {outcome.detail}  ({elapsed:.1f} s)")

    def summary(self, summary: Summary) -> None:
        width = max(len(name) for name, _ in summary.endpoints) + 2 if summary.endpoints else 0
        self.line()
        self.line("Global Credit Core is running.")
        self.line()
        for name, where in summary.endpoints:
            self.line(f"  {name:<{width}}{where}")
        for note in summary.notes:
            self.line(f"  {note}")
        self.line()
        self.line(f"Logs: {summary.logs_dir}/<name>.log    Development secrets: {summary.secrets_dir}/")
        self.line()
        self.line("Development tokens (valid 12 h; a fresh one: make token ROLE=<role> [PARTNER_ID=…]):")
        role_width = max((len(role) for role in summary.tokens), default=0) + 2
        for role, token in summary.tokens.items():
            self.line(f"  {role:<{role_width}}{token}")
        if summary.examples:
            self.line()
            self.line("Try it (REST through the gateway; gRPC through server reflection or grpcurl):")
            self.line(f"  export TOKEN={summary.example_token}")
            for example in summary.examples:
                self.line()
                self.line("  " + example.replace("\n", "\n  "))
        for appendix in summary.appendices:
            self.line()
            self.line(appendix.rstrip("\n"))
        self.line()
        self.line("Ctrl-C stops everything.")
