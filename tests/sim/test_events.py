"""Event queue ordering, cancellation and run_until."""

from meshaid.node.sim.events import EventQueue


def test_order_and_ties() -> None:
    q = EventQueue()
    out: list[str] = []
    q.schedule(2.0, out.append, "c")
    q.schedule(1.0, out.append, "a")
    q.schedule(1.0, out.append, "b")
    assert q.run_until(5.0) == 3
    assert out == ["a", "b", "c"]
    assert q.now == 5.0


def test_cancel_and_nested() -> None:
    q = EventQueue()
    out: list[float] = []
    h = q.schedule(1.0, out.append, 1.0)
    assert q.cancel(h)
    assert not q.cancel(h)

    def chain() -> None:
        out.append(q.now)
        if q.now < 3:
            q.schedule_in(1.0, chain)

    q.schedule(1.0, chain)
    q.run_until(2.5)
    assert out == [1.0, 2.0] and q.now == 2.5 and len(q) == 1
    q.run_until(10)
    assert out == [1.0, 2.0, 3.0] and len(q) == 0
    assert not q.cancel(h)


def test_no_past() -> None:
    q = EventQueue(10.0)
    try:
        q.schedule(5.0, print)
    except ValueError:
        return
    raise AssertionError("scheduling in the past must fail")
