"""DynamoDB capacity units, counted from the requests a lifecycle makes, by the rules AWS bills
on-demand tables with (Developer Guide, "Item sizes and formats", "Read/write capacity mode",
"Managing throughput capacity for transactions"):

- an item's size is the sum of its attribute names' and values' sizes: a string its UTF-8 bytes,
  a number 1 byte per two significant digits plus 1, binary its bytes, null and boolean 1 byte,
  a list or map 3 bytes plus 1 per element plus its elements (a map's names included);
- a read unit is 4 KB of an item read strongly consistently (half a unit eventually
  consistently); a query is billed on the total size it evaluated, rounded up to 4 KB; a
  BatchGetItem on each item; a read of a missing item still costs the minimum;
- a write unit is 1 KB of the larger of the item before and after; a transaction costs two
  units per unit of each item it writes (or reads, for a ConditionCheck).

The meter is a pair of botocore handlers on the session the handlers' clients come from; it reads
the item before and after each write from the local table (no extra request).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024


def value_size(value: dict[str, Any]) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        digits = Decimal(content).normalize().as_tuple().digits
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(content) if isinstance(content, bytes) else len(str(content).encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: element}) for element in content)
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(element) for name, element in content.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


@dataclass
class CapacityMeter:
    """Read and write request units of every DynamoDB request made while it listens."""

    table: Any  # the local (moto) table, read for item sizes before and after each write
    read_units: float = 0.0
    write_units: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)
    write_transactions: int = 0
    _before: dict[int, list[int]] = field(default_factory=dict)

    def register(self, events: Any) -> None:
        events.register("before-parameter-build.dynamodb", self._before_call)
        events.register("after-call.dynamodb", self._after_call)

    def unregister(self, events: Any) -> None:
        events.unregister("before-parameter-build.dynamodb", self._before_call)
        events.unregister("after-call.dynamodb", self._after_call)

    def _stored_size(self, key: dict[str, Any]) -> int:
        from moto.dynamodb.models.dynamo_type import DynamoType

        hash_value = DynamoType(key[self.table.hash_key_attr])
        range_value = DynamoType(key[self.table.range_key_attr]) if self.table.range_key_attr else None
        item = self.table.get_item(hash_value, range_value)
        return item_size(item.to_json()["Attributes"]) if item is not None else 0

    def _written_keys(self, operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
        """(kind, key, the item a Put writes) of each item a write request touches."""
        keys = [self.table.hash_key_attr] + ([self.table.range_key_attr] if self.table.range_key_attr else [])
        if operation == "PutItem":
            return [("Put", {name: params["Item"][name] for name in keys}, params["Item"])]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(operation.removesuffix("Item"), params["Key"], None)]
        if operation == "TransactWriteItems":
            touched = []
            for entry in params["TransactItems"]:
                ((kind, body),) = entry.items()
                if kind == "Put":
                    touched.append(("Put", {name: body["Item"][name] for name in keys}, body["Item"]))
                else:
                    touched.append((kind, body["Key"], None))
            return touched
        return []

    def _before_call(self, model: Any, params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        operation = model.name
        self.requests[operation] += 1
        context["consistent"] = bool(params.get("ConsistentRead"))
        if operation in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"):
            context["capacity_before"] = [self._stored_size(key) for _, key, _ in self._written_keys(operation, params)]
            context["capacity_params"] = params

    def _after_call(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        operation = model.name
        if operation == "GetItem":
            self.read_units += read_units(item_size(parsed.get("Item")), bool(context.get("consistent")))
        elif operation == "Query":
            evaluated = sum(item_size(item) for item in parsed.get("Items", []))
            self.read_units += read_units(evaluated, bool(context.get("consistent")))
        elif operation == "BatchGetItem":
            for items in parsed.get("Responses", {}).values():
                for item in items:
                    self.read_units += read_units(item_size(item), True)
        elif "capacity_before" in context:
            params = context["capacity_params"]
            touched = self._written_keys(operation, params)
            transaction = operation == "TransactWriteItems"
            if transaction:
                self.write_transactions += 1
            for (kind, key, _), before in zip(touched, context["capacity_before"], strict=True):
                if kind == "ConditionCheck":
                    self.read_units += 2 * read_units(before, True)
                    continue
                units = write_units(max(before, self._stored_size(key)))
                self.write_units += 2 * units if transaction else units
