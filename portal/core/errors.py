class ServiceError(Exception):
    """A refusal a user can act on; the message is shown to them (Chinese)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def database_away_errors() -> tuple[type[Exception], ...]:
    """The errors meaning the database restarted, is unreachable or has no free connection: the request
    did not happen and may be retried (answered 503, never 500)."""
    from sqlalchemy.exc import InterfaceError, OperationalError, TimeoutError

    return OperationalError, InterfaceError, TimeoutError
