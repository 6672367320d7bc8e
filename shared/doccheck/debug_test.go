package doccheck

import (
	"bytes"
	"fmt"
	"testing"

	fx "microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
)

func TestDebug(t *testing.T) {
	for name, c := range map[string]struct {
		b  []byte
		ct string
	}{
		"clearjpg": {fx.ClearJPEG(), TypeJPEG}, "clearpng": {fx.ClearPNG(), TypePNG},
		"blur": {fx.BlurredJPEG(), TypeJPEG}, "dark": {fx.DarkJPEG(), TypeJPEG},
		"trunc": {fx.TruncatedJPEG(), TypeJPEG}, "bomb": {fx.BombPNG(), TypePNG},
		"pdf": {fx.CleanPDF(), TypePDF}, "open": {fx.PDFWithOpenAction(), TypePDF},
		"esc": {fx.PDFWithEscapedJavaScript(), TypePDF}, "objstm": {fx.PDFWithObjStmJavaScript(), TypePDF},
		"enc": {fx.EncryptedPDF(), TypePDF}, "pages25": {fx.PDFPages(25), TypePDF},
		"mp4-5": {fx.MP4(5), TypeMP4}, "mp4-15": {fx.MP4(15), TypeMP4}, "mov": {fx.MOV(15), TypeQuickTime},
	} {
		dt := domain.DocBusinessLicense
		if c.ct == TypeMP4 || c.ct == TypeQuickTime {
			dt = domain.DocOfficeVideo
		}
		res, err := Check(Input{DocType: dt, DeclaredContentType: c.ct}, bytes.NewReader(c.b))
		fmt.Println(name, len(c.b), err, res.Passed, res.RealType, res.Codes(), res.Metrics)
	}
}
