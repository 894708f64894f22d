"""Where memman keeps things and how it is configured.

Owns the data-dir layout (``datadir``), the ``env`` file that is the runtime source
of truth (``envfile``), the catalogue of known keys with their defaults, validation
and secrecy (``keys``), and store names: validation, resolution and their Postgres
schema names (``stores``).
"""
