"""Free TCP ports for the servers the tests start, so parallel sessions never collide."""

import socket


def free_port() -> int:
    """The kernel picks an unused port; the tiny window before the server binds it is accepted."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
