"""Create an API key for a deployed MediaJet: the key is printed once, only its sha256 is stored.

    python -m mediajet.aws.keys --table <TableName output> [--project prj_default] [--region eu-west-1]

Uses your AWS credentials (dynamodb:PutItem on the table). Jobs created by inbox uploads belong to
the project `prj_default` unless the stack sets another `upload_project`.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mediajet.aws.keys", description=__doc__.splitlines()[0])
    parser.add_argument("--table", required=True, help="the stack's TableName output")
    parser.add_argument("--project", default="prj_default", help="project the key opens (default: %(default)s)")
    parser.add_argument("--region", help="AWS region (default: your AWS configuration's)")
    args = parser.parse_args(argv)

    import boto3

    from mediajet.api.auth import create_key
    from mediajet.store.dynamo import DynamoJobStore

    store = DynamoJobStore(args.table, client=boto3.client("dynamodb", region_name=args.region))
    print(create_key(store, args.project))
    return 0


if __name__ == "__main__":
    sys.exit(main())
