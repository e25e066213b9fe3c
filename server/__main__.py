"""The command line: run the server, or manage the owners' tokens.

    python -m server [--host H] [--port P] [--data-dir D] [--max-upload-bytes N]
    python -m server token create <owner> [--data-dir D]   # prints the token, last
    python -m server token list <owner> [--data-dir D]
    python -m server token revoke <token> [--data-dir D]

Each option may also come from the environment: ENGINE_SERVER_HOST, ENGINE_SERVER_PORT,
ENGINE_DATA_DIR, ENGINE_MAX_UPLOAD_BYTES.
"""

import argparse
import sys

from .auth import hash_token, new_token
from .errors import ApiError
from .settings import Settings
from .storage import open_storage
from .validation import check_name


def _parser():
    parser = argparse.ArgumentParser(prog="python -m server", description=__doc__.split("\n")[0])
    # SUPPRESS: an option left out sets nothing, so the environment's value stands, and
    # --data-dir may go before or after the subcommand.
    data_dir = argparse.ArgumentParser(add_help=False)
    data_dir.add_argument("--data-dir", default=argparse.SUPPRESS, help="default ./data")
    parser.add_argument("--host", default=argparse.SUPPRESS, help="default 127.0.0.1")
    parser.add_argument("--port", type=int, default=argparse.SUPPRESS, help="default 8000")
    parser.add_argument("--data-dir", default=argparse.SUPPRESS, help="default ./data")
    parser.add_argument(
        "--max-upload-bytes", type=int, default=argparse.SUPPRESS, help="default 256 MiB"
    )
    commands = parser.add_subparsers(dest="command")
    token = commands.add_parser("token", help="create, list or revoke write tokens")
    actions = token.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", parents=[data_dir], help="print a new token")
    create.add_argument("owner")
    listing = actions.add_parser("list", parents=[data_dir], help="an owner's tokens (hashes)")
    listing.add_argument("owner")
    revoke = actions.add_parser("revoke", parents=[data_dir], help="make a token invalid")
    revoke.add_argument("token")
    return parser


def _settings(args):
    options = ("host", "port", "data_dir", "max_upload_bytes")
    return Settings.from_env(**{key: getattr(args, key, None) for key in options})


def _token_command(args, settings):
    metadata, _ = open_storage(settings)
    if args.action == "revoke":
        if not metadata.revoke_token(hash_token(args.token)):
            sys.exit("no such token")
        print("revoked")
        return
    try:
        owner = check_name("owner", args.owner)
    except ApiError as error:
        sys.exit(error.message)
    if args.action == "create":
        token = new_token()
        metadata.add_token(owner, hash_token(token))
        print(f"token for {owner} (shown once; only its hash is stored): {token}")
    else:
        for record in metadata.list_tokens(owner):
            print(f"{record.created_at}  sha256:{record.token_sha256[:16]}...")


def main(argv=None):
    args = _parser().parse_args(argv)
    settings = _settings(args)
    if args.command == "token":
        _token_command(args, settings)
        return
    import uvicorn  # only the serving path needs it

    from .app import create_app

    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
