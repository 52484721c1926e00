"""Part I: the straight-through estimator for binary weights and activations."""
