"""``memman mcp``: serve memman's memory tools to MCP clients over stdio.

stdout carries protocol messages only: the real stdout is kept for them and file
descriptor 1 is pointed at stderr, so nothing else can ever write there.
"""
import os
import sys

import click

from memman.cli.context import pass_app


@click.command()
@pass_app
def mcp(app):
    """Run an MCP server on stdin/stdout (for Claude Desktop, Cursor, Codex...)."""
    from memman.cli.context import App
    from memman.mcp.server import Server, serve

    def make_app():
        return App(data_dir_option=app.data_dir_option, store_option=app.store_option,
                   verbose=app.verbose, debug=app.debug)

    server = Server(make_app, debug=app.debug)
    infile, outfile = sys.stdin.buffer, _protocol_stream()
    try:
        code = serve(server, infile, outfile)
    except (KeyboardInterrupt, BrokenPipeError):
        code = 0
    sys.exit(code)


def _protocol_stream():
    """A binary stream to the real stdout, with fd 1 and sys.stdout sent to stderr."""
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):  # not a real file (tests' runners)
        return sys.stdout.buffer
    out = os.fdopen(os.dup(fd), "wb")
    os.dup2(sys.stderr.fileno(), fd)
    sys.stdout = sys.stderr
    return out
