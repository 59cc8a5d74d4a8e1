"""Reading the small text files a person writes (scenarios, topologies) defensively."""
import os
import sys
from collections.abc import Callable

import yaml

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


def generated_doc(doc, text: str, argv, command: str, write_by_default: bool = False) -> int:
    """The main() of a generator of a checked-in document: `--write` (or the default)
    writes `text` to `doc`, `--check` says whether it is current, else print it."""
    if "--check" in argv:
        if not doc.exists() or doc.read_text(encoding="utf-8") != text:
            print(f"{doc} is stale: run {command}", file=sys.stderr)
            return 1
        return 0
    if "--write" in argv or write_by_default:
        doc.write_text(text, encoding="utf-8")
        print(f"wrote {doc}")
    else:
        print(text)
    return 0


def yaml_compose(text: str) -> yaml.Node | None:
    """The YAML node tree of `text`, with line marks, by libyaml where PyYAML has it
    (pure Python is 8x slower: a pytest session composes every scenario to collect it).
    A file libyaml rejects is parsed again in pure Python for its error, which names
    what it expected ("but got '<stream end>'") where libyaml's does not."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is None:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    try:
        return yaml.compose(text, Loader=fast)
    except yaml.YAMLError:
        yaml.compose(text, Loader=yaml.SafeLoader)
        raise
