package doccheck

import (
	"bufio"
	"bytes"
	"errors"
	"image/jpeg"
	"image/png"
	"io"
)

// maxImageHeader caps how many bytes DecodeConfig may consume looking for
// the dimensions. Real JPEG headers (EXIF with thumbnail, ICC profile, XMP)
// stay well under it; a file that pads the header further is refused rather
// than buffered.
const maxImageHeader = 1 * mib

var errHeaderTooLong = errors.New("doccheck: image header too long")

// checkImage validates a JPEG or PNG read from br (positioned at the start of
// the file): dimensions from the header first, so a hostile header (a PNG
// claiming 50000x50000) is refused before a single pixel buffer exists; then
// the decode, clarity and exposure. It returns early at the first failure
// that makes the rest meaningless; the caller drains br afterwards.
func checkImage(res *Result, spec Spec, br *bufio.Reader) {
	decodeConfig, decode := jpeg.DecodeConfig, jpeg.Decode
	if res.RealType == TypePNG {
		decodeConfig, decode = png.DecodeConfig, png.Decode
	}

	// The stream can be read only once, so keep the header bytes that
	// DecodeConfig consumes and replay them in front of the rest for Decode.
	rec := &recorder{r: br, limit: maxImageHeader, buf: make([]byte, 0, 8*kib)}
	cfg, err := decodeConfig(rec)
	if err != nil {
		res.add(findUnreadable(res.RealType))
		return
	}
	w, h := cfg.Width, cfg.Height
	res.Metrics["width"] = float64(w)
	res.Metrics["height"] = float64(h)
	if w <= 0 || h <= 0 {
		res.add(findUnreadable(res.RealType))
		return
	}
	if int64(w)*int64(h) > spec.MaxPixels {
		res.add(findImageTooLarge(w, h, spec.MaxPixels))
		return
	}
	if min(w, h) < spec.MinShortSide {
		res.add(findImageTooSmall(w, h, spec.MinShortSide))
		return
	}

	img, err := decode(io.MultiReader(bytes.NewReader(rec.buf), br))
	rec.buf = nil // the header copy is dead weight during measuring
	if err != nil || img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		res.add(findUnreadable(res.RealType))
		return
	}

	st := measureLuma(img)
	res.Metrics["clarity"] = round2(st.clarity)
	res.Metrics["brightness"] = round2(st.mean)
	res.Metrics["lumaP01"] = float64(st.p01)
	res.Metrics["lumaP99"] = float64(st.p99)
	if st.clarity < spec.MinClarity {
		res.add(findBlurry())
	}
	switch {
	case st.mean < darkMeanBelow && st.p99 < darkP99Below:
		res.add(findTooDark())
	case st.mean > brightMeanAbove && st.p01 > brightP01Above:
		res.add(findOverexposed())
	}
}

// recorder passes reads through and keeps a copy of everything read, up to
// limit bytes; past that it fails with errHeaderTooLong.
type recorder struct {
	r     io.Reader
	buf   []byte
	limit int
}

func (rc *recorder) Read(p []byte) (int, error) {
	room := rc.limit - len(rc.buf)
	if room <= 0 {
		return 0, errHeaderTooLong
	}
	if len(p) > room {
		p = p[:room]
	}
	n, err := rc.r.Read(p)
	rc.buf = append(rc.buf, p[:n]...)
	return n, err
}

func round2(f float64) float64 {
	return float64(int64(f*100+0.5)) / 100
}
