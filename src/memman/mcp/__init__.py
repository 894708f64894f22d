"""``memman mcp``: memman as a Model Context Protocol server over stdio.

Standard library only, so it starts as fast as any other command. ``protocol``
holds the JSON-RPC 2.0 framing and error codes, ``tools`` the five tools (each
returns exactly the JSON document of the matching CLI command), ``server`` the
dispatch and the newline-delimited read/answer loop.
"""
