"""Training: a model-agnostic loop (loop.py) and one recipe per model; ``python -m archdemo.train``."""
