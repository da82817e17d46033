"""Photos and training certificates: files under the data dir, checked on the way in.

A file is accepted when its bytes are what its name claims (JPEG, PNG, WebP
or PDF, told by the magic number, not the extension) and it is at most
``MAX_BYTES``. It is stored once by content, as
``<data dir>/agency/<org id>/<sha256>.<ext>``, and the row keeps the checksum,
type and size, so :func:`verify_file` can tell a file changed on disk.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import default_data_dir
from core import audit
from core.actors import Actor
from core.agency.base import agency_org, row_of
from core.errors import InvalidInput
from db.models_agency import AgencyWorker, AgencyWorkerFile

MAX_BYTES = 5 * 1024 * 1024
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"%PDF-", "application/pdf", "pdf"),
)
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")


@dataclass(frozen=True)
class FileView:
    id: int
    worker_id: int
    kind: str
    title: str
    path: str | None
    sha256: str | None
    content_type: str | None
    size_bytes: int | None
    legacy_path: str | None


def files_root() -> Path:
    return default_data_dir() / "agency"


def sniff(head: bytes) -> tuple[str, str] | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    for magic, content_type, ext in SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    return None


def _view(f: AgencyWorkerFile) -> FileView:
    return FileView(f.id, f.worker_id, f.kind, f.title, f.path, f.sha256, f.content_type, f.size_bytes, f.legacy_path)


def store_file(session: Session, actor: Actor, org_id: int, worker_id: int, source: Path, *, kind: str,
               title: str = "") -> FileView:
    """Check ``source`` and keep a copy under the data dir, recorded against the worker."""
    org = agency_org(session, actor, org_id, "agency.write")
    worker = row_of(session, AgencyWorker, org.id, worker_id, "That worker is not on this agency's books.")
    if kind not in ("photo", "certificate"):
        raise InvalidInput("A worker's file is a photo or a certificate.")
    try:
        size = source.stat().st_size
    except OSError:
        raise InvalidInput(f"Cannot read {source}.") from None
    if size == 0 or size > MAX_BYTES:
        raise InvalidInput(f"{source.name} is {size:,} bytes; a file must be between 1 byte and "
                           f"{MAX_BYTES // (1024 * 1024)} MB.")
    data = source.read_bytes()
    found = sniff(data[:16])
    if found is None:
        raise InvalidInput(f"{source.name} is not a JPEG, PNG, WebP or PDF file.")
    content_type, ext = found
    if kind == "photo" and content_type not in PHOTO_TYPES:
        raise InvalidInput(f"{source.name} is a {content_type}; a photo must be JPEG, PNG or WebP.")
    digest = hashlib.sha256(data).hexdigest()
    relative = f"agency/{org.id}/{digest}.{ext}"
    target = files_root().parent / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, target)  # whole or not at all
    existing = session.scalar(select(AgencyWorkerFile).where(
        AgencyWorkerFile.worker_id == worker.id, AgencyWorkerFile.sha256 == digest, AgencyWorkerFile.kind == kind))
    if existing is not None:
        return _view(existing)
    row = AgencyWorkerFile(org_id=org.id, worker_id=worker.id, kind=kind, title=title or source.name,
                           path=relative, sha256=digest, content_type=content_type, size_bytes=size)
    session.add(row)
    session.flush()
    audit.record(session, actor, f"agency.worker.{kind}", "agency_worker_file", row.id, org_id=org.id,
                 after={"worker_id": worker.id, "sha256": digest, "size": size, "type": content_type})
    session.commit()
    return _view(row)


def list_files(session: Session, actor: Actor, org_id: int, worker_id: int) -> list[FileView]:
    agency_org(session, actor, org_id, "agency.read")
    return [_view(f) for f in session.scalars(select(AgencyWorkerFile).where(
        AgencyWorkerFile.org_id == org_id, AgencyWorkerFile.worker_id == worker_id).order_by(AgencyWorkerFile.id))]


def verify_file(view: FileView) -> bool:
    """Whether the stored file is still there with the bytes it had when it was taken in."""
    if view.path is None:
        return False
    target = files_root().parent / view.path
    try:
        return hashlib.sha256(target.read_bytes()).hexdigest() == view.sha256
    except OSError:
        return False
