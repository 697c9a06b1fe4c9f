import asyncio, websockets, sys, time
async def one(n):
    c = 0
    async with websockets.connect("ws://127.0.0.1:18081/ws", max_size=None) as ws:
        end = time.time() + 25
        while time.time() < end:
            m = await ws.recv()
            if isinstance(m, bytes): c += 1
    return c
async def main():
    print(await asyncio.gather(*[one(i) for i in range(3)]))
asyncio.run(main())
