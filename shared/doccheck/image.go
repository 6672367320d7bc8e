package doccheck

import (
	"bufio"
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
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
	// The format-specific DecodeConfig rather than image.DecodeConfig: the
	// sniffer has decided the format, and image's registry would hand the
	// bytes to whatever decoders other imports in the binary registered.
	decodeConfig, decode := jpeg.DecodeConfig, jpeg.Decode
	if res.RealType == TypePNG {
		decodeConfig, decode = png.DecodeConfig, png.Decode
	}

	// Every byte passes the end finder once, in order (see imageend.go).
	end := newImageEnd(res.RealType)
	src := teeImageEnd(br, end)
	// The stream can be read only once, so keep the header bytes that
	// DecodeConfig consumes and replay them in front of the rest for Decode.
	rec := &recorder{r: src, limit: maxImageHeader, buf: make([]byte, 0, 8*kib)}
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
	if int64(w)*int64(h) > spec.MaxPixels || decodeBytes(res.RealType, cfg, rec.buf) > spec.MaxDecodeBytes {
		res.add(findImageTooLarge(w, h, spec.MaxPixels))
		return
	}
	if min(w, h) < spec.MinShortSide {
		res.add(findImageTooSmall(w, h, spec.MinShortSide))
		return
	}

	img, err := decode(io.MultiReader(bytes.NewReader(rec.buf), src))
	rec.buf = nil // the header copy is dead weight during measuring
	if err != nil || img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		res.add(findUnreadable(res.RealType))
		return
	}
	// The decoder stops at the end marker; what follows is read here.
	if _, err := io.Copy(io.Discard, src); err == nil && end.trailingData() {
		res.Metrics["trailingBytes"] = float64(end.trailing)
		res.add(findTrailingData(res.RealType))
	}

	st := measureLuma(img)
	res.PHash, res.PHashProbes = st.phash, st.probes
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
	return math.Round(f*100) / 100
}

// decodeBytes estimates what decoding will allocate, from the header alone
// (header is everything DecodeConfig read). It follows what image/jpeg and
// image/png allocate: the pixel buffer, plus for a progressive JPEG one
// int32 per sample for the DCT coefficients, plus for CMYK a second buffer,
// plus for an interlaced PNG the pass images.
func decodeBytes(realType string, cfg image.Config, header []byte) int64 {
	px := float64(cfg.Width) * float64(cfg.Height)
	if realType == TypePNG {
		bpp := 8.0 // 16-bit RGBA, the worst case
		switch cfg.ColorModel {
		case color.GrayModel:
			bpp = 1
		case color.Gray16Model:
			bpp = 2
		case color.RGBAModel, color.NRGBAModel:
			bpp = 4
		default:
			if _, ok := cfg.ColorModel.(color.Palette); ok {
				bpp = 1
			}
		}
		// IHDR's interlace method is at byte 28 of the file.
		if len(header) > 28 && header[28] != 0 {
			bpp *= 2
		}
		return int64(px * bpp)
	}
	comps, samples, progressive := jpegFrame(header)
	bpp := samples
	if comps == 4 {
		bpp += 4 // converted into a separate CMYK image
	}
	if progressive {
		bpp += 4 * samples
	}
	return int64(px * bpp)
}

// jpegFrame reads the frame header (SOFn) among the header bytes: the number
// of components, the samples per pixel their subsampling adds up to (3 for
// 4:4:4, 1.5 for 4:2:0), and whether the JPEG is progressive. Without a
// readable frame it assumes the worst.
func jpegFrame(h []byte) (comps int, samples float64, progressive bool) {
	const worstComps, worstSamples = 4, 4.0
	for i := 2; i+4 <= len(h); {
		if h[i] != 0xFF {
			break
		}
		m := h[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0x01 || (m >= 0xD0 && m <= 0xD8): // markers without a length
			i += 2
			continue
		}
		n := int(h[i+2])<<8 | int(h[i+3])
		isSOF := m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC
		if !isSOF {
			i += 2 + n
			continue
		}
		seg := h[i+4 : min(i+2+n, len(h))]
		if len(seg) < 6 {
			break
		}
		comps = int(seg[5])
		if comps == 0 || len(seg) < 6+3*comps {
			break
		}
		var sum, hmax, vmax int
		for c := range comps {
			hv := seg[6+3*c+1]
			hh, vv := int(hv>>4), int(hv&0x0F)
			sum += hh * vv
			hmax, vmax = max(hmax, hh), max(vmax, vv)
		}
		if hmax == 0 || vmax == 0 {
			break
		}
		progressive = m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE
		return comps, float64(sum) / float64(hmax*vmax), progressive
	}
	return worstComps, worstSamples, true
}
