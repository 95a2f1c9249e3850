"""Strict readers for the emulator's JSON configuration (seed files and fault plans)."""

from __future__ import annotations

from typing import Any


class EmulatorConfigError(ValueError):
    """A seed or fault configuration is malformed; the message names the field."""


def read_object(
    value: Any, where: str, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()
) -> dict:
    """Check that ``value`` is an object holding only the known keys and all required ones."""
    if type(value) is not dict:
        raise EmulatorConfigError(f"{where}: must be an object")
    unknown = value.keys() - set(required) - set(optional)
    if unknown:
        raise EmulatorConfigError(f"{where}.{sorted(unknown)[0]}: unknown field")
    for key in required:
        if key not in value:
            raise EmulatorConfigError(f"{where}.{key}: required")
    return value


def read_list(value: Any, where: str) -> list:
    if type(value) is not list:
        raise EmulatorConfigError(f"{where}: must be a list")
    return value


def read_str(value: Any, where: str, *, digits: bool = False) -> str:
    if type(value) is not str or not value.strip():
        raise EmulatorConfigError(f"{where}: must be a non-empty string")
    if digits and not (value.isascii() and value.isdigit()):
        raise EmulatorConfigError(f"{where}: must be a string of digits")
    return value


def read_bool(value: Any, where: str) -> bool:
    if type(value) is not bool:
        raise EmulatorConfigError(f"{where}: must be true or false")
    return value


def read_int(value: Any, where: str, *, minimum: int = 0) -> int:
    if type(value) is not int or value < minimum:
        raise EmulatorConfigError(f"{where}: must be an integer of at least {minimum}")
    return value


def read_number(value: Any, where: str, *, low: float, high: float) -> float:
    if type(value) not in (int, float) or not low <= value <= high:
        raise EmulatorConfigError(f"{where}: must be a number from {low} to {high}")
    return float(value)


def read_choice(value: Any, where: str, choices: tuple) -> Any:
    if type(value) not in (str, int) or value not in choices:
        listed = ", ".join(str(choice) for choice in choices)
        raise EmulatorConfigError(f"{where}: must be one of {listed}")
    return value
