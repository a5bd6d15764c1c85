"""Independent and Gilbert-Elliott loss."""

from __future__ import annotations

import random

import pytest

from meshaid.node.sim.loss import Bernoulli, GilbertElliott, LossModel, NoLoss
from meshaid.node.sim.topology import line

from .helpers import make


def _bursts(model: LossModel, n: int, seed: int = 7, dt: float = 1.0) -> tuple[float, float]:
    rng = random.Random(seed)
    losses = [model.lost(rng, i * dt) for i in range(n)]
    runs, cur = [], 0
    for lost in losses:
        if lost:
            cur += 1
        elif cur:
            runs.append(cur)
            cur = 0
    return sum(losses) / n, sum(runs) / len(runs)


def test_bernoulli_rate() -> None:
    rate, burst = _bursts(Bernoulli(0.2), 50_000)
    assert rate == pytest.approx(0.2, abs=0.01)
    assert burst == pytest.approx(1 / 0.8, rel=0.05)


def test_gilbert_elliott_is_bursty() -> None:
    ge = GilbertElliott.with_mean_loss(0.2, mean_burst=5.0)
    assert ge.mean_loss == pytest.approx(0.2)
    rate, burst = _bursts(ge, 50_000)
    assert rate == pytest.approx(0.2, abs=0.02)
    _r, indep = _bursts(Bernoulli(0.2), 50_000)
    assert burst == pytest.approx(5.0, rel=0.1)
    assert burst > 3 * indep


def test_gilbert_elliott_time_stepped() -> None:
    # steps of 10 s: frames 1 s apart share state, frames 1000 s apart are nearly independent
    close = GilbertElliott(0.05, 0.2, step_s=10.0)
    far = GilbertElliott(0.05, 0.2, step_s=10.0)
    rate_c, burst_c = _bursts(close, 40_000, dt=1.0)
    rate_f, burst_f = _bursts(far, 40_000, dt=1000.0)
    assert rate_c == pytest.approx(0.2, abs=0.03)
    assert rate_f == pytest.approx(0.2, abs=0.02)
    assert burst_c > 5 * burst_f


def test_fresh_copies_are_independent_state() -> None:
    proto = GilbertElliott(0.5, 0.5, start_bad=True)
    a = proto.fresh()
    rng = random.Random(1)
    for i in range(10):
        a.lost(rng, i)
    assert proto.fresh().bad is True
    assert NoLoss().lost(rng, 0.0) is False


def test_mesh_applies_link_loss() -> None:
    mesh, rec = make(line(2), loss=Bernoulli(1.0))
    mesh.send(0, b"x", hop_limit=0)
    mesh.events.run_until(30)
    assert rec.got == [] and mesh.stats.link_losses == 1
    mesh, rec = make(line(3))
    mesh.set_loss(1, 2, Bernoulli(1.0))
    mesh.send(0, b"x")
    mesh.events.run_until(60)
    assert rec.nodes() == {1}


def test_mesh_loss_factory_per_link() -> None:
    seen: list[tuple[int, int]] = []

    def factory(a: int, b: int) -> LossModel | None:
        seen.append((a, b))
        return Bernoulli(1.0) if (a, b) == (0, 1) else None

    mesh, rec = make(line(2), loss=factory)
    assert sorted(seen) == [(0, 1), (1, 0)]
    mesh.send(0, b"x", hop_limit=0)
    mesh.events.schedule(5.0, lambda: mesh.send(1, b"y", hop_limit=0))
    mesh.events.run_until(30)
    assert rec.nodes() == {0}
