"""Figures from a task's reading: one file per task (digits, sentences, writing), their shared look in ``figure``."""
