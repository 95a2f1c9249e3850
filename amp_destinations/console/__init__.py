"""The operator console: the product's screens in a browser, served on 127.0.0.1 by
``amp-dest console`` (the ``[console]`` extra). A client of ``Host`` like the CLI: no
rule is implemented here twice."""

from ._app import DEFAULT_MAX_UPLOAD, create_app

__all__ = ["DEFAULT_MAX_UPLOAD", "create_app"]
