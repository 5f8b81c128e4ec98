"""What benchmarks/record_overhead.py measures with, shared with in_graph_moments.py and
writer_staging.py (a folder, not scripts, so that `make bench-quick` does not run them)."""
