"""Beginning work: starting a workflow, and the upload URL of a document's file."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from functions.domain import workflow as rules
from functions.domain.errors import Forbidden, NotConfigured, WorkflowAlreadyStarted
from functions.domain.identity import Identity
from functions.domain.lifecycles import document
from functions.domain.time import iso
from functions.service.engine import WorkflowEngine
from functions.service.ports import AlreadyExists

UPLOAD_URL_SECONDS = 15 * 60


class WorkflowStarts:
    def __init__(self, engine: WorkflowEngine):
        self.engine = engine

    def start(self, actor: Identity, workflow_type: str, workflow_id: str | None, raw_input: Any) -> dict[str, Any]:
        engine = self.engine
        lifecycle = engine.lifecycle(workflow_type)
        if not actor.may(lifecycle.starters):
            raise Forbidden(f"the caller's groups may not start {workflow_type} workflows")
        workflow_id = workflow_id or f"{workflow_type}-{uuid.uuid4().hex[:16]}"
        transition = rules.start(lifecycle, workflow_id, raw_input, actor, engine.now())
        rules.check_references(lifecycle, transition.after.input, actor, engine.store.get)
        try:
            engine.store.create(transition)
        except AlreadyExists as error:
            existing = engine.store.get(workflow_id)
            state = "running" if existing and existing.is_running else "closed"
            raise WorkflowAlreadyStarted(
                f"a workflow with id {workflow_id!r} already exists ({state}); workflow ids are unique",
                [
                    {
                        "field": "workflowId",
                        "value": workflow_id,
                        "executionStatus": existing and existing.executionStatus,
                    }
                ],
            ) from error
        engine.start_execution(transition.after)
        return engine.view(transition.after)

    def request_upload(self, actor: Identity, file_name: str, content_type: str, size_bytes: int) -> dict[str, Any]:
        """A presigned PUT URL and the object key where a document's file goes."""
        engine = self.engine
        if not actor.may(engine.lifecycle(document.TYPE).starters):
            raise Forbidden("the caller's groups may not upload documents")
        if engine.files is None:
            raise NotConfigured("document uploads are not configured on this deployment (no documents bucket)")
        safe_name = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in file_name)[-120:] or "file"
        key = f"uploads/{actor.user_id}/{uuid.uuid4().hex}/{safe_name}"
        expires = UPLOAD_URL_SECONDS
        return {
            "uploadUrl": engine.files.upload_url(key, content_type, size_bytes, expires),
            "objectKey": key,
            "method": "PUT",
            "headers": {"Content-Type": content_type},
            "expiresAt": iso(engine.now() + timedelta(seconds=expires)),
        }
