package doccheck

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	fx "microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpora in testdata/fuzz from the generators")

// Fuzzing uses small limits so that each input is cheap: a 1 MP image, 1 MB
// of inflated PDF objects.
var (
	fuzzImageSpec = func() Spec {
		s := SpecFor(domain.DocBusinessLicense)
		s.MinShortSide, s.MaxPixels, s.MaxDecodeBytes = 8, 1<<20, 8<<20
		return s
	}()
	fuzzPDFSpec = func() Spec {
		s := SpecFor(domain.DocBusinessLicense)
		s.MaxInflatedBytes = 1 << 20
		return s
	}()
	fuzzVideoSpec = SpecFor(domain.DocOfficeVideo)
)

// seeds are the committed seed corpora, one generator per fuzz target.
var seeds = map[string]func() map[string][]byte{
	"FuzzSniff": func() map[string][]byte {
		return map[string][]byte{
			"jpeg": fx.ClearJPEG()[:64], "png": fx.ClearPNG()[:64], "pdf": []byte("%PDF-1.7\n"),
			"mp4": fx.MP4(15)[:64], "mov": fx.MOV(15)[:64], "heic": []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"),
		}
	},
	"FuzzCheckImage": func() map[string][]byte {
		small := fx.ScanImage(64, 48)
		grey := image.NewGray(small.Bounds())
		pal := image.NewPaletted(small.Bounds(), color.Palette{color.Black, color.White})
		for i := range grey.Pix {
			grey.Pix[i] = small.Pix[4*i]
			pal.Pix[i] = small.Pix[4*i] / 128
		}
		jp := fx.EncodeJPEG(small, 75)
		return map[string][]byte{
			"jpeg": jp, "jpeg-grey": fx.EncodeJPEG(grey, 75), "jpeg-truncated": jp[:len(jp)/2],
			"png": fx.EncodePNG(small), "png-grey": fx.EncodePNG(grey), "png-paletted": fx.EncodePNG(pal),
			"png-bomb": fx.BombPNG(), "jpeg-pdf": append(bytes.Clone(jp), fx.CleanPDF()[:200]...),
			"png-trailing": append(fx.EncodePNG(small), "PK\x03\x04 trailing data of another file type...................."...),
		}
	},
	"FuzzCheckPDF": func() map[string][]byte {
		seeds := map[string][]byte{
			"clean": fx.CleanPDF(), "openaction": fx.PDFWithOpenAction(), "escaped": fx.PDFWithEscapedJavaScript(),
			"objstm": fx.PDFWithObjStmJavaScript(), "encrypted": fx.EncryptedPDF(),
			"hidden":     pdfOf("4 0 obj << /Length 60 >>\nstream\nq Q\n9 0 obj << /OpenAction 1 0 R >> endobj\nendstream\nendobj"),
			"unbalanced": pdfOf("4 0 obj << /T (open <abc >> endobj\n5 0 obj << /OpenAction 1 0 R >> endobj % 6 0 obj"),
			"strings":    pdfOf("4 0 obj << /T (a\\)b(c)) /H <2F4A53> /N /A#41 >> endobj"),
		}
		// The hostile and ordinary corpora, but not the 64 MB bomb: the
		// fuzz spec's small inflation limit is tested by the test itself.
		for _, h := range fx.HostilePDFs() {
			if h.Code != "pdf_unscannable" {
				seeds["hostile-"+h.Name] = h.Data
			}
		}
		for name, data := range fx.OrdinaryPDFs() {
			if name != "scanner" { // its JPEG adds nothing to the syntax
				seeds["ordinary-"+name] = data
			}
		}
		return seeds
	},
	"FuzzDecodeStream": func() map[string][]byte {
		text := "1 0 obj << /Type /Catalog >> endobj"
		return map[string][]byte{
			"flate":   append([]byte("<< /Filter /FlateDecode >>\n"), fx.Deflate([]byte(text))...),
			"png":     append([]byte("<< /Filter /Fl /DecodeParms << /Predictor 12 /Columns 4 >> >>\n"), fx.Deflate([]byte("\x02abcd\x02efgh\x01ijkl"))...),
			"tiff":    []byte("<< /DecodeParms << /Predictor 2 /Colors 3 /Columns 2 >> >>\nabcdefabcdef"),
			"ascii85": []byte("<< /Filter [/A85] >>\n" + "87cURD]i,\"Ebo80~>"),
			"hex":     []byte("<< /Filter /AHx >>\n48656c6c6f>"),
			"lzw":     []byte("<< /Filter /LZWDecode >>\n\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01"),
			"rle":     []byte("<< /Filter /RL >>\n\x02abc\xfdx\x80"),
			"chain":   []byte("<< /Filter [/AHx /RL] >>\n02616263fd78 80>"),
		}
	},
	"FuzzCheckVideo": func() map[string][]byte {
		moov := box("moov", mvhd0(1000, 15000), trak("vide"), box("mvex", box("mehd", make([]byte, 8))))
		mdat := box("mdat", make([]byte, 64))
		v1 := box("mvhd", []byte{1, 0, 0, 0}, make([]byte, 16), be32(600), be64(9000), make([]byte, 80))
		return map[string][]byte{
			"mp4":        bytes.Join([][]byte{ftypMP4, moov, mdat}, nil),
			"mov":        bytes.Join([][]byte{box("ftyp", []byte("qt  "), be32(0)), mdat, box("moov", v1, trak("vide"))}, nil),
			"large-size": bytes.Join([][]byte{ftypMP4, be32(1), []byte("mdat"), be64(24), be64(0), moov}, nil),
			"to-eof":     bytes.Join([][]byte{ftypMP4, moov, be32(0), []byte("mdat"), make([]byte, 8)}, nil),
		}
	},
}

// addSeeds adds the generated seeds (the committed files are picked up by
// the fuzzing engine itself) and, with -update-corpus, rewrites the files.
func addSeeds(f *testing.F) {
	gen := seeds[f.Name()]()
	for _, data := range gen {
		f.Add(data)
	}
	if !*updateCorpus {
		return
	}
	dir := filepath.Join("testdata", "fuzz", f.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	for name, data := range gen {
		file := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(file), 0o644); err != nil {
			f.Fatal(err)
		}
	}
}

var knownTypes = map[string]bool{"": true, TypeJPEG: true, TypePNG: true, TypePDF: true, TypeMP4: true, TypeQuickTime: true}

func FuzzSniff(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		got := Sniff(data)
		if !knownTypes[got] {
			t.Fatalf("Sniff = %q", got)
		}
		if len(data) > SniffLen && Sniff(data[:SniffLen]) != got {
			t.Fatalf("Sniff looks past the first %d bytes", SniffLen)
		}
	})
}

// checkWithReaders runs a parser twice, on the whole input and one byte per
// read, and fails if the results differ: parsers must not depend on how the
// stream is chunked.
func checkWithReaders(t *testing.T, data []byte, parse func(*Result, *bufio.Reader), realType string) Result {
	t.Helper()
	run := func(r io.Reader) Result {
		res := Result{RealType: realType, Metrics: map[string]float64{}}
		parse(&res, bufio.NewReaderSize(r, readBufSize))
		res.finish()
		return res
	}
	whole := run(bytes.NewReader(data))
	if diff := cmp.Diff(whole, run(iotest.OneByteReader(bytes.NewReader(data)))); diff != "" {
		t.Fatalf("one-byte reads change the result (-whole +bytes):\n%s", diff)
	}
	return whole
}

// checkDigest runs the whole check and holds it to its contract: no error
// from a healthy reader, and the digest of everything.
func checkDigest(t *testing.T, spec Spec, data []byte) {
	t.Helper()
	res, err := check(Input{DocType: spec.DocType, DeclaredContentType: Sniff(data)}, spec, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	sum := sha256.Sum256(data)
	if res.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("SHA256 = %q, want the digest of the input", res.SHA256)
	}
	if res.Passed != (len(res.Findings) == 0) {
		t.Fatalf("Passed = %v with findings %v", res.Passed, res.Codes())
	}
}

func FuzzCheckImage(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range []string{TypeJPEG, TypePNG} {
			res := checkWithReaders(t, data, func(r *Result, br *bufio.Reader) { checkImage(r, fuzzImageSpec, br) }, typ)
			if w, h := res.Metrics["width"], res.Metrics["height"]; res.Passed && (w*h > float64(fuzzImageSpec.MaxPixels) || min(w, h) < 8) {
				t.Fatalf("passed a %vx%v image", w, h)
			}
		}
		checkDigest(t, fuzzImageSpec, data)
	})
}

func FuzzCheckPDF(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		res := checkWithReaders(t, data, func(r *Result, br *bufio.Reader) { checkPDF(r, fuzzPDFSpec, br, 0) }, TypePDF)
		if res.Passed && !bytes.HasPrefix(data, magicPDF) {
			t.Fatal("passed a PDF without a header")
		}
		checkDigest(t, fuzzPDFSpec, data)
	})
}

// FuzzDecodeStream decodes a stream whose first line is its dictionary:
// no panic, and never more than the limit.
func FuzzDecodeStream(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		head, body, _ := bytes.Cut(data, []byte("\n"))
		p := &pdfParser{b: head}
		v, _ := p.value()
		dict, _ := v.(pdfDict)
		const limit = 1 << 20
		out, err := decodeStream(&pdfStream{dict: dict, data: body}, limit)
		if err == nil && len(out) > limit {
			t.Fatalf("decoded %d bytes past the limit", len(out))
		}
	})
}

func FuzzCheckVideo(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		res := checkWithReaders(t, data, func(r *Result, br *bufio.Reader) { checkVideo(r, fuzzVideoSpec, br) }, TypeMP4)
		if res.Passed && res.Metrics["durationSeconds"] < fuzzVideoSpec.MinVideoSeconds {
			t.Fatalf("passed a video of %v s", res.Metrics["durationSeconds"])
		}
		checkDigest(t, fuzzVideoSpec, data)
	})
}
