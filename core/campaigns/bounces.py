"""Bounces that come back later, as delivery status notifications (RFC 3464) in a mailbox.

An SMTP server may accept an email and only later find it cannot deliver it; it then mails
a DSN to the sender. When the installation's MTA delivers those to a maildir
(``OFISI_BOUNCE_MAILDIR``), ``ofisi campaigns bounces`` reads the new ones: each failed
recipient (``Action: failed``, a ``5.x.x`` status) of an email Ofisi sent (found by the
``Message-ID`` it gave it) fails that message and suppresses the address for the org's next
campaigns, as an SMTP 550 at sending does. A delay (``4.x.x``) changes nothing. Each mail
read is marked seen, so reading again changes nothing.
"""

from __future__ import annotations

import email
import mailbox
from dataclasses import dataclass
from email.message import Message as EmailMessage
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.changes import mark_changed
from core.errors import InvalidInput
from core.optouts import opt_out
from core.outbox import record_delivery_report
from db.models import Message


@dataclass(frozen=True)
class _Failure:
    message_id: str     # the Message-ID of the email that bounced
    recipient: str
    status: str         # 5.1.1
    diagnostic: str


def _fields(part: EmailMessage) -> list[dict[str, str]]:
    """The field groups of a message/delivery-status part (the per-message group first)."""
    payload = part.get_payload()
    groups = payload if isinstance(payload, list) else [email.message_from_string(str(payload))]
    return [{k.lower(): str(v) for k, v in group.items()} for group in groups]


def _failures(raw: bytes) -> list[_Failure]:
    """The permanent failures a DSN reports, with the Message-ID of the email they are about."""
    report = email.message_from_bytes(raw)
    if report.get_content_type() != "multipart/report":
        return []
    status_part = next((p for p in report.walk() if p.get_content_type() == "message/delivery-status"), None)
    original = next((p for p in report.walk()
                     if p.get_content_type() in ("text/rfc822-headers", "message/rfc822")), None)
    if status_part is None or original is None:
        return []
    headers = original.get_payload()
    headers = headers[0] if isinstance(headers, list) else email.message_from_string(str(headers))
    message_id = (headers.get("Message-ID") or "").strip()
    found = []
    for group in _fields(status_part)[1:]:
        action, status = group.get("action", "").strip().lower(), group.get("status", "").strip()
        recipient = group.get("final-recipient", "").split(";")[-1].strip().lower()
        if message_id and recipient and action == "failed" and status.startswith("5"):
            found.append(_Failure(message_id, recipient, status, " ".join(group.get("diagnostic-code", "").split())))
    return found


@dataclass
class BounceSummary:
    read: int = 0        # new mails in the maildir
    bounced: int = 0     # failed recipients of emails Ofisi sent
    suppressed: int = 0  # addresses newly suppressed
    unknown: int = 0     # failures about emails Ofisi has no record of


def read_bounces(session: Session, maildir: str | Path) -> BounceSummary:
    """Read the maildir's new DSNs (see the module docstring); one commit per mail."""
    path = Path(maildir)
    if not (path / "new").is_dir():
        raise InvalidInput(f"{path} is not a maildir (it has no new/ folder); set OFISI_BOUNCE_MAILDIR to one.")
    box = mailbox.Maildir(str(path), factory=None, create=False)
    summary = BounceSummary()
    for key in list(box.iterkeys()):
        mail = box[key]
        if "S" in mail.get_flags():
            continue
        summary.read += 1
        for failure in _failures(mail.as_bytes()):
            row = session.scalar(select(Message).where(Message.channel == "email",
                                                       Message.provider_message_id == failure.message_id))
            if row is None or row.to_address != failure.recipient:
                summary.unknown += 1
                continue
            summary.bounced += 1
            record_delivery_report(session, row.provider or "smtp", failure.message_id, "failed",
                                   reason=f"bounced {failure.status}: {failure.diagnostic}".rstrip(": "))
            if opt_out(session, row.org_id, "email", row.to_address, source="bounce"):
                summary.suppressed += 1
                mark_changed(session, row.org_id)
        session.commit()
        mail.set_subdir("cur")
        mail.add_flag("S")
        box[key] = mail
    return summary
