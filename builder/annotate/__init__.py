"""Stage 3: Label Studio round trip: push proposals as predictions, pull annotations."""
