package doccheck

import (
	"bytes"
	"io"
)

// A file has exactly one type. An image followed by more data after its
// end marker (JPEG's EOI, PNG's IEND chunk) is a polyglot: a PDF, a ZIP or
// a script appended to a photo is read by other programs as that other
// file, while image viewers show the photo. So the image's structure is
// followed as the bytes stream past (segment lengths, entropy-coded data,
// chunk lengths) to find where the image really ends.

// maxTrailingSlack is how many bytes may follow the end marker: a few
// writers leave a newline or a short vendor tag there. Zero padding of
// any length is also accepted (some scanners pad to a block size): it
// cannot be another file.
const maxTrailingSlack = 64

// imageEnd follows a JPEG's or a PNG's structure over the bytes of the
// file, in order, to find where the image ends.
type imageEnd struct {
	png bool
	pos int64 // bytes seen

	// end is the offset just past the end marker, -1 until it is seen.
	end int64
	// trailing counts bytes after end; nonZero whether any was not 0.
	trailing int64
	nonZero  bool

	state    endState
	skip     int64 // bytes to skip before the next structure
	hdr      [8]byte
	hdrN     int
	afterSOS bool // the segment being skipped is a scan header
}

type endState uint8

const (
	stSignature  endState = iota // the first bytes: SOI or the PNG signature
	stMarker                     // JPEG: expecting 0xFF then a marker
	stMarkerCode                 // JPEG: after 0xFF
	stLength                     // JPEG: the 2-byte segment length; PNG: the 8-byte chunk header
	stEntropy                    // JPEG: entropy-coded data after a scan header
	stEntropyFF                  // JPEG: 0xFF inside entropy-coded data
	stDone
	stBroken // the structure is not followed any further
)

func newImageEnd(realType string) *imageEnd {
	return &imageEnd{png: realType == TypePNG, end: -1}
}

// trailingData reports whether data past the end marker is more than
// slack; false when the end was never found (the decoder judges those).
func (e *imageEnd) trailingData() bool {
	return e.end >= 0 && e.trailing > maxTrailingSlack && e.nonZero
}

func (e *imageEnd) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if e.state == stBroken {
			e.pos += int64(len(p))
			return n, nil
		}
		if e.skip > 0 {
			k := min(e.skip, int64(len(p)))
			e.skip -= k
			e.pos += k
			p = p[k:]
			continue
		}
		if e.state == stDone {
			e.trailing += int64(len(p))
			if !e.nonZero && len(bytes.Trim(p, "\x00")) > 0 {
				e.nonZero = true
			}
			e.pos += int64(len(p))
			return n, nil
		}
		if e.state == stEntropy {
			// Only 0xFF matters in entropy-coded data.
			i := bytes.IndexByte(p, 0xFF)
			if i < 0 {
				e.pos += int64(len(p))
				return n, nil
			}
			e.pos += int64(i + 1)
			p = p[i+1:]
			e.state = stEntropyFF
			continue
		}
		c := p[0]
		p = p[1:]
		e.pos++
		e.byte(c)
	}
	return n, nil
}

// byte advances the structure by one byte.
func (e *imageEnd) byte(c byte) {
	switch e.state {
	case stSignature:
		e.hdr[e.hdrN] = c
		e.hdrN++
		switch {
		case !e.png && e.hdrN == 2:
			e.hdrN = 0
			e.state = stBroken
			if e.hdr[0] == 0xFF && e.hdr[1] == 0xD8 {
				e.state = stMarker
			}
		case e.png && e.hdrN == 8:
			e.hdrN = 0
			e.state = stBroken
			if bytes.Equal(e.hdr[:], magicPNG) {
				e.state = stLength
			}
		}
	case stMarker:
		e.state = stBroken
		if c == 0xFF {
			e.state = stMarkerCode
		}
	case stMarkerCode, stEntropyFF:
		inEntropy := e.state == stEntropyFF
		switch {
		case c == 0xFF: // fill byte
		case inEntropy && (c == 0x00 || (c >= 0xD0 && c <= 0xD7)):
			e.state = stEntropy // stuffed byte or restart marker
		case c == 0xD9:
			e.finish()
		case c == 0x01 || (c >= 0xD0 && c <= 0xD8):
			e.state = stMarker // markers without a length
		default:
			e.afterSOS = c == 0xDA
			e.state = stLength
		}
	case stLength:
		e.hdr[e.hdrN] = c
		e.hdrN++
		if !e.png && e.hdrN == 2 {
			e.hdrN = 0
			l := int64(e.hdr[0])<<8 | int64(e.hdr[1])
			if l < 2 {
				e.state = stBroken
				return
			}
			e.skip = l - 2
			e.state = stMarker
			if e.afterSOS {
				e.state = stEntropy
			}
		}
		if e.png && e.hdrN == 8 {
			e.hdrN = 0
			l := int64(e.hdr[0])<<24 | int64(e.hdr[1])<<16 | int64(e.hdr[2])<<8 | int64(e.hdr[3])
			e.skip = l + 4 // data and CRC
			if string(e.hdr[4:8]) == "IEND" {
				e.end = e.pos + e.skip
				e.state = stDone
			}
		}
	}
}

func (e *imageEnd) finish() {
	e.end = e.pos
	e.state = stDone
}

// teeImageEnd returns a reader that feeds everything read through r to e.
func teeImageEnd(r io.Reader, e *imageEnd) io.Reader { return io.TeeReader(r, e) }
