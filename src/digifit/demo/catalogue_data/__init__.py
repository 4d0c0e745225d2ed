"""Data of the demo catalogue: trainings and success stories (JSON)."""
