#!/usr/bin/python3
"""Serial port -> WebSocket bridge, written the way a user would by hand.

pyserial reads the port in a thread; each chunk is broadcast as one binary
WebSocket message to every connected client (websockets.broadcast: no
per-client queue, no backpressure, no sequence numbers). The bytes are
forwarded unchanged, so clients see the device's COBS stream.

Usage: py_bridge.py --port /dev/pts/5 --baud 921600 --listen 127.0.0.1:8765
Debian: python3-serial, python3-websockets (run with /usr/bin/python3).
"""
import argparse
import asyncio
import signal
import threading

import serial
import websockets

clients = set()


async def handler(ws, path=None):
    clients.add(ws)
    try:
        await ws.wait_closed()
    finally:
        clients.discard(ws)


def reader(ser, loop, stop):
    """Blocking reads in their own thread; hand each chunk to the loop."""
    while not stop.is_set():
        data = ser.read(ser.in_waiting or 1)
        if data:
            loop.call_soon_threadsafe(websockets.broadcast, clients, data)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", required=True)
    ap.add_argument("--baud", type=int, default=921600)
    ap.add_argument("--listen", default="127.0.0.1:8765")
    args = ap.parse_args()
    host, port = args.listen.rsplit(":", 1)

    ser = serial.Serial(args.port, args.baud, timeout=0.2)
    loop = asyncio.get_running_loop()
    stop = threading.Event()
    done = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.cancel)
    async with websockets.serve(handler, host, int(port), compression=None,
                                max_size=1 << 20):
        t = threading.Thread(target=reader, args=(ser, loop, stop), daemon=True)
        t.start()
        print("listening", flush=True)
        try:
            await done
        except asyncio.CancelledError:
            pass
    stop.set()
    ser.close()


if __name__ == "__main__":
    asyncio.run(main())
