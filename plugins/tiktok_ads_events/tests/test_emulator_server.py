"""The emulator's listening socket queues a burst of new connections, as a real
server does, instead of dropping them while its accepting thread is busy."""

from __future__ import annotations

import selectors
import socket
import time

from tiktok_ads_events.emulator import load_seed
from tiktok_ads_events.emulator._api import EmulatorApi
from tiktok_ads_events.emulator._server import EmulatorHTTPServer
from tiktok_ads_events.emulator._state import EmulatorState

BURST = 64  # more than a host opens at once: its default concurrency is 24


def test_a_burst_of_connections_is_queued_while_nothing_accepts():
    # The server listens but does not serve yet: every connection waits in the backlog.
    # With socketserver's default backlog of 5, all but a handful of these handshakes
    # were dropped, which a client sees as a connect timeout for a request never sent.
    server = EmulatorHTTPServer(
        ("127.0.0.1", 0), EmulatorApi(EmulatorState(load_seed(None))), idle_timeout=5, verbose=False
    )
    clients = []
    try:
        with selectors.DefaultSelector() as selector:
            for _ in range(BURST):
                client = socket.socket()
                client.setblocking(False)
                client.connect_ex(server.server_address)
                selector.register(client, selectors.EVENT_WRITE)
                clients.append(client)
            connected = 0
            deadline = time.monotonic() + 0.5  # loopback handshakes take microseconds
            while connected < BURST and time.monotonic() < deadline:
                for key, _ in selector.select(timeout=0.05):
                    selector.unregister(key.fileobj)
                    if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                        connected += 1
        assert connected == BURST
    finally:
        for client in clients:
            client.close()
        server.server_close()
