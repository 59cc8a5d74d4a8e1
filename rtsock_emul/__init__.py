"""ipmp-lab: illumos PF_ROUTE routing sockets and IPMP emulated on Linux."""
