"""Email over SMTP (``smtplib``), configured by ``OFISI_SMTP_URL``.

``smtp://user:password@host:587`` (STARTTLS when the server offers it),
``smtps://…:465`` (TLS from the start), ``smtp://host:25`` without login.
Each email carries a ``Message-ID`` made from the outbox message's id, so a
resend after an ``unknown`` is recognisable as the same email by the
receiving side. A plain body goes as a plain-text part with an escaped HTML
twin; a body that is a whole HTML document (:func:`html_document`, what
campaigns write) goes as that HTML with a plain-text part made from it, and
the unsubscribe link it names becomes the ``List-Unsubscribe`` and
``List-Unsubscribe-Post`` (one-click, RFC 8058) headers.

A refusal before the data was accepted says what it means (4xx: try again,
5xx: never); a connection lost after the data went is ambiguous.
"""

from __future__ import annotations

import email.policy
import html
import re
import smtplib
import socket
import ssl
import threading
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from core.providers import (
    AmbiguousSendError,
    OutgoingMessage,
    PermanentSendError,
    ProviderUnavailable,
    SendResult,
    TransientSendError,
)


def message_id(outbox_id: int, domain: str) -> str:
    return f"<ofisi-{outbox_id}@{domain}>"


DOCTYPE = "<!doctype html>"
_UNSUBSCRIBE = re.compile(r'<meta name="list-unsubscribe" content="([^"]+)">')


def html_document(markup: str, *, unsubscribe: str, org_name: str) -> str:
    """A campaign email's body: its HTML, and a footer with the one-click unsubscribe link,
    which the head also names for the headers."""
    link = html.escape(unsubscribe, quote=True)
    return (f'{DOCTYPE}<html><head><meta charset="utf-8"><meta name="list-unsubscribe" content="{link}">'
            f"</head><body>{markup}"
            f'<hr><p style="font-size:12px;color:#666">You get this email from {html.escape(org_name)}. '
            f'<a href="{link}">Unsubscribe</a> with one click.</p></body></html>')


# Headers up to RFC 5322's 998 characters stay as written: a long List-Unsubscribe URL folded
# into an encoded word would not be a link any more.
_POLICY = email.policy.default.clone(max_line_length=998)


def as_email(message: OutgoingMessage, sender: str, domain: str) -> EmailMessage:
    email = EmailMessage(policy=_POLICY)
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject or ""
    email["Message-ID"] = message_id(message.id, domain)
    email["X-Ofisi-Message"] = str(message.id)
    if message.body.startswith(DOCTYPE):
        from core.templates import html_to_text

        found = _UNSUBSCRIBE.search(message.body)
        if found:
            email["List-Unsubscribe"] = f"<{html.unescape(found.group(1))}>"
            email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email.set_content(html_to_text(message.body))
        email.add_alternative(message.body, subtype="html")
    else:
        email.set_content(message.body)
        paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in message.body.split("\n\n"))
        email.add_alternative(f"<!doctype html><html><body>{paragraphs}</body></html>", subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        email.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return email


class SMTPEmail:
    name = "smtp"

    def __init__(self, url: str, *, sender: str = "ofisi@localhost", timeout: float = 15.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ProviderUnavailable("OFISI_SMTP_URL must look like smtp://user:password@host:587 or smtps://…")
        self._tls = parts.scheme == "smtps"
        self._host, self._port = parts.hostname, parts.port or (465 if self._tls else 25)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._sender, self._timeout = sender, timeout
        self._domain = sender.rpartition("@")[2] or "localhost"
        self._local = threading.local()
        self._connections: list[smtplib.SMTP] = []

    @classmethod
    def from_settings(cls, settings) -> SMTPEmail:
        return cls(settings.secret("smtp_url").reveal(), sender=settings.email_from)

    def _connection(self) -> smtplib.SMTP:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            if self._tls:
                conn = smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout,
                                        context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
                conn.ehlo()
                if conn.has_extn("starttls"):
                    conn.starttls(context=ssl.create_default_context())
                    conn.ehlo()
            if self._user:
                conn.login(self._user, self._password or "")
        except smtplib.SMTPAuthenticationError:
            raise ProviderUnavailable("the SMTP server refused the login; check OFISI_SMTP_URL") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientSendError(f"cannot reach the SMTP server: {type(exc).__name__}: {exc}") from None
        self._local.conn = conn
        self._connections.append(conn)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def send(self, message: OutgoingMessage) -> SendResult:
        email = as_email(message, self._sender, self._domain)
        conn = self._connection()
        try:
            conn.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise (TransientSendError if 400 <= code < 500 else PermanentSendError)(
                f"SMTP {code} for {message.to}: {text.decode(errors='replace')}") from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            # Refused before the message was accepted: nothing went.
            raise (TransientSendError if 400 <= exc.smtp_code < 500 else PermanentSendError)(
                f"SMTP {exc.smtp_code}: {exc.smtp_error.decode(errors='replace')}") from None
        except (smtplib.SMTPServerDisconnected, socket.timeout, OSError) as exc:
            self._drop()
            raise AmbiguousSendError(f"the SMTP connection was lost mid-send ({type(exc).__name__}); "
                                     "the email may have gone") from None
        return SendResult(provider_message_id=email["Message-ID"])

    def close(self) -> None:
        for conn in self._connections:
            try:
                conn.quit()
            except Exception:
                pass
        self._connections.clear()
