"""The attack suite at small sizes (node/sim/attacks.py): the damage an attacker
holding the channel key does to a simulated mesh, each attack against the same
mesh without it. The full sizes are a bench: python -m meshaid.node.sim.attacks."""

from __future__ import annotations

import gc
import itertools
import time
from typing import Any

import pytest

from meshaid.node.ledger import records as r
from meshaid.node.sim import attacks, polltime
from meshaid.node.sim.runner import Simulation
from meshaid.node.sync.budget import BULK, SHARE
from meshaid.node.sync.engine import record_id
from meshaid.node.sync.members import ALLOW_SAVED, ALLOW_SHARE

SMALL = attacks.SIZES["small"]


@pytest.mark.parametrize("attack", ["junk-digest", "forged-sketch", "pull-flood"])
def test_every_table_stays_small_under_attack(attack: str) -> None:
    """issue 9: bounded engine memory under every attack (tables of spoofed senders,
    wanted ids, pending answers, sort orders), at 10 % attacker duty."""
    row = attacks.measure(attack, SMALL, seeds=1, duty_pct=10.0)
    assert row["attacker_air"] > 100
    tables = row["tables"]
    assert tables["peers"] <= 96 and tables["wanted"] <= 128 and tables["credit_accounts"] <= 64
    assert tables["pull_answers"] <= 8 and tables["more_pending"] <= 8
    assert tables["sketch_streams"] <= 16 and tables["sort_orders"] <= 3


def test_a_jammer_costs_only_what_its_frames_collide_with() -> None:
    """The `noise` row: frames that are no sync packet, from made-up numbers, at
    10 % duty. Listeners drop them at the first byte: none of those numbers
    enters a peer table, and nothing is answered (what honest air they cause
    is collisions' repairs, less than their own air)."""
    row = attacks.measure("noise", SMALL, seeds=1, duty_pct=10.0)
    assert row["attacker_air"] > 100
    assert row["tables"]["peers"] < SMALL.nodes  # the honest neighbours only
    assert row["ratio"] < 1.0


def test_unadmitted_keys_flooding_the_mesh_are_held_to_the_quota() -> None:
    """issue 9: records of keys nobody admitted: a per-key quota, and only hellos
    relayed (every fresh key brings a hello and a need: the needs stay out)."""
    row = attacks.measure("nonmember-flood", SMALL, seeds=1, duty_pct=10.0)
    assert row["attacker_air"] > 100
    assert 0 < row["nonmember_stored"] <= 2000


def test_the_table_prints_one_row_per_attack() -> None:
    rows = [{"attack": "echo", "attacker_air": 1.0, "honest_caused": 0.5, "ratio": 0.5,
             "critical_delay": 3.0, "critical_worst": 9.5, "critical_missing": 0,
             "board_delay": 70.0,
             "board_missing": 2, "table_max": 4, "nonmember_stored": 0, "poll_ms": 1.5}]
    lines = attacks.table(rows).splitlines()
    assert lines[0].split()[0] == "attack" and len(lines) == 2
    assert ">70.0" in lines[1] and lines[1].startswith("echo") and "9.5" in lines[1]


def test_a_low_duty_flood_of_fresh_keys_costs_the_mesh_less_than_its_air() -> None:
    """issue 9: at 1 % duty, fresh keys' hellos and needs cost 1.48 times their
    air: each took record reset Trickle everywhere (digests) and every node
    relayed 6 newcomers' hellos an hour. Now records kept outside the sync set
    are no news, and 2 hellos an hour are relayed."""
    row = attacks.measure("nonmember-flood", SMALL, seeds=2, duty_pct=1.0)
    assert row["attacker_air"] > 20
    assert row["ratio"] <= 1.0, row


@pytest.mark.parametrize("attack", ["more-flood", "pull-flood", "request-board", "filter-flood"])
def test_low_duty_requests_in_far_nodes_names_cost_less_than_their_air(attack: str) -> None:
    """issue 9: at 1 % duty on the small mesh these cost 1.42, 1.13 and 1.01 times
    their air (urgent rechecks for numbers made to look like neighbours)."""
    row = attacks.measure(attack, SMALL, seeds=3, duty_pct=1.0)
    assert row["attacker_air"] > 60
    assert row["ratio"] <= 1.0, row


@pytest.mark.parametrize("attack", ["near-digest", "near-sketch"])
def test_lies_about_a_set_close_to_ours_cost_less_than_their_air(attack: str) -> None:
    """issue 9 (found by a variant of the suite's attacks): digests of a set close
    to the mesh's made every listener sketch (1.81 times their air at full size),
    and the same digest followed by a sketch of that set had listeners ask MORE
    of nodes that never sketched and reconcile with nobody meanwhile: critical
    needs reached some nodes hours late or never. Reactions nobody pays for are
    now paced per counterpart (pacing.py), and a sketch no longer makes its
    sender count as a neighbour that syncs with us."""
    row = attacks.measure(attack, SMALL, seeds=3, duty_pct=10.0)
    assert row["attacker_air"] > 100
    assert row["ratio"] <= 1.0, row
    assert row["critical_missing"] == 0 and row["critical_delay"] <= 60.0, row


def test_the_chance_column_reruns_the_clean_mesh_with_other_jitter_only() -> None:
    """issue 9 (bench truth): a worst single critical delay of minutes arrives on
    a lossy mesh without any attacker, so the suite prints what a clean re-run
    with other protocol jitter moves a probe by. The re-run is the same world
    (same mesh, workload and radio; a clean run repeats exactly) with other
    engine seeds: its air differs."""
    first = attacks.run_one("pull-flood", SMALL, 1, attacked=False)
    same = attacks.run_one("pull-flood", SMALL, 1, attacked=False)
    other = attacks.run_one("pull-flood", SMALL, 1, attacked=False, jitter=1)
    assert first["honest_air"] == same["honest_air"]
    assert first["critical_delays"] == same["critical_delays"]
    assert other["honest_air"] != first["honest_air"]
    assert len(other["critical_delays"]) == len(first["critical_delays"]) == SMALL.probes
    row = attacks.measure("pull-flood", SMALL, seeds=1, chance=True)
    assert row["chance_worst"] == round(max(0.0, *(
        a - b for a, b in zip(other["critical_delays"], first["critical_delays"],
                              strict=True))), 1)
    # And what it moves honest air by: the scale against which an attack's
    # `caused` reads (at 0.1 % duty an attacker sends a handful of packets).
    assert row["chance_air"] == round(abs(other["honest_air"] - first["honest_air"]), 1) > 0
    # The ratio's band: twice the root of the summed squares of those
    # differences (one mesh: twice the one), in units of the attacker's air.
    hit = attacks.run_one("pull-flood", SMALL, 1)
    band = 2.0 * abs(other["honest_air"] - first["honest_air"]) / hit["attacker_air"]
    assert row["ratio_band"] == pytest.approx(band, abs=0.006) and row["ratio_band"] > 0
    plain = attacks.measure("pull-flood", SMALL, seeds=1)
    assert "chance_worst" not in plain and "chance_air" not in plain
    assert "ratio_band" not in plain
    head = attacks.table([row]).splitlines()[0]
    assert "chance" in head and "+-" in head


def _allowances(attack: str) -> float:
    """One member allowance (members.py) over the run, saved and earned, for each
    node that hears the attacker of `attack` (seed 1, small)."""
    sim = Simulation(attacks.scenario(attack, SMALL, 1))
    _attacker, _victim, hear = attacks._pick(sim, attack)
    cfg = sim._config()
    rate = ALLOW_SHARE * SHARE[BULK] * cfg.budget_s_per_hour / 3600.0
    saved = max(ALLOW_SAVED * rate, cfg.pull_batch * cfg.airtime(cfg.payload_cap))
    return len(hear) * (saved + rate * (SMALL.duration_s - SMALL.start_s))


def test_a_stolen_member_key_costs_the_mesh_at_most_its_allowances() -> None:
    """issue 9: a thief holding one member's key pulls with tickets that key
    signs, in its own number, claiming an empty ledger. Members' pulls are
    answered beyond their own air (ticket.py), so this costs more than the
    thief's air (about 2 times at 10 % duty, 7 at 1 %); it must cost no more
    than one allowance per node that hears the thief, nor delay critical needs."""
    row = attacks.measure("stolen-pull", SMALL, seeds=1, duty_pct=10.0)
    assert row["attacker_air"] > 100
    assert row["tables"]["member_allowances"] == 1  # its ticket was believed: one allowance
    assert row["critical_missing"] == 0 and row["critical_delay"] <= 60.0, row
    bound = _allowances("stolen-pull")
    assert row["honest_caused"] <= 1.5 * bound, (row, bound)  # 1.18 times on this mesh


@pytest.mark.parametrize("attack", ["stolen-far-sketch", "stolen-far-behind"])
def test_far_numbers_a_stolen_key_proves_cost_less_than_their_air(attack: str) -> None:
    """issue 9 (stops 42, 43): a thief proves two made-up numbers as far peers
    with a stolen key's tickets, claiming three relays; each sends a digest of a
    made-up set 300 records ahead of its listeners (stolen-far-sketch) or 30
    behind them (stolen-far-behind), then that set's sketch. Every listener
    pulled from them and asked them MORE, at hop 3 for every radio to repeat
    (4.4 times the thief's air on the small suite), and then still answered
    each digest with a sketch there (1.9 and 2.0 times). While a node hears a
    ledger node directly, a far peer's claims buy no pull, MORE or walk, and
    its digest a sketch only from the far relays it chose (any of us sketches
    for a far peer behind us only one mast away): less than the thief's air."""
    row = attacks.measure(attack, SMALL, seeds=1, duty_pct=10.0)
    assert row["attacker_air"] > 100 and row["tables"]["filter_walks"] == 0
    assert row["critical_missing"] == 0 and row["critical_delay"] <= 60.0, row
    assert row["honest_caused"] <= row["attacker_air"], row  # 0.85 and 0.87 of it


def test_slow_far_numbers_that_say_no_far_relays_cost_their_proofs_only() -> None:
    """issue 9 (stop 46): the stolen key's two far numbers at one digest every 10
    minutes, saying nothing of whom they chose as far relays: every listener sent
    its digests, pushes, relays and rechecks at the three hops claimed, 6.6 times
    the thief's air at seed 1. A far peer that has not said asks nothing of
    anyone's relays now, and only the proofs go beyond hop 0 for it: each
    listener's digest with its proof, every 5 minutes while it hears far
    candidates, at the three hops, for every radio around to repeat. That is
    still more than the thief's air (open): over seeds 1-8, 2.18 times (0.58 at
    seed 1 alone, what this test used to read, was chance)."""
    row = attacks.measure("stolen-far-proof-600s", SMALL, seeds=8, duty_pct=10.0)
    assert row["attacker_air"] > 0 and row["critical_missing"] == 0, row
    assert row["honest_caused"] <= 3.0 * row["attacker_air"], row


def test_far_claims_cost_no_more_than_the_attackers_air_at_any_duty() -> None:
    """issue 9: digests in made-up numbers whose headers claim three relays made
    every listener take them as ledger peers behind radio-only relays and send
    every packet at hop 3 for four hours (51 times the attacker's air at 0.1 %
    duty). Only a member's proof makes a far peer now (farpeers.py), and a copy
    of a known neighbour's set prompts no sketch (digests.py): the honest air
    they cause stays within the attacker's own, at a handful of packets an
    hour and at 10 % duty alike. (At a handful an hour it is still more, open:
    over seeds 1-8, 2.38 times; seed 1 alone, what this test used to read,
    gave 0.8 by chance. What remains is every listener's sketch for each
    made-up number's digest.)"""
    low = attacks.measure("far-claims", SMALL, seeds=8, duty_pct=0.1)
    high = attacks.measure("far-claims", SMALL, seeds=3, duty_pct=10.0)
    assert 0 < low["attacker_air"] < high["attacker_air"]
    assert low["ratio"] <= 3.0 and high["ratio"] <= 1.0


def test_a_stolen_key_flooding_critical_needs_cannot_hold_back_its_revocation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """issue 9 (found from outside): a thief posting genuine critical needs with a
    stolen member key at 10 % duty held every node's urgent band (each node
    relayed and rechecked them all as urgent): honest critical needs never
    arrived everywhere, and the founder's revocation of the thief reached no
    other node. An author's urgent records are urgent only up to an allowance
    (ports.py `author_urgent_burst`); then the revocation goes first."""
    arrived: dict[int, float] = {}
    run = Simulation.run

    def run_and_revoke(sim: Simulation) -> Any:
        founder = sim.world.ledger_nodes[0]
        thief = next(iter(sim.attackers))
        posted: dict[str, Any] = {}

        def revoke() -> None:
            member = sim.world.members[thief]
            raw = sim.author(founder, r.Revoke(member.public, member.seq, "stolen"))
            posted["rid"], posted["at"] = record_id(raw), sim.events.now

        sim.events.schedule(1200.0, revoke)
        result = run(sim)
        got = sim.have[posted["rid"]]
        arrived.update({n: got[n] - posted["at"] for n in sim.world.ledger_nodes
                        if n != thief and n in got})
        arrived["honest"] = sum(1 for n in sim.world.ledger_nodes if n != thief)
        return result

    row = attacks.measure("stolen-critical", SMALL, seeds=1, duty_pct=10.0)
    assert row["attacker_air"] > 100
    assert row["critical_missing"] == 0 and row["critical_delay"] <= 60.0, row
    monkeypatch.setattr(Simulation, "run", run_and_revoke)
    attacks.run_one("stolen-critical", SMALL, 1, 10.0, attacked=True)
    honest = int(arrived.pop("honest"))
    assert len(arrived) == honest and max(arrived.values()) <= 60.0, arrived


def test_made_up_neighbours_do_not_make_a_mesh_relay_as_a_crowd() -> None:
    """issue 9 (found from outside): 40 made-up numbers, each copying the victim's
    digest twice, counted as neighbours that sync with us: every node took
    itself for a crowd of 44 and relayed with probability 6/44, and critical
    needs were 140 s late on average, 9 minutes at worst. Past a crowd's size a
    neighbour counts only with a membership proof or a record it brought first
    (relays.py `degree`)."""
    row = attacks.measure("fake-crowd", SMALL, seeds=1, duty_pct=10.0)
    assert row["attacker_air"] > 30  # (copies, then one refresh a minute)
    assert row["critical_missing"] == 0 and row["critical_delay"] <= 60.0, row
    assert row["critical_worst"] <= 60.0, row


def test_the_slowest_poll_leaves_out_the_collector_walking_the_simulation() -> None:
    """The suite's slowest poll() read 52-57 ms in pull-flood when earlier attacks
    ran in the same process, 0.86 ms alone: a full collection of the whole
    simulation's heap landed inside that poll. The figure is the engine's work:
    time Python's cyclic collector took inside the call is left out."""
    junk = [[i] for i in range(300_000)]
    for a, b in itertools.pairwise(junk):
        a.append(b)  # a large heap of linked containers: a slow full collection
    worst = [0.0]

    def collects(_now: float) -> int:
        return gc.collect()

    t0 = time.perf_counter()
    polltime.timed(collects, worst)(0.0)
    took = time.perf_counter() - t0
    assert took > 0.01  # the collection was slow...
    assert worst[0] < took / 4  # ...and left out


def test_requests_in_a_far_voice_naming_each_hearer_cost_less_than_their_air() -> None:
    """issue 9 (request-voice, written outside the project): 1.09 times its air
    at 10 % duty, each hearer not named crediting the voice a share of a packet
    already credited whole at the hearer it named."""
    row = attacks.measure("request-voice", SMALL, seeds=1, duty_pct=10.0)
    assert row["attacker_air"] > 100
    assert row["ratio"] <= 1.0, row


@pytest.mark.parametrize("attack", ["fake-watchers", "slow-near-digest"])
def test_made_up_neighbours_and_strangers_cost_less_than_their_air(attack: str) -> None:
    """issue 9 (written outside the project): six made-up numbers copying the
    victim's digest, then claiming short sets, cost 2.35 times their air on the
    small mesh (every hearer rechecked the first three urgent records for
    them: a number never heard with a record now waits one watch, urgent.py);
    a near-digest in a fresh number every 2 minutes, 1.78 (every hearer
    sketched: strangers' sketches are now paid from what strangers sent)."""
    row = attacks.measure(attack, SMALL, seeds=3, duty_pct=10.0)
    assert row["attacker_air"] > 25
    assert row["ratio"] <= 1.0, row


@pytest.mark.parametrize("attack", ["phantom-symbol", "phantom-far", "lack-fresh", "hop1-ahead",
                                    "nbr-phantom-hop1"])
def test_one_packet_attacks_from_the_second_review_cost_less_than_their_air(attack: str) -> None:
    """issue 9 (stop 44, attack_phantom.py): a sketch coding our set and an id
    that exists nowhere drew two padded REQUESTs from every listener (2.8 times
    the attacker's air at 10 % duty, 7 at one a minute); a digest one record
    short then its sketch drew a sketch from each (3.7); made-up sets far ahead
    through relays drew a probe and a sketch (8.3); the phantom sketch at hop 1
    in real neighbours' numbers, asks of the neighbour (2.8, stop 47). (boot-ping,
    a few packets an hour, is within chance on one small mesh:
    tests/sync/test_attacks_outside.py.)"""
    row = attacks.measure(attack, SMALL, seeds=1, duty_pct=10.0)
    assert row["attacker_air"] > 10
    assert row["critical_missing"] == 0 and row["critical_delay"] <= 60.0, row
    assert row["honest_caused"] <= row["attacker_air"], row


def test_what_the_attackers_radio_relays_is_not_honest_air() -> None:
    """The attacker's radio repeats packets with hops left, as any firmware does:
    that air is its own. An honest packet sent at hop 1 beside it is repeated
    by it, and the honest air counted is every tag's but that repeat (a
    relaying attacker between two clusters had 212 s of its own relays
    counted as honest air caused: hop1-near, seed 5)."""
    sim = Simulation(attacks.scenario("hop1-near", SMALL, 1))
    attacker, _victim, hear = attacks._pick(sim, "hop1-near")
    sim.attackers.add(attacker)
    sim.nodes[attacker].joined = False
    for n, radio in enumerate(sim.mesh.nodes):
        radio.no_relay = n != attacker  # (only it repeats: no other copy cancels its)
    assert sim.mesh.send(hear[0], b"\x00" * 40, hop_limit=1, tag="digest")
    sim.events.run_until(60.0)
    relayed = attacks._relayed_air(sim, attacker)
    assert relayed > 0.0  # it repeated the packet
    tags = sum(v for t, v in sim.mesh.stats.airtime_by_tag.items() if t != "attack")
    assert attacks._honest_air(sim, attacker) == pytest.approx(tags - relayed, abs=0.05)
    assert attacks._honest_air(sim, attacker) < round(tags, 1)
