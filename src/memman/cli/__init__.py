"""The command line: one module per command or command group.

``main`` holds the root group, which imports a command's module only when that
command runs (so ``remember`` never pays for ``recall``'s imports), and turns every
failure into one ``Error: ...`` line and a non-zero exit.
"""
