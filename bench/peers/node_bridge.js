#!/usr/bin/env node
// Serial port -> WebSocket bridge, written the way a user would by hand.
//
// serialport reads the port (libuv, no thread of our own); each 'data'
// chunk is sent as one binary WebSocket message to every open client (ws,
// no per-message compression, no backpressure, no sequence numbers). The
// bytes are forwarded unchanged, so clients see the device's COBS stream.
//
// Usage: node node_bridge.js --port /dev/pts/5 --baud 921600 --listen 127.0.0.1:8766
'use strict';
const { SerialPort } = require('serialport');
const { WebSocketServer, WebSocket } = require('ws');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const path = arg('port');
if (!path) {
  console.error('--port is required');
  process.exit(2);
}
const baudRate = Number(arg('baud', '921600'));
const [host, port] = arg('listen', '127.0.0.1:8766').split(/:(?=[^:]*$)/);

const wss = new WebSocketServer({ host, port: Number(port), perMessageDeflate: false });
const serial = new SerialPort({ path, baudRate });

serial.on('data', (chunk) => {
  for (const ws of wss.clients) {
    if (ws.readyState === WebSocket.OPEN) ws.send(chunk);
  }
});
serial.on('error', (err) => {
  console.error('serial:', err.message);
  process.exit(1);
});
wss.on('listening', () => console.log('listening'));

function stop() {
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  serial.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
