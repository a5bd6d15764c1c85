"""The bench table's air-by-type note: every type any run used, per run."""

from meshaid.node.sim.table import air_note


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
