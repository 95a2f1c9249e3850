"""The emulator as a Python object: start it in a background thread, read its state, stop it."""

from __future__ import annotations

import ipaddress
import os
import threading

from ._api import EmulatorApi
from ._seed import load_seed
from ._server import EmulatorHTTPServer
from ._state import EmulatorState


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Emulator:
    """A local TikTok Events API on 127.0.0.1.

    ``seed`` is a dict, a path to a JSON seed file, or None for the packaged default
    seed. ``faults`` (same format as the seed's ``faults``) overrides the seed's faults
    kind by kind. Use it as a context manager, or call ``start()`` and ``stop()``.
    """

    def __init__(
        self,
        seed: dict | str | os.PathLike | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: dict | None = None,
        verbose: bool = False,
    ):
        if not is_loopback(host):
            raise ValueError("host: the emulator only listens on a loopback address")
        self._seed = load_seed(seed)
        self.state = EmulatorState(self._seed, faults)
        self._address = (host, port)
        self._verbose = verbose
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Emulator:
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = EmulatorHTTPServer(
            self._address,
            EmulatorApi(self.state),
            idle_timeout=self._seed.idle_timeout,
            verbose=self._verbose,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="tiktok-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening, end open connections and join every thread. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):  # typeshed allows it; the emulator binds a str host
            host = host.decode()
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"<Emulator {where}>"
