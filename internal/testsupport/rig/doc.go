// Package rig builds the parts of a wsbridge chain that tests outside
// serve, adcsim and vport run against: a simulated device on a real pty,
// and serve reading it. (It is apart from testsupport because the tests of
// serve, adcsim and vport import testsupport, so testsupport cannot import
// them.)
//
// Entry points: Device runs an adcsim device on a new pty and returns the
// pty's link; Serve runs serve.Run on a port and returns a
// testsupport.Served; DeviceAndServe does both. PubHub runs a relay with
// a network channel (/pub/NAME) per Wi-Fi device.
package rig
