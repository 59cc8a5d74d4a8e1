"""Hostile input against a running agent: routing-socket writes, admin and control records.

`inputs` makes random and mutated inputs from a `random.Random` (hypothesis hands
the test suite one it controls); `oracle` says which errnos the rules allow for a
write; `session.FuzzSession` sends them to an agent and keeps the figures;
`python -m rtsock_emul.fuzz --minutes N` runs it against a fresh sim agent.
"""
