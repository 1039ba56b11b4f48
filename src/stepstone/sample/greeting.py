"""Greetings: the sample project's code, which the demo's spec asks an agent to extend."""


def greet(name: str) -> str:
    """A polite greeting for ``name``."""
    return f"Hello, {name}!"
