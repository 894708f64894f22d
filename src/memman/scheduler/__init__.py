"""When the worker runs: the persistent started/stopped state and its write gate,
the serve loop, and (later) the systemd and launchd units."""
