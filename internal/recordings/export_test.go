package recordings

// Heads is heads, for the tests' rig: the Options.Channel that serve uses.
var Heads = heads
