"""Bridges: separate meshes joined over an intermittent IP link (node/PROTOCOL.md, "Bridges").

A bridge node runs a second sync engine on an IP link (MQTT through a broker)
over the same store as its radio engine; only records cross between them.
engines.py (the engines and the IP configuration), glue.py (the rules),
link.py (the IP link port), ipside.py (the IP engine on a link, for any host),
fakebroker.py and simnet.py (a broker and two meshes in simulated time).
"""
