"""AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay.

    θ ← θ·(1 − lr·λ)        then the Adam step, computed from the plain gradient.

With L2 regularisation inside Adam (``Adam(weight_decay=λ)``) the penalty gradient λθ is
divided by √v̂ like every other gradient, so heavily-updated weights are barely decayed;
decoupling makes every weight shrink at the same relative rate lr·λ.
"""
from __future__ import annotations

from .adam import Adam
from .optimizer import ParamsT


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
    maximize=False)``; state as :class:`Adam`."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 capturable: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, capturable=capturable, decoupled_weight_decay=True)
