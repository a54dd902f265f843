"""Things that happened and that people should hear of, recorded as an outbox by the code that
made them happen, in its own transaction.

This package sits below every feature: the single writers (order ingest, listing moves, shop
status) write an :class:`~ocop.events.tables.AlertEvent` row here and know nothing of who is told
or how. ``ocop.alerts`` reads the outbox from an arq job and turns each event into notifications
and messages, so no writer ever waits on a network call.
"""
