"""Helpers for testing plugins and programs that embed the host.

    from amp_destinations.testing import MemoryKeyring
    host = amp_destinations.Host(tmp_path, secrets=amp_destinations.SecretStore(MemoryKeyring()))
"""

from __future__ import annotations

import keyring.backend
import keyring.errors

__all__ = ["MemoryKeyring"]


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring held in a dict, so that no test touches the machine's real keyring.
    ``entries`` maps (service, user name) to the secret, for assertions."""

    # Below the fail keyring's 0, so keyring's own discovery never picks it.
    priority = -1

    def __init__(self):
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        if (service, username) not in self.entries:
            raise keyring.errors.PasswordDeleteError(username)
        del self.entries[(service, username)]
