"""Part II: the coarse gradient method for quantized-ReLU classifiers."""
