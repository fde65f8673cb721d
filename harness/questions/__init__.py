"""The review's open questions, measured: per-layer int8 sensitivity (`sensitivity`), robustness of
each variant on the device (`robustness`), and the most accurate variant that fits a board (`fit`)."""
