"""Provider-neutral ML decisions: promotion gates, drift statistics and reports, lineage.

Providers supply evidence and data through typed actions (evidence.py); every verdict is
computed here, so a gate or a drift method behaves the same on every provider.
"""
