package doccheck

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	fx "microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
)

// outcome is the part of a Result the table tests compare.
type outcome struct {
	Passed   bool
	RealType string
	Codes    []string
}

func outcomeOf(r Result) outcome {
	return outcome{Passed: r.Passed, RealType: r.RealType, Codes: r.Codes()}
}

func pass(realType string) outcome {
	return outcome{Passed: true, RealType: realType, Codes: []string{}}
}
func fail(realType string, codes ...string) outcome {
	return outcome{RealType: realType, Codes: codes}
}

func greyPNG() []byte {
	src := fx.ScanImage(fx.ScanWidth, fx.ScanHeight)
	g := image.NewGray(src.Bounds())
	for i := range g.Pix {
		g.Pix[i] = src.Pix[4*i+1]
	}
	return fx.EncodePNG(g)
}

func TestCheck(t *testing.T) {
	const (
		license = domain.DocBusinessLicense
		idFront = domain.DocLegalRepIDFront
		video   = domain.DocOfficeVideo
	)
	tests := []struct {
		name     string
		doc      domain.DocType
		declared string
		data     []byte
		want     outcome
	}{
		// Images.
		{"clear JPEG scan passes", license, "image/jpeg", fx.ClearJPEG(), pass(TypeJPEG)},
		{"clear PNG scan passes", license, "image/png", fx.ClearPNG(), pass(TypePNG)},
		{"grey PNG scan passes", license, "image/png", greyPNG(), pass(TypePNG)},
		{"declared type is normalised", license, "Image/JPG; name=x.jpg", fx.ClearJPEG(), pass(TypeJPEG)},
		{"blurred scan is blurry", license, "image/jpeg", fx.BlurredJPEG(), fail(TypeJPEG, CodeBlurry)},
		{"dark scan is too dark", license, "image/jpeg", fx.DarkJPEG(), fail(TypeJPEG, CodeTooDark)},
		{"washed-out scan is overexposed", license, "image/jpeg", fx.OverexposedJPEG(), fail(TypeJPEG, CodeOverexposed)},
		{"PNG claiming 50000x50000 is refused", license, "image/png", fx.BombPNG(), fail(TypePNG, CodeImageTooLarge)},
		{"truncated JPEG is unreadable", license, "image/jpeg", fx.TruncatedJPEG(), fail(TypeJPEG, CodeUnreadable)},
		{"license needs 800 px on the short side", license, "image/jpeg", fx.ScanJPEG(1000, 700), fail(TypeJPEG, CodeImageTooSmall)},
		{"ID card needs only 600 px", idFront, "image/jpeg", fx.ScanJPEG(1000, 700), pass(TypeJPEG)},
		{"ID card under 600 px is too small", idFront, "image/jpeg", fx.ScanJPEG(800, 500), fail(TypeJPEG, CodeImageTooSmall)},

		// Types.
		{"PDF uploaded as .jpg is a mismatch", license, "image/jpeg", fx.CleanPDF(), fail(TypePDF, CodeTypeMismatch)},
		{"PNG declared as JPEG is a mismatch", license, "image/jpeg", fx.ClearPNG(), fail(TypePNG, CodeTypeMismatch)},
		{"missing declared type is a mismatch", license, "", fx.ClearJPEG(), fail(TypeJPEG, CodeTypeMismatch)},
		{"GIF is unsupported", license, "image/gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), fail("", CodeUnsupportedType)},
		{"HEIC photo is unsupported", license, "image/heic", append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 64)...), fail("", CodeUnsupportedType)},
		{"PDF after a prefix is unsupported", license, "application/pdf", append([]byte("junk"), fx.CleanPDF()...), fail("", CodeUnsupportedType)},
		{"video is not a license", license, "video/mp4", fx.MP4(15), fail(TypeMP4, CodeTypeNotAllowed)},
		{"photo is not an office video", video, "image/jpeg", fx.ClearJPEG(), fail(TypeJPEG, CodeTypeNotAllowed)},
		{"empty file", license, "image/jpeg", nil, fail("", CodeEmpty)},
		{"unknown document type", "passport", "image/jpeg", fx.ClearJPEG(), fail(TypeJPEG, CodeUnknownDocType)},

		// PDFs.
		{"clean PDF passes", license, "application/pdf", fx.CleanPDF(), pass(TypePDF)},
		{"20 pages pass", license, "application/pdf", fx.PDFPages(20), pass(TypePDF)},
		{"21 pages are too many", license, "application/pdf", fx.PDFPages(21), fail(TypePDF, CodePDFTooManyPages)},
		{"/OpenAction is active content", license, "application/pdf", fx.PDFWithOpenAction(), fail(TypePDF, CodePDFActive)},
		{"/J#61vaScript is active content", license, "application/pdf", fx.PDFWithEscapedJavaScript(), fail(TypePDF, CodePDFActive)},
		{"JavaScript in a Flate object stream is active content", license, "application/pdf", fx.PDFWithObjStmJavaScript(), fail(TypePDF, CodePDFActive)},
		{"encrypted PDF", license, "application/pdf", fx.EncryptedPDF(), fail(TypePDF, CodeUnreadable)},
		{"truncated PDF is unreadable", license, "application/pdf", fx.CleanPDF()[:400], fail(TypePDF, CodeUnreadable)},

		// Videos.
		{"MP4 of 15 s passes", video, "video/mp4", fx.MP4(15), pass(TypeMP4)},
		{"MP4 of 5 s is too short", video, "video/mp4", fx.MP4(5), fail(TypeMP4, CodeVideoTooShort)},
		{"MOV with moov after mdat passes", video, "video/quicktime", fx.MOV(15), pass(TypeQuickTime)},
		{"MOV declared as MP4 is a mismatch", video, "video/mp4", fx.MOV(15), fail(TypeQuickTime, CodeTypeMismatch)},
		{"truncated MP4 is unreadable", video, "video/mp4", fx.MP4(15)[:2000], fail(TypeMP4, CodeUnreadable)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{DocType: tt.doc, DeclaredContentType: tt.declared, Size: int64(len(tt.data))}
			res, err := Check(in, bytes.NewReader(tt.data))
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if diff := cmp.Diff(tt.want, outcomeOf(res)); diff != "" {
				t.Errorf("Check (-want +got):\n%s\nmetrics: %v", diff, res.Metrics)
			}
			for _, f := range res.Findings {
				if f.Message.Zh == "" || f.Message.En == "" {
					t.Errorf("finding %s lacks a message: %+v", f.Code, f.Message)
				}
			}
			sum := sha256.Sum256(tt.data)
			if want := hex.EncodeToString(sum[:]); res.SHA256 != want {
				t.Errorf("SHA256 = %q, want %q (the digest must cover the whole content even on failure)", res.SHA256, want)
			}
			if got := res.Metrics["bytes"]; got != float64(len(tt.data)) {
				t.Errorf("bytes = %v, want %d", got, len(tt.data))
			}
		})
	}
}

func TestCheckMetrics(t *testing.T) {
	res, err := Check(Input{DocType: domain.DocBusinessLicense, DeclaredContentType: TypeJPEG}, bytes.NewReader(fx.ClearJPEG()))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"width", "height", "clarity", "brightness", "lumaP01", "lumaP99", "bytes"} {
		if _, ok := res.Metrics[k]; !ok {
			t.Errorf("metric %q missing: %v", k, res.Metrics)
		}
	}
	if res.Metrics["width"] != fx.ScanWidth || res.Metrics["height"] != fx.ScanHeight {
		t.Errorf("size = %vx%v", res.Metrics["width"], res.Metrics["height"])
	}
	res, _ = Check(Input{DocType: domain.DocOfficeVideo, DeclaredContentType: TypeMP4}, bytes.NewReader(fx.MP4(15)))
	if res.Metrics["durationSeconds"] != 15 {
		t.Errorf("durationSeconds = %v, want 15", res.Metrics["durationSeconds"])
	}
	res, _ = Check(Input{DocType: domain.DocBusinessLicense, DeclaredContentType: TypePDF}, bytes.NewReader(fx.PDFPages(3)))
	if res.Metrics["pages"] != 3 {
		t.Errorf("pages = %v, want 3", res.Metrics["pages"])
	}
}

func TestCheckSize(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want []string
	}{
		{"within the limit", Input{DocType: domain.DocBusinessLicense, Size: 10 << 20}, []string{}},
		{"one byte over", Input{DocType: domain.DocBusinessLicense, Size: 10<<20 + 1}, []string{CodeTooLarge}},
		{"empty", Input{DocType: domain.DocBusinessLicense, Size: 0}, []string{CodeEmpty}},
		{"video may be 100 MB", Input{DocType: domain.DocOfficeVideo, Size: 100 << 20}, []string{}},
		{"video over 100 MB", Input{DocType: domain.DocOfficeVideo, Size: 100<<20 + 1}, []string{CodeTooLarge}},
		{"unknown document type", Input{DocType: "passport", Size: 10}, []string{CodeUnknownDocType}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, ok := CheckSize(tt.in)
			if diff := cmp.Diff(tt.want, res.Codes()); diff != "" {
				t.Errorf("codes (-want +got):\n%s", diff)
			}
			if ok != (len(tt.want) == 0) || ok != res.Passed {
				t.Errorf("ok = %v, Passed = %v, want %v", ok, res.Passed, len(tt.want) == 0)
			}
			if res.SHA256 != "" {
				t.Errorf("SHA256 = %q without reading anything", res.SHA256)
			}
		})
	}
}

// endless is an infinite stream of one byte.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

func TestCheckStopsAfterMaxBytes(t *testing.T) {
	spec := SpecFor(domain.DocBusinessLicense)
	cr := &countingReader{r: io.MultiReader(bytes.NewReader(fx.CleanPDF()), endless(' '))}
	res, err := Check(Input{DocType: domain.DocBusinessLicense, DeclaredContentType: TypePDF}, cr)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fail(TypePDF, CodeTooLarge), outcomeOf(res)); diff != "" {
		t.Errorf("Check (-want +got):\n%s", diff)
	}
	if cr.n != spec.MaxBytes+1 {
		t.Errorf("read %d bytes, want MaxBytes+1 = %d", cr.n, spec.MaxBytes+1)
	}
	if res.SHA256 != "" {
		t.Errorf("SHA256 = %q of a stream not read to its end", res.SHA256)
	}
}

func TestCheckReturnsReadErrors(t *testing.T) {
	errNet := errors.New("connection reset")
	for name, data := range map[string][]byte{
		"jpeg": fx.ClearJPEG(), "png": fx.ClearPNG(), "pdf": fx.PDFWithObjStmJavaScript(),
		"mp4": fx.MP4(15), "gif": []byte("GIF89a............"),
	} {
		for _, at := range []int{0, 5, len(data) / 2, len(data) - 1} {
			r := io.MultiReader(bytes.NewReader(data[:at]), iotest.ErrReader(errNet))
			doc := domain.DocBusinessLicense
			if name == "mp4" {
				doc = domain.DocOfficeVideo
			}
			res, err := Check(Input{DocType: doc, DeclaredContentType: Sniff(data)}, r)
			if !errors.Is(err, errNet) {
				t.Errorf("%s cut at %d: err = %v (result %v), want the read error so the caller retries", name, at, err, res.Codes())
			}
		}
	}
}

func TestCheckOneByteReads(t *testing.T) {
	// Parsers must not depend on how the stream is chunked.
	for name, data := range map[string][]byte{
		"jpeg": fx.ClearJPEG(), "pdf": fx.PDFWithObjStmJavaScript(), "mov": fx.MOV(15),
	} {
		doc := domain.DocBusinessLicense
		if name == "mov" {
			doc = domain.DocOfficeVideo
		}
		in := Input{DocType: doc, DeclaredContentType: Sniff(data)}
		want, err1 := Check(in, bytes.NewReader(data))
		got, err2 := Check(in, iotest.OneByteReader(bytes.NewReader(data)))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: one-byte reads differ (-whole +bytes):\n%s", name, diff)
		}
	}
}

func TestSpecFor(t *testing.T) {
	all := []domain.DocType{
		domain.DocBusinessLicense, domain.DocLegalRepIDFront, domain.DocLegalRepIDBack,
		domain.DocAuthorizationLetter, domain.DocBankAccountProof, domain.DocOfficeVideo,
		domain.DocRectificationProof,
	}
	for _, dt := range all {
		s := SpecFor(dt)
		if !s.Known() || s.DocType != dt || s.MaxBytes <= 0 || len(s.ContentTypes) == 0 {
			t.Errorf("SpecFor(%s) = %+v", dt, s)
		}
	}
	if got := SpecFor(domain.DocOfficeVideo); got.MaxBytes != 100<<20 || got.MinVideoSeconds != 10 ||
		!got.Allows(TypeMP4) || !got.Allows(TypeQuickTime) || got.Allows(TypeJPEG) {
		t.Errorf("office video spec = %+v", got)
	}
	lic := SpecFor(domain.DocBusinessLicense)
	if lic.MaxBytes != 10<<20 || lic.MinShortSide != 800 || lic.MaxPixels != 40_000_000 || lic.MaxPages != 20 ||
		!lic.Allows(TypePDF) || !lic.Allows(TypePNG) || !lic.Allows(TypeJPEG) {
		t.Errorf("license spec = %+v", lic)
	}
	if id := SpecFor(domain.DocLegalRepIDBack); id.MinShortSide != 600 {
		t.Errorf("ID back MinShortSide = %d, want 600", id.MinShortSide)
	}
	// The result is a copy: callers cannot edit the table through it.
	lic.ContentTypes[0] = "text/html"
	if SpecFor(domain.DocBusinessLicense).Allows("text/html") {
		t.Error("SpecFor shares its ContentTypes slice with the table")
	}
	if s := SpecFor("passport"); s.Known() || s.Allows(TypeJPEG) {
		t.Errorf("SpecFor(unknown) = %+v, want the zero Spec", s)
	}
}

func TestFindingMessagesSayWhatToDo(t *testing.T) {
	res, _ := Check(Input{DocType: domain.DocBusinessLicense, DeclaredContentType: TypeJPEG}, bytes.NewReader(fx.BlurredJPEG()))
	if len(res.Findings) != 1 {
		t.Fatalf("findings = %v", res.Codes())
	}
	m := res.Findings[0].Message
	if !strings.Contains(m.Zh, "扫描仪") || !strings.Contains(m.En, "scanner") {
		t.Errorf("blurry message does not point to a scanner: %+v", m)
	}
}
