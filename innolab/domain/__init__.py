"""The rules of the platform. Nothing here reads the Flask request."""


class DomainError(Exception):
    """A rule refused an action; `reason` is a translatable message for the user."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason
