#!/usr/bin/env python3
"""Writes the RPC envelope golden vectors in tests/vectors/rpc/.

An independent, deliberately naive implementation of the envelope of
docs/PROTOCOL.md section 7 (and of the few protobuf bytes in the bodies,
written out by hand), for the C (tests/c/test_rpc_envelope.c) and
TypeScript (tests/js/rpc-envelope.test.ts) tests. Besides the .bin files
it writes envelopes.json, which lists every file with the header fields a
parser must read from it (or, for malformed ones, the call id it can still
read). Run it only when the envelope changes on purpose.
"""
import json
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rpc")
(REQUEST, RESPONSE, ERROR, CANCEL, STREAM_MESSAGE, STREAM_END, EVENT, CREDIT,
 REQUEST_MESSAGE, REQUEST_END) = range(1, 11)
KIND_NAMES = {1: "REQUEST", 2: "RESPONSE", 3: "ERROR", 4: "CANCEL",
              5: "STREAM_MESSAGE", 6: "STREAM_END", 7: "EVENT", 8: "CREDIT",
              9: "REQUEST_MESSAGE", 10: "REQUEST_END"}


def fnv1a32(text):
    h = 0x811C9DC5
    for b in text.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def envelope(kind, call_id=0, method_id=0, schema_hash=0, status=0,
             timeout_us=0, credit=0, body=b"", version=1):
    # u8 version, u8 kind, u16 reserved, then six little-endian u32.
    return struct.pack("<BBHIIIIII", version, kind, 0, call_id, method_id,
                       schema_hash, status, timeout_us, credit) + body


def schema_hash(request, response, kind):
    # docs/PROTOCOL.md section 8: the canonical schema text.
    return fnv1a32("shmrpc-schema-2\nrequest %s\nresponse %s\nkind %s\n"
                   % (request, response, kind))


ECHO = fnv1a32("rpctest.RpcTest/Echo")
SUM = fnv1a32("rpctest.RpcTest/Sum")
CHAT = fnv1a32("rpctest.RpcTest/Chat")
COUNT = fnv1a32("rpctest.RpcTest/Count")
STOPPED = fnv1a32("rpctest.RpcTest/StreamStopped")

WELL_FORMED = [
    # EchoRequest{text: "hi"}: field 1, wire type 2, length 2
    ("request_echo", dict(kind=REQUEST, call_id=7, method_id=ECHO,
                          schema_hash=0xFA6CA88B, timeout_us=250000,
                          body=bytes([0x0A, 0x02]) + b"hi")),
    # CountRequest{count: 3}: field 1 varint 3; initial window 16
    ("request_count", dict(kind=REQUEST, call_id=9, method_id=COUNT,
                           schema_hash=0xF26F4F39, credit=16,
                           body=bytes([0x08, 0x03]))),
    # EchoReply{text: "hi", call_id: 7}
    ("response", dict(kind=RESPONSE, call_id=7,
                      body=bytes([0x0A, 0x02]) + b"hi" + bytes([0x18, 0x07]))),
    ("error", dict(kind=ERROR, call_id=7, status=12,
                   body=b"unknown method id 0x00000001")),
    ("cancel", dict(kind=CANCEL, call_id=7)),
    # CountItem{index: 2}
    ("stream_message", dict(kind=STREAM_MESSAGE, call_id=9,
                            body=bytes([0x08, 0x02]))),
    ("stream_end_ok", dict(kind=STREAM_END, call_id=9)),
    ("stream_end_cancelled", dict(kind=STREAM_END, call_id=9, status=1,
                                  body=b"CANCELLED")),
    # StreamStopped{call_id: 9, sent: 3}
    ("event", dict(kind=EVENT, method_id=STOPPED,
                   body=bytes([0x08, 0x09, 0x10, 0x03]))),
    ("credit", dict(kind=CREDIT, call_id=9, credit=8)),
    # Request streams. Sum (client streaming) opens with a REQUEST without
    # a body and no response window; Chat (bidirectional) with the client's
    # response window.
    ("request_sum", dict(kind=REQUEST, call_id=11, method_id=SUM,
                         schema_hash=schema_hash("rpctest.SumItem",
                                                 "rpctest.SumReply",
                                                 "client_streaming"),
                         timeout_us=1000000)),
    ("request_chat", dict(kind=REQUEST, call_id=12, method_id=CHAT,
                          schema_hash=schema_hash("rpctest.SumItem",
                                                  "rpctest.SumReply",
                                                  "bidi_streaming"),
                          credit=64)),
    # the server grants call 11 a window of 16 request messages
    ("credit_request_stream", dict(kind=CREDIT, call_id=11, credit=16)),
    # SumItem{value: 5}: field 1 varint 5
    ("request_message", dict(kind=REQUEST_MESSAGE, call_id=11,
                             body=bytes([0x08, 0x05]))),
    ("request_end", dict(kind=REQUEST_END, call_id=11)),
    # every header field at its maximum
    ("request_max_fields", dict(kind=REQUEST, call_id=0xFFFFFFFF,
                                method_id=0xFFFFFFFF, schema_hash=0xFFFFFFFF,
                                status=0xFFFFFFFF, timeout_us=0xFFFFFFFF,
                                credit=0xFFFFFFFF)),
]

# (name, bytes, call id a parser can still read, why it is malformed)
MALFORMED = [
    ("short_0", b"", 0, "short"),
    ("short_7", envelope(CANCEL, call_id=5)[:7], 0, "short"),
    ("short_8", envelope(CANCEL, call_id=5)[:8], 5, "short"),
    ("short_27", envelope(CANCEL, call_id=5)[:27], 5, "short"),
    ("bad_version_0", envelope(REQUEST, call_id=5, version=0), 5, "version"),
    ("bad_version_2", envelope(REQUEST, call_id=5, version=2), 5, "version"),
    ("kind_0", envelope(0, call_id=5), 5, "kind"),
    ("kind_11", envelope(11, call_id=5), 5, "kind"),
    ("kind_255", envelope(255, call_id=5), 5, "kind"),
    # a status the kind cannot end a call with: ERROR needs 1-16,
    # STREAM_END 0-16
    ("error_status_0", envelope(ERROR, call_id=5, status=0), 5, "status"),
    ("error_status_17", envelope(ERROR, call_id=5, status=17), 5, "status"),
    ("error_status_max", envelope(ERROR, call_id=5, status=0xFFFFFFFF), 5,
     "status"),
    ("stream_end_status_17", envelope(STREAM_END, call_id=5, status=17), 5,
     "status"),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {"well_formed": [], "malformed": []}
    for name, fields in WELL_FORMED:
        data = envelope(**fields)
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(data)
        entry = {"file": name + ".bin", "kind": KIND_NAMES[fields["kind"]]}
        for key in ("call_id", "method_id", "schema_hash", "status",
                    "timeout_us", "credit"):
            entry[key] = fields.get(key, 0)
        entry["body_hex"] = fields.get("body", b"").hex()
        manifest["well_formed"].append(entry)
    for name, data, call_id, why in MALFORMED:
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(data)
        manifest["malformed"].append(
            {"file": name + ".bin", "call_id": call_id, "why": why})
    with open(os.path.join(OUT, "envelopes.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
