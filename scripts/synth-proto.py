#!/usr/bin/env python3
"""Writes a synthetic service of N RPCs to stdout, for the benchmarks.

    scripts/synth-proto.py 1000 > synth1000.proto

Every RPC has its own request and response message and a google.api.http
rule (GET with a path variable for even RPCs, POST with a body for odd ones),
so each doubling of N doubles every part of the input.
"""

import sys


def main() -> None:
    if len(sys.argv) != 2 or not sys.argv[1].isdigit() or int(sys.argv[1]) < 1:
        sys.exit("usage: synth-proto.py N   (N >= 1 RPCs)")
    n = int(sys.argv[1])
    out = [
        'syntax = "proto3";',
        "",
        f"package synth{n}.v1;",
        "",
        'import "google/api/annotations.proto";',
        "",
        f'option go_package = "example.com/synth{n}/pb;pb";',
        "",
        f"// Synth is a service of {n} RPCs.",
        "service Synth {",
    ]
    for i in range(n):
        if i % 2 == 0:
            rule = f'get: "/v1/items{i}/{{id}}"'
        else:
            rule = f'post: "/v1/items{i}"\n      body: "*"'
        out += [
            f"  // Op{i} is operation {i}.",
            f"  rpc Op{i}(Op{i}Request) returns (Op{i}Response) {{",
            "    option (google.api.http) = {",
            f"      {rule}",
            "    };",
            "  }",
        ]
    out.append("}")
    for i in range(n):
        out += [
            "",
            f"message Op{i}Request {{",
            "  string id = 1;",
            "  int64 count = 2;",
            "  repeated string tags = 3;",
            "}",
            "",
            f"message Op{i}Response {{",
            "  string id = 1;",
            "  bool done = 2;",
            "  map<string, string> labels = 3;",
            "}",
        ]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
