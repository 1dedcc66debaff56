"""Run a sandbox in its own process for a benchmark (its memory is then not the pipeline's)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from sandbox import SandboxConfig, serve_forever


def main() -> None:
    """Parse the options and serve until terminated."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--orders-per-shop", type=int, default=150)
    parser.add_argument("--anchor", default="")
    parser.add_argument("--stage-weights", default="")
    parser.add_argument("--faults", default="")
    args = parser.parse_args()
    config = SandboxConfig.from_dict(
        {
            "seed": 7,
            "orders_per_shop": args.orders_per_shop,
            "anchor": datetime.fromisoformat(args.anchor) if args.anchor else None,
            "clock_tick": False,
            **({"stage_weights": json.loads(args.stage_weights)} if args.stage_weights else {}),
            **({"faults": json.loads(args.faults)} if args.faults else {}),
        }
    )
    serve_forever(config, args.port)


if __name__ == "__main__":
    main()
