"""python -m weightreel.viewer [FILE] [--step K] [--screenshot OUT.png] [--follow]."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weightreel.viewer",
                                     description="Replay a weightreel recording.")
    parser.add_argument("file", nargs="?", help="the recording (.h5) to open")
    parser.add_argument("--step", type=int,
                        help="global step number to show first (default: the first step; "
                        "with --screenshot, the last)")
    parser.add_argument("--screenshot", metavar="OUT.png",
                        help="render the window offscreen into OUT.png and exit")
    parser.add_argument("--follow", action="store_true",
                        help="keep to the newest step while the file is written")
    parser.add_argument("--var", action="append", metavar="NAME", dest="variables",
                        help="variable to show (repeat for several side by side)")
    args = parser.parse_args(argv)
    from .app import launch

    return launch(args.file, step=args.step, screenshot=args.screenshot, follow=args.follow,
                  variables=args.variables)


if __name__ == "__main__":
    sys.exit(main())
