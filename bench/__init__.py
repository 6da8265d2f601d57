"""`make bench`: syncq's speed and memory figures, as ratios measured within one run."""
