package adcsim

import "math"

// romBoot is what an ESP32's ROM prints after reset, at 74880 baud.
const romBoot = "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n" +
	"configsip: 0, SPIWP:0xee\r\nclk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\n" +
	"mode:DIO, clock div:1\r\nload:0x3fff0030,len:1184\r\nload:0x40078000,len:13232\r\n" +
	"load:0x40080400,len:3028\r\nentry 0x400805e4\r\n"

// appendBoot queues what the device sends after reset: with --boot-garbage
// the ROM log as it looks at the wrong baud rate (no 0x00, \n or \r in it),
// then the delimiter that lets a receiver resynchronise (0x00 on the frames
// wire, as docs/protocol.md asks of every sender, \n on the text wire).
func (d *Device) appendBoot() {
	if d.cfg.BootGarbage {
		start := len(d.out)
		for i := 0; i < len(romBoot); i++ {
			d.out = append(d.out, d.garbageByte(romBoot[i]))
		}
		d.count(func(s *Stats) { s.GarbageBytes += uint64(len(d.out) - start) })
	}
	if d.text {
		if d.cfg.BootGarbage {
			d.out = append(d.out, '\n')
		}
		return
	}
	d.out = append(d.out, 0)
}

// garbageByte misreads c the way a UART at the wrong rate does: mostly
// high-bit junk, some stray ASCII.
func (d *Device) garbageByte(c byte) byte {
	for {
		b := c ^ byte(d.rng.IntN(256))
		if d.rng.IntN(10) < 7 {
			b |= 0x80
		}
		if b != 0 && b != '\n' && b != '\r' {
			return b
		}
	}
}

// geom is the number of bytes to pass before the next flip: geometric with
// parameter --corrupt-rate, so each byte is hit with that probability.
func (d *Device) geom() int64 {
	p := d.cfg.CorruptRate
	switch {
	case p <= 0:
		return math.MaxInt64
	case p >= 1:
		return 0
	}
	u := 1 - d.rng.Float64() // (0, 1]
	return int64(math.Log(u) / math.Log1p(-p))
}

// corrupt flips bytes of one encoded packet or group of text lines b
// (which ends with its delimiter) and returns how many. The delimiter
// (0x00, or \n on the text wire) is never hit and never produced on the
// text wire, so each hit costs exactly the packet it lands in.
func (d *Device) corrupt(b []byte) int {
	if d.cfg.CorruptRate <= 0 {
		return 0
	}
	if !d.text {
		b = b[:len(b)-1]
	}
	flipped := 0
	for j := range b {
		if d.text && b[j] == '\n' {
			continue
		}
		if d.nextFlip > 0 {
			d.nextFlip--
			continue
		}
		x := byte(1 + d.rng.IntN(255))
		for d.text && b[j]^x == '\n' {
			x = byte(1 + d.rng.IntN(255))
		}
		b[j] ^= x
		flipped++
		d.nextFlip = d.geom()
	}
	return flipped
}
