"""The programs a person runs, above both the lab and the scenario layer:

    ipmp-lab [TOPOLOGY] [--scenario FILE --until STEP]    rtsock_emul.app.cli (the Mininet CLI)
    python -m rtsock_emul.app.demo                        the live failover demonstration
    python -m rtsock_emul.app.soak --minutes 10           random faults, then the oracle's verdict

Nothing below this package imports it (docs/internals.md, "Layers").
"""
