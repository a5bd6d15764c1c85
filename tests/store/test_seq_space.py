"""Seq space of this node's own key (node/PROTOCOL.md, "Seq space"): a thief
holding the key cannot block it by signing the largest seq, and a thief's
record right above the run is stepped over instead of forked."""

from __future__ import annotations

from ledger_helpers import NOW, World

from meshaid.node.actions import members
from meshaid.node.ledger import records as r
from meshaid.node.store import admin


def owner_node(w: World, posts: int = 3):
    """A node whose key is anna's, with `posts` needs authored here."""
    store = w.store()
    mine = [store.author(r.Need(1, f"mine {i}", 1, 4), w.anna.key, now=NOW) for i in range(posts)]
    return store, mine


def forks(store) -> int:
    return int(store.db.execute("SELECT COUNT(*) FROM forks").fetchone()[0])


def test_a_thief_signing_the_largest_seq_does_not_block_the_owner() -> None:
    w = World.build()
    store, mine = owner_node(w)
    thief = w.net.sign(w.anna, r.Need(1, "stolen key", 1, 4), seq=r.SEQ_MAX)
    assert store.ingest(thief.raw, now=NOW).status == "accepted"
    after = store.author(r.Need(1, "still mine", 1, 4), w.anna.key, now=NOW)
    assert after.seq == mine[-1].seq + 1
    assert forks(store) == 0


def test_a_thief_record_just_above_the_run_is_stepped_over_not_forked() -> None:
    w = World.build()
    store, mine = owner_node(w)
    top = mine[-1].seq
    for seq in (top + 1, top + 2, top + 5):
        store.ingest(w.net.sign(w.anna, r.Need(1, f"thief {seq}", 1, 4), seq=seq).raw, now=NOW)
    after = store.author(r.Need(1, "still mine", 1, 4), w.anna.key, now=NOW)
    assert after.seq == top + 3
    assert forks(store) == 0


def test_a_restored_key_jumps_to_its_epoch_whatever_seq_a_thief_signed() -> None:
    w = World.build()
    store, mine = owner_node(w)
    store.ingest(w.net.sign(w.anna, r.Need(1, "thief", 1, 4), seq=r.SEQ_MAX).raw, now=NOW)
    admin.mark_restored(store, w.anna.pub)
    after = store.author(r.Need(1, "after restore", 1, 4), w.anna.key, now=NOW)
    assert mine[-1].seq < after.seq < r.SEQ_MAX
    again = store.author(r.Need(1, "and again", 1, 4), w.anna.key, now=NOW)
    assert again.seq == after.seq + 1


def test_revoke_by_default_cuts_below_a_stray_seq_far_above_the_run() -> None:
    w = World.build()
    store, mine = owner_node(w)
    store.ingest(w.net.sign(w.anna, r.Need(1, "thief", 1, 4), seq=r.SEQ_MAX).raw, now=NOW)
    rec = members.revoke(store, w.founder.key, w.anna.pub, now=NOW)
    body = rec.body
    assert isinstance(body, r.Revoke) and body.through_seq == mine[-1].seq
