#pragma once
#include <stdint.h>
// Fake esp_random(): a fixed boot id, changed by the script ("reboot" is not
// simulated; FAKE_BOOT_ID overrides it at build time).
#ifndef FAKE_BOOT_ID
#define FAKE_BOOT_ID 0x5e2a91c0u
#endif
static inline uint32_t esp_random(void) { return FAKE_BOOT_ID; }
