package doccheck

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math"
)

// maxVideoBoxes caps the boxes walked: camera files have a handful at the
// top level and a few per track; a file of millions of empty boxes is junk.
const maxVideoBoxes = 100_000

var errVideoMalformed = errors.New("doccheck: malformed video container")

// videoScan collects what the box walk finds.
type videoScan struct {
	boxes     int
	moov      bool
	mvhd      bool
	timescale uint32
	duration  uint64 // in timescale units, from mvhd
	fragments uint64 // fragment duration from mvex/mehd (fragmented MP4)
	hasVideo  bool   // a track with handler "vide"
}

// checkVideo walks the boxes of an MP4/QuickTime file (ISO/IEC 14496-12) read
// from br, to its end. Only the few boxes needed are read into memory (mvhd,
// mehd, hdlr: under 40 bytes each); everything else, the media data above
// all, is skipped by streaming it to io.Discard (hashed on the way by Check),
// so memory stays flat for a 100 MB video, and moov may come before or after
// mdat.
func checkVideo(res *Result, spec Spec, br *bufio.Reader) {
	v := &videoScan{}
	err := v.walk(br, -1, "")
	if err != nil || !v.moov || !v.mvhd || v.timescale == 0 {
		res.add(findUnreadable(res.RealType))
		return
	}
	d := v.duration
	if d == 0 {
		d = v.fragments
	}
	secs := float64(d) / float64(v.timescale)
	if secs > maxVideoSeconds {
		// No office tour lasts days: a header claiming so is corrupt or
		// forged, and trusting it would pass any file as "long enough".
		res.add(findUnreadable(res.RealType))
		return
	}
	res.Metrics["durationSeconds"] = round2(secs)
	if !v.hasVideo {
		res.add(findVideoNoTrack())
	}
	if secs < spec.MinVideoSeconds {
		res.add(findVideoTooShort(secs, spec.MinVideoSeconds))
	}
}

// maxVideoSeconds bounds a believable duration (24 hours).
const maxVideoSeconds = 24 * 60 * 60

// walk reads the boxes in r, which holds limit bytes (limit < 0: up to EOF,
// for the top level). parent is the type of the enclosing box ("" at the top).
func (v *videoScan) walk(r io.Reader, limit int64, parent string) error {
	for limit != 0 {
		var hdr [16]byte
		n, err := io.ReadFull(r, hdr[:8])
		if limit < 0 && n == 0 && err == io.EOF {
			return nil
		}
		if err != nil {
			return errVideoMalformed
		}
		if v.boxes++; v.boxes > maxVideoBoxes {
			return errVideoMalformed
		}
		size, typ, hl := uint64(binary.BigEndian.Uint32(hdr[:4])), string(hdr[4:8]), uint64(8)
		toEnd := false
		switch size {
		case 1: // 64-bit size follows the type
			if _, err := io.ReadFull(r, hdr[8:16]); err != nil {
				return errVideoMalformed
			}
			size, hl = binary.BigEndian.Uint64(hdr[8:16]), 16
		case 0: // the box runs to the end of its parent (or of the file)
			toEnd = true
			if limit >= 0 {
				size = uint64(limit)
			}
		}
		payload := int64(-1) // to EOF
		if !toEnd || limit >= 0 {
			if size < hl || size > math.MaxInt64 || (limit >= 0 && size > uint64(limit)) {
				return errVideoMalformed
			}
			if limit >= 0 {
				limit -= int64(size)
			}
			payload = int64(size - hl)
		}
		if err := v.box(r, parent, typ, payload); err != nil {
			return err
		}
		if payload < 0 {
			return nil
		}
	}
	return nil
}

// box handles one box whose header has been read; payload < 0 means "to
// EOF". Every path consumes the whole payload.
func (v *videoScan) box(r io.Reader, parent, typ string, payload int64) error {
	switch parent + "/" + typ {
	case "/moov":
		v.moov = true
		return v.walkIn(r, typ, payload)
	case "moov/trak", "trak/mdia", "moov/mvex":
		return v.walkIn(r, typ, payload)
	case "moov/mvhd":
		return v.readFields(r, payload, v.mvhdFields)
	case "mvex/mehd":
		return v.readFields(r, payload, v.mehdFields)
	case "mdia/hdlr":
		return v.readFields(r, payload, v.hdlrFields)
	}
	return skip(r, payload)
}

func (v *videoScan) walkIn(r io.Reader, typ string, payload int64) error {
	if payload < 0 {
		return v.walk(r, -1, typ)
	}
	return v.walk(io.LimitReader(r, payload), payload, typ)
}

// readFields reads the start of a small full box (at most 32 bytes), hands it
// to parse, and skips the rest of the payload.
func (v *videoScan) readFields(r io.Reader, payload int64, parse func([]byte) error) error {
	var buf [32]byte
	n := int64(len(buf))
	if payload >= 0 && payload < n {
		n = payload
	}
	got, err := io.ReadFull(r, buf[:n])
	if err != nil && !(payload < 0 && err == io.ErrUnexpectedEOF) {
		return errVideoMalformed
	}
	if err := parse(buf[:got]); err != nil {
		return err
	}
	if payload < 0 {
		return skip(r, -1)
	}
	return skip(r, payload-int64(got))
}

// mvhdFields reads the movie's timescale and duration (version 0: 32-bit
// times, version 1: 64-bit).
func (v *videoScan) mvhdFields(p []byte) error {
	if v.mvhd { // only the first counts
		return nil
	}
	switch {
	case len(p) >= 20 && p[0] == 0:
		v.timescale = binary.BigEndian.Uint32(p[12:16])
		v.duration = uint64(binary.BigEndian.Uint32(p[16:20]))
		if v.duration == math.MaxUint32 { // "unknown"
			v.duration = 0
		}
	case len(p) >= 32 && p[0] == 1:
		v.timescale = binary.BigEndian.Uint32(p[20:24])
		v.duration = binary.BigEndian.Uint64(p[24:32])
		if v.duration == math.MaxUint64 {
			v.duration = 0
		}
	default:
		return errVideoMalformed
	}
	v.mvhd = true
	return nil
}

// mehdFields reads the total duration of a fragmented movie.
func (v *videoScan) mehdFields(p []byte) error {
	switch {
	case len(p) >= 8 && p[0] == 0:
		v.fragments = uint64(binary.BigEndian.Uint32(p[4:8]))
	case len(p) >= 12 && p[0] == 1:
		v.fragments = binary.BigEndian.Uint64(p[4:12])
	default:
		return errVideoMalformed
	}
	return nil
}

// hdlrFields notes a video track (handler type "vide").
func (v *videoScan) hdlrFields(p []byte) error {
	if len(p) < 12 {
		return errVideoMalformed
	}
	if string(p[8:12]) == "vide" {
		v.hasVideo = true
	}
	return nil
}

// skip discards n bytes of r (n < 0: to EOF) without buffering them; a short
// box means a truncated file.
func skip(r io.Reader, n int64) error {
	if n < 0 {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	if got, _ := io.CopyN(io.Discard, r, n); got < n {
		return errVideoMalformed
	}
	return nil
}
