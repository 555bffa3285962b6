#!/usr/bin/env python3
"""Writes the channel golden vectors in tests/vectors/channel/.

This is a third, deliberately naive implementation of docs/PROTOCOL.md
sections 1-3, independent of the C and TypeScript code that is tested
against its output. Run it only when the protocol changes on purpose; the
files it writes are checked in and described in tests/vectors/README.md.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "channel")
TEXT, BINARY, COMMAND, MORE = 0, 1, 2, 0x80


def frame(type_byte, payload):
    return bytes([type_byte]) + struct.pack(">I", len(payload)) + payload


def fragments(type_, payload, capacity):
    """The reference split: fragment frames of capacity/4 bytes."""
    if 5 + len(payload) <= capacity:
        return frame(type_, payload)
    step = capacity // 4 - 5
    chunks = [payload[i:i + step] for i in range(0, len(payload), step)]
    return b"".join(
        frame(type_ | (MORE if i < len(chunks) - 1 else 0), c)
        for i, c in enumerate(chunks))


def segment(c0, c1, max_message, ring0_bytes, ring0_head, ring0_tail):
    """A segment whose ring 0 holds `ring0_bytes` between head and tail."""
    seg = bytearray(384 + c0 + c1)
    struct.pack_into("<4sHHIIII", seg, 0, b"SHMR", 1, 0, c0, c1, 384 + c0 + c1, 0)
    struct.pack_into("<IIII", seg, 64, 1, 1, max_message, max_message)
    struct.pack_into("<I", seg, 128 + 0, ring0_tail)
    struct.pack_into("<I", seg, 128 + 64, ring0_head)
    for i, b in enumerate(ring0_bytes):
        seg[384 + ((ring0_head + i) & (c0 - 1))] = b
    return bytes(seg)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    write("frame_text_hi.bin", frame(TEXT, b"hi"))
    write("frame_text_utf8.bin", frame(TEXT, "h\u00e9llo \u2713".encode()))
    write("frame_binary_empty.bin", frame(BINARY, b""))
    write("frame_binary_256.bin", frame(BINARY, bytes(range(256))))
    write("frame_command.bin", frame(COMMAND, bytes([1, 2, 3])))
    write("fragments_binary_100_cap64.bin",
          fragments(BINARY, bytes(range(100)), 64))
    # Ring 0 of a 64/64 segment after 75 bytes were published and 50
    # consumed, then one more frame: the last two frames wrap the data end.
    pending = frame(BINARY, bytes(range(20, 40))) + frame(TEXT, b"wrap-around!")
    write("segment_64_wrapped.bin",
          segment(64, 64, 65536, pending, ring0_head=50,
                  ring0_tail=50 + len(pending)))
    # An empty, freshly initialized segment (both states ABSENT).
    empty = bytearray(segment(64, 128, 0, b"", 0, 0))
    struct.pack_into("<IIII", empty, 64, 0, 0, 0, 0)
    write("segment_init_64_128.bin", bytes(empty))


if __name__ == "__main__":
    main()
