"""The net-neutrality ledger: the emissions inventory (import, validation, sources side by side),
removals with their intervals, trajectories to the peak and neutrality targets, warnings on the
indicators, and the reports built from them."""
