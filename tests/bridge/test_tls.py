"""mqtts://: a bridge reaches the broker over TLS (its certificate checked against
the CA given with --ca-file), logs in with its password, and is refused by a
broker whose certificate that CA did not sign."""

from __future__ import annotations

import datetime
import ipaddress
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from meshaid.node.bridge.link import IpLinkState
from meshaid.node.bridge.mqtt import MqttLink, parse_broker

from .conftest import USERS
from .mosquitto import Broker

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(d: Path, tag: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 it signed: (ca, cert, key) files."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name(f"test CA {tag}"))
          .issuer_name(_name(f"test CA {tag}")).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(NOW - datetime.timedelta(days=1))
          .not_valid_after(NOW + datetime.timedelta(days=36500))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1"))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(2)
            .not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=36500))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = (d / f"ca-{tag}.pem", d / f"server-{tag}.pem", d / f"server-{tag}.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def first_state(link: MqttLink, limit: float = 10.0) -> IpLinkState:
    events: list[object] = []
    link.start(events.append)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for event in events:
            if isinstance(event, IpLinkState):
                return event
        time.sleep(0.01)
    raise AssertionError("no link state within the limit")


def test_a_bridge_connects_over_tls_and_refuses_an_unknown_ca(tmp_path: Path) -> None:
    ca, cert, key = make_pki(tmp_path, "good")
    other_ca, _, _ = make_pki(tmp_path, "other")
    broker = Broker(tmp_path, USERS, tls=(cert, key))
    broker.start()
    try:
        spec = parse_broker(f"mqtts://127.0.0.1:{broker.tls_port}")
        assert spec.tls
        good = MqttLink(spec, "port", bytes(16), password=USERS["port"], ca_file=str(ca))
        try:
            state = first_state(good)
            assert state.up, state.detail
        finally:
            good.close()
        bad = MqttLink(spec, "hills", bytes(16), password=USERS["hills"],
                       ca_file=str(other_ca))
        try:
            deadline = time.monotonic() + 3
            events: list[object] = []
            bad.start(events.append)
            while time.monotonic() < deadline:
                assert not any(isinstance(e, IpLinkState) and e.up for e in events)
                time.sleep(0.05)
        finally:
            bad.close()
        wrong = MqttLink(spec, "hills", bytes(16), password="not it", ca_file=str(ca))
        try:
            state = first_state(wrong)
            assert not state.up and "refused" in state.detail
        finally:
            wrong.close()
    finally:
        broker.stop()
