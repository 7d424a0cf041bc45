"""The one interface every bureau adapter implements, simulated or real, and the failures it may raise.

A failure is transient (`BureauTimeout`, `BureauUnavailable`: worth another try later) or permanent
(`BureauRefused`: the bureau answered no, and asking again gets the same no). No failure carries the
document.
"""

from __future__ import annotations

from typing import Protocol

from bureau_gateway.bureaus import Country
from bureau_gateway.reports import BureauReport


class BureauError(Exception):
    """A bureau call failed."""


class TransientBureauError(BureauError):
    """A failure that may not happen on the next try: retried with backoff, counted by the circuit."""


class BureauTimeout(TransientBureauError):
    """The bureau did not answer in time."""


class BureauUnavailable(TransientBureauError):
    """The bureau could not be reached or answered that it is unavailable."""


class BureauRefused(BureauError):
    """The bureau answered and refused the enquiry; retrying cannot help."""


class BureauClient(Protocol):
    """A country's credit bureau, as the gateway sees it.

    `fetch` takes the normalised document and the applicant's consent reference, and returns the
    bureau's report or raises a `BureauError`. Deadlines, retries and the circuit breaker are the
    gateway's business, not the adapter's: an adapter makes exactly one enquiry per call.
    """

    @property
    def country(self) -> Country: ...

    @property
    def provider(self) -> str: ...

    async def fetch(self, document: str, consent_reference: str) -> BureauReport: ...
