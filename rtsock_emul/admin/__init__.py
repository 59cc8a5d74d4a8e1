"""Solaris-style admin verbs run inside the agent (docs/internals.md): the table and
`run_verb(ctx, argv, uid) -> (rc, out, err)` are in admin/dispatch.py.

`route ...` is not here: the `rtsock` command runs it as a routing-socket
client (admin/cli.py). `kernel ...` verbs are lab-only (kernelverbs.py).
This package file imports nothing, so the `rtsock` command starts without
loading the kernel model.
"""
