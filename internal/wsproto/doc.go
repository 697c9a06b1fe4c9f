// Package wsproto defines the JSON text messages of the wsbridge WebSocket
// protocol, shared by the server (relay), the sink and tests. Binary
// messages are only data frames in the v1 packet layout (package frame);
// everything else travels as one JSON object per text message with a "type"
// field.
//
// Server to client: Hello (first, always), Status, Gap, Info, Log, Reply,
// Error, and in json/csv formats the frames themselves. Client to server:
// Command. ParseClientMessage validates what a client sends.
//
// docs/protocol.md documents every message with examples.
package wsproto
