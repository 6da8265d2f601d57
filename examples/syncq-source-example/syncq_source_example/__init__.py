"""An example syncq source plugin: Judgeville, a made-up contest site (see `judgeville`)."""
