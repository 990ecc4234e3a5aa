"""fixloop: what happens to an incident."""
