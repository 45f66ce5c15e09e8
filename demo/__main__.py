"""`python -m demo`: serve the studio locally (loopback, no share link unless asked)."""

from __future__ import annotations

import argparse

from demo.app import CHECKPOINTS_DIR, EXAMPLES_DIR, build_app, launch


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--checkpoints", default=str(CHECKPOINTS_DIR), help="folder of NAME.safetensors models (default: %(default)s)")
    parser.add_argument("--examples", default=str(EXAMPLES_DIR), help="folder of EXAMPLES/NAME/*.png A|B pairs (default: %(default)s)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on; 0.0.0.0 for the whole network")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--device", default="auto", help="auto (GPU if there is one), cpu, cuda, cuda:1, ...")
    parser.add_argument("--share", action="store_true", help="also make a public gradio.live link (needs internet)")
    args = parser.parse_args(argv)
    launch(build_app(args.checkpoints, args.examples, args.device), host=args.host, port=args.port, share=args.share)


if __name__ == "__main__":
    main()
