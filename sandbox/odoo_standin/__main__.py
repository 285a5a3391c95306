"""python -m sandbox.odoo_standin [--port 8069] [--etl-email x@y] [--version 17|18|19] : run the Odoo stand-in until Ctrl+C."""

import argparse
import signal
import threading

from sandbox.odoo_standin import OdooStandIn, build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8069)
    parser.add_argument("--etl-email", default=None, help="give the API user an email (Odoo needs it for chatter/backorders)")
    parser.add_argument("--version", default=None, help="the Odoo version to answer as: 17 (default), 18, 19 (or ODOO_STANDIN_VERSION)")
    args = parser.parse_args()
    env = build(etl_email=args.etl_email, version=args.version)
    server = OdooStandIn(env, host=args.host, port=args.port).start()
    print(f"Odoo {env.version} stand-in at {server.url} (database {env.database}; API user 'etl', API key 'standin-etl-api-key')", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.stop()


if __name__ == "__main__":
    main()
