package doccheck

import (
	"testing"

	fx "microcert/shared/doccheck/doccheckfixtures"
)

func TestSniff(t *testing.T) {
	ftyp := func(brand string) []byte {
		return append([]byte("\x00\x00\x00\x18ftyp"+brand+"\x00\x00\x00\x00"), "isomiso2"...)
	}
	tests := []struct {
		name string
		head []byte
		want string
	}{
		{"JPEG", fx.ClearJPEG(), TypeJPEG},
		{"PNG", fx.ClearPNG(), TypePNG},
		{"PDF", fx.CleanPDF(), TypePDF},
		{"MP4", fx.MP4(15), TypeMP4},
		{"MOV", fx.MOV(15), TypeQuickTime},
		{"mp42 brand", ftyp("mp42"), TypeMP4},
		{"qt brand", ftyp("qt  "), TypeQuickTime},
		{"HEIC photo", ftyp("heic"), ""},
		{"AVIF photo", ftyp("avif"), ""},
		{"M4A audio", ftyp("M4A "), ""},
		{"ftyp box too small", []byte("\x00\x00\x00\x08ftypisom"), ""},
		{"GIF", []byte("GIF89a"), ""},
		{"PDF not at offset 0", []byte(" %PDF-1.7"), ""},
		{"HTML", []byte("<html><body>"), ""},
		{"JPEG magic cut short", []byte{0xFF, 0xD8}, ""},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff(tt.head); got != tt.want {
				t.Errorf("Sniff = %q, want %q", got, tt.want)
			}
			if len(tt.head) > SniffLen {
				if got := Sniff(tt.head[:SniffLen]); got != tt.want {
					t.Errorf("Sniff(first %d bytes) = %q, want %q", SniffLen, got, tt.want)
				}
			}
		})
	}
}

func TestNormalizeDeclared(t *testing.T) {
	for in, want := range map[string]string{
		"image/jpeg": TypeJPEG, "IMAGE/JPEG": TypeJPEG, "image/jpg": TypeJPEG, "image/pjpeg": TypeJPEG,
		"image/jpeg; charset=binary": TypeJPEG, "application/x-pdf": TypePDF, " video/quicktime ": TypeQuickTime,
		"": "", "image/heic": "image/heic", "not a type;;": "not a type;;",
	} {
		if got := normalizeDeclared(in); got != want {
			t.Errorf("normalizeDeclared(%q) = %q, want %q", in, got, want)
		}
	}
}
