import signal


def sigint_as_at_a_terminal() -> None:
    """preexec_fn for a child that gets a SIGINT: a shell's background job (`cmd &`,
    nohup, some CI runners) starts with SIGINT ignored, and the child would inherit
    that and never see Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def root_links() -> set[str]:
    from rtsock_emul.lab.cleanup import _root_links
    return set(_root_links())


def pid_alive(pid: int) -> bool:
    from rtsock_emul.lab.cleanup import proc_starttime
    return proc_starttime(pid) is not None
