"""Decode wsbridge v1 data frames from WebSocket binary messages (Python 3, stdlib only).

    python3 frame.py ws://127.0.0.1:8080/ws     # live: needs python3-websockets
    python3 frame.py --hex 01011c00...          # one packet given as hex
    python3 frame.py --hex - < packets.txt      # one packet in hex per line

A packet the decoder refuses raises FrameError; its kind names the fault as
internal/frame/frametest/golden.json does: short, too_large, version,
length, crc, type, sample_type.
"""
import json
import struct
import sys

SAMPLE = {1: ("u16", "H", 2), 2: ("i16", "h", 2), 3: ("i32", "i", 4), 4: ("f32", "f", 4)}
MAX_PACKET = 65536  # prefix (4) + body + CRC-32C (4)
DATA_HEADER = 20


class FrameError(ValueError):
    """A packet the decoder refuses; kind names the fault."""

    def __init__(self, kind: str, message: str):
        super().__init__("%s: %s" % (kind, message))
        self.kind = kind


def _crc_table() -> list:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def crc32c(b: bytes) -> int:
    """CRC-32C (Castagnoli), as the packet trailer carries it."""
    c = 0xFFFFFFFF
    for x in b:
        c = CRC_TABLE[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def check_packet(b: bytes) -> int:
    """Check size, version, length field and CRC; return the packet type."""
    if len(b) < 8:
        raise FrameError("short", "packet of %d bytes" % len(b))
    if len(b) > MAX_PACKET:
        raise FrameError("too_large", "packet of %d bytes, at most %d" % (len(b), MAX_PACKET))
    version, ptype, body_len = struct.unpack_from("<BBH", b, 0)
    if version != 1:
        raise FrameError("version", "version %d, want 1" % version)
    if body_len + 8 != len(b):
        raise FrameError("length", "length field %d, packet %d bytes" % (body_len, len(b)))
    (want,) = struct.unpack_from("<I", b, len(b) - 4)
    if crc32c(b[:-4]) != want:
        raise FrameError("crc", "CRC-32C mismatch")
    if ptype not in (1, 2, 3, 4):
        raise FrameError("type", "unknown packet type 0x%02x" % ptype)
    return ptype


def decode_frame(b: bytes) -> dict:
    """One binary message -> {seq, t_dev_us, rate, sample_type, samples: [[ch0...], [ch1...]]}."""
    if check_packet(b) != 1:
        raise FrameError("type", "packet type 0x%02x is not a data frame" % b[1])
    if len(b) - 8 < DATA_HEADER:
        raise FrameError("short", "data body of %d bytes" % (len(b) - 8))
    seq, t_us, rate, channels, stype, count = struct.unpack_from("<IQIBBH", b, 4)
    if stype not in SAMPLE:
        raise FrameError("sample_type", "unknown sample type 0x%02x" % stype)
    name, code, size = SAMPLE[stype]
    payload = len(b) - 8 - DATA_HEADER
    if channels == 0 or payload != count * channels * size:
        raise FrameError("length", "%d channels x %d %s samples in %d bytes" % (channels, count, name, payload))
    values = struct.unpack_from("<%d%s" % (count * channels, code), b, 24)
    return {"seq": seq, "t_dev_us": t_us, "rate": rate, "sample_type": name,
            "samples": [list(values[c::channels]) for c in range(channels)]}


async def follow(url: str) -> None:
    import websockets  # Debian: python3-websockets
    async with websockets.connect(url, max_size=None) as ws:
        async for msg in ws:
            if isinstance(msg, bytes):
                f = decode_frame(msg)
                print(f["seq"], f["rate"], [ch[:4] for ch in f["samples"]])
            else:
                print("message:", json.loads(msg))  # hello, status, gap, ...


def print_hex(h: str) -> bool:
    """Decode one packet given in hex and print it as JSON, or the error."""
    try:
        print(json.dumps(decode_frame(bytes.fromhex(h))))
        return True
    except FrameError as e:
        print("error %s" % e)
        return False


if __name__ == "__main__":
    if sys.argv[1] == "--hex":
        lines = [h.strip() for h in sys.stdin if h.strip()] if sys.argv[2] == "-" else [sys.argv[2]]
        ok = [print_hex(h) for h in lines]
        sys.exit(0 if all(ok) else 1)
    else:
        import asyncio
        asyncio.run(follow(sys.argv[1]))
