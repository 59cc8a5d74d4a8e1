



def root_links() -> set[str]:
    from rtsock_emul.lab.cleanup import _root_links
    return set(_root_links())


def pid_alive(pid: int) -> bool:
    from rtsock_emul.lab.cleanup import proc_starttime
    return proc_starttime(pid) is not None
