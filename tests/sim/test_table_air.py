"""The bench table's air-by-type note: every type any run used, per run."""

from meshaid.node.sim.table import air_note, pooled_note


def _res(protocol: str, by_type: dict[str, float]) -> dict:
    honest = sum(v for t, v in by_type.items() if t != "attack")
    return {"scenario": "s", "protocol": protocol,
            "airtime_s": {"honest": honest, "by_type": by_type}}


def test_air_note_lists_each_type_with_its_share() -> None:
    text = air_note([_res("meshaid", {"forward": 75.0, "digest": 25.0}),
                     _res("b2", {"ids": 10.0, "push": 30.0, "attack": 99.0})])
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| scenario"))
    assert header == "| scenario | protocol | digest | forward | ids | push |"
    mesh = next(line for line in lines if "| meshaid |" in line)
    assert mesh == "| s | meshaid | 25.0 (25 %) | 75.0 (75 %) | - | - |"
    b2 = next(line for line in lines if "| b2 |" in line)
    assert b2 == "| s | b2 | - | - | 10.0 (25 %) | 30.0 (75 %) |"
    assert "attack" not in text


def test_air_note_empty_without_types() -> None:
    assert air_note([_res("meshaid", {})]) == ""


def _seed_run(seed: int, delivered: float, air: float, times: list[float | None]) -> dict:
    return {"scenario": f"s#{seed}", "protocol": "meshaid", "delivered_fraction": delivered,
            "airtime_s": {"honest": air, "by_type": {}},
            "convergence_critical_s": {"p95": max(t or 1e9 for t in times), "times": times}}


def test_pooled_note_pools_critical_records_over_seeds() -> None:
    runs = [_seed_run(1, 1.0, 100.0, [float(t) for t in range(1, 11)]),
            _seed_run(2, 0.9, 300.0, [float(t) for t in range(11, 21)])]
    line = next(x for x in pooled_note(runs).splitlines() if x.startswith("| s |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[:5] == ["s", "meshaid", "2", "0.95", "200.0"]
    assert cells[5] == "19.1"  # p95 of 1..20 together (19.05), not a mean of two p95s


def test_pooled_note_reports_a_lost_critical_record() -> None:
    runs = [_seed_run(1, 1.0, 1.0, [1.0] * 10), _seed_run(2, 1.0, 1.0, [2.0] * 9 + [None])]
    assert "not reached" in pooled_note(runs)


def test_the_table_names_a_bad_protocol_or_scenario_in_one_line(monkeypatch, capsys) -> None:
    """Anything a user can type gets a clear answer, not a worker's traceback;
    protocol names are taken in either case (the docs write B2, the code b2)."""
    import pytest

    from meshaid.node.sim import table

    for argv, said in ((["--protocols", "bogus"], "unknown protocol 'bogus'"),
                       (["--scenarios", "nosuch"], "no scenario named 'nosuch'")):
        monkeypatch.setattr("sys.argv", ["table", *argv])
        with pytest.raises(SystemExit) as exc:
            table.main()
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err
    monkeypatch.setattr("sys.argv", ["table", "--scenarios", "ci-small", "--protocols", "B0",
                                     "--jobs", "1"])
    table.main()
    assert "| ci-small | b0 |" in capsys.readouterr().out
