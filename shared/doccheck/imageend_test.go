package doccheck

import (
	"bytes"
	"image"
	"testing"
	"testing/iotest"

	fx "microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
)

func TestTrailingData(t *testing.T) {
	jpg, png := fx.ClearJPEG(), fx.ClearPNG()
	// A JPEG whose EXIF-like APP1 segment holds a thumbnail ending in its
	// own EOI: only the top-level EOI ends the image.
	app1 := append([]byte{0xFF, 0xE1, 0, 0}, append([]byte("Exif\x00\x00"), fx.EncodeJPEG(image.NewGray(image.Rect(0, 0, 8, 8)), 50)...)...)
	app1[2], app1[3] = byte((len(app1)-2)>>8), byte(len(app1)-2)
	withThumb := append(append(append([]byte{}, jpg[:2]...), app1...), jpg[2:]...)
	pdf := fx.CleanPDF()
	tests := []struct {
		name string
		data []byte
		ct   string
		want []string
	}{
		{"plain JPEG", jpg, TypeJPEG, nil},
		{"JPEG with a thumbnail", withThumb, TypeJPEG, nil},
		{"JPEG + PDF", append(bytes.Clone(jpg), pdf...), TypeJPEG, []string{CodeTrailingData}},
		{"JPEG + a short tag", append(bytes.Clone(jpg), "\r\nvendor-tag"...), TypeJPEG, nil},
		{"JPEG + 65 bytes", append(bytes.Clone(jpg), bytes.Repeat([]byte("x"), 65)...), TypeJPEG, []string{CodeTrailingData}},
		{"JPEG + zero padding", append(bytes.Clone(jpg), make([]byte, 4096)...), TypeJPEG, nil},
		{"JPEG + padding then a PDF", append(append(bytes.Clone(jpg), make([]byte, 4096)...), pdf...), TypeJPEG, []string{CodeTrailingData}},
		{"plain PNG", png, TypePNG, nil},
		{"PNG + PDF", append(bytes.Clone(png), pdf...), TypePNG, []string{CodeTrailingData}},
		{"PNG + zip", append(bytes.Clone(png), append([]byte("PK\x03\x04"), make([]byte, 100)...)...), TypePNG, []string{CodeTrailingData}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{DocType: domain.DocBusinessLicense, DeclaredContentType: tt.ct}
			reads := []func() Result{func() Result { res, _ := Check(in, bytes.NewReader(tt.data)); return res }}
			if len(tt.want) > 0 {
				// The end marker found one byte at a time, too (slow:
				// only for the files that must fail).
				reads = append(reads, func() Result { res, _ := Check(in, iotest.OneByteReader(bytes.NewReader(tt.data))); return res })
			}
			for _, r := range reads {
				res := r()
				got := res.Codes()
				if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
					t.Errorf("codes = %v, want %v", got, tt.want)
				}
			}
		})
	}
}
