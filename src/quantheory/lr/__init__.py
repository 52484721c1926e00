"""Part III: learning under quantization in high-dimensional linear regression.

The model (:mod:`quantheory.lr.model`), the exact second-moment recursion of
the excess risk (:mod:`quantheory.lr.recursion`), Monte Carlo SGD
(:mod:`quantheory.lr.simulate`), real number formats
(:mod:`quantheory.lr.formats`) and the chapters' claims and figures.
"""
