"""Reading an uploaded file within the upload limit (API and pages of every slice)."""

from __future__ import annotations

from fastapi import UploadFile

from cordon.errors import Problem, TooLarge, ValidationFailed


async def read_upload(upload: UploadFile, *, max_bytes: int) -> bytes:
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge(
            "file is larger than %(max_bytes)s bytes",
            params=dict(max_bytes=max_bytes),
            problems=[
                Problem("file", "at most %(max_bytes)s bytes", params=dict(max_bytes=max_bytes))
            ],
        )
    if not data:
        raise ValidationFailed("the file is empty", problems=[Problem("file", "empty")])
    return data
