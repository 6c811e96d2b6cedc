"""Commands run offline (evaluate, the anomaly calibration, publish, the non-digit set): never imported by the app."""
