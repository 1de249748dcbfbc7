"""Yixiang's benchmark: a data generator and timed runs of the hot paths (issue 7). See README.md."""
