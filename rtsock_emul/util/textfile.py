"""Reading the small text files a person writes (scenarios, topologies) defensively."""
import os
from collections.abc import Callable

MAX_FILE_BYTES = 1 << 20        # a scenario or topology is a few KB; more is a mistake or an attack


def read_text(path: str | os.PathLike, what: str, error: Callable[[int, str, str], Exception]) -> str:
    """A small UTF-8 file's text; error(line, what, hint) for a missing, huge or binary one."""
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise error(0, f"the file is {size} bytes, more than the {MAX_FILE_BYTES} a {what} may be",
                        "is this the right file?")
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise error(0, f"no such {what} file", "check the path") from None
    except IsADirectoryError:
        raise error(0, f"a directory, not a {what} file", "name a .yaml file") from None
    except PermissionError as exc:
        raise error(0, f"cannot read it: {exc.strerror}", "check its permissions") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise error(line, f"not UTF-8 text (byte 0x{data[exc.start]:02x})", "save the file as UTF-8") from None
