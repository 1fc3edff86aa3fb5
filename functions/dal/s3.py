"""S3 access: the documents bucket (presigned uploads, reading a stored file's size and digest)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from functions.service.ports import ObjectMissing, StoredObject

CHUNK_BYTES = 1024 * 1024


@dataclass
class DocumentFiles:
    client: Any
    bucket: str
    # The client that signs upload URLs: the same in AWS; locally one whose URLs name the local endpoint.
    presigning_client: Any

    def upload_url(self, key: str, content_type: str, size_bytes: int, expires_seconds: int) -> str:
        return str(
            self.presigning_client.generate_presigned_url(
                "put_object",
                Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type},
                ExpiresIn=expires_seconds,
                HttpMethod="PUT",
            )
        )

    def inspect(self, key: str) -> StoredObject:
        """The stored object's size and SHA-256, read in chunks (files are up to 100 MiB)."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                raise ObjectMissing(key) from error
            raise
        digest = hashlib.sha256()
        size = 0
        for chunk in response["Body"].iter_chunks(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
        return StoredObject(size_bytes=size, sha256=digest.hexdigest())
