"""``make bench``: the local platform's speed against the bare engine, and a lifecycle's cost in AWS.

Every comparison is measured in the same run (this machine is shared and noisy, so only ratios
measured side by side mean something); ``python -m bench`` prints the table and writes the same
figures as JSON under ``.local/bench/``. The README's "Benchmark" section says how to read it.
"""
