package doccheck

import (
	"encoding/hex"
	"math"
	"math/bits"
	"slices"
)

// The perceptual hash finds a document image that was re-encoded, resized,
// had its margins trimmed or its metadata changed: the SHA-256 differs,
// the picture does not.
//
// It is computed from the grey plane clarity.go already builds while
// downscaling (at most 1024 px on the long side): no second pass over the
// decoded image and nothing of its size allocated. The steps:
//
//  1. the grey plane is reduced to a thumbnail of at most thumbSide px;
//  2. the thumbnail is trimmed to the bounding box of its ink (text, frame,
//     seal), so that cutting off blank margins changes nothing;
//  3. that box is resampled to hashSide x hashSide and transformed (DCT-II);
//  4. Fine is one bit per coefficient of the 16x16 lowest frequencies but
//     the DC term (255 bits), set when above their median: it decides.
//     Coarse is the same over the 8x8 lowest (63 bits): it is the index
//     key, split into bands (Bands), so that candidates are found by
//     exact-match queries (multi-index hashing).
//
// Business licences share one layout, so their low frequencies are alike:
// the 64-bit hash alone puts two different licences only a few bits
// apart. The 255-bit hash also sees where the lines of text are, which
// sets different licences far apart while a re-encoded or resized copy
// stays close (BENCHMARKS.md has the measured distances).

const (
	thumbSide = 512 // long side of the thumbnail the ink box is found on
	hashSide  = 64  // the trimmed thumbnail is resampled to hashSide^2
	fineLow   = 16  // Fine keeps fineLow x fineLow frequencies
	coarseLow = 8   // Coarse keeps coarseLow x coarseLow frequencies

	// NearDuplicateDistance is the largest Fine distance at which two
	// pictures count as the same document (of 255 bits).
	NearDuplicateDistance = 48
	// PHashBands is how many bands Coarse is split into for indexing.
	PHashBands = 4
)

// PHash is a perceptual hash; the zero value means none was computed.
type PHash struct {
	Coarse uint64
	Fine   [4]uint64
}

// IsZero reports whether no hash was computed.
func (h PHash) IsZero() bool { return h == PHash{} }

// Distance is the Hamming distance between the fine hashes.
func (h PHash) Distance(o PHash) int {
	d := 0
	for i := range h.Fine {
		d += bits.OnesCount64(h.Fine[i] ^ o.Fine[i])
	}
	return d
}

// Bands splits Coarse into PHashBands 16-bit index keys. Two hashes whose
// Coarse parts differ in fewer than PHashBands bits share at least one
// band (pigeonhole); more distant ones often still do.
func (h PHash) Bands() [PHashBands]uint16 {
	var b [PHashBands]uint16
	for i := range b {
		b[i] = uint16(h.Coarse >> (48 - 16*i))
	}
	return b
}

// BandKeys are the Bands as index keys (4 hex digits each).
func (h PHash) BandKeys() []string {
	keys := make([]string, PHashBands)
	for i, b := range h.Bands() {
		keys[i] = BandKey(b)
	}
	return keys
}

// BandKey is a band value as an index key.
func BandKey(v uint16) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15]})
}

// String is the hash as 80 hex digits: Coarse, then Fine.
func (h PHash) String() string {
	var b [40]byte
	put64(b[0:], h.Coarse)
	for i, f := range h.Fine {
		put64(b[8+8*i:], f)
	}
	return hex.EncodeToString(b[:])
}

// ParsePHash reads the String form.
func ParsePHash(s string) (PHash, bool) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 40 {
		return PHash{}, false
	}
	h := PHash{Coarse: get64(b)}
	for i := range h.Fine {
		h.Fine[i] = get64(b[8+8*i:])
	}
	return h, true
}

func put64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}

func get64(b []byte) uint64 {
	var v uint64
	for i := range 8 {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// thumbAcc reduces grey rows into the thumbnail, one row at a time: the
// thumbnail row being filled is summed in acc and stored as bytes once
// complete, so the thumbnail costs one byte per pixel.
type thumbAcc struct {
	gw, gh int     // the grey plane
	tw, th int     // the thumbnail
	cellX  []int32 // thumbnail column of each grey column
	perX   []int32 // grey columns per thumbnail column
	acc    []float32
	rows   int // grey rows summed into acc
	ty     int // the thumbnail row acc belongs to
	px     []uint8
}

func newThumbAcc(gw, gh int) *thumbAcc {
	k := max(1, ceilDiv(max(gw, gh), thumbSide))
	tw, th := ceilDiv(gw, k), ceilDiv(gh, k)
	a := &thumbAcc{gw: gw, gh: gh, tw: tw, th: th, cellX: make([]int32, gw), perX: make([]int32, tw),
		acc: make([]float32, tw), px: make([]uint8, tw*th)}
	for x := range a.cellX {
		c := int32(x * tw / gw)
		a.cellX[x] = c
		a.perX[c]++
	}
	return a
}

// addRow adds grey row gy (rows come in order) to the thumbnail.
func (a *thumbAcc) addRow(gy int, row []float32) {
	if ty := gy * a.th / a.gh; ty != a.ty {
		a.flush()
		a.ty = ty
	}
	for x, v := range row {
		a.acc[a.cellX[x]] += v
	}
	a.rows++
}

func (a *thumbAcc) flush() {
	if a.rows == 0 {
		return
	}
	line := a.px[a.ty*a.tw : (a.ty+1)*a.tw]
	for x, s := range a.acc {
		line[x] = uint8(min(255, s/float32(int32(a.rows)*a.perX[x])+0.5))
	}
	clear(a.acc)
	a.rows = 0
}

// hash trims the thumbnail to its ink and hashes it.
func (a *thumbAcc) hash() (PHash, Probes) {
	a.flush()
	box := inkBox(a.px, a.tw, a.th)
	var sq [hashSide * hashSide]float64
	resample(a.px, a.tw, box, &sq)
	return hashOf(&sq)
}

// inkBox returns the bounding box [x0, x1) x [y0, y1) of the rows and
// columns that hold ink: pixels clearly darker than the paper. Paper is
// the 90th percentile grey, ink is below paper minus a third of the
// paper-to-darkest range; a row or column holds ink when at least 1% of
// its pixels are ink, which ignores specks and scanner noise. Without
// such ink (a blank or very dark picture) the whole thumbnail is used.
func inkBox(px []uint8, w, h int) [4]int {
	full := [4]int{0, w, 0, h}
	var hist [256]int
	for _, v := range px {
		hist[v]++
	}
	paper, dark := -1, -1
	seen := 0
	for v, c := range hist {
		if dark < 0 && c > 0 {
			dark = v
		}
		seen += c
		if paper < 0 && seen*10 >= len(px)*9 {
			paper = v
		}
	}
	if paper-dark < 32 {
		return full
	}
	thr := uint8(paper - (paper-dark)/3)
	rows, cols := make([]int, h), make([]int, w)
	for y := range h {
		for x, v := range px[y*w : (y+1)*w] {
			if v < thr {
				rows[y]++
				cols[x]++
			}
		}
	}
	span := func(counts []int, across int) (int, int) {
		need := max(1, across/100)
		lo, hi := 0, len(counts)
		for lo < hi && counts[lo] < need {
			lo++
		}
		for hi > lo && counts[hi-1] < need {
			hi--
		}
		return lo, hi
	}
	x0, x1 := span(cols, h)
	y0, y1 := span(rows, w)
	if (x1-x0)*4 < w || (y1-y0)*4 < h {
		return full // a speck of ink on blank paper: not a document's box
	}
	return [4]int{x0, x1, y0, y1}
}

// resample averages box (of a w-wide plane) into the hashSide^2 square:
// each square cell takes the mean of the plane pixels its area covers
// (their centres), or the nearest pixel when it covers none.
func resample(px []uint8, w int, box [4]int, sq *[hashSide * hashSide]float64) {
	bw, bh := box[1]-box[0], box[3]-box[2]
	for sy := range hashSide {
		y0 := box[2] + sy*bh/hashSide
		y1 := max(y0+1, box[2]+(sy+1)*bh/hashSide)
		for sx := range hashSide {
			x0 := box[0] + sx*bw/hashSide
			x1 := max(x0+1, box[0]+(sx+1)*bw/hashSide)
			var s int
			for y := y0; y < y1; y++ {
				for _, v := range px[y*w+x0 : y*w+x1] {
					s += int(v)
				}
			}
			sq[sy*hashSide+sx] = float64(s) / float64((y1-y0)*(x1-x0))
		}
	}
}

// dctCos[u][x] is the DCT-II basis cos((2x+1)u*pi/(2N)), N = hashSide.
var dctCos = func() (c [fineLow][hashSide]float64) {
	for u := range fineLow {
		for x := range hashSide {
			c[u][x] = math.Cos(float64(2*x+1) * float64(u) * math.Pi / (2 * hashSide))
		}
	}
	return c
}()

// hashOf hashes the square. Only the low frequencies are computed: rows
// first, then columns.
func hashOf(sq *[hashSide * hashSide]float64) (PHash, Probes) {
	var rows [hashSide][fineLow]float64
	for y := range hashSide {
		line := sq[y*hashSide : (y+1)*hashSide]
		for u := range fineLow {
			var s float64
			for x, v := range line {
				s += v * dctCos[u][x]
			}
			rows[y][u] = s
		}
	}
	var coef [fineLow][fineLow]float64
	for v := range fineLow {
		for u := range fineLow {
			var s float64
			for y := range hashSide {
				s += rows[y][u] * dctCos[v][y]
			}
			coef[v][u] = s
		}
	}
	var fine, coarse []float64
	for v := range fineLow {
		for u := range fineLow {
			if u == 0 && v == 0 {
				continue // DC: the mean brightness says nothing of the content
			}
			fine = append(fine, coef[v][u])
			if u < coarseLow && v < coarseLow {
				coarse = append(coarse, coef[v][u])
			}
		}
	}
	var h PHash
	fineMedian := median(fine)
	for i, c := range fine {
		if c > fineMedian {
			h.Fine[i/64] |= 1 << (63 - i%64)
		}
	}
	coarseMedian := median(coarse)
	var margin [64]float64
	margin[63] = math.Inf(1) // the 64th bit is always 0: nothing to probe
	for i, c := range coarse {
		if c > coarseMedian {
			h.Coarse |= 1 << (63 - i)
		}
		margin[i] = math.Abs(c - coarseMedian)
	}
	return h, probesOf(h, &margin)
}

func median(c []float64) float64 {
	sorted := slices.Clone(c)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}

// probeBits is how many of each band's least certain bits are flipped to
// make extra lookup keys.
const probeBits = 2

// Probes are the keys to look a picture up by, per band: the band's own
// value first, then the values with its least certain bits (coefficients
// closest to the median, the ones a re-encode or crop flips) flipped in
// every combination. Querying these (multi-probe) finds a copy whose
// Coarse differs in more bits than the bands alone would.
type Probes [PHashBands][]uint16

func probesOf(h PHash, margin *[64]float64) Probes {
	var p Probes
	bands := h.Bands()
	for b := range PHashBands {
		// Bit i of the band (from its top) is bit 16*b+i of Coarse.
		order := make([]int, 16)
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(x, y int) int {
			return cmpFloat(margin[16*b+x], margin[16*b+y])
		})
		keys := []uint16{bands[b]}
		for _, bit := range order[:probeBits] {
			for _, k := range keys {
				keys = append(keys, k^(1<<(15-bit)))
			}
		}
		p[b] = keys
	}
	return p
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
