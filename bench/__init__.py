"""jimoku's performance harness: `python -m bench [--quick] [--out bench/results]`."""
