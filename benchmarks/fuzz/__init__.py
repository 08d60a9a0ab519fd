"""Long fuzz run of the scan core and every output format (see run.py)."""
