"""Alerts where producers and staff read them: the in-app list (a bell with a count), Zalo (ZNS)
messages and e-mail as the fallback, with per-user choices, quiet hours and an hourly digest.

The causes write events into the outbox of :mod:`ocop.events` in their own transactions; this
feature reads them from an arq job (:mod:`ocop.alerts.dispatch`), so it imports the features it
watches and none of them imports it.
"""
