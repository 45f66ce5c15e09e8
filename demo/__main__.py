"""`python -m demo`: serve the studio locally (loopback, no share link unless asked).

Like other gradio apps it honours GRADIO_SERVER_NAME and GRADIO_SERVER_PORT; --host and --port win over them.
"""

from __future__ import annotations

import argparse
import os
import socket

from demo.app import CHECKPOINTS_DIR, EXAMPLES_DIR, build_app, launch


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--checkpoints", default=str(CHECKPOINTS_DIR), help="folder of NAME.safetensors models (default: %(default)s)")
    parser.add_argument("--examples", default=str(EXAMPLES_DIR), help="folder of EXAMPLES/NAME/*.png A|B pairs (default: %(default)s)")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to listen on; 0.0.0.0 for the whole network, e.g. a classroom (default: %(default)s)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)), help="(default: %(default)s)")
    parser.add_argument("--device", default="auto", help="auto (GPU if there is one), cpu, cuda, cuda:1, ...")
    parser.add_argument("--share", action="store_true", help="also make a public gradio.live link (needs internet)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    app = build_app(args.checkpoints, args.examples, args.device)
    if args.host == "0.0.0.0":
        print(f"Others on this network can open http://{network_address()}:{args.port}/")
    launch(app, host=args.host, port=args.port, share=args.share)


def network_address() -> str:
    """This machine's address on its local network: the one a route to another private address would leave from."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.254.254.254", 1))  # UDP connect sends nothing; it only picks the outgoing interface
            return probe.getsockname()[0]
        except OSError:
            return socket.gethostbyname(socket.gethostname())


if __name__ == "__main__":
    main()
