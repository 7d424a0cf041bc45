"""Well-formed CreateApplication requests for each country, within its limits."""

import random
import uuid
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from globalcredit.intake.v1 import application_pb2, intake_service_pb2
from globalcredit.type.v1 import country_pb2, money_pb2
from samples.documents import valid_document

# Currency, a typical amount asked for and a typical monthly income, per country.
TYPICAL = {
    "ES": ("EUR", "12000.00", "3200.00"),
    "PT": ("EUR", "8000.00", "1800.00"),
    "IT": ("EUR", "15000.00", "2600.00"),
    "MX": ("MXN", "90000.00", "25000.00"),
    "CO": ("COP", "20000000.00", "6000000.00"),
    "BR": ("BRL", "30000.00", "8000.00"),
}

FIRST_NAMES = ("Ana", "João", "Giulia", "María", "Andrés", "Beatriz", "Luis", "Chiara")
SURNAMES = ("García López", "Silva Santos", "Rossi", "Hernández Ruiz", "Gómez Restrepo", "Oliveira")


def new_application(
    country: str,
    *,
    rng: random.Random | None = None,
    document: str | None = None,
    amount: str | None = None,
    income: str | None = None,
    term_months: int = 0,
) -> application_pb2.Application:
    rng = rng or random.Random()
    currency, typical_amount, typical_income = TYPICAL[country]
    granted = Timestamp()
    granted.FromDatetime(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1))
    return application_pb2.Application(
        country=country_pb2.Country.Value(f"COUNTRY_{country}"),
        applicant=application_pb2.Applicant(
            full_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
            identity_document=document or valid_document(country, rng),
        ),
        requested_amount=money_pb2.Money(currency_code=currency, amount=amount or typical_amount),
        monthly_income=money_pb2.Money(currency_code=currency, amount=income or typical_income),
        term_months=term_months,
        consent=application_pb2.BureauConsent(
            granted_at=granted,
            channel=application_pb2.CONSENT_CHANNEL_WEB,
            reference=f"consent-{rng.randrange(10**8):08d}",
        ),
    )


def create_request(
    country: str, *, rng: random.Random | None = None, **fields: object
) -> intake_service_pb2.CreateApplicationRequest:
    """A CreateApplicationRequest with a fresh request id."""
    return intake_service_pb2.CreateApplicationRequest(
        application=new_application(country, rng=rng, **fields),  # type: ignore[arg-type]
        request_id=str(uuid.uuid4()),
    )
