package doccheck

import (
	"image"
	"image/color"
)

// maxGreySide bounds the long side of the grey plane the clarity score is
// computed on. Scoring a fixed-size plane makes thresholds comparable between
// a 2 MP and a 40 MP upload, and keeps the cost tiny next to the decode.
const maxGreySide = 1024

// lumaStats are measurements of the downscaled grey plane.
type lumaStats struct {
	clarity  float64 // variance of the 4-neighbour Laplacian
	mean     float64 // mean grey level, 0-255
	p01, p99 int     // 1st and 99th percentile grey level
}

// measureLuma box-averages img straight from its pixel slices into a grey
// plane of at most maxGreySide on the long side, one output row at a time,
// and computes the Laplacian variance with a rolling window of three rows.
// Nothing of the size of the image is allocated: only a few rows of at most
// maxGreySide values.
func measureLuma(img image.Image) lumaStats {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return lumaStats{}
	}
	k := ceilDiv(max(w, h), maxGreySide) // box size, in source pixels
	gw, gh := ceilDiv(w, k), ceilDiv(h, k)
	addRow := rowAdder(img, k)

	acc := make([]uint64, gw)
	rows := [3][]float32{make([]float32, gw), make([]float32, gw), make([]float32, gw)}
	var hist [256]int
	var lap laplacian
	for gy := 0; gy < gh; gy++ {
		clear(acc)
		y0, y1 := gy*k, min(gy*k+k, h)
		for y := y0; y < y1; y++ {
			addRow(b.Min.Y+y, acc)
		}
		// Oldest row becomes the new current row.
		rows[0], rows[1], rows[2] = rows[1], rows[2], rows[0]
		cur := rows[2]
		for gx := range cur {
			n := (min(gx*k+k, w) - gx*k) * (y1 - y0)
			v := float32(acc[gx]) / float32(n)
			cur[gx] = v
			hist[int(v+0.5)]++
		}
		if gy >= 2 {
			lap.addRow(rows[0], rows[1], rows[2])
		}
	}

	st := lumaStats{clarity: lap.variance()}
	total := gw * gh
	var sum, seen int
	st.p01, st.p99 = -1, -1
	for v, c := range hist {
		sum += v * c
		seen += c
		if st.p01 < 0 && seen*100 >= total {
			st.p01 = v
		}
		if st.p99 < 0 && seen*100 >= total*99 {
			st.p99 = v
		}
	}
	st.mean = float64(sum) / float64(total)
	return st
}

// laplacian accumulates the response of the kernel [0 1 0; 1 -4 1; 0 1 0]
// over the inner pixels of the rows it is given.
type laplacian struct {
	n          int
	sum, sumSq float64
}

func (l *laplacian) addRow(up, mid, down []float32) {
	for x := 1; x < len(mid)-1; x++ {
		v := float64(up[x] + down[x] + mid[x-1] + mid[x+1] - 4*mid[x])
		l.sum += v
		l.sumSq += v * v
	}
	if len(mid) > 2 {
		l.n += len(mid) - 2
	}
}

func (l *laplacian) variance() float64 {
	if l.n == 0 {
		return 0
	}
	m := l.sum / float64(l.n)
	return l.sumSq/float64(l.n) - m*m
}

// rowAdder returns a function adding the grey levels of source row y into
// acc, whose cell i sums source columns [i*k, i*k+k). It reads the concrete
// pixel slices of the image types the JPEG and PNG decoders return (the Y
// plane of a YCbCr JPEG is already grey); only an unexpected type pays for
// img.At per pixel.
func rowAdder(img image.Image, k int) func(y int, acc []uint64) {
	b := img.Bounds()
	w := b.Dx()
	switch m := img.(type) {
	case *image.YCbCr:
		return func(y int, acc []uint64) {
			i := m.YOffset(b.Min.X, y)
			addGrey8(m.Y[i:i+w], acc, k)
		}
	case *image.Gray:
		return func(y int, acc []uint64) {
			i := m.PixOffset(b.Min.X, y)
			addGrey8(m.Pix[i:i+w], acc, k)
		}
	case *image.RGBA:
		return func(y int, acc []uint64) {
			i := m.PixOffset(b.Min.X, y)
			addRGB(m.Pix[i:i+4*w], 4, 1, acc, k)
		}
	case *image.NRGBA:
		// Alpha is ignored: documents are opaque, and a transparent
		// background says nothing about sharpness.
		return func(y int, acc []uint64) {
			i := m.PixOffset(b.Min.X, y)
			addRGB(m.Pix[i:i+4*w], 4, 1, acc, k)
		}
	case *image.RGBA64:
		return func(y int, acc []uint64) {
			i := m.PixOffset(b.Min.X, y)
			addRGB(m.Pix[i:i+8*w], 8, 2, acc, k) // high bytes only
		}
	case *image.NRGBA64:
		return func(y int, acc []uint64) {
			i := m.PixOffset(b.Min.X, y)
			addRGB(m.Pix[i:i+8*w], 8, 2, acc, k)
		}
	case *image.Gray16:
		return func(y int, acc []uint64) {
			i := m.PixOffset(b.Min.X, y)
			addStrided8(m.Pix[i:i+2*w], 2, acc, k)
		}
	case *image.CMYK:
		return func(y int, acc []uint64) {
			i := m.PixOffset(b.Min.X, y)
			addCMYK(m.Pix[i:i+4*w], acc, k)
		}
	case *image.Paletted:
		var lut [256]uint8
		for i, c := range m.Palette {
			lut[i] = color.GrayModel.Convert(c).(color.Gray).Y
		}
		return func(y int, acc []uint64) {
			i := m.PixOffset(b.Min.X, y)
			for gx := range acc {
				var s uint64
				for _, p := range m.Pix[i+gx*k : i+min(gx*k+k, w)] {
					s += uint64(lut[p])
				}
				acc[gx] += s
			}
		}
	}
	return func(y int, acc []uint64) {
		for x := 0; x < w; x++ {
			g := color.GrayModel.Convert(img.At(b.Min.X+x, y)).(color.Gray).Y
			acc[x/k] += uint64(g)
		}
	}
}

func addGrey8(row []byte, acc []uint64, k int) {
	for gx := range acc {
		var s uint64
		for _, v := range row[gx*k : min(gx*k+k, len(row))] {
			s += uint64(v)
		}
		acc[gx] += s
	}
}

// addStrided8 adds every stride-th byte (the high byte of 16-bit grey).
func addStrided8(row []byte, stride int, acc []uint64, k int) {
	for gx := range acc {
		var s uint64
		end := min(gx*k+k, len(row)/stride) * stride
		for i := gx * k * stride; i < end; i += stride {
			s += uint64(row[i])
		}
		acc[gx] += s
	}
}

// addRGB adds the luma of interleaved R, G, B samples; stride is the bytes
// per pixel and step the bytes per sample (2 for 16-bit, whose high byte
// comes first). Weights are the JFIF/BT.601 ones image/color uses, in 16.16
// fixed point.
func addRGB(row []byte, stride, step int, acc []uint64, k int) {
	for gx := range acc {
		var s uint64
		end := min(gx*k+k, len(row)/stride) * stride
		for i := gx * k * stride; i < end; i += stride {
			r, g, b := uint64(row[i]), uint64(row[i+step]), uint64(row[i+2*step])
			s += (19595*r + 38470*g + 7471*b + 1<<15) >> 16
		}
		acc[gx] += s
	}
}

func addCMYK(row []byte, acc []uint64, k int) {
	for gx := range acc {
		var s uint64
		end := min(gx*k+k, len(row)/4) * 4
		for i := gx * k * 4; i < end; i += 4 {
			kk := 255 - uint64(row[i+3])
			r := (255 - uint64(row[i])) * kk / 255
			g := (255 - uint64(row[i+1])) * kk / 255
			b := (255 - uint64(row[i+2])) * kk / 255
			s += (19595*r + 38470*g + 7471*b + 1<<15) >> 16
		}
		acc[gx] += s
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
