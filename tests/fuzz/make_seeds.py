#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from the golden vectors.

Usage: make_seeds.py VECTORS_DIR OUT_DIR

Writes OUT_DIR/<target>/<name> for every target in tests/fuzz, each in the
input format its harness reads (see the comment at the top of each
fuzz_*.c). Deterministic; safe to run again.
"""
import os
import struct
import sys


def frames(stream):
    """Splits a frame stream into (type byte, payload)."""
    out = []
    at = 0
    while at + 5 <= len(stream):
        length = struct.unpack(">I", stream[at + 1:at + 5])[0]
        out.append((stream[at], stream[at + 5:at + 5 + length]))
        at += 5 + length
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    vectors, out = sys.argv[1], sys.argv[2]
    channel = os.path.join(vectors, "channel")
    rpc = os.path.join(vectors, "rpc")
    messages = os.path.join(vectors, "messages")
    streams = {name: read(os.path.join(channel, name))
               for name in sorted(os.listdir(channel))
               if name.startswith(("frame", "fragments"))}
    envelopes = {name: read(os.path.join(rpc, name))
                 for name in sorted(os.listdir(rpc)) if name.endswith(".bin")}
    seeds = {t: {} for t in ("fuzz_frame", "fuzz_reassembly",
                             "fuzz_channel_segment", "fuzz_rpc_dispatch",
                             "fuzz_nanopb_decode")}

    for name, stream in streams.items():
        seeds["fuzz_frame"][name] = stream
        # reassembly: capacity selector, u16 limit, then per frame its type
        # byte, a u16 little-endian length and the payload.
        body = b"".join(bytes([t]) + struct.pack("<H", len(p)) + p
                        for t, p in frames(stream))
        seeds["fuzz_reassembly"][name] = bytes([0]) + struct.pack("<H", 1000) + body
        # channel_segment: capacity selector, u16 limit, then operations:
        # 0 = write (length - 1, bytes), 1 = publish, 4 = dispatch.
        ops = b""
        for at in range(0, len(stream), 60):
            chunk = stream[at:at + 60]
            ops += bytes([0, len(chunk) - 1]) + chunk + bytes([1, 4])
        seeds["fuzz_channel_segment"][name] = bytes([0]) + struct.pack("<H", 1000) + ops

    # A whole segment image (a wrapped ring) scribbled in word by word
    # (operation 2: u16 word index, u32 value), then dispatched.
    image = read(os.path.join(channel, "segment_64_wrapped.bin"))
    ops = b""
    for word in range(len(image) // 4):
        value = image[4 * word:4 * word + 4]
        if value != b"\0\0\0\0":
            ops += bytes([2]) + struct.pack("<H", word) + value
    seeds["fuzz_channel_segment"]["segment_64_wrapped"] = (
        bytes([0]) + struct.pack("<H", 65535) + ops + bytes([4, 3]))

    # rpc_dispatch: messages as u16 length + bytes, alone and as a session.
    for name, env in envelopes.items():
        seeds["fuzz_rpc_dispatch"][name] = struct.pack("<H", len(env)) + env
    session = ["request_echo.bin", "request_count.bin", "credit.bin",
               "cancel.bin", "request_max_fields.bin"]
    seeds["fuzz_rpc_dispatch"]["session"] = b"".join(
        struct.pack("<H", len(envelopes[n])) + envelopes[n] for n in session)

    # nanopb_decode: type index (fuzz_nanopb_decode.c's table) + encoding.
    for name in sorted(os.listdir(messages)):
        if name.endswith(".bin"):
            seeds["fuzz_nanopb_decode"][name] = bytes([0]) + read(os.path.join(messages, name))
    bodies = {"request_echo.bin": 10, "response.bin": 11, "request_count.bin": 12}
    for name, index in bodies.items():
        seeds["fuzz_nanopb_decode"][name] = bytes([index]) + envelopes[name][28:]

    # Inputs that once failed (tests/fuzz/regressions/<target>/) run first
    # in every run, short ones included.
    regressions = os.path.join(os.path.dirname(os.path.abspath(__file__)), "regressions")
    for target in seeds:
        folder = os.path.join(regressions, target)
        if os.path.isdir(folder):
            for name in sorted(os.listdir(folder)):
                seeds[target]["regression-" + name] = read(os.path.join(folder, name))

    for target, files in seeds.items():
        folder = os.path.join(out, target)
        os.makedirs(folder, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
