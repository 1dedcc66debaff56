"""Provider credentials from Prefect Secret blocks, the environment being the fallback."""

from __future__ import annotations

import json
import os
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

# Settings field -> Secret block name (`aftercare setup secrets` creates them).
BLOCKS = {
    "kuaidi100_key": "aftercare-kuaidi100-key",
    "kuaidi100_salt": "aftercare-kuaidi100-salt",
    "taobao_app_secret": "aftercare-taobao-app-secret",
    "taobao_sessions": "aftercare-taobao-sessions",
    "sms_access_key_secret": "aftercare-sms-access-key-secret",
    "robot_access_token": "aftercare-robot-access-token",
    "robot_secret": "aftercare-robot-secret",
    "sms_uplink_secret": "aftercare-sms-uplink-secret",
}
SWITCH = "AFTERCARE_SECRETS_SOURCE"  # "prefect" turns the blocks on


class PrefectSecretsSource(PydanticBaseSettingsSource):
    """Read credentials from Prefect Secret blocks; a missing block leaves the environment's."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is loaded at once in __call__

    def __call__(self) -> dict[str, Any]:
        if os.environ.get(SWITCH, "").lower() != "prefect":
            return {}
        from prefect.blocks.system import Secret  # only a Prefect-configured process needs it

        values: dict[str, Any] = {}
        for field, block in BLOCKS.items():
            try:
                value = Secret.load(block).get()  # type: ignore[union-attr]
            except ValueError:  # no such block: the environment (or default) stays in force
                continue
            if field == "taobao_sessions" and isinstance(value, str):
                value = json.loads(value)  # the block may hold the JSON text or the object
            values[field] = value
        return values


def secrets_source(settings_cls: type[BaseSettings]) -> PrefectSecretsSource:
    """Build the source for a settings class."""
    return PrefectSecretsSource(settings_cls)


def secret_values_for_blocks(settings: Any) -> dict[str, str]:
    """Return the value each Secret block should hold, from settings read from the environment."""
    values = {}
    for field, block in BLOCKS.items():
        value = getattr(settings, field)
        if field == "taobao_sessions":
            values[block] = json.dumps({k: v.get_secret_value() for k, v in value.items()})
        else:
            values[block] = value.get_secret_value()
    return values
