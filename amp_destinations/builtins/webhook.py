"""The built-in ``webhook`` destination and ``bearer-token`` credential type (in
``_webhook``): each batch POSTed as a JSON array. Registered by name and path, so that
listing plugins imports no HTTP client."""

from amp_destinations import hookimpl

__all__ = ["register_credential_types", "register_destinations"]


@hookimpl
def register_credential_types(register):
    register("bearer-token", "amp_destinations.builtins._webhook:BearerToken")


@hookimpl
def register_destinations(register):
    register("webhook", "amp_destinations.builtins._webhook:WebhookDestination")
