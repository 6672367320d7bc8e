// Package doccheckfixtures generates the files the document check is tested
// with: clear, blurred and dark scans, a decompression-bomb PNG header,
// clean and hostile PDFs, truncated JPEGs and short or long MP4/MOV videos.
// Everything is synthesised in code, deterministically, so unit tests here
// and end-to-end tests elsewhere upload exactly the same bytes and no binary
// fixture needs committing.
//
// Every function returns a fresh slice the caller may modify.
package doccheckfixtures

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"sync"
)

// Size of the standard fixture scans: large enough for every document
// type's minimum short side (800 px for a license).
const (
	ScanWidth  = 1200
	ScanHeight = 900
)

// ScanImage draws a synthetic document scan: off-white paper with lines of
// high-contrast glyph-like strokes, scaled to the image size. The same
// (w, h) always gives the same image.
func ScanImage(w, h int) *image.RGBA {
	return scanImage(w, h, rand.New(rand.NewPCG(uint64(w), uint64(h))))
}

// LicenceImage is ScanImage's template (title bar, text block, seal) with
// the text drawn from seed: distinct documents of one layout, as two
// enterprises' business licences are.
func LicenceImage(seed uint64, w, h int) *image.RGBA {
	return scanImage(w, h, rand.New(rand.NewPCG(seed, 0x9E3779B97F4A7C15)))
}

func scanImage(w, h int, rng *rand.Rand) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill(img, img.Bounds(), color.RGBA{250, 248, 242, 255})
	ink := color.RGBA{20, 20, 30, 255}

	lineH := max(h/30, 10)        // a line of text
	glyphH := lineH * 7 / 10      // cap height
	glyphW := max(glyphH*6/10, 4) // advance
	stroke := max(glyphH/8, 1)    // pen width
	margin := w / 12
	for top := h / 10; top+lineH < h-h/10; top += lineH {
		x := margin
		for x+glyphW < w-margin {
			if rng.IntN(6) == 0 { // word gap
				x += glyphW
				continue
			}
			drawGlyph(img, rng, x, top, glyphW-stroke, glyphH, stroke, ink)
			x += glyphW
		}
	}
	// A title bar and a seal-like frame, as on a license.
	fill(img, image.Rect(w/4, h/20, 3*w/4, h/20+2*stroke), ink)
	frame(img, image.Rect(w-w/4, h-h/3, w-w/12, h-h/10), 2*stroke, color.RGBA{200, 30, 30, 255})
	return img
}

// drawGlyph draws 2 to 4 strokes of a character cell: verticals, horizontals
// and a box, which is enough to give the image text-like edges.
func drawGlyph(img *image.RGBA, rng *rand.Rand, x, y, w, h, s int, c color.RGBA) {
	for range 2 + rng.IntN(3) {
		switch rng.IntN(3) {
		case 0:
			xx := x + rng.IntN(max(w-s, 1))
			fill(img, image.Rect(xx, y, xx+s, y+h), c)
		case 1:
			yy := y + rng.IntN(max(h-s, 1))
			fill(img, image.Rect(x, yy, x+w, yy+s), c)
		default:
			frame(img, image.Rect(x, y+h/3, x+w, y+h), s, c)
		}
	}
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := 0; i < len(row); i += 4 {
			row[i], row[i+1], row[i+2], row[i+3] = c.R, c.G, c.B, c.A
		}
	}
}

func frame(img *image.RGBA, r image.Rectangle, s int, c color.RGBA) {
	fill(img, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+s), c)
	fill(img, image.Rect(r.Min.X, r.Max.Y-s, r.Max.X, r.Max.Y), c)
	fill(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+s, r.Max.Y), c)
	fill(img, image.Rect(r.Max.X-s, r.Min.Y, r.Max.X, r.Max.Y), c)
}

// BoxBlur returns a copy of img blurred with a (2r+1)-pixel box filter, run
// twice (close to a Gaussian): what a shaky or out-of-focus phone photo
// does to text.
func BoxBlur(img *image.RGBA, r int) *image.RGBA {
	out := image.NewRGBA(img.Bounds())
	copy(out.Pix, img.Pix)
	tmp := image.NewRGBA(img.Bounds())
	for range 2 {
		blurPass(tmp, out, r, false)
		blurPass(out, tmp, r, true)
	}
	return out
}

// blurPass averages src into dst along rows, or along columns if vertical.
func blurPass(dst, src *image.RGBA, r int, vertical bool) {
	b := src.Bounds()
	n, lines, step, across := b.Dx(), b.Dy(), 4, src.Stride
	if vertical {
		n, lines, step, across = b.Dy(), b.Dx(), src.Stride, 4
	}
	for l := 0; l < lines; l++ {
		base := l * across
		for ch := 0; ch < 4; ch++ {
			sum, cnt := 0, 0
			for i := 0; i <= r && i < n; i++ {
				sum += int(src.Pix[base+i*step+ch])
				cnt++
			}
			for i := 0; i < n; i++ {
				dst.Pix[base+i*step+ch] = uint8(sum / cnt)
				if j := i + r + 1; j < n {
					sum += int(src.Pix[base+j*step+ch])
					cnt++
				}
				if j := i - r; j >= 0 {
					sum -= int(src.Pix[base+j*step+ch])
					cnt--
				}
			}
		}
	}
}

// Darken returns a copy of img with every colour scaled by f (0-1): an
// underexposed photo.
func Darken(img *image.RGBA, f float64) *image.RGBA {
	out := image.NewRGBA(img.Bounds())
	for i, v := range img.Pix {
		if i%4 == 3 {
			out.Pix[i] = v
			continue
		}
		out.Pix[i] = uint8(float64(v) * f)
	}
	return out
}

// WashOut returns a copy of img photographed into the light: every level v
// becomes 200 + v*55/255, so the paper clips to white and the ink is a pale
// grey.
func WashOut(img *image.RGBA) *image.RGBA {
	out := image.NewRGBA(img.Bounds())
	for i, v := range img.Pix {
		if i%4 == 3 {
			out.Pix[i] = v
			continue
		}
		out.Pix[i] = 200 + uint8(int(v)*55/255)
	}
	return out
}

// EncodeJPEG encodes img at the given quality (4:2:0 colour, as cameras do).
func EncodeJPEG(img image.Image, quality int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		panic(err) // cannot fail writing to memory
	}
	return b.Bytes()
}

// EncodePNG encodes img losslessly.
func EncodePNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// ScanJPEG is ScanImage(w, h) as a quality-90 JPEG, e.g. for benchmarks.
func ScanJPEG(w, h int) []byte { return EncodeJPEG(ScanImage(w, h), 90) }

var (
	clearJPEG   = sync.OnceValue(func() []byte { return ScanJPEG(ScanWidth, ScanHeight) })
	clearPNG    = sync.OnceValue(func() []byte { return EncodePNG(ScanImage(ScanWidth, ScanHeight)) })
	blurredJPEG = sync.OnceValue(func() []byte {
		return EncodeJPEG(BoxBlur(ScanImage(ScanWidth, ScanHeight), 4), 90)
	})
	darkJPEG = sync.OnceValue(func() []byte {
		return EncodeJPEG(Darken(ScanImage(ScanWidth, ScanHeight), 0.15), 90)
	})
	overexposedJPEG = sync.OnceValue(func() []byte {
		return EncodeJPEG(WashOut(ScanImage(ScanWidth, ScanHeight)), 90)
	})
)

// ClearJPEG is a sharp, well-exposed 1200x900 scan: it passes every image
// document type.
func ClearJPEG() []byte { return bytes.Clone(clearJPEG()) }

// ClearPNG is the same scan as a PNG.
func ClearPNG() []byte { return bytes.Clone(clearPNG()) }

// BlurredJPEG is the clear scan after a box blur: it fails as blurry.
func BlurredJPEG() []byte { return bytes.Clone(blurredJPEG()) }

// DarkJPEG is the clear scan at 15% exposure: it fails as too dark.
func DarkJPEG() []byte { return bytes.Clone(darkJPEG()) }

// OverexposedJPEG is the clear scan washed out by light: it fails as
// overexposed.
func OverexposedJPEG() []byte { return bytes.Clone(overexposedJPEG()) }

// TruncatedJPEG is the first half of ClearJPEG, as an interrupted upload
// leaves it: it fails as unreadable.
func TruncatedJPEG() []byte {
	b := clearJPEG()
	return bytes.Clone(b[:len(b)/2])
}
