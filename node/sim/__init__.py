"""Discrete-event simulator of a Meshtastic LoRa mesh (radio and mesh layer).

Theory of operation: everything runs in virtual time (float seconds) on one
:class:`~meshaid.node.sim.events.EventQueue`; all randomness comes from one
caller-supplied :class:`random.Random`, so a run is a pure function of its seed.

Modules:

- ``events``   -- heap-based event queue (schedule / cancel / run_until).
- ``airtime``  -- Semtech time-on-air, Meshtastic presets, on-air frame size.
- ``topology`` -- links with SNR/RSSI, from positions (log-distance path loss)
  or explicit lists; random geometric, line and grid generators.
- ``loss``     -- per-link loss: independent (Bernoulli) and Gilbert-Elliott.
- ``firmware`` -- constants and formulas mirrored from the Meshtastic firmware
  (contention windows, slot time, AirTime counters, roles).
- ``radio``    -- the ``Mesh``: managed flooding, CAD, half-duplex, collisions
  with capture, duty cycle, channel utilisation, accounting.
- ``radio_bench`` -- a speed benchmark (``python -m meshaid.node.sim.radio_bench``).

Nothing here imports meshtastic, asyncio or reads the wall clock (except the
bench script, which measures its own wall time).
"""
