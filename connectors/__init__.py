"""Synchronisation with services that never integrated with the platform.

Each external service (QuickBooks Online, Xero, …) gets a sub-package here with the
same set of files: its OAuth link, its incremental poller and its two-way mapping to
Connec! collections. Writes reach Connec! through ``connec.services`` only.
"""
