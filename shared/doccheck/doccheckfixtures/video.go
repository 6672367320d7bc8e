package doccheckfixtures

import (
	"bytes"
	"encoding/binary"
)

// box is an ISO base media box: size, type, payload.
func box(typ string, payload ...[]byte) []byte {
	n := 8
	for _, p := range payload {
		n += len(p)
	}
	b := binary.BigEndian.AppendUint32(make([]byte, 0, n), uint32(n))
	b = append(b, typ...)
	for _, p := range payload {
		b = append(b, p...)
	}
	return b
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// mvhd builds a movie header of version 0 (32-bit times) or 1 (64-bit).
func mvhd(version byte, timescale uint32, duration uint64) []byte {
	var b []byte
	b = append(b, version, 0, 0, 0)
	if version == 1 {
		b = append(b, u64(0)...) // creation
		b = append(b, u64(0)...) // modification
		b = append(b, u32(timescale)...)
		b = append(b, u64(duration)...)
	} else {
		b = append(b, u32(0)...)
		b = append(b, u32(0)...)
		b = append(b, u32(timescale)...)
		b = append(b, u32(uint32(duration))...)
	}
	b = append(b, u32(0x00010000)...)  // rate 1.0
	b = append(b, 0x01, 0x00)          // volume 1.0
	b = append(b, make([]byte, 10)...) // reserved
	b = append(b, identityMatrix()...) // matrix
	b = append(b, make([]byte, 24)...) // pre_defined
	b = append(b, u32(2)...)           // next_track_ID
	return box("mvhd", b)
}

func identityMatrix() []byte {
	var b []byte
	for _, v := range []uint32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000} {
		b = append(b, u32(v)...)
	}
	return b
}

// videoTrack is a trak with a "vide" handler; sample tables are omitted,
// which the check does not read.
func videoTrack(timescale uint32, duration uint64) []byte {
	tkhd := box("tkhd", []byte{0, 0, 0, 3}, u32(0), u32(0), u32(1), u32(0), u32(uint32(duration)),
		make([]byte, 8), make([]byte, 8), identityMatrix(), u32(1280<<16), u32(720<<16))
	mdhd := box("mdhd", []byte{0, 0, 0, 0}, u32(0), u32(0), u32(timescale), u32(uint32(duration)), []byte{0x55, 0xc4, 0, 0})
	hdlr := box("hdlr", []byte{0, 0, 0, 0}, u32(0), []byte("vide"), make([]byte, 12), []byte("VideoHandler\x00"))
	minf := box("minf", box("vmhd", []byte{0, 0, 0, 1}, make([]byte, 8)))
	return box("trak", tkhd, box("mdia", mdhd, hdlr, minf))
}

// mdat is a media data box with a deterministic pseudo-random payload.
func mdat(n int) []byte {
	p := make([]byte, n)
	x := uint32(2463534242)
	for i := range p {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		p[i] = byte(x)
	}
	return box("mdat", p)
}

// MP4 is an MP4 ("isom" brand) of the given duration: ftyp, then moov with a
// version-0 mvhd (timescale 1000) and one video track, then 16 KB of media
// data. The office video needs 10 s: MP4(5) fails, MP4(15) passes.
func MP4(seconds int) []byte {
	ftyp := box("ftyp", []byte("isom"), u32(512), []byte("isomiso2avc1mp41"))
	moov := box("moov", mvhd(0, 1000, uint64(seconds)*1000), videoTrack(1000, uint64(seconds)*1000))
	return bytes.Join([][]byte{ftyp, moov, mdat(16 << 10)}, nil)
}

// MOV is a QuickTime movie ("qt  " brand) as an iPhone writes it: media data
// first, the moov box after it, and a version-1 mvhd (timescale 600).
func MOV(seconds int) []byte {
	ftyp := box("ftyp", []byte("qt  "), u32(0), []byte("qt  "))
	moov := box("moov", mvhd(1, 600, uint64(seconds)*600), videoTrack(600, uint64(seconds)*600))
	return bytes.Join([][]byte{ftyp, box("wide"), mdat(16 << 10), moov}, nil)
}
