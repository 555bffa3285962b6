#!/usr/bin/python3
"""Writes tests/vectors/messages/: shmrpc.test.Everything messages
(tests/proto/shmrpc/test/everything.proto) encoded by Google's Python
protobuf library, an implementation independent of the code under test.

Each vector is <name>.bin (the encoding) and <name>.txt (the same message in
protobuf text format, for humans). Encodings are deterministic (map entries
sorted by key) and canonical (fields in number order, scalars packed), so a
conforming decoder followed by an encoder reproduces them byte for byte.

Run with Debian's /usr/bin/python3 (it has python3-protobuf); needs protoc.
Regenerate only when the test schema changes on purpose.
"""
import math
import os
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.join(HERE, "..", "proto")
OUT = os.path.join(HERE, "messages")

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT32_MAX, UINT64_MAX = 2**32 - 1, 2**64 - 1


def load_everything():
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "set.pb")
        subprocess.run(
            ["protoc", "-I" + PROTO_ROOT, "--include_imports", "--descriptor_set_out=" + out,
             "shmrpc/test/everything.proto"],
            check=True)
        with open(out, "rb") as f:
            files = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    return message_factory.MessageFactory(pool).GetPrototype(
        pool.FindMessageTypeByName("shmrpc.test.Everything"))


def fill_scalars(s, big):
    """Every scalar at its largest (big) or smallest magnitude-negative value."""
    s.f_double = 1.7976931348623157e308 if big else -4.9e-324
    s.f_float = 3.4028234663852886e38 if big else -1.401298464324817e-45
    s.f_int64 = INT64_MAX if big else INT64_MIN
    s.f_uint64 = UINT64_MAX if big else 1
    s.f_int32 = INT32_MAX if big else INT32_MIN
    s.f_fixed64 = UINT64_MAX if big else 1
    s.f_fixed32 = UINT32_MAX if big else 1
    s.f_bool = True
    s.f_string = "max" if big else "min"
    s.f_bytes = b"\xff" * 3 if big else b"\x00"
    s.f_uint32 = UINT32_MAX if big else 1
    s.f_sfixed32 = INT32_MAX if big else INT32_MIN
    s.f_sfixed64 = INT64_MAX if big else INT64_MIN
    s.f_sint32 = INT32_MAX if big else INT32_MIN
    s.f_sint64 = INT64_MAX if big else INT64_MIN
    s.f_enum = 2 if big else -1


def full(m):
    fill_scalars(m.scalars, True)
    o = m.optionals
    o.o_double = 0.0
    o.o_int64 = 0
    o.o_int32 = -7
    o.o_bool = False
    o.o_string = ""
    o.o_bytes = b""
    o.o_sint32 = -1
    o.o_enum = 0
    o.o_money.currency = "JPY"
    r = m.repeateds
    r.r_double.extend([0.5, -0.0, math.inf, -math.inf])
    r.r_float.extend([1.5, -2.25])
    r.r_int64.extend([0, -1, INT64_MAX, INT64_MIN])
    r.r_uint64.extend([0, 1, UINT64_MAX])
    r.r_int32.extend([0, -1, 127, 128, 16384, INT32_MIN])
    r.r_fixed64.extend([0, UINT64_MAX])
    r.r_fixed32.extend([7, UINT32_MAX])
    r.r_bool.extend([True, False, True])
    r.r_string.extend(["", "a", "ünïcödé"])
    r.r_bytes.extend([b"", b"\x00\x01", bytes(range(200))])
    r.r_uint32.extend([1, UINT32_MAX])
    r.r_sfixed32.extend([-1, INT32_MAX])
    r.r_sfixed64.extend([-1, INT64_MIN])
    r.r_sint32.extend([-1, 1, INT32_MIN, INT32_MAX])
    r.r_sint64.extend([-1, 1, INT64_MIN, INT64_MAX])
    r.r_enum.extend([0, 1, 2, -1, 99])
    r.r_money.add(currency="EUR", units=1, nanos=500000000)
    r.r_money.add()
    r.r_int32_unpacked.extend([1, -2, 300])
    r.r_double_unpacked.extend([2.5, -1e-300])
    mp = m.maps
    mp.string_to_string["a"] = "alpha"
    mp.string_to_string["b"] = ""
    mp.int32_to_int64[1] = INT64_MIN
    mp.int32_to_int64[2] = 0
    mp.int64_to_money[5].currency = "CHF"
    mp.int64_to_money[6].units = -3
    mp.uint32_to_bytes[0] = b"\x01\x02"
    mp.uint64_to_double[3] = 0.25
    mp.sint32_to_bool[4] = True
    mp.sint64_to_float[9] = -1.5
    mp.fixed32_to_color[10] = 1
    mp.fixed64_to_sint32[11] = -11
    mp.sfixed32_to_fixed64[12] = UINT64_MAX
    mp.sfixed64_to_string[13] = "thirteen"
    mp.bool_to_uint32[False] = 0
    mp.bool_to_uint32[True] = 1
    m.oneofs.before = "b"
    m.oneofs.money.currency = "GBP"
    m.oneofs.money.units = 12
    m.oneofs.ratio = 0.125
    m.oneofs.after = "a"
    m.outer.inner.deepest.note = "deep"
    m.outer.inner.deepest.level = 1
    m.outer.inner.many.add(note="first")
    m.outer.inner.many.add(level=1)
    m.outer.level = 1
    m.outer.by_name["x"].deepest.note = "in a map"
    m.outer.by_name["y"].many.add()
    m.tree.label = "root"
    child = m.tree.children.add(label="a")
    child.children.add(label="a1").children.add(label="a1x")
    m.tree.children.add(label="b")
    m.created_at.seconds = 1700000000
    m.created_at.nanos = 123456789
    m.ttl.seconds = -5
    m.ttl.nanos = -500
    m.nothing.SetInParent()
    m.far_away = "far"
    m.farthest = UINT32_MAX


def unicode_strings(m):
    # No U+0000: nanopb strings are NUL-terminated (codegen/README.md).
    m.scalars.f_string = "héllo ✓ 😀 end"
    m.repeateds.r_string.extend([
        "\ufeffBOM kept",
        "日本語のテキスト" * 12,  # long: past the short-string fast path
        "x" * 300,
        "\U0010ffff",
    ])
    m.repeateds.r_bytes.append(bytes(range(256)) * 4)
    m.far_away = "é" * 100


def oneof_variant(member, value):
    def build(m):
        if member == "money":
            m.oneofs.money.SetInParent()
        else:
            setattr(m.oneofs, member, value)
        m.oneofs.flag = False
    return build


def special_floats(m):
    m.scalars.f_double = math.nan
    m.scalars.f_float = -0.0
    m.repeateds.r_double.extend([math.nan, -0.0, 0.0])
    m.optionals.o_double = -0.0


def deep_tree(m):
    node = m.tree
    for depth in range(40):
        node.label = str(depth)
        node = node.children.add()


VECTORS = {
    "empty": lambda m: None,
    "scalars_max": lambda m: fill_scalars(m.scalars, True),
    "scalars_min": lambda m: fill_scalars(m.scalars, False),
    "full": full,
    "unicode": unicode_strings,
    "special_floats": special_floats,
    "deep_tree": deep_tree,
    "oneof_number_zero": oneof_variant("number", 0),
    "oneof_text_empty": oneof_variant("text", ""),
    "oneof_money_empty": oneof_variant("money", None),
    "oneof_blob_empty": oneof_variant("blob", b""),
    "oneof_color_zero": oneof_variant("color", 0),
    "oneof_big_min": oneof_variant("big", INT64_MIN),
}


def main():
    everything = load_everything()
    os.makedirs(OUT, exist_ok=True)
    for name, build in VECTORS.items():
        m = everything()
        build(m)
        data = m.SerializeToString(deterministic=True)
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(data)
        with open(os.path.join(OUT, name + ".txt"), "w", encoding="utf-8") as f:
            f.write("# shmrpc.test.Everything, %d bytes\n" % len(data))
            f.write(text_format.MessageToString(m, as_utf8=True))
    print("wrote %d vectors to %s" % (len(VECTORS), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
