package doccheck

import (
	"bytes"
	"encoding/binary"
	"mime"
	"strings"
)

// SniffLen is how many leading bytes Sniff needs at most.
const SniffLen = 16

var (
	magicJPEG = []byte{0xFF, 0xD8, 0xFF}
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
	magicPDF  = []byte("%PDF-")
)

// videoBrands are the ftyp major brands of camera and editor output we
// accept as MP4. It is an allow-list because the same ftyp box also starts
// HEIC/AVIF photos ("heic", "mif1", "avif") and audio ("M4A "), which are not
// videos.
var videoBrands = map[string]string{
	"qt  ": TypeQuickTime,
	"isom": TypeMP4, "iso2": TypeMP4, "iso3": TypeMP4, "iso4": TypeMP4,
	"iso5": TypeMP4, "iso6": TypeMP4, "mp41": TypeMP4, "mp42": TypeMP4,
	"avc1": TypeMP4, "M4V ": TypeMP4, "M4VH": TypeMP4, "M4VP": TypeMP4,
	"mmp4": TypeMP4, "MSNV": TypeMP4, "dash": TypeMP4,
}

// Sniff returns the real content type of a file from its first bytes (at
// least SniffLen of them when the file is that long), or "" when it is none
// of the types the engine checks. It never trusts names or declared types:
// the magic bytes must be at offset 0, so polyglots with a prefix fail.
func Sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, magicJPEG):
		return TypeJPEG
	case bytes.HasPrefix(head, magicPNG):
		return TypePNG
	case bytes.HasPrefix(head, magicPDF):
		return TypePDF
	}
	// ISO base media file: the first box must be a sane "ftyp" (size covers at
	// least the major brand and minor version).
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		if binary.BigEndian.Uint32(head) >= 16 {
			return videoBrands[string(head[8:12])]
		}
	}
	return ""
}

// declaredAliases maps spellings browsers and phones send to the canonical
// type Sniff returns.
var declaredAliases = map[string]string{
	"image/jpg":         TypeJPEG,
	"image/pjpeg":       TypeJPEG,
	"application/x-pdf": TypePDF,
}

// normalizeDeclared reduces a Content-Type header value to a bare,
// lower-case media type ("image/JPEG; q=1" -> "image/jpeg").
func normalizeDeclared(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(ct))
	}
	if a, ok := declaredAliases[mt]; ok {
		return a
	}
	return mt
}
