"""Per-link packet loss on top of collisions: independent and bursty.

Theory of operation: a loss model is a small stateful object asked once per
frame that survived collisions at a receiver, ``lost(rng, t) -> bool``. The
mesh keeps one instance per directed link (``fresh()`` clones a prototype),
and all draws come from the mesh's seeded ``random.Random`` in event order,
so runs are reproducible.

- :class:`Bernoulli` loses each frame independently with probability ``p``.
- :class:`GilbertElliott` is a two-state Markov chain (Good/Bad) with
  transition probabilities ``p_gb`` (G->B) and ``p_bg`` (B->G) and a loss
  probability per state. By default the chain takes one step per frame on the
  link (the classic packet-level model). With ``step_s`` set, the chain
  instead advances ``floor(elapsed / step_s)`` steps of virtual time between
  frames, using the closed form of the n-step transition
  ``P(B | n steps from G) = pi_B (1 - lam**n)``, ``P(B | from B) = pi_B +
  pi_G lam**n`` with ``lam = 1 - p_gb - p_bg`` -- so frames close in time
  share fate and frames far apart are nearly independent.

Mean loss is ``pi_G*loss_good + pi_B*loss_bad`` with ``pi_B = p_gb/(p_gb+p_bg)``;
with loss 0/1 the mean loss burst is ``1/p_bg`` frames (steps).
"""

from __future__ import annotations

import copy
import random
from typing import Protocol, runtime_checkable

__all__ = ["Bernoulli", "GilbertElliott", "LossModel", "NoLoss"]


@runtime_checkable
class LossModel(Protocol):
    """Anything with ``lost(rng, t)`` and ``fresh()``."""

    def lost(self, rng: random.Random, t: float) -> bool:
        """Decide whether the frame arriving at time ``t`` is lost."""
        ...

    def fresh(self) -> LossModel:
        """A new independent instance with the same parameters and initial state."""
        ...


class NoLoss:
    """Never loses anything."""

    def lost(self, rng: random.Random, t: float) -> bool:
        """Always False."""
        return False

    def fresh(self) -> NoLoss:
        """Return self (stateless)."""
        return self


class Bernoulli:
    """Independent loss with probability ``p`` per frame."""

    __slots__ = ("p",)

    def __init__(self, p: float) -> None:
        """``p`` in [0, 1]."""
        if not 0.0 <= p <= 1.0:
            raise ValueError("p must be in [0, 1]")
        self.p = p

    def lost(self, rng: random.Random, t: float) -> bool:
        """Lose with probability ``p``."""
        return self.p > 0.0 and rng.random() < self.p

    def fresh(self) -> Bernoulli:
        """Return self (stateless)."""
        return self

    def __repr__(self) -> str:
        return f"Bernoulli({self.p})"


class GilbertElliott:
    """Two-state bursty loss (Gilbert-Elliott), stepped per frame or per ``step_s``."""

    __slots__ = ("_init_bad", "_last", "bad", "loss_bad", "loss_good", "p_bg", "p_gb", "step_s")

    def __init__(self, p_gb: float, p_bg: float, loss_good: float = 0.0, loss_bad: float = 1.0,
                 *, step_s: float | None = None, start_bad: bool = False) -> None:
        """Transition probabilities G->B, B->G and the loss probability in each state."""
        for name, v in (("p_gb", p_gb), ("p_bg", p_bg), ("loss_good", loss_good),
                        ("loss_bad", loss_bad)):
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]")
        if p_gb + p_bg <= 0.0:
            raise ValueError("p_gb + p_bg must be > 0")
        if step_s is not None and step_s <= 0:
            raise ValueError("step_s must be > 0")
        self.p_gb = p_gb
        self.p_bg = p_bg
        self.loss_good = loss_good
        self.loss_bad = loss_bad
        self.step_s = step_s
        self.bad = start_bad
        self._init_bad = start_bad
        self._last: float | None = None

    @classmethod
    def with_mean_loss(cls, mean_loss: float, mean_burst: float, *,
                       step_s: float | None = None) -> GilbertElliott:
        """Loss 0 in Good, 1 in Bad, given the long-run loss rate and mean burst length."""
        if not 0.0 < mean_loss < 1.0 or mean_burst < 1.0:
            raise ValueError("need 0 < mean_loss < 1 and mean_burst >= 1")
        p_bg = 1.0 / mean_burst
        p_gb = mean_loss * p_bg / (1.0 - mean_loss)
        if p_gb > 1.0:
            raise ValueError("burst too short for that loss rate")
        return cls(p_gb, p_bg, 0.0, 1.0, step_s=step_s)

    @property
    def stationary_bad(self) -> float:
        """Long-run probability of the Bad state."""
        return self.p_gb / (self.p_gb + self.p_bg)

    @property
    def mean_loss(self) -> float:
        """Long-run loss probability."""
        pb = self.stationary_bad
        return (1.0 - pb) * self.loss_good + pb * self.loss_bad

    def _advance(self, rng: random.Random, steps: int) -> None:
        if steps <= 0:
            return
        if steps == 1:
            self.bad = (rng.random() >= self.p_bg) if self.bad else (rng.random() < self.p_gb)
            return
        pb = self.stationary_bad
        lam_n = (1.0 - self.p_gb - self.p_bg) ** steps
        p_bad = pb + (1.0 - pb) * lam_n if self.bad else pb * (1.0 - lam_n)
        self.bad = rng.random() < p_bad

    def lost(self, rng: random.Random, t: float) -> bool:
        """Advance the chain to time ``t`` (or by one frame), then draw the loss."""
        if self.step_s is None:
            self._advance(rng, 1)
        else:
            if self._last is None:
                self._last = t
                # first frame: start from the stationary distribution unless told otherwise
                if not self._init_bad:
                    self.bad = rng.random() < self.stationary_bad
            else:
                steps = int((t - self._last) / self.step_s)
                if steps > 0:
                    self._advance(rng, steps)
                    self._last += steps * self.step_s
        p = self.loss_bad if self.bad else self.loss_good
        if p <= 0.0:
            return False
        return p >= 1.0 or rng.random() < p

    def fresh(self) -> GilbertElliott:
        """A copy in the initial state."""
        c = copy.copy(self)
        c.bad = self._init_bad
        c._last = None
        return c

    def __repr__(self) -> str:
        return (f"GilbertElliott(p_gb={self.p_gb}, p_bg={self.p_bg}, loss_good={self.loss_good}, "
                f"loss_bad={self.loss_bad}, step_s={self.step_s})")
