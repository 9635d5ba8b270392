"""The facts ledger: what is known about a person that decides their health code and control.

Other slices write facts (tracing: contacts; screening: tests and positive pools; control:
quarantine and zones; cases: cases and discharges); the codes slice reads them.
"""
