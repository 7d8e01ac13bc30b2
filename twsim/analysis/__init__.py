"""Events in, figures out: the report, its tables and text, diffs, thresholds, histograms."""
