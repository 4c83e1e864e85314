"""The test suite runs offline: conftest's ``no_network`` fails any test whose sockets leave this machine."""
import socket

import pytest

NOWHERE = ("192.0.2.1", 80)  # TEST-NET-1: documentation addresses, never routed


def test_a_connection_beyond_this_machine_fails_the_test_even_when_caught():
    with pytest.raises(pytest.fail.Exception, match="tests must run offline"):
        try:
            socket.create_connection(NOWHERE, timeout=1)
        except Exception:  # what code that handles network errors catches
            pass
    with socket.socket() as sock, pytest.raises(pytest.fail.Exception, match="tests must run offline"):
        sock.connect_ex(NOWHERE)


def test_loopback_stays_open():
    with socket.create_server(("127.0.0.1", 0)) as server:
        with socket.create_connection(("localhost", server.getsockname()[1]), timeout=5):
            pass
