package frametest

import (
	"encoding/hex"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// Case is one golden packet: the struct, the samples of a data frame
// (interleaved, as PutFloat takes them), the decoded packet bytes and the
// bytes on the serial line (COBS and the 0x00 delimiter).
//
// The bytes were checked against an independent CRC-32C and COBS
// implementation written from the published algorithms, not produced by this
// package's encoder alone.
type Case struct {
	Name   string
	Packet frame.Packet
	Values []float64
	Hex    string // decoded packet
	Serial string // COBS-encoded, with the trailing 0x00
}

// Bytes returns the decoded packet.
func (c *Case) Bytes() []byte { return mustHex(c.Hex) }

// SerialBytes returns the packet as it travels on the serial line.
func (c *Case) SerialBytes() []byte { return mustHex(c.Serial) }

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func counterFrom(start, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(start + i)
	}
	return v
}

// Golden is the table shared by the codec tests, the simulator tests and
// the firmware conformance test. Never change an entry: add new ones.
var Golden = []Case{
	{
		Name:   "u16 counter, one channel, seq 0",
		Packet: frame.Packet{Type: frame.TypeData, Frame: frame.Frame{Seq: 0, TimeUS: 0, Rate: 16000, Channels: 1, SampleType: frame.U16, Count: 4}},
		Values: []float64{0, 1, 2, 3},
		Hex:    "01011c00000000000000000000000000803e0000010104000000010002000300d83e11f1",
		Serial: "0401011c01010101010101010101010103803e0104010104010102010202020305d83e11f100",
	},
	{
		Name:   "i16 two channels, extremes",
		Packet: frame.Packet{Type: frame.TypeData, Frame: frame.Frame{Seq: 7, TimeUS: 437500, Rate: 16000, Channels: 2, SampleType: frame.I16, Count: 3}},
		Values: []float64{-1, 1000, -32768, 32767, 0, -2},
		Hex:    "0101200007000000fcac060000000000803e000002020300ffffe8030080ff7f0000feff6f8a8ab9",
		Serial: "040101200207010104fcac060101010103803e010402020305ffffe8030480ff7f0107feff6f8a8ab900",
	},
	{
		Name:   "i32 24-bit microphone, seq about to wrap",
		Packet: frame.Packet{Type: frame.TypeData, Frame: frame.Frame{Seq: 0xFFFFFFFF, TimeUS: 1 << 40, Rate: 48000, Channels: 1, SampleType: frame.I32, Count: 2}},
		Values: []float64{-8388608, 8388607},
		Hex:    "01011c00ffffffff000000000001000080bb000001030200000080ffffff7f0055d69234",
		Serial: "0401011c05ffffffff010101010201010380bb010401030201010680ffffff7f0555d6923400",
	},
	{
		Name:   "f32 two channels",
		Packet: frame.Packet{Type: frame.TypeData, Frame: frame.Frame{Seq: 42, TimeUS: 1000, Rate: 100, Channels: 2, SampleType: frame.F32, Count: 2}},
		Values: []float64{0.5, -1.25, 3, 1e6},
		Hex:    "010124002a000000e80300000000000064000000020402000000003f0000a0bf0000404000247449ba774893",
		Serial: "04010124022a010103e80301010101010264010104020402010101023f0103a0bf0103404008247449ba77489300",
	},
	{
		Name:   "u16 run of 400 non-zero bytes (COBS 0xFF block)",
		Packet: frame.Packet{Type: frame.TypeData, Frame: frame.Frame{Seq: 1, TimeUS: 12345, Rate: 8000, Channels: 1, SampleType: frame.U16, Count: 200}},
		Values: counterFrom(0x0101, 200),
		Hex: "0101a401010000003930000000000000401f00000101c8000101020103010401050106010701080109010a010b010c01" +
			"0d010e010f0110011101120113011401150116011701180119011a011b011c011d011e011f0120012101220123012401" +
			"250126012701280129012a012b012c012d012e012f0130013101320133013401350136013701380139013a013b013c01" +
			"3d013e013f0140014101420143014401450146014701480149014a014b014c014d014e014f0150015101520153015401" +
			"550156015701580159015a015b015c015d015e015f0160016101620163016401650166016701680169016a016b016c01" +
			"6d016e016f0170017101720173017401750176017701780179017a017b017c017d017e017f0180018101820183018401" +
			"850186018701880189018a018b018c018d018e018f0190019101920193019401950196019701980199019a019b019c01" +
			"9d019e019f01a001a101a201a301a401a501a601a701a801a901aa01ab01ac01ad01ae01af01b001b101b201b301b401" +
			"b501b601b701b801b901ba01bb01bc01bd01be01bf01c001c101c201c301c401c501c601c701c801d8203571",
		Serial: "060101a401010101033930010101010103401f01040101c8ff0101020103010401050106010701080109010a010b010c" +
			"010d010e010f0110011101120113011401150116011701180119011a011b011c011d011e011f01200121012201230124" +
			"01250126012701280129012a012b012c012d012e012f0130013101320133013401350136013701380139013a013b013c" +
			"013d013e013f0140014101420143014401450146014701480149014a014b014c014d014e014f01500151015201530154" +
			"01550156015701580159015a015b015c015d015e015f0160016101620163016401650166016701680169016a016b016c" +
			"016d016e016f0170017101720173017401750176017701780179017a017b017c017d017e017f01978001810182018301" +
			"8401850186018701880189018a018b018c018d018e018f0190019101920193019401950196019701980199019a019b01" +
			"9c019d019e019f01a001a101a201a301a401a501a601a701a801a901aa01ab01ac01ad01ae01af01b001b101b201b301" +
			"b401b501b601b701b801b901ba01bb01bc01bd01be01bf01c001c101c201c301c401c501c601c701c801d820357100",
	},
	{
		Name:   "device info",
		Packet: frame.Packet{Type: frame.TypeInfo, Info: frame.DeviceInfo{Rate: 16000, Channels: 2, SampleType: frame.I16, FrameSamples: 256, Name: "wsbridge-sim", Firmware: "0.1.0", ChannelInfo: []frame.Channel{{Name: "mic", Unit: "counts"}, {Name: "vbat", Unit: "mV"}}}},
		Values: nil,
		Hex: "01022f00803e0000020200010c77736272696467652d73696d05302e312e3002036d696306636f756e74730476626174" +
			"026d560215fcf9",
		Serial: "0401022f03803e010302022d010c77736272696467652d73696d05302e312e3002036d696306636f756e747304766261" +
			"74026d560215fcf900",
	},
	{
		Name:   "device log",
		Packet: frame.Packet{Type: frame.TypeLog, Text: []byte("boot ok")},
		Values: nil,
		Hex:    "01030700626f6f74206f6b86fc4089",
		Serial: "040103070c626f6f74206f6b86fc408900",
	},
	{
		Name:   "reply ok",
		Packet: frame.Packet{Type: frame.TypeReply, Status: frame.ReplyOK, Text: []byte("rate 8000")},
		Values: nil,
		Hex:    "01040a0000726174652038303030207c526a",
		Serial: "0401040a010e726174652038303030207c526a00",
	},
	{
		Name:   "reply error",
		Packet: frame.Packet{Type: frame.TypeReply, Status: frame.ReplyError, Text: []byte("unknown command \"foo\"")},
		Values: nil,
		Hex:    "0104160001756e6b6e6f776e20636f6d6d616e642022666f6f22a7f19480",
		Serial: "040104161b01756e6b6e6f776e20636f6d6d616e642022666f6f22a7f1948000",
	},
}
