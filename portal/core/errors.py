class ServiceError(Exception):
    """A refusal a user can act on; the message is shown to them (Chinese)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
