"""Decode wsbridge v1 data frames from WebSocket binary messages (Python 3, stdlib only).

    python3 frame.py ws://127.0.0.1:8080/ws     # live: needs python3-websockets
    python3 frame.py --hex 01011c00...          # one packet given as hex
"""
import json
import struct
import sys

SAMPLE = {1: "H", 2: "h", 3: "i", 4: "f"}  # u16, i16, i32, f32
SAMPLE_NAME = {1: "u16", 2: "i16", 3: "i32", 4: "f32"}


def decode_frame(b: bytes) -> dict:
    """One binary message -> {seq, t_dev_us, rate, sample_type, samples: [[ch0...], [ch1...]]}."""
    version, ptype, body_len = struct.unpack_from("<BBH", b, 0)
    if version != 1 or ptype != 1 or len(b) != body_len + 8:
        raise ValueError("not a v1 data frame")
    seq, t_us, rate, channels, stype, count = struct.unpack_from("<IQIBBH", b, 4)
    values = struct.unpack_from("<%d%s" % (count * channels, SAMPLE[stype]), b, 24)
    return {"seq": seq, "t_dev_us": t_us, "rate": rate, "sample_type": SAMPLE_NAME[stype],
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


if __name__ == "__main__":
    if sys.argv[1] == "--hex":
        print(json.dumps(decode_frame(bytes.fromhex(sys.argv[2]))))
    else:
        import asyncio
        asyncio.run(follow(sys.argv[1]))
