package doccheck

import (
	"bytes"
	"image/jpeg"
	"sync"
	"testing"

	fx "microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
)

// benchW x benchH is a typical 8-megapixel phone photo.
const benchW, benchH = 3264, 2448

var benchJPEG = sync.OnceValue(func() []byte { return fx.ScanJPEG(benchW, benchH) })

// reportPerPixel adds ns/megapixel and allocated bytes/pixel, the units the
// 1.2x time and 1.1x memory budgets are stated in.
func reportPerPixel(b *testing.B, allocBefore uint64) {
	px := float64(benchW * benchH)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(px/1e6), "ns/MP")
	b.ReportMetric(float64(totalAlloc()-allocBefore)/float64(b.N)/px, "B/px")
}

func BenchmarkCheckJPEG(b *testing.B) {
	data := benchJPEG()
	in := Input{DocType: domain.DocBusinessLicense, DeclaredContentType: TypeJPEG, Size: int64(len(data))}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	before := totalAlloc()
	for b.Loop() {
		res, err := Check(in, bytes.NewReader(data))
		if err != nil || !res.Passed {
			b.Fatalf("Check = %v, %v", res.Codes(), err)
		}
	}
	reportPerPixel(b, before)
}

func BenchmarkPlainJPEGDecode(b *testing.B) {
	data := benchJPEG()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	before := totalAlloc()
	for b.Loop() {
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	reportPerPixel(b, before)
}

func BenchmarkBombRejection(b *testing.B) {
	data := fx.BombPNG()
	in := Input{DocType: domain.DocBusinessLicense, DeclaredContentType: TypePNG}
	b.ReportAllocs()
	var read int64
	for b.Loop() {
		cr := &countingReader{r: bytes.NewReader(data)}
		res, err := Check(in, cr)
		if err != nil || res.Passed {
			b.Fatalf("Check = %v, %v", res.Codes(), err)
		}
		read += cr.n
	}
	b.ReportMetric(float64(read)/float64(b.N), "bytes-read/op")
}

// The PDF check's cost on the two shapes of PDF that matter: a scan
// (few objects, large image streams) and a long text (many objects and
// content streams). Both are read whole and walked; the scan's 50 pages
// are over the page limit, which is found after the walk.
var (
	benchScannedPDF = sync.OnceValue(func() []byte { return fx.ScannerPDF(50, 940, 1330) })
	benchTextPDF    = sync.OnceValue(func() []byte { return fx.TextPDF(5 << 20) })
)

func BenchmarkCheckPDFScanned50Pages(b *testing.B) {
	benchCheckPDF(b, benchScannedPDF(), CodePDFTooManyPages)
}

func BenchmarkCheckPDFText5MB(b *testing.B) { benchCheckPDF(b, benchTextPDF(), CodePDFTooManyPages) }

func benchCheckPDF(b *testing.B, data []byte, wantCode string) {
	in := Input{DocType: domain.DocBusinessLicense, DeclaredContentType: TypePDF, Size: int64(len(data))}
	if testing.Short() {
		b.Skip("builds a 10 MB PDF")
	}
	run := func() {
		res, err := Check(in, bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if codes := res.Codes(); len(codes) != 1 || codes[0] != wantCode {
			b.Fatalf("Check = %v, want %s", codes, wantCode)
		}
	}
	// Peak heap is sampled on one run outside the timed loop (sampling
	// needs a GC first).
	peak := peakHeap(run)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		run()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(len(data))/(1<<20), "file-MB")
}
