"""``minigrad.nn.functional``: stateless layers, activations and losses (PyTorch's ``F``)."""
from .activation import (celu, elu, gelu, glu, hardshrink, hardsigmoid, hardswish, hardtanh, leaky_relu, log_softmax,
                         logsigmoid, logsumexp, mish, one_hot, prelu, relu, relu6, selu, sigmoid, silu, softmax,
                         softmin, softplus, softshrink, softsign, tanh, tanhshrink, threshold)
from .binary import binary_cross_entropy, binary_cross_entropy_with_logits, kl_sparsity
from .conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold
from .cross_entropy import cross_entropy, nll_loss
from .divergence import kl_div
from .dropout import dropout, dropout1d, dropout2d
from .linear import linear
from .distance import cosine_similarity, pairwise_distance
from .normalization import batch_norm, group_norm, layer_norm, normalize
from .padding import pad
from .pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d,
                      avg_pool2d, max_pool1d, max_pool2d)
from .sparse import embedding
from .regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss

# The plain form of each fused function, composed from differentiable ops: read these first; the
# tests check that the fused functions agree with them.  (Not in __all__: not PyTorch names.)
from .binary import binary_cross_entropy_reference, binary_cross_entropy_with_logits_reference
from .conv import conv2d_reference
from .cross_entropy import cross_entropy_reference
from .dropout import dropout_reference
from .linear import linear_reference
from .pooling import (adaptive_avg_pool2d_reference, adaptive_max_pool2d_reference, avg_pool1d_reference,
                      avg_pool2d_reference, max_pool1d_reference, max_pool2d_reference)

# PyTorch's names: every public function imported above except the *_reference forms.
__all__ = sorted(name for name, value in list(globals().items())
                 if not name.startswith("_") and callable(value) and not name.endswith("_reference"))
