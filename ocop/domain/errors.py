"""Validation errors shared by the web forms, the JSON API and the bulk import.

A rule fails with :class:`InvalidValue` (a machine code plus a message in Vietnamese and English);
the caller that knows which field was being checked turns it into a :class:`FieldError`. Keeping
the code stable lets the web layer pick its own wording while the import report and the CLI use
the bilingual messages as they are.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field that failed a rule: ``code`` is stable, the messages are for people."""

    field: str
    code: str
    message_vi: str
    message_en: str


class Explained(Exception):
    """A refusal people must read: a stable ``code`` and the reason in Vietnamese and English. The
    features' refusals (a photo, a URL, a ZIP, a value) derive from it so they carry the same three."""

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en


class InvalidValue(Explained, ValueError):
    """Raised by the pure parsers in :mod:`ocop.domain`; carries a code and both messages."""

    def for_field(self, field: str) -> FieldError:
        """Attach the field name the caller was validating."""
        return FieldError(field=field, code=self.code, message_vi=self.message_vi, message_en=self.message_en)


def required(field: str) -> FieldError:
    """The error for an empty mandatory field."""
    return FieldError(field, "required", "Không được để trống", "This field is required")


class Refused(Explained, ValueError):
    """An operation refused for a reason people must read (a taken username, a shop that needs
    reconnecting). Features subclass it so callers can catch their own kind; its callers give the
    English reason first."""

    def __init__(self, code: str, message_en: str, message_vi: str) -> None:
        super().__init__(code, message_vi, message_en)
