"""Where the local runtime reaches into moto's DynamoDB, and why. Pinned to one moto version (see
``moto_patches.PINNED_MOTO_VERSION``); ``tests/integration/test_moto_seams.py`` proves each seam.

moto 5.2.5 keeps a table's items in a dict of partitions, and that is all: every Query reads and
sorts the whole table (``Table.all_items``), and ``TransactWriteItems`` backs up each table it
names by deep-copying it, once per item of the transaction. Both cost O(stored items), so every
request of the platform got slower as workflows were stored. Two seams make them cost what they
read or write, with the same answers:

1. **Scoped transactions.** ``TransactWriteItems`` keeps a copy of only the items it touches (and
   where the table's stream stood) and, when it is cancelled, puts exactly those back and drops
   the stream records it wrote: all or nothing, as in DynamoDB, indexes included.
2. **Partition index.** Each table keeps, per global secondary index, its partitions in key order
   (updated by every put, update, delete and rollback). A Query hands moto's own query code just
   the items it can reach: the partition, narrowed to the key condition's range, past the
   ``ExclusiveStartKey``, as many as the page can hold. moto still filters, projects, pages and
   answers; it just no longer looks at the rest of the table.
3. **Items answered as stored.** moto's response serializer walks every attribute of every item
   through the model's ten-member ``AttributeValue`` shape (about 5 ms for one workflow's state).
   moto already holds items in DynamoDB's JSON form: an attribute value of strings, numbers,
   booleans, nulls, lists and maps is answered as it is, exactly as the serializer would write it;
   anything else (binary values) still goes through the serializer.
4. **An item's size counted once.** moto builds an item attribute by attribute and, at each one,
   sums the size of all those before it (O(attributes²), 1-2 ms for a workflow's state). The item
   is now built whole and its size checked once: refused above the same limit, as before.

Every write also moves a process-wide count of writes (``writes``), which the local runtime reads
to know, without a request, whether anything was written since it last looked, and waits on
(``wait_for_write``) where a handler pauses before looking again.
"""

from __future__ import annotations

import bisect
import copy
import functools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_installed = False

# Writes so far, in all and by partition key value; and the threads waiting for a write, by the
# partition they watch (None: any), each woken alone, so that a write wakes only who waits for it.
_writes = 0
_writes_by_partition: dict[Any, int] = {}
_watchers: dict[Any, set[threading.Event]] = {}
_written = threading.Lock()
_seen = threading.local()


def writes() -> int:
    """How many writes every table took so far (a number that only grows)."""
    return _writes


def _count_write(partition: Any) -> None:
    global _writes
    with _written:
        _writes += 1
        _writes_by_partition[partition] = _writes_by_partition.get(partition, 0) + 1
        woken = _watchers.pop(partition, set()) | _watchers.pop(None, set())
    for watcher in woken:
        watcher.set()


def wait_for_write(seconds: float, partition: str | None = None) -> None:
    """Wait up to ``seconds`` for a write (to items of ``partition``, a partition key value, if
    given) that this thread has not seen yet: one made since this thread last returned from here
    counts, so a write between two looks is never missed."""

    def count() -> int:
        return _writes if partition is None else _writes_by_partition.get(partition, 0)

    watcher = threading.Event()
    with _written:
        unseen = getattr(_seen, "last", None) != (partition, count())
        if not unseen:
            _watchers.setdefault(partition, set()).add(watcher)
    if not unseen:
        watcher.wait(seconds)
        with _written:
            waiting = _watchers.get(partition)
            if waiting is not None:
                waiting.discard(watcher)
                if not waiting:
                    del _watchers[partition]
    with _written:
        _seen.last = (partition, count())


# moto's key-condition operators (expression and legacy spellings) the range narrowing understands.
_EQUAL = {"=", "EQ"}
_BELOW = {"<": False, "LT": False, "<=": True, "LE": True}  # operator -> inclusive
_ABOVE = {">": False, "GT": False, ">=": True, "GE": True}


def _sortable(value: Any) -> Any:
    """A key attribute's value as moto compares it (``DynamoType.cast_value``: str, Decimal or bytes)."""
    return value.cast_value


@dataclass
class _IndexPartitions:
    """One global secondary index: partition value -> [(sort key, table key)], in moto's query order
    (the index's range key, then the table's hash and range keys)."""

    hash_attribute: str
    range_attribute: str | None
    partitions: dict[Any, list[tuple[tuple[Any, ...], tuple[Any, Any]]]] = field(default_factory=dict)


@dataclass
class TableIndex:
    """The partition index of one moto table, and what each stored item is filed under."""

    indexes: dict[str, _IndexPartitions]
    table_hash: str
    table_range: str | None
    # table key -> [(index name, partition value, sort key)] it is filed under now
    filed: dict[tuple[Any, Any], list[tuple[str, Any, tuple[Any, ...]]]] = field(default_factory=dict)
    # The items as last exported (DynamoDB JSON; None: never exported), and the keys changed since.
    exported: dict[tuple[Any, Any], dict[str, Any]] | None = None
    changed: set[tuple[Any, Any]] = field(default_factory=set)

    @classmethod
    def of(cls, table: Any) -> TableIndex:
        index = getattr(table, "_accu_index", None)
        if index is None or set(index.indexes) != {gsi.name for gsi in table.global_indexes}:
            index = cls._build(table)
            table._accu_index = index
        return index

    @classmethod
    def _build(cls, table: Any) -> TableIndex:
        indexes = {}
        for gsi in table.global_indexes:
            hash_attribute = next(k["AttributeName"] for k in gsi.schema if k["KeyType"] == "HASH")
            range_attribute = next((k["AttributeName"] for k in gsi.schema if k["KeyType"] == "RANGE"), None)
            indexes[gsi.name] = _IndexPartitions(hash_attribute, range_attribute)
        index = cls(indexes, table.hash_key_attr, table.range_key_attr)
        for item in _stored_items(table):
            index._file(item)
        return index

    def _sort_key(self, item: Any, partition: _IndexPartitions) -> tuple[Any, ...]:
        parts = []
        if partition.range_attribute is not None:
            parts.append(_sortable(item.attrs[partition.range_attribute]))
        parts.append(_sortable(item.hash_key))
        if item.range_key is not None:
            parts.append(_sortable(item.range_key))
        return tuple(parts)

    def _file(self, item: Any) -> None:
        key = (item.hash_key, item.range_key)
        entries = []
        for name, partition in self.indexes.items():
            partition_value = item.attrs.get(partition.hash_attribute)
            if partition_value is None:
                continue
            if partition.range_attribute is not None and not item.attrs.get(partition.range_attribute):
                continue  # sparse: only items with every key attribute of the index are in it
            sort_key = self._sort_key(item, partition)
            bisect.insort(partition.partitions.setdefault(partition_value, []), (sort_key, key), key=_sort_key_of)
            entries.append((name, partition_value, sort_key))
        if entries:
            self.filed[key] = entries

    def _unfile(self, key: tuple[Any, Any]) -> None:
        for name, partition_value, sort_key in self.filed.pop(key, []):
            entries = self.indexes[name].partitions.get(partition_value)
            if not entries:
                continue
            # The sort key ends with the table key, so it is unique in its partition.
            position = bisect.bisect_left(entries, sort_key, key=_sort_key_of)
            if position < len(entries) and entries[position][0] == sort_key:
                del entries[position]
            if not entries:
                del self.indexes[name].partitions[partition_value]

    def refile(self, table: Any, hash_value: Any, range_value: Any) -> None:
        """The item under this key changed (or went): file it anew."""
        key = (hash_value, range_value)
        self._unfile(key)
        current = _stored(table, hash_value, range_value)
        if current is not None:
            self._file(current)
        if self.exported is not None:
            self.changed.add(key)
        _count_write(hash_value.value)

    def reachable(
        self,
        table: Any,
        index_name: str,
        partition_value: Any,
        range_comparison: str | None,
        range_values: list[Any],
        exclusive_start_key: dict[str, Any] | None,
        scan_index_forward: bool,
        limit: int | None,
    ) -> list[Any] | None:
        """The items a query of this index can reach, or None if the seam cannot narrow it."""
        partition = self.indexes[index_name]
        entries = partition.partitions.get(partition_value, [])
        low, high = 0, len(entries)
        if range_comparison is not None:
            bounds = _range_bounds(entries, range_comparison, [_sortable(v) for v in range_values])
            if bounds is None:
                return None
            low, high = bounds
        if exclusive_start_key:
            start = self._start_sort_key(partition, exclusive_start_key)
            if start is None:
                return None
            if scan_index_forward:
                low = max(low, bisect.bisect_right(entries, start, key=_sort_key_of))
            else:
                high = min(high, bisect.bisect_left(entries, start, key=_sort_key_of))
        # moto looks at one item past a full page to know there is more (an item out of the key
        # condition's range counts too: it answers a LastEvaluatedKey then, as DynamoDB may): hand
        # it just as many, and the next one beyond the range.
        if scan_index_forward:
            span, beyond = range(low, high), (high if high < len(entries) else None)
        else:
            span, beyond = range(high - 1, low - 1, -1), (low - 1 if low > 0 else None)
        chosen = []
        size = 0
        for position in span:
            item = _stored(table, *entries[position][1])
            if item is None:
                continue
            chosen.append(item)
            size += item.size()
            if (limit is not None and len(chosen) > limit) or (limit is None and size > RESULT_SIZE_LIMIT):
                return chosen
        if beyond is not None and chosen:
            item = _stored(table, *entries[beyond][1])
            if item is not None:
                chosen.append(item)
        return chosen

    def _start_sort_key(self, partition: _IndexPartitions, start: dict[str, Any]) -> tuple[Any, ...] | None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        names = [partition.range_attribute] if partition.range_attribute else []
        names.append(self.table_hash)
        if self.table_range is not None:
            names.append(self.table_range)
        if any(name not in start for name in names):
            return None
        return tuple(_sortable(DynamoType(start[name])) for name in names)


RESULT_SIZE_LIMIT = 1_000_000


def stream_records(table: Any, after: int | None, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` of the table's stream records (as GetRecords answers them) that follow the
    one numbered ``after`` (None: from the oldest). moto numbers records from its shard's start."""
    shard = table.stream_shard
    if shard is None:
        return []
    start = 0 if after is None else after - shard.starting_sequence_number + 1
    return [record.to_json() for record in shard.items[start : start + limit]]


def index_is_empty(table: Any, index_name: str) -> bool:
    """Whether no item of the table is in this global secondary index (a sparse one may be empty)."""
    index = TableIndex.of(table)
    return not index.indexes[index_name].partitions


def _sort_key_of(entry: tuple[tuple[Any, ...], Any]) -> tuple[Any, ...]:
    return entry[0]


def _range_bounds(
    entries: list[tuple[tuple[Any, ...], Any]], comparison: str, values: list[Any]
) -> tuple[int, int] | None:
    """Positions [low, high) of the entries whose index range key meets the key condition."""

    def first(entry: tuple[tuple[Any, ...], Any]) -> Any:
        return entry[0][0]

    try:
        if comparison in _EQUAL:
            return bisect.bisect_left(entries, values[0], key=first), bisect.bisect_right(entries, values[0], key=first)
        if comparison == "BETWEEN":
            return bisect.bisect_left(entries, values[0], key=first), bisect.bisect_right(entries, values[1], key=first)
        if comparison in _BELOW:
            cut = bisect.bisect_right if _BELOW[comparison] else bisect.bisect_left
            return 0, cut(entries, values[0], key=first)
        if comparison in _ABOVE:
            cut = bisect.bisect_left if _ABOVE[comparison] else bisect.bisect_right
            return cut(entries, values[0], key=first), len(entries)
        if comparison.upper() == "BEGINS_WITH" and isinstance(values[0], str):
            low = bisect.bisect_left(entries, values[0], key=first)
            high = low
            while (
                high < len(entries)
                and isinstance(first(entries[high]), str)
                and first(entries[high]).startswith(values[0])
            ):
                high += 1
            return low, high
    except TypeError:  # values of another type than the key's: let moto answer as it would
        return None
    return None


def _stored(table: Any, hash_value: Any, range_value: Any) -> Any:
    partition = table.items.get(hash_value)
    if partition is None:
        return None
    if table.range_key_attr is None:
        return partition
    return partition.get(range_value)


def _stored_items(table: Any) -> Iterable[Any]:
    for partition in list(table.items.values()):
        if table.range_key_attr is None:
            yield partition
        else:
            yield from list(partition.values())


def export_items(table: Any) -> list[dict[str, Any]]:
    """Every item of a moto table, in DynamoDB JSON (what GetItem answers): for the local platform's
    snapshot (seam: moto's ``Table.items`` and ``Item.to_json``). Only the items changed since the
    last export are read again, so a snapshot costs what changed, not what is stored; the answer's
    dicts are never changed afterwards (a later export replaces them), so it may be written out
    after the caller lets go of the request lock."""
    index = TableIndex.of(table)
    if index.exported is None:
        index.exported = {
            (item.hash_key, item.range_key): item.to_json()["Attributes"] for item in _stored_items(table)
        }
    else:
        for key in index.changed:
            current = _stored(table, *key)
            if current is None:
                index.exported.pop(key, None)
            else:
                index.exported[key] = current.to_json()["Attributes"]
    index.changed.clear()
    return list(index.exported.values())


def import_items(table: Any, items: list[dict[str, Any]]) -> None:
    """Put items back as they were exported, indexes filed, and without stream records: restored
    items are not new writes (their history events were published when first written)."""
    stream = table.stream_shard
    length = len(stream.items) if stream is not None else 0
    for item in items:
        table.put_item(item)
    if stream is not None:
        del stream.items[length:]


class _PartitionView:
    """A table as moto's query code sees it, holding only the items the query can reach."""

    def __init__(self, table: Any, reachable: list[Any]):
        self._table = table
        self._reachable = reachable

    def all_items(self) -> list[Any]:
        return list(self._reachable)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _item_key(table: Any, attributes: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_value = DynamoType(attributes[table.hash_key_attr])
    range_value = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


_STRING_MEMBERS = frozenset({"S", "N"})
_FLAG_MEMBERS = frozenset({"BOOL", "NULL"})
_SET_MEMBERS = frozenset({"SS", "NS"})


def _wire(value: Any) -> Any:
    """An attribute value as moto's JSON serializer writes it, or None where this cannot say."""
    if not isinstance(value, dict):
        return None
    written: dict[str, Any] = {}
    for member, member_value in value.items():
        if member_value is None:
            continue
        if member in _STRING_MEMBERS:
            written[member] = member_value if isinstance(member_value, str) else _string(member_value)
        elif member in _FLAG_MEMBERS:
            written[member] = member_value
        elif member in _SET_MEMBERS:
            written[member] = [_string(element) for element in member_value]
        elif member == "M":
            entries = {name: _wire(entry) for name, entry in member_value.items()}
            if any(entry is None for entry in entries.values()):
                return None
            written[member] = entries
        elif member == "L":
            elements = [_wire(element) for element in member_value]
            if any(element is None for element in elements):
                return None
            written[member] = elements
        else:
            return None
    return written


def _string(value: Any) -> Any:
    # What moto's JSON serializer does with a string member.
    return str(value) if value not in [None, {}, []] else value


def install() -> None:
    """Apply the seams (once per process)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original_put = Table.put_item
    original_delete = Table.delete_item
    original_update = DynamoDBBackend.update_item
    original_query = Table.query

    @functools.wraps(original_put)
    def put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        item = original_put(self, item_attrs, *args, **kwargs)
        TableIndex.of(self).refile(self, item.hash_key, item.range_key)
        return item

    @functools.wraps(original_delete)
    def delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        item = original_delete(self, hash_key, range_key)
        TableIndex.of(self).refile(self, hash_key, range_key)
        return item

    @functools.wraps(original_update)
    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        item = original_update(self, table_name, key, *args, **kwargs)
        table = self.get_table(table_name)
        TableIndex.of(table).refile(table, item.hash_key, item.range_key)
        return item

    @functools.wraps(original_query)
    def query(
        self: Any,
        hash_key: Any,
        range_comparison: str | None,
        range_objs: list[Any],
        limit: int,
        exclusive_start_key: dict[str, Any],
        scan_index_forward: bool,
        projection_expressions: Any,
        index_name: str | None = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        hash_key_conditions: list[tuple[str, Any]] | None = None,
        range_key_conditions: list[tuple[str, str, list[Any]]] | None = None,
        **filter_kwargs: Any,
    ) -> Any:
        arguments = (hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward)
        keywords = {
            "projection_expressions": projection_expressions,
            "index_name": index_name,
            "consistent_read": consistent_read,
            "filter_expression": filter_expression,
            "hash_key_conditions": hash_key_conditions,
            "range_key_conditions": range_key_conditions,
            **filter_kwargs,
        }
        view = _narrowed(self, *arguments, index_name, hash_key_conditions, range_key_conditions, filter_kwargs)
        return original_query(view if view is not None else self, *arguments, **keywords)  # type: ignore[arg-type]

    Table.put_item = put_item  # type: ignore[method-assign,assignment]
    Table.delete_item = delete_item  # type: ignore[method-assign,assignment]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign,assignment]
    Table.query = query  # type: ignore[method-assign,assignment]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]
    _install_item_answers()
    _install_item_size()
    _installed = True


def _install_item_answers() -> None:
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure

    @functools.wraps(original)
    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue":
            written = _wire(value)
            if written is not None:
                serialized[self.get_serialized_name(shape, key)] = written
                return
        original(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]


def _narrowed(
    table: Any,
    hash_key: Any,
    range_comparison: str | None,
    range_objs: list[Any],
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    scan_index_forward: bool,
    index_name: str | None,
    hash_key_conditions: list[tuple[str, Any]] | None,
    range_key_conditions: list[tuple[str, str, list[Any]]] | None,
    filter_kwargs: dict[str, Any],
) -> _PartitionView | None:
    """The view of the table a query needs, or None to let moto read it all (shapes the seam does
    not narrow: legacy QueryFilter, multi-attribute keys, local secondary indexes)."""
    if filter_kwargs or len(hash_key_conditions or []) > 1 or len(range_key_conditions or []) > 1:
        return None
    if not index_name:
        partition = table.items.get(hash_key) if hash_key is not None else None
        if table.range_key_attr is None:
            return _PartitionView(table, [partition] if partition is not None else [])
        return _PartitionView(table, list(partition.values()) if partition else [])
    index = TableIndex.of(table)
    if index_name not in index.indexes or not hash_key_conditions:
        return None
    attribute, partition_value = hash_key_conditions[0]
    if attribute != index.indexes[index_name].hash_attribute:
        return None
    reachable = index.reachable(
        table,
        index_name,
        partition_value,
        range_comparison,
        range_objs,
        exclusive_start_key,
        scan_index_forward,
        limit,
    )
    return _PartitionView(table, reachable) if reachable is not None else None


@dataclass
class _Touched:
    table: Any
    hash_value: Any
    range_value: Any
    before: Any  # a copy of the item as it was, or None if there was none


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's ``TransactWriteItems``, with the backup scoped to the items it touches (seam 1)."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import get_filter_expression

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    touched: list[_Touched] = []
    stream_lengths: dict[int, tuple[Any, int]] = {}
    target_items: set[tuple[str, str]] = set()

    def remember(table: Any, key: dict[str, Any]) -> None:
        hash_value, range_value = _item_key(table, key)
        if any(t.table is table and (t.hash_value, t.range_value) == (hash_value, range_value) for t in touched):
            return
        current = _stored(table, hash_value, range_value)
        touched.append(_Touched(table, hash_value, range_value, copy.deepcopy(current)))
        if table.stream_shard is not None and id(table) not in stream_lengths:
            stream_lengths[id(table)] = (table, len(table.stream_shard.items))

    def roll_back() -> None:
        for entry in reversed(touched):
            table = entry.table
            if entry.before is None:
                partition = table.items.get(entry.hash_value)
                if table.range_key_attr is None:
                    table.items.pop(entry.hash_value, None)
                elif partition is not None:
                    partition.pop(entry.range_value, None)
            elif table.range_key_attr is None:
                table.items[entry.hash_value] = entry.before
            else:
                table.items[entry.hash_value][entry.range_value] = entry.before
            TableIndex.of(table).refile(table, entry.hash_value, entry.range_value)
        # A cancelled transaction writes nothing to the stream.
        for table, length in stream_lengths.values():
            if len(table.stream_shard.items) >= length:
                del table.stream_shard.items[length:]

    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            table = self.get_table(table_name)
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            unique = (str(table_name), str(dict(sorted(key.items()))))
            if unique in target_items:
                raise MultipleTransactionsException()
            target_items.add(unique)

            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition = get_filter_expression(condition_expression, names, values)
                if not condition.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            if op_type != "ConditionCheck":
                remember(table, key)
            if op_type == "Put":
                self.put_item(
                    table_name,
                    op["Item"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            roll_back()
            raise
        except ConditionalCheckFailed as error:
            errors.append(("ConditionalCheckFailed", str(error.message), original_item))
        except Exception as error:  # moto reports any other failure of an item the same way
            errors.append((type(error).__name__, str(error), original_item))

    if any(code is not None for code, _, _ in errors):
        roll_back()
        raise TransactionCanceledException(errors)


def _install_item_size() -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    limit = 405000  # moto's limit (LimitedSizeDict.__setitem__)

    def build(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > limit:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.update(self.attrs, values)

    Item.__init__ = build  # type: ignore[method-assign]
