"""How the `parking-guide` command fails: one error type of ours, and the exit status it carries."""

from __future__ import annotations

from parking.errors import ParkingGuideError

EXIT_OK = 0
EXIT_ERROR = 1  # `check` found the config invalid, or another error of ours (ParkingGuideError)
EXIT_REFUSED = 2  # run, demo, simulate, qr: the config or the command line has problems, nothing was started


class CliError(ParkingGuideError):
    """A command that cannot go on: its message goes to standard error, its exit status to the shell."""

    def __init__(self, message: str, exit_status: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_status = exit_status
