package doccheck

import (
	"encoding/binary"
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
	phash    PHash   // perceptual hash of the grey plane (phash.go)
	probes   Probes  // its lookup keys
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
	addBand := bandAdder(img, k)

	acc := make([]uint64, gw)
	rows := [3][]float32{make([]float32, gw), make([]float32, gw), make([]float32, gw)}
	var hist [256]int
	var lap laplacian
	thumb := newThumbAcc(gw, gh)
	for gy := 0; gy < gh; gy++ {
		clear(acc)
		y0, y1 := gy*k, min(gy*k+k, h)
		addBand(b.Min.Y+y0, b.Min.Y+y1, acc)
		// Oldest row becomes the new current row.
		rows[0], rows[1], rows[2] = rows[1], rows[2], rows[0]
		cur := rows[2]
		for gx := range cur {
			n := (min(gx*k+k, w) - gx*k) * (y1 - y0)
			v := float32(acc[gx]) / float32(n)
			cur[gx] = v
			hist[int(v+0.5)]++
		}
		thumb.addRow(gy, cur)
		if gy >= 2 {
			lap.addRow(rows[0], rows[1], rows[2])
		}
	}

	st := lumaStats{clarity: lap.variance()}
	st.phash, st.probes = thumb.hash()
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

// bandAdder returns a function adding the grey levels of source rows
// [y0, y1) into acc, whose cell i sums source columns [i*k, i*k+k).
func bandAdder(img image.Image, k int) func(y0, y1 int, acc []uint64) {
	b := img.Bounds()
	var pix []byte
	var stride int
	switch m := img.(type) {
	case *image.YCbCr:
		pix, stride = m.Y[m.YOffset(b.Min.X, b.Min.Y):], m.YStride
	case *image.Gray:
		pix, stride = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	}
	if pix != nil && k <= maxPackedBox {
		ps := newPlaneSummer(b.Dx())
		return func(y0, y1 int, acc []uint64) {
			ps.addBand(pix, stride, y0-b.Min.Y, y1-b.Min.Y, k, acc)
		}
	}
	addRow := rowAdder(img, k)
	return func(y0, y1 int, acc []uint64) {
		for y := y0; y < y1; y++ {
			addRow(y, acc)
		}
	}
}

// maxPackedBox is the largest box planeSummer handles: a 16-bit lane holds
// the sum of at most 257 bytes.
const maxPackedBox = 65535 / 255

// planeSummer sums the rows of an 8-bit plane eight pixels at a time: one
// 64-bit load is split into its even and odd bytes, each added as four
// 16-bit lanes (SWAR). This is the hot path for JPEG, where it makes the
// downscale about three times cheaper than adding byte by byte.
type planeSummer struct {
	even, odd []uint64 // packed column sums, 8 columns per pair
	cols      []uint32 // unpacked column sums of the band
}

func newPlaneSummer(w int) *planeSummer {
	return &planeSummer{even: make([]uint64, w/8), odd: make([]uint64, w/8), cols: make([]uint32, w)}
}

const lowBytes = 0x00FF00FF00FF00FF

func (p *planeSummer) addBand(pix []byte, stride, y0, y1, k int, acc []uint64) {
	w, n8 := len(p.cols), len(p.even)
	clear(p.even)
	clear(p.odd)
	clear(p.cols)
	for y := y0; y < y1; y++ {
		row := pix[y*stride : y*stride+w]
		even, odd := p.even, p.odd[:len(p.even)]
		for i := range even {
			v := binary.LittleEndian.Uint64(row[8*i : 8*i+8])
			even[i] += v & lowBytes
			odd[i] += (v >> 8) & lowBytes
		}
		for x := 8 * n8; x < w; x++ {
			p.cols[x] += uint32(row[x])
		}
	}
	if k == 2 || k == 4 || (k%8 == 0 && k <= maxPackedCell) {
		p.packedToCells(k, acc)
		return
	}
	for i := range n8 {
		e, o := p.even[i], p.odd[i]
		c := p.cols[8*i : 8*i+8]
		c[0], c[1] = uint32(e&0xFFFF), uint32(o&0xFFFF)
		c[2], c[3] = uint32(e>>16&0xFFFF), uint32(o>>16&0xFFFF)
		c[4], c[5] = uint32(e>>32&0xFFFF), uint32(o>>32&0xFFFF)
		c[6], c[7] = uint32(e>>48), uint32(o>>48)
	}
	// Columns to cells; the last cell may be narrower than k.
	gx, n, s := 0, 0, uint64(0)
	for _, c := range p.cols {
		s += uint64(c)
		if n++; n == k {
			acc[gx] += s
			gx, n, s = gx+1, 0, 0
		}
	}
	if n > 0 {
		acc[gx] += s
	}
}

// maxPackedCell is the largest box whose pairs of columns still fit a 16-bit
// lane (2 * 128 * 255 < 65536).
const maxPackedCell = 128

// packedToCells adds the band's packed sums to the cells without unpacking
// columns, for the box sizes (2, 4, multiples of 8) whose cells line up with
// the 8-column words. Typical phone photos (8-12 MP) use k = 4.
func (p *planeSummer) packedToCells(k int, acc []uint64) {
	const lo32 = 0x0000FFFF0000FFFF
	for i := range p.even {
		x := p.even[i] + p.odd[i] // lanes: columns 0+1, 2+3, 4+5, 6+7
		switch k {
		case 2:
			a := acc[4*i : 4*i+4]
			a[0] += x & 0xFFFF
			a[1] += x >> 16 & 0xFFFF
			a[2] += x >> 32 & 0xFFFF
			a[3] += x >> 48
		case 4:
			y := x&lo32 + x>>16&lo32 // lanes: columns 0-3, 4-7
			a := acc[2*i : 2*i+2]
			a[0] += y & 0xFFFFFFFF
			a[1] += y >> 32
		default:
			y := x&lo32 + x>>16&lo32
			acc[8*i/k] += y&0xFFFFFFFF + y>>32
		}
	}
	for x := 8 * len(p.even); x < len(p.cols); x++ {
		acc[x/k] += uint64(p.cols[x])
	}
}

// rowAdder returns a function adding the grey levels of source row y into
// acc. It reads the concrete pixel slices of the image types the JPEG and PNG
// decoders return; only an unexpected type pays for img.At per pixel.
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
