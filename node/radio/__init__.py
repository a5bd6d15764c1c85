"""Radio adapters: the real Meshtastic device, the fake device, the simulator.

`base` holds the port every adapter implements; the daemon depends on it only.
"""
