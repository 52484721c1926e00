"""quantheory: the shared code of *Quantization-aware training, verified*.

Every chapter of the book imports this package: the models, the samplers, the
symbolic derivations and the claims registry live here, written once.
"""

__version__ = "0.1.0"
