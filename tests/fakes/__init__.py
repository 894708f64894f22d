"""Test doubles that speak real wire formats over loopback (never patch memman itself)."""
