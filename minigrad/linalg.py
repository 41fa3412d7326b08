"""``mg.linalg``: linear algebra, as ``torch.linalg`` (the functions live in
:mod:`minigrad.ops.linalg` and :mod:`minigrad.ops.matmul`)."""
from .ops.linalg import (cholesky, det, eigh, eigvalsh, inv, matrix_norm, norm, qr, slogdet, solve, svd, svdvals,
                         vector_norm)
from .ops.linalg import linalg_cross as cross
from .ops.matmul import matmul

__all__ = ["cholesky", "cross", "det", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm", "norm", "qr", "slogdet",
           "solve", "svd", "svdvals", "vector_norm"]
