"""Training: negative sampling, the training loop with early stopping, and checkpoint writing."""
