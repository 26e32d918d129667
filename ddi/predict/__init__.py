"""Predictions for drug pairs from a saved model, with explanations."""
