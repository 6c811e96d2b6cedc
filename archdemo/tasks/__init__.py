"""Tasks: plain functions over the model store, one guarded pass per interaction giving the answer and its insides.

One file per task (digits, anomaly, sentences, writing); the same name means the same task in ``plots/`` and ``ui/``.
"""
