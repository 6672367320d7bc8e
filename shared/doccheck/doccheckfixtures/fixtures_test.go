package doccheckfixtures

import (
	"bytes"
	"testing"
)

func TestFixturesAreDeterministicCopies(t *testing.T) {
	gens := map[string]func() []byte{
		"ClearJPEG": ClearJPEG, "ClearPNG": ClearPNG, "BlurredJPEG": BlurredJPEG, "DarkJPEG": DarkJPEG,
		"OverexposedJPEG": OverexposedJPEG, "TruncatedJPEG": TruncatedJPEG, "BombPNG": BombPNG,
		"CleanPDF": CleanPDF, "PDFWithOpenAction": PDFWithOpenAction, "PDFWithEscapedJavaScript": PDFWithEscapedJavaScript,
		"PDFWithObjStmJavaScript": PDFWithObjStmJavaScript, "EncryptedPDF": EncryptedPDF,
		"MP4": func() []byte { return MP4(15) }, "MOV": func() []byte { return MOV(15) },
	}
	for name, gen := range gens {
		a := gen()
		if len(a) == 0 {
			t.Errorf("%s is empty", name)
			continue
		}
		a[0] ^= 0xFF // callers may modify their copy
		b := gen()
		a[0] ^= 0xFF
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between calls, or shares its bytes with callers", name)
		}
	}
}

func TestPDFObjStmFixtureHidesItsScript(t *testing.T) {
	// The point of the fixture: nothing readable without inflating.
	for _, name := range []string{"/JavaScript", "/JS", "/OpenAction"} {
		if bytes.Contains(PDFWithObjStmJavaScript(), []byte(name)) {
			t.Errorf("%s is visible in the raw file", name)
		}
	}
	if bytes.Contains(PDFWithEscapedJavaScript(), []byte("/JavaScript")) {
		t.Error("/JavaScript is visible unescaped")
	}
}
