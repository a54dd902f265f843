"""E-mail, the fallback channel: the standard library's SMTP client, run in a thread so the
worker's event loop never blocks on a mail server. ``OCOP_SMTP_URL`` is ``smtp://user:pass@host:port``
(STARTTLS when the server offers it) or ``smtps://…`` (TLS from the start)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import unicodedata
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from connectors.base import PermanentError, RetryableError


class MailError(PermanentError):
    """The server refused this message or address for good."""


def build_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 message; the Vietnamese subject is an RFC 2047 encoded word, the text in
    NFC (composed diacritics, as every mail reader expects)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = unicodedata.normalize("NFC", subject)
    message["Message-ID"] = make_msgid(domain="ocop.local")
    message.set_content(unicodedata.normalize("NFC", body), charset="utf-8")
    return message


def _send(url: str, message: EmailMessage, timeout_s: float) -> None:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, parts.port or 465, timeout=timeout_s,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, parts.port or 25, timeout=timeout_s)
    with client:
        client.ehlo()
        if parts.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


async def send_mail(url: str, sender: str, to: str, subject: str, body: str, *, timeout_s: float = 20.0) -> None:
    """Send one message. Refused recipients or data (5xx) → :class:`MailError`; a server that is
    down or answers 4xx → ``RetryableError`` (try later)."""
    message = build_message(sender, to, subject, body)
    try:
        await asyncio.to_thread(_send, url, message, timeout_s)
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(f"the mail server refused {to}: {exc.recipients}") from exc
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise MailError(f"the mail server refused the message: {exc.smtp_code}") from exc
        raise RetryableError(f"the mail server answered {exc.smtp_code}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise RetryableError(f"the mail server is unreachable: {type(exc).__name__}") from exc
