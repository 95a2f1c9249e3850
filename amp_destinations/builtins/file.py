"""The built-in ``file`` destination (in ``_file``): every record appended to a local
file as one JSON object per line. Registered by name and path, as any plugin can, so
that listing plugins does not import it."""

from amp_destinations import hookimpl

__all__ = ["register_destinations"]


@hookimpl
def register_destinations(register):
    register("file", "amp_destinations.builtins._file:FileDestination")
