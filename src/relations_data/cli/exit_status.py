"""The exit statuses of the ``relations-data`` command (a leaf: every command module uses them)."""

#: Exit status for invalid data (a check that ran and failed).
EXIT_INVALID = 1
#: Exit status for unusable input or usage errors.
EXIT_UNUSABLE = 2
