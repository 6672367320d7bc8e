package doccheckfixtures

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// BombWidth and BombHeight are what BombPNG's header claims: decoding it
// would need 50000*50000*4 bytes = 10 GB.
const (
	BombWidth  = 50000
	BombHeight = 50000
)

// BombPNG is a small, well-formed PNG whose header claims 50000x50000 RGBA
// pixels, followed by the start of the pixel data (a few zero rows) as a
// real decompression bomb would have. A checker must refuse it from the
// header, before allocating anything of that size.
func BombPNG() []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], BombWidth)
	binary.BigEndian.PutUint32(ihdr[4:], BombHeight)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	writeChunk(&b, "IHDR", ihdr)

	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	row := make([]byte, 1+4*BombWidth) // filter byte + pixels
	for range 4 {
		zw.Write(row)
	}
	zw.Flush() // not Close: the stream goes on, as far as the decoder knows
	writeChunk(&b, "IDAT", z.Bytes())
	writeChunk(&b, "IEND", nil)
	return b.Bytes()
}

func writeChunk(b *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	b.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	b.Write(n[:])
}
