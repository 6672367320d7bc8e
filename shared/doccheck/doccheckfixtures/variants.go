package doccheckfixtures

import (
	"bytes"
	"image"
	"image/color"
)

// Variants of one document image, as a fraudster reusing another
// enterprise's licence would make them: each keeps the picture and changes
// the bytes.

// Resize scales img to w x h (bilinear), as an image editor or a phone's
// "reduce size" does.
func Resize(img *image.RGBA, w, h int) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	sb := img.Bounds()
	sx := float64(sb.Dx()) / float64(w)
	sy := float64(sb.Dy()) / float64(h)
	for y := 0; y < h; y++ {
		fy := (float64(y)+0.5)*sy - 0.5
		y0 := clampInt(int(fy), 0, sb.Dy()-1)
		y1 := clampInt(y0+1, 0, sb.Dy()-1)
		wy := fy - float64(y0)
		wy = max(0, min(1, wy))
		for x := 0; x < w; x++ {
			fx := (float64(x)+0.5)*sx - 0.5
			x0 := clampInt(int(fx), 0, sb.Dx()-1)
			x1 := clampInt(x0+1, 0, sb.Dx()-1)
			wx := max(0, min(1, fx-float64(x0)))
			o := out.PixOffset(x, y)
			for c := 0; c < 4; c++ {
				p00 := float64(img.Pix[img.PixOffset(x0, y0)+c])
				p01 := float64(img.Pix[img.PixOffset(x1, y0)+c])
				p10 := float64(img.Pix[img.PixOffset(x0, y1)+c])
				p11 := float64(img.Pix[img.PixOffset(x1, y1)+c])
				v := (p00*(1-wx)+p01*wx)*(1-wy) + (p10*(1-wx)+p11*wx)*wy
				out.Pix[o+c] = uint8(v + 0.5)
			}
		}
	}
	return out
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

// Crop cuts r out of img, as trimming the margins of a scan does.
func Crop(img *image.RGBA, r image.Rectangle) *image.RGBA {
	r = r.Intersect(img.Bounds())
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		copy(out.Pix[out.PixOffset(0, y):out.PixOffset(r.Dx(), y)], img.Pix[img.PixOffset(r.Min.X, r.Min.Y+y):img.PixOffset(r.Max.X, r.Min.Y+y)])
	}
	return out
}

// CropMargins cuts a fraction f of the width and height off, split
// unevenly between the sides (as a hand-drawn crop box is).
func CropMargins(img *image.RGBA, f float64) *image.RGBA {
	b := img.Bounds()
	dx, dy := int(float64(b.Dx())*f), int(float64(b.Dy())*f)
	return Crop(img, image.Rect(dx/3, dy*2/3, b.Dx()-(dx-dx/3), b.Dy()-(dy-dy*2/3)))
}

// WithJPEGComment inserts a comment segment (COM) after SOI: new metadata,
// same pixels, different bytes.
func WithJPEGComment(jpg []byte, text string) []byte {
	seg := []byte{0xFF, 0xFE, byte((len(text) + 2) >> 8), byte(len(text) + 2)}
	seg = append(seg, text...)
	return bytes.Join([][]byte{jpg[:2], seg, jpg[2:]}, nil)
}

// Grey converts img to a grey image (a scanner's greyscale mode).
func Grey(img *image.RGBA) *image.Gray {
	g := image.NewGray(img.Bounds())
	for i := range g.Pix {
		g.Pix[i] = color.GrayModel.Convert(color.NRGBA{img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], 255}).(color.Gray).Y
	}
	return g
}
