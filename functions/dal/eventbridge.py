"""EventBridge access: the platform's event bus."""

from __future__ import annotations

import json
from typing import Any


class PublishFailed(Exception):
    """EventBridge did not take an event (retried by the caller: a stream batch, an event delivery)."""


class EventBus:
    def __init__(self, client: Any, bus_name: str, source: str):
        self.client = client
        self.bus_name = bus_name
        self.source = source

    def publish(self, detail_type: str, detail: dict[str, Any], resources: list[str] | None = None) -> None:
        response = self.client.put_events(
            Entries=[
                {
                    "EventBusName": self.bus_name,
                    "Source": self.source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    "Resources": resources or [],
                }
            ]
        )
        if response.get("FailedEntryCount"):
            failure = response["Entries"][0]
            raise PublishFailed(f"{failure.get('ErrorCode')}: {failure.get('ErrorMessage')}")
