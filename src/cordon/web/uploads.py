"""Reading an uploaded file within the upload limit (API and pages of every slice)."""

from __future__ import annotations

from fastapi import UploadFile

from cordon.errors import Problem, TooLarge, ValidationFailed


async def read_upload(upload: UploadFile, *, max_bytes: int) -> bytes:
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge(
            f"file is larger than {max_bytes} bytes",
            problems=[Problem("file", f"at most {max_bytes} bytes")],
        )
    if not data:
        raise ValidationFailed("the file is empty", problems=[Problem("file", "empty")])
    return data
