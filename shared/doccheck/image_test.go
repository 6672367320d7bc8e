package doccheck

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"

	fx "microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
)

// TestBombRejectedBeforeDecode proves that a PNG header claiming 50000x50000
// is refused from its header: followed by an endless stream of pixel data,
// the image check reads at most 64 KB and allocates next to nothing
// (decoding would need 10 GB). How fast it refuses is a measurement:
// BenchmarkBombRejection, judged by make bench (under a millisecond).
func TestBombRejectedBeforeDecode(t *testing.T) {
	spec := SpecFor(domain.DocBusinessLicense)
	bomb := fx.BombPNG()
	run := func() (res Result, read int64, alloc uint64) {
		src := &countingReader{r: io.MultiReader(bytes.NewReader(bomb), endless(0))}
		res = Result{RealType: TypePNG, Metrics: map[string]float64{}}
		before := totalAlloc()
		checkImage(&res, spec, bufio.NewReaderSize(src, readBufSize))
		return res, src.n, totalAlloc() - before
	}
	for range 3 {
		res, read, alloc := run()
		if diff := cmp.Diff([]string{CodeImageTooLarge}, res.Codes()); diff != "" {
			t.Fatalf("codes (-want +got):\n%s", diff)
		}
		if read > 64<<10 {
			t.Fatalf("read %d bytes before refusing, want <= 64 KB", read)
		}
		if alloc > 256<<10 {
			t.Fatalf("allocated %d bytes before refusing, want < 256 KB", alloc)
		}
	}
}

// craftJPEG encodes a small JPEG, then rewrites its frame header to claim
// w x h and, if progressive, the SOF2 marker: DecodeConfig believes it, and
// that is all the size checks may rely on.
func craftJPEG(t *testing.T, w, h uint16, progressive bool) []byte {
	t.Helper()
	b := fx.EncodeJPEG(image.NewGray(image.Rect(0, 0, 16, 16)), 90)
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 in encoded JPEG")
	}
	if progressive {
		b[i+1] = 0xC2
	}
	binary.BigEndian.PutUint16(b[i+5:], h)
	binary.BigEndian.PutUint16(b[i+7:], w)
	return b
}

func TestImageDecodeCost(t *testing.T) {
	spec := SpecFor(domain.DocBusinessLicense)
	tests := []struct {
		name        string
		data        []byte
		wantTooBig  bool
		wantBPP     float64 // decode bytes per pixel
		progressive bool
	}{
		// 40 MP is allowed, but a progressive JPEG keeps every coefficient:
		// 5 bytes per grey pixel, 200 MB in all.
		{"baseline grey 40 MP", craftJPEG(t, 8000, 5000, false), false, 1, false},
		{"progressive grey 40 MP", craftJPEG(t, 8000, 5000, true), false, 5, true},
		{"progressive colour 4:2:0 40 MP", nil, true, 7.5, true},
	}
	// Colour: a 4:2:0 JPEG from the encoder, patched the same way.
	col := fx.EncodeJPEG(image.NewRGBA(image.Rect(0, 0, 16, 16)), 90)
	i := bytes.Index(col, []byte{0xFF, 0xC0})
	col[i+1] = 0xC2
	binary.BigEndian.PutUint16(col[i+5:], 5000)
	binary.BigEndian.PutUint16(col[i+7:], 8000)
	tests[2].data = col

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comps, samples, prog := jpegFrame(tt.data)
			if prog != tt.progressive || (comps != 1 && comps != 3) {
				t.Errorf("jpegFrame = %d comps, %v samples, progressive %v", comps, samples, prog)
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if got := float64(decodeBytes(TypeJPEG, cfg, tt.data)) / 40e6; math.Abs(got-tt.wantBPP) > 0.01 {
				t.Errorf("decode bytes per pixel = %v, want %v", got, tt.wantBPP)
			}
			res := Result{RealType: TypeJPEG, Metrics: map[string]float64{}}
			checkImage(&res, spec, bufio.NewReader(bytes.NewReader(tt.data)))
			gotTooBig := len(res.Findings) > 0 && res.Findings[0].Code == CodeImageTooLarge
			if gotTooBig != tt.wantTooBig {
				t.Errorf("codes = %v, want too large: %v", res.Codes(), tt.wantTooBig)
			}
		})
	}
	if got := jpegFrameWorst(); got != 4+4+16 {
		t.Errorf("unparseable header costs %v bytes per pixel, want the worst case 24", got)
	}
}

func jpegFrameWorst() float64 {
	return float64(decodeBytes(TypeJPEG, image.Config{Width: 1, Height: 1}, []byte{0xFF, 0xD8, 0x00}))
}

func TestImageHeaderTooLong(t *testing.T) {
	// 17 APP1 segments of 64 KB before the frame header: over the 1 MB the
	// header may take.
	jp := fx.ScanJPEG(900, 900)
	var b bytes.Buffer
	b.Write(jp[:2])
	seg := make([]byte, 0xFFFF-2)
	for range 17 {
		b.Write([]byte{0xFF, 0xE1, 0xFF, 0xFF})
		b.Write(seg)
	}
	b.Write(jp[2:])
	res, err := Check(Input{DocType: domain.DocBusinessLicense, DeclaredContentType: TypeJPEG}, bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fail(TypeJPEG, CodeUnreadable), outcomeOf(res)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// 8 of them (512 KB) are fine.
	b.Reset()
	b.Write(jp[:2])
	for range 8 {
		b.Write([]byte{0xFF, 0xE1, 0xFF, 0xFF})
		b.Write(seg)
	}
	b.Write(jp[2:])
	res, _ = Check(Input{DocType: domain.DocBusinessLicense, DeclaredContentType: TypeJPEG}, bytes.NewReader(b.Bytes()))
	if !res.Passed {
		t.Errorf("JPEG with 512 KB of APP1: %v", res.Codes())
	}
}

// TestMeasureLumaImageTypes checks that every pixel layout the decoders
// return gives the same grey statistics as the plain grey image.
func TestMeasureLumaImageTypes(t *testing.T) {
	src := fx.ScanImage(1100, 700)
	grey := image.NewGray(src.Bounds())
	draw.Draw(grey, grey.Bounds(), src, image.Point{}, draw.Src)
	want := measureLuma(grey)

	convert := func(dst draw.Image) image.Image {
		draw.Draw(dst, dst.Bounds(), src, image.Point{}, draw.Src)
		return dst
	}
	r := src.Bounds()
	cmyk := image.NewCMYK(r)
	for i := 0; i < len(src.Pix); i += 4 {
		c, m, y, k := color.RGBToCMYK(src.Pix[i], src.Pix[i+1], src.Pix[i+2])
		cmyk.Pix[i], cmyk.Pix[i+1], cmyk.Pix[i+2], cmyk.Pix[i+3] = c, m, y, k
	}
	ycc, err := jpeg.Decode(bytes.NewReader(fx.EncodeJPEG(src, 100)))
	if err != nil {
		t.Fatal(err)
	}
	offset := image.NewGray(image.Rect(-7, 3, 1100-7, 703)) // bounds not at the origin
	draw.Draw(offset, offset.Bounds(), grey, image.Point{}, draw.Src)

	images := map[string]image.Image{
		"RGBA":        src,
		"NRGBA":       convert(image.NewNRGBA(r)),
		"RGBA64":      convert(image.NewRGBA64(r)),
		"NRGBA64":     convert(image.NewNRGBA64(r)),
		"Gray16":      convert(image.NewGray16(r)),
		"Paletted":    convert(image.NewPaletted(r, color.Palette{color.Black, color.White, color.RGBA{20, 20, 30, 255}, color.RGBA{250, 248, 242, 255}, color.RGBA{200, 30, 30, 255}})),
		"CMYK":        cmyk,
		"YCbCr":       ycc,
		"offset Gray": offset,
		"other (At)":  convert(image.NewAlpha16(r)),
	}
	for name, img := range images {
		got := measureLuma(img)
		tol := 0.03
		if name == "YCbCr" || name == "Paletted" {
			tol = 0.1 // lossy
		}
		if name == "other (At)" {
			continue // alpha-only: only that it does not crash
		}
		if math.Abs(got.clarity-want.clarity) > tol*want.clarity || math.Abs(got.mean-want.mean) > 3 {
			t.Errorf("%s: clarity %.1f mean %.1f, want %.1f and %.1f", name, got.clarity, got.mean, want.clarity, want.mean)
		}
	}
}

// TestPlaneSummer checks the packed (SWAR) band sums against adding byte by
// byte, for every box size path and awkward widths.
func TestPlaneSummer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, w := range []int{1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100, 257, 1031} {
		for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 24, 128, 130, 257} {
			h := 1 + rng.IntN(2*k+3)
			img := image.NewGray(image.Rect(0, 0, w, h))
			for i := range img.Pix {
				img.Pix[i] = uint8(rng.UintN(256))
			}
			if rng.IntN(2) == 0 {
				for i := range img.Pix {
					img.Pix[i] = 255 // the lanes' worst case
				}
			}
			gw := ceilDiv(w, k)
			want := make([]uint64, gw)
			addRow := rowAdder(img, k)
			for y := 0; y < min(k, h); y++ {
				addRow(y, want)
			}
			got := make([]uint64, gw)
			bandAdder(img, k)(0, min(k, h), got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("w=%d k=%d h=%d (-bytewise +packed):\n%s", w, k, h, diff)
			}
		}
	}
}

func TestMeasureLumaTiny(t *testing.T) {
	for _, r := range []image.Rectangle{image.Rect(0, 0, 1, 1), image.Rect(0, 0, 2, 5000), image.Rect(0, 0, 3, 3)} {
		st := measureLuma(image.NewGray(r))
		if st.clarity != 0 || st.mean != 0 || st.p01 != 0 || st.p99 != 0 {
			t.Errorf("%v: %+v", r, st)
		}
	}
	if st := measureLuma(image.NewGray(image.Rect(0, 0, 0, 0))); !cmp.Equal(st, lumaStats{}, cmp.AllowUnexported(lumaStats{})) {
		t.Errorf("empty: %+v", st)
	}
}

var sinkStats lumaStats

func BenchmarkMeasureLuma(b *testing.B) {
	img, err := jpeg.Decode(bytes.NewReader(benchJPEG()))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		sinkStats = measureLuma(img)
	}
	runtime.KeepAlive(img)
}
