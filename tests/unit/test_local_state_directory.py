"""The local platform's snapshot file: written whole or not at all, so a crash while writing leaves
the last complete snapshot readable; FRESH=1 forgets it."""

from __future__ import annotations

import pytest

from infra.local.persistence import Snapshot, StateDirectory


def snapshot(offset: float) -> Snapshot:
    return Snapshot(offset, {"accu-local-workflows": [{"pk": {"S": "WF#a"}, "sk": {"S": "STATE"}}]}, {})


def test_a_snapshot_reads_back_as_written(tmp_path):
    state = StateDirectory(tmp_path / "state")
    assert state.read() is None
    state.write(snapshot(42.0))
    assert state.read() == snapshot(42.0)


def test_a_crash_while_writing_leaves_the_last_complete_snapshot(tmp_path, monkeypatch):
    # Given a complete snapshot, and a next one whose writing is cut short before it is renamed
    state = StateDirectory(tmp_path / "state")
    state.write(snapshot(1.0))

    def crash(source, target):
        raise KeyboardInterrupt("killed between writing and renaming")

    monkeypatch.setattr("infra.local.persistence.os.replace", crash)
    with pytest.raises(KeyboardInterrupt):
        state.write(snapshot(2.0))
    monkeypatch.undo()

    # Then the last complete one is what a start reads, and the next write replaces it
    assert state.read() == snapshot(1.0)
    state.write(snapshot(3.0))
    assert state.read() == snapshot(3.0)


def test_fresh_forgets_the_snapshot(tmp_path):
    state = StateDirectory(tmp_path / "state")
    state.write(snapshot(1.0))
    state.forget()
    assert state.read() is None
