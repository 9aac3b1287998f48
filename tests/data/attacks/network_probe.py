"""Opening connections: to a port the grader listens on (127.0.0.1), and out of the machine."""

import socket

from probe import Probe, Report

PORT = 0  # the test writes a copy of this file with the port it listens on


def _connect(address):
    try:
        with socket.create_connection(address, timeout=0.5) as s:
            s.sendall(b"qc-attack-network")
    except OSError as e:
        return f"{type(e).__name__}({e.errno})"
    return "connected"


class Connects(Probe):
    def attack(self):
        loopback = _connect(("127.0.0.1", PORT))
        outside = _connect(("192.0.2.1", 80))  # TEST-NET-1: routes nowhere, but a machine with a network tries
        raise Report(f"loopback={loopback} outside={outside}")
