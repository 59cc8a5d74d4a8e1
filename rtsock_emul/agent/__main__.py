"""`python -m rtsock_emul.agent --socket PATH --platform sim|linux [--config JSON] [--log FILE]`."""
import argparse
import json
import os
import sys

from rtsock_emul.agent import ConfigError, run_agent
from rtsock_emul.agent.server import AgentStartError
from rtsock_emul.platform import PLATFORMS, PlatformError


def parse_config(text: str | None) -> dict:
    """--config is JSON text or the path of a JSON file."""
    if not text:
        return {}
    if os.path.exists(text):
        with open(text) as f:
            text = f.read()
    config = json.loads(text)
    if not isinstance(config, dict):
        raise ConfigError("--config must be a JSON object")
    return config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rtsock_emul.agent",
                                     description="illumos routing-socket/IPMP emulation agent")
    parser.add_argument("--socket", required=True, help="RTSOCK_AGENT path to listen on")
    parser.add_argument("--platform", required=True, choices=sorted(PLATFORMS))
    parser.add_argument("--config", help="JSON object (or a file holding one)")
    parser.add_argument("--log", help="log file (default: warnings to stderr)")
    args = parser.parse_args(argv)
    try:
        return run_agent(args.socket, args.platform, parse_config(args.config), args.log)
    except (ValueError, AgentStartError, PlatformError) as exc:  # ConfigError, bad JSON, sim config
        print(f"rtsock agent: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
