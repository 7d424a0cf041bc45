"""Intake's settings, from the environment (`INTAKE_*`, plus the shared `DATABASE_URL`, `NATS_URL`,
`AUTH_*` and `OTEL_EXPORTER_OTLP_ENDPOINT`)."""

import base64
import binascii
import json

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from intake.pii import Keyring
from svckit.settings import DatabaseSettings, NatsSettings, ServiceSettings


class IntakeSettings(ServiceSettings, DatabaseSettings, NatsSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", validate_by_name=True)

    pii_keys: str = Field(
        repr=False,
        description='Key-encryption keys for PII, as JSON: {"<key id>": "<32 bytes, base64>", …}. Old keys '
        "stay listed so that data sealed under them stays readable.",
    )
    pii_current_key_id: str = Field(description="The key id that seals new data; must be in INTAKE_PII_KEYS.")
    blind_index_key: str = Field(
        repr=False,
        description="32 bytes, base64: keys the blind index of documents and request fingerprints.",
    )
    outbox_batch_size: int = Field(
        default=500, ge=1, le=5000, description="Events the relay publishes at once."
    )
    outbox_safety_poll_seconds: float = Field(
        default=5.0, gt=0, description="The relay looks at the outbox this often even without a NOTIFY."
    )

    def keyring(self) -> Keyring:
        """The PII keys, decoded; errors name the setting, never the key material."""
        try:
            encoded = json.loads(self.pii_keys)
            keys = {str(key_id): _decode(str(value)) for key_id, value in encoded.items()}
        except (ValueError, AttributeError, binascii.Error) as error:
            raise ValueError('INTAKE_PII_KEYS must be a JSON object {"<key id>": "<base64 key>"}') from error
        try:
            blind_index_key = _decode(self.blind_index_key)
        except (ValueError, binascii.Error) as error:
            raise ValueError("INTAKE_BLIND_INDEX_KEY must be base64") from error
        return Keyring(current_key_id=self.pii_current_key_id, keys=keys, blind_index_key=blind_index_key)


def _decode(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
