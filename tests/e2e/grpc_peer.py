#!/usr/bin/python3
"""A gRPC server and client (Debian's python3-grpcio) for the analyzer's tests.

usage: grpc_peer.py server PORT
       grpc_peer.py client PORT OUT.json

Methods of demo.Echo, raw bytes (no protobuf needed):
  Say      unary: returns b"you said: " + request
  Count    server streaming: n messages for a request of n (as text)
  Sum      client streaming: the byte count of all requests
  Fail     unary: aborts with NOT_FOUND (5) and "no such thing"
The client records what it sent and got, per call, as JSON.
"""
import json
import sys

import grpc


def say(req, ctx):
    return b"you said: " + req


def count(req, ctx):
    for i in range(int(req)):
        yield b"item %d" % i


def total(reqs, ctx):
    return str(sum(len(r) for r in reqs)).encode()


def fail(req, ctx):
    ctx.abort(grpc.StatusCode.NOT_FOUND, "no such thing")


def server(port):
    from concurrent import futures
    h = grpc.method_handlers_generic_handler("demo.Echo", {
        "Say": grpc.unary_unary_rpc_method_handler(say),
        "Count": grpc.unary_stream_rpc_method_handler(count),
        "Sum": grpc.stream_unary_rpc_method_handler(total),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
    })
    s = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[h])
    s.add_insecure_port("127.0.0.1:%d" % port)
    s.start()
    s.wait_for_termination()


def client(port, out):
    ch = grpc.insecure_channel("127.0.0.1:%d" % port)
    grpc.channel_ready_future(ch).result(timeout=10)
    calls = []
    r = ch.unary_unary("/demo.Echo/Say")(b"hello")
    calls.append({"method": "Say", "req_msgs": [5], "resp_msgs": [len(r)], "status": 0})
    rs = list(ch.unary_stream("/demo.Echo/Count")(b"5"))
    calls.append({"method": "Count", "req_msgs": [1], "resp_msgs": [len(x) for x in rs], "status": 0})
    reqs = [b"a" * 10, b"b" * 200, b"c" * 3000]
    r = ch.stream_unary("/demo.Echo/Sum")(iter(reqs))
    calls.append({"method": "Sum", "req_msgs": [len(x) for x in reqs], "resp_msgs": [len(r)], "status": 0})
    try:
        ch.unary_unary("/demo.Echo/Fail")(b"x")
        raise SystemExit("Fail did not fail")
    except grpc.RpcError as e:
        calls.append({"method": "Fail", "req_msgs": [1], "resp_msgs": [], "status": e.code().value[0],
                      "message": e.details()})
    ch.close()
    json.dump(calls, open(out, "w"), indent=1)


if sys.argv[1] == "server":
    server(int(sys.argv[2]))
else:
    client(int(sys.argv[2]), sys.argv[3])
