"""Files sent to the browser: a small export written to a temporary file and streamed."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def written_file(
    root: Path, name: str, write: Callable[[Path], object], media_type: str = XLSX
) -> FileResponse:
    """Let ``write`` fill a temporary file under ``root``/tmp, then send it as ``name``; the file
    is removed once sent, or at once if writing fails (the error then gets its own page)."""
    folder = root / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(suffix=Path(name).suffix, dir=folder)
    os.close(handle)
    path = Path(temp)
    try:
        write(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(
        path,
        media_type=media_type,
        filename=name,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )
